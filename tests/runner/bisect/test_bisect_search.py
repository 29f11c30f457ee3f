"""The binary search over commits: probes, skips, the first bad commit."""

from __future__ import annotations

from bench.runner.bisect.search import BAD, GOOD, SKIP, next_probe, outcome, steps_needed

COMMITS = [f"c{i}" for i in range(1, 8)]  # c7 is BAD


def bisect(first_bad: int, skipped: frozenset[str] = frozenset()) -> tuple[str | None, list[str]]:
    marks = {"c7": BAD}
    probes = []
    while (probe := next_probe(COMMITS, marks)) is not None:
        probes.append(probe)
        index = COMMITS.index(probe) + 1
        marks[probe] = SKIP if probe in skipped else (BAD if index >= first_bad else GOOD)
    result = outcome(COMMITS, marks)
    assert result.done
    return result.first_bad, probes


def test_bisect_search_finds_every_first_bad_commit_in_log2_steps() -> None:
    for first in range(1, 8):
        found, probes = bisect(first)
        assert found == f"c{first}"
        assert len(probes) <= steps_needed(len(COMMITS)), (first, probes)
    assert next_probe(COMMITS, {"c7": BAD}) == "c3"  # the middle of c1..c6


def test_bisect_search_steps_around_skipped_commits() -> None:
    found, probes = bisect(5, skipped=frozenset({"c3"}))
    assert found == "c5" and "c3" in probes
    # Skips right before the first bad commit hide it, as in git bisect.
    found, _ = bisect(5, skipped=frozenset({"c3", "c4"}))
    assert found is None
    # The first bad commit hidden behind skips: ambiguous, with the candidates named.
    marks = {"c7": BAD, "c2": GOOD, "c3": SKIP, "c4": BAD}
    result = outcome(COMMITS, marks)
    assert result.first_bad is None and result.done and result.candidates == ("c3", "c4")


def test_bisect_search_state_before_the_end() -> None:
    result = outcome(COMMITS, {"c7": BAD, "c3": GOOD})
    assert not result.done and result.candidates == ("c4", "c5", "c6", "c7")
    assert outcome(["only"], {"only": BAD}).first_bad == "only"
    assert steps_needed(1) == 0 and steps_needed(6) == 3 and steps_needed(8) == 3
