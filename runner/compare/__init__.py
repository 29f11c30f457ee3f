"""``bench compare``: performance regression gates over the repetitions of two runs.

``judge(baseline, candidate, gates) -> [Verdict]`` is the pure core (``judge.py``); the
statistics are in ``stats.py`` and ``decide.py``; ``render.py`` writes the table,
markdown, JUnit and JSON; ``baseline.py`` reads run folders and keeps baseline files.
"""

from bench.runner.compare.decide import Outcome
from bench.runner.compare.judge import Summary, Verdict, judge, summarize

__all__ = ["Outcome", "Summary", "Verdict", "judge", "summarize"]
