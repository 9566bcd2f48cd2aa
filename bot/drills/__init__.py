"""Drills: incidents declared to practise, run on the real path and marked DRILL everywhere."""
