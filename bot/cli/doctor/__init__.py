"""`tocsin doctor`: every integration point checked, one line each, with the fix for a failure.

Lines are `ok`, `FAIL` (the exit code is 1) or `warn` (could not be checked, or worth a look;
the exit code stays 0). `--json` prints the same list as JSON. No line ever shows a secret:
a token, a password or a webhook URL's path and query.

Each check is one function from a `Checkup` (what it may look at, each read at most once)
to its lines; `run.CHECKS` lists them in the order they print. A new integration (a pager
provider, say) adds one function there.
"""

from bot.cli.doctor.run import CHECKS, diagnose, run_doctor

__all__ = ["CHECKS", "diagnose", "run_doctor"]
