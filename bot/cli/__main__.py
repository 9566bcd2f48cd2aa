"""`python -m bot.cli`: the tocsin command."""

from bot.cli import main

raise SystemExit(main())
