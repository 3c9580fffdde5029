"""Prototyping projects: a confirmed selection opens one for the startup (its programme follows, milestone by
milestone)."""
