"""The binary search of ``bench bisect`` over a list of commits (pure).

How this works: ``commits`` are the commits after GOOD up to and including BAD, oldest
first (``git rev-list --ancestry-path GOOD..BAD``). ``marks`` says what each probed commit
turned out to be: ``good``, ``bad`` or ``skip`` (could not be built or measured, or stayed
inconclusive: as ``git bisect skip``, never counted as bad). The first bad commit lies
after the last good one and at or before the first bad one after it; ``next_probe`` picks
the untested commit nearest the middle of that range, ``outcome`` says when the range is
down to one commit (found) or to skipped commits only (ambiguous: the first bad is one of
them or the bad end).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

GOOD, BAD, SKIP = "good", "bad", "skip"


@dataclass(frozen=True, slots=True)
class Outcome:
    """Where the search stands.

    Attributes:
        first_bad: the first bad commit, once found.
        candidates: the commits the first bad one may still be (untested or skipped).
        done: nothing is left to probe (found, or only skipped commits remain).
    """

    first_bad: str | None
    candidates: tuple[str, ...]
    done: bool


def _bounds(commits: Sequence[str], marks: Mapping[str, str]) -> tuple[int, int]:
    """(index after the last good commit, index of the first bad one after it)."""
    last_good = max((i for i, c in enumerate(commits) if marks.get(c) == GOOD), default=-1)
    first_bad = min(
        (i for i, c in enumerate(commits) if i > last_good and marks.get(c) == BAD),
        default=len(commits) - 1,
    )
    return last_good + 1, first_bad


def next_probe(commits: Sequence[str], marks: Mapping[str, str]) -> str | None:
    """The commit to probe next, or None when the search is over."""
    low, high = _bounds(commits, marks)
    untested = [i for i in range(low, high) if commits[i] not in marks]
    if not untested:
        return None
    middle = (low + high - 1) / 2
    return commits[min(untested, key=lambda i: (abs(i - middle), i))]


def outcome(commits: Sequence[str], marks: Mapping[str, str]) -> Outcome:
    """The first bad commit when the range is down to it; else what is left."""
    low, high = _bounds(commits, marks)
    between = [commits[i] for i in range(low, high)]
    if not between:
        return Outcome(commits[high], (commits[high],), True)
    if all(marks.get(c) == SKIP for c in between):
        return Outcome(None, (*between, commits[high]), True)
    left = tuple(c for c in between if marks.get(c) != GOOD)
    return Outcome(None, (*left, commits[high]), False)


def steps_needed(count: int) -> int:
    """Probes a search over ``count`` commits needs without skips (⌈log2(count)⌉)."""
    steps = 0
    while (1 << steps) < count:
        steps += 1
    return steps
