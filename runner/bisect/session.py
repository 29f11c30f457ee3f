"""One ``bench bisect GOOD BAD SCENARIO``: probe, judge, search, report.

How this works: GOOD is built (its worktree kept to the end) and checked with one
repetition. Each probe of a later commit is measured *interleaved* with GOOD — GOOD,
probe, GOOD, probe, one repetition each (``bench.runner.bisect.interleave``) — and judged
against GOOD's repetitions of the same turns: on a shared machine the load drifts within
seconds, and a baseline from the start of the bisect made unchanged commits look 40–60 %
slower. ``--no-interleave`` measures GOOD as one run right before each probe instead
(``--baseline-once``: only once, at the start). The judge is the gate of ``bench compare``
(``bench.runner.compare.judge``: regressed → bad; no regression, and every gate's interval
short of its threshold → good; anything else → measured again, up to ``max_tries``, then
skipped). BAD must regress against GOOD, else there is
nothing to search. Then ``bench.runner.bisect.search`` picks commits until one is left. A commit
that cannot be built or measured is skipped (as ``git bisect skip``), never bad. Every
step is kept as evidence: the commit, the attempt, the verdict with its numbers, and the
run folder (each with its own report.html).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench.runner.bisect import search
from bench.runner.bisect.git import Commit, commits_between, remove_worktree, repo_root, resolve
from bench.runner.bisect.interleave import PARTS, combine, scenario_repeat
from bench.runner.bisect.probe import Built, RunResult, prepare, run_scenario, scenario_for
from bench.runner.compare.baseline import load_side
from bench.runner.compare.context import check_comparable, scenario_gates
from bench.runner.compare.formatting import format_change, format_p, metric_label
from bench.runner.compare.judge import STATUS_METRIC, Verdict, judge, summarize
from bench.runner.compare.render import headline
from bench.runner.errors import UsageError
from bench.runner.scenario.gates import METRICS_BY_NAME, Gates


@dataclass(frozen=True, slots=True)
class Options:
    """How to bisect: build mode, retries of inconclusive steps, gate overrides."""

    build: str = "venv"
    max_tries: int = 3
    timeout_s: float = 1800.0
    gate_overrides: dict[str, Any] = field(default_factory=dict)
    keep_worktrees: bool = False
    baseline_once: bool = False
    interleave: bool = True
    repeat: int | None = None  #: repetitions per side (default: the scenario's repeat)


@dataclass(frozen=True, slots=True)
class Step:
    """One probe of one commit (one attempt)."""

    number: int
    commit: Commit
    attempt: int
    mark: str  #: good / bad / skip / inconclusive (an attempt that is retried)
    evidence: str  #: the verdict and the largest change, or why it was skipped
    run_dir: Path | None = None
    baseline: Path | None = None  #: the GOOD run it was judged against


@dataclass(frozen=True, slots=True)
class Report:
    """The result: the first bad commit (or the candidates left) and every step."""

    good: Commit
    bad: Commit
    commits: tuple[Commit, ...]
    steps: tuple[Step, ...]
    first_bad: Commit | None
    candidates: tuple[Commit, ...]


def _confidently_fine(verdict: Verdict) -> bool:
    """The gate's interval excludes a regression of its threshold's size.

    "Unchanged" alone only says the median moved less than the threshold; on a noisy
    machine a real slowdown often does. Marking a commit good sends the search the other
    way for good, so bisect asks more: the whole (1 − 2α) interval of the change stays on
    the good side of the threshold. Otherwise the step counts as inconclusive and is
    measured again.
    """
    if verdict.threshold is None:
        return True
    spec = METRICS_BY_NAME[verdict.metric]
    if spec.higher_is_better:
        return verdict.lower is not None and verdict.lower > -verdict.threshold
    return verdict.upper is not None and verdict.upper < verdict.threshold


class _Bisect:
    def __init__(self, repo: Path, scenario: Path, out: Path, options: Options,
                 say: Callable[[str], None]) -> None:  # fmt: skip
        self.repo, self.scenario, self.out, self.options, self.say = (
            repo, scenario, out, options, say,
        )  # fmt: skip
        self.steps: list[Step] = []
        self.baseline: Path | None = None
        self.good: Built | None = None
        self.fresh_baseline = False  # the baseline was measured just now

    def _gates(self, side: Any) -> Gates:
        gates = scenario_gates(side) or Gates()
        return gates.overridden(**self.options.gate_overrides)

    def measure(self, built: Built, name: str, extra: tuple[str, ...] = ()) -> RunResult:
        """``bench run`` of ``built`` into runs/NAME (its log in logs/NAME.log)."""
        scenario = scenario_for(built, self.repo, self.scenario)
        return run_scenario(
            built, scenario, self.out / "runs" / name, self.out / "logs" / f"{name}.log",
            timeout=self.options.timeout_s, extra=extra,
        )  # fmt: skip

    def pair(self, built: Built, commit: Commit, attempt: int) -> RunResult:
        """GOOD and ``commit`` measured in turn, one repetition each; the probe's combined run.

        Sets ``self.baseline`` to GOOD's combined run of the same turns.
        """
        assert self.good is not None
        good = self.good.commit.short
        scenario = scenario_for(built, self.repo, self.scenario)
        reps = self.options.repeat or scenario_repeat(scenario)
        name = f"{commit.short}-{attempt}"
        good_parts: list[Path] = []
        parts: list[Path] = []
        for turn in range(reps):
            base = self.measure(self.good, f"{name}-{good}/{PARTS}/{turn}", ("--repeat", "1"))
            if base.run_dir is None or base.exit_code != 0:
                raise UsageError(
                    f"the scenario failed on GOOD {good}: bench run exited {base.exit_code} "
                    f"(log: {base.log})"
                )
            probe = self.measure(built, f"{name}/{PARTS}/{turn}", ("--repeat", "1"))
            if probe.run_dir is None or probe.exit_code != 0:
                return RunResult(None, probe.exit_code, probe.log)
            good_parts.append(base.run_dir)
            parts.append(probe.run_dir)
        runs = self.out / "runs"
        self.baseline = combine(good_parts, runs / f"{name}-{good}" / "combined")
        combined = combine(parts, runs / name / "combined")
        return RunResult(combined, 0, self.out / "logs")

    def rebaseline(self, commit: Commit, attempt: int) -> None:
        """Measure GOOD again right before probing ``commit`` (unless --baseline-once)."""
        if self.fresh_baseline or self.options.baseline_once:
            self.fresh_baseline = False
            return
        assert self.good is not None
        name = f"{self.good.commit.short}-before-{commit.short}-{attempt}"
        result = self.measure(self.good, name)
        if result.run_dir is None or result.exit_code != 0:
            raise UsageError(
                f"the scenario failed on GOOD {self.good.commit.short}: bench run exited "
                f"{result.exit_code} (log: {result.log})"
            )
        self.baseline = result.run_dir

    def judge(self, run_dir: Path) -> tuple[str, str]:
        """(mark, evidence) of a run against GOOD's."""
        assert self.baseline is not None
        base = load_side(str(self.baseline), directory=self.out)
        cand = load_side(str(run_dir), directory=self.out)
        check_comparable(base, cand)
        gates = self._gates(cand)
        verdicts = judge(base.cells, cand.cells, gates)
        summary = summarize(verdicts, gates)
        gated = [v for v in verdicts if v.metric != STATUS_METRIC and v.change is not None]
        largest = max(gated, key=lambda v: abs(v.change or 0.0), default=None)
        numbers = ""
        if largest is not None:
            numbers = (
                f"; {metric_label(largest.metric)} {format_change(largest.metric, largest.change)}"
                f", p = {format_p(largest.p_value)}"
            )
        evidence = f"{headline(summary)}{numbers}"
        if summary.counts["regressed"]:
            return search.BAD, evidence
        if summary.exit_code == 0 and all(_confidently_fine(v) for v in gated):
            return search.GOOD, evidence
        if summary.exit_code == 0:
            evidence += "; the interval still reaches the threshold: not yet good"
        return "inconclusive", evidence

    def probe(self, commit: Commit, *, baseline: bool = False) -> str:
        """Build and measure ``commit`` (retrying inconclusive runs); its mark."""
        built = prepare(self.repo, commit, self.out, self.options.build)
        if baseline:
            self.good = built
        try:
            if built.error:
                self._step(commit, 1, search.SKIP, f"build failed: {built.error}")
                return search.SKIP
            for attempt in range(1, self.options.max_tries + 1):
                if baseline:
                    result = self.measure(built, f"{commit.short}-{attempt}", ("--repeat", "1"))
                elif self.options.interleave:
                    result = self.pair(built, commit, attempt)
                else:
                    self.rebaseline(commit, attempt)
                    result = self.measure(built, f"{commit.short}-{attempt}")
                if result.run_dir is None or result.exit_code != 0:
                    why = f"bench run exited {result.exit_code} (log: {result.log})"
                    if baseline:
                        raise UsageError(f"the scenario fails on GOOD {commit.short}: {why}")
                    self._step(commit, attempt, search.SKIP, why, result.run_dir)
                    return search.SKIP
                if baseline:
                    self.baseline, self.fresh_baseline = result.run_dir, True
                    self._step(commit, attempt, search.GOOD, "GOOD: the baseline", result.run_dir)
                    return search.GOOD
                mark, evidence = self.judge(result.run_dir)
                last = attempt == self.options.max_tries
                if mark == "inconclusive" and last:
                    mark, evidence = search.SKIP, f"{evidence} (inconclusive {attempt}×: skipped)"
                self._step(commit, attempt, mark, evidence, result.run_dir, self.baseline)
                if mark != "inconclusive":
                    return mark
            return search.SKIP
        finally:
            if not self.options.keep_worktrees and not (baseline and built.error is None):
                remove_worktree(self.repo, built.worktree)

    def close(self) -> None:
        """Remove GOOD's worktree (kept for the re-baselines)."""
        if self.good is not None and not self.options.keep_worktrees:
            remove_worktree(self.repo, self.good.worktree)

    def _step(self, commit: Commit, attempt: int, mark: str, evidence: str,
              run_dir: Path | None = None, baseline: Path | None = None) -> None:  # fmt: skip
        step = Step(len(self.steps) + 1, commit, attempt, mark, evidence, run_dir, baseline)
        self.steps.append(step)
        self.say(f"step {step.number}: {commit.short} {commit.subject[:50]!r}: {mark} — {evidence}")


