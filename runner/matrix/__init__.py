"""Scenario -> cells, and which cells a run executes in what order (pure).

- ``cells``     ``ServerPoint`` x ``LoadPoint`` = ``Cell``; ``expand``
- ``schedule``  ``--only`` filters; repetitions interleaved
"""
