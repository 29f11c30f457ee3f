"""``bench bisect``: find the commit that made a scenario slower (search, git, probes)."""