def bisect(
    path: Path, good_rev: str, bad_rev: str, scenario: Path, out: Path, options: Options,
    say: Callable[[str], None] = print,
) -> Report:  # fmt: skip
    """Find the first commit after GOOD at which SCENARIO regresses (see the module docstring).

    Raises:
        UsageError: not a git repository, an unknown commit, GOOD not an ancestor of BAD,
            the scenario missing or failing on GOOD, GOOD failing to build.
    """
    repo = repo_root(path)
    good, bad = resolve(repo, good_rev), resolve(repo, bad_rev)
    commits = commits_between(repo, good, bad)
    if not scenario.is_file():
        raise UsageError(f"{scenario}: no such scenario file")
    out.mkdir(parents=True, exist_ok=True)
    run = _Bisect(repo, scenario, out, options, say)
    say(f"bisecting {len(commits)} commits after {good.short} up to {bad.short} "
        f"(about {search.steps_needed(len(commits))} probes)")  # fmt: skip
    try:
        if run.probe(good, baseline=True) != search.GOOD:
            raise UsageError(f"GOOD {good.short} could not be built: {run.steps[-1].evidence}")
        shas = [c.sha for c in commits]
        by_sha = {c.sha: c for c in commits}
        marks: dict[str, str] = {bad.sha: run.probe(bad)}
        if marks[bad.sha] != search.BAD:
            return Report(good, bad, tuple(commits), tuple(run.steps), None, ())
        while (sha := search.next_probe(shas, marks)) is not None:
            marks[sha] = run.probe(by_sha[sha])
    finally:
        run.close()
    result = search.outcome(shas, marks)
    first = by_sha[result.first_bad] if result.first_bad else None
    candidates = tuple(by_sha[s] for s in result.candidates)
    return Report(good, bad, tuple(commits), tuple(run.steps), first, candidates)
