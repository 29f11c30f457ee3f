"""``judge(baseline, candidate, gates) -> [Verdict]``: the CI gate as one pure function.

How this works: both cells tables are split by ``cell_id`` (``bench.runner.compare.table``).
Every cell present on both sides × every enabled metric is one gate; all gates of the
comparison form one family, judged at once by ``bench.runner.compare.decide.evaluate`` (so
alpha bounds the chance of any false regression in the comparison). Cells that cannot be
judged get a ``status`` verdict instead: every candidate repetition failed (regressed),
the cell is missing on one side (inconclusive), and so on. ``summarize`` turns the
verdicts into counts and the exit code.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from bench.runner.compare.decide import Evaluation, Outcome, Why, evaluate
from bench.runner.compare.formatting import (
    format_change,
    format_interval,
    format_p,
    format_threshold,
)
from bench.runner.compare.table import CellRows, check_table, describe_cell, identity, split_cells
from bench.runner.errors import UsageError
from bench.runner.exit_codes import ExitCode
from bench.runner.scenario.gates import GateMetric, Gates

#: The pseudo-metric of verdicts about a whole cell (failed, missing).
STATUS_METRIC = "status"


@dataclass(frozen=True, slots=True)
class Verdict:
    """The verdict of one gate (one cell × one metric), or about a whole cell.

    Attributes:
        cell_id: the cell's stable configuration id.
        cell: human label, ``prefork sync w2 · c=64``.
        metric: a gate metric name (``p99``) or ``status``.
        outcome: improved / regressed / unchanged / inconclusive.
        reason: one sentence saying why, with the numbers.
        threshold: the allowed change (fraction; absolute for ``error_rate``).
        baseline_median, candidate_median: the medians compared (metric's unit).
        change: relative change of the median (or absolute difference), + = went up.
        lower, upper: the (1 − 2α) distribution-free interval of the change.
        p_value: the one-sided p-value in the direction the median moved (Holm-adjusted
            unless the correction is off).
        n_baseline, n_candidate: repetitions used on each side.
        needed: repetitions per side that would make the gate decidable, when too few.
        notes: remarks about the cell (failed repetitions, engine-bound, …).
        identity: the cell's configuration columns.
        in_family: the gate counted in the family alpha is shared over.
    """

    cell_id: str
    cell: str
    metric: str
    outcome: Outcome
    reason: str
    threshold: float | None = None
    baseline_median: float | None = None
    candidate_median: float | None = None
    change: float | None = None
    lower: float | None = None
    upper: float | None = None
    p_value: float | None = None
    n_baseline: int = 0
    n_candidate: int = 0
    needed: int | None = None
    notes: tuple[str, ...] = ()
    identity: dict[str, str] = field(default_factory=dict)
    in_family: bool = False

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form (``bench compare --json``)."""
        out: dict[str, Any] = {}
        for name in self.__slots__:  # type: ignore[attr-defined]
            value = getattr(self, name)
            if isinstance(value, float) and not np.isfinite(value):
                value = None
            out[name] = value
        out["outcome"] = str(self.outcome)
        out["notes"] = list(self.notes)
        return out


@dataclass(frozen=True, slots=True)
class Summary:
    """Counts over a comparison and the exit code they give."""

    counts: dict[str, int]
    gates: int
    family: int
    alpha: float
    correction: str
    exit_code: int

    @property
    def passed(self) -> bool:
        """True when the CI job should pass."""
        return self.exit_code == 0

    @property
    def decided(self) -> int:
        """Gates that reached a verdict (regressed, improved or unchanged)."""
        return self.gates - self.counts["inconclusive"]


def _cell_notes(side: str, rows: CellRows | None) -> list[str]:
    if rows is None:
        return []
    notes: list[str] = []
    total = len(rows.measured) + len(rows.failed)
    if len(rows.failed):
        notes.append(
            f"{len(rows.failed)} of {total} {side} repetitions failed: {rows.failure_reason()}"
        )
    bound = rows.engine_bound
    if bound:
        notes.append(
            f"{side} engine-bound in {bound} of {len(rows.measured)} repetitions "
            "(req/s is a lower bound on the server)"
        )
    return notes


def _status_verdict(cell: _Cell) -> Verdict | None:
    """A verdict about the whole cell when it cannot be judged metric by metric."""
    base, cand = cell.baseline, cell.candidate
    common: dict[str, Any] = {
        "cell_id": cell.cell_id,
        "cell": cell.label,
        "metric": STATUS_METRIC,
        "identity": cell.identity,
        "notes": cell.notes,
    }
    if cand is None:
        return Verdict(**common, outcome=Outcome.INCONCLUSIVE, reason="not in the candidate run")
    if base is None:
        return Verdict(**common, outcome=Outcome.INCONCLUSIVE, reason="new cell, no baseline")
    base_ok, cand_ok = len(base.measured) > 0, len(cand.measured) > 0
    if base_ok and not cand_ok and len(cand.failed):
        reason = f"every candidate repetition failed: {cand.failure_reason()}"
        return Verdict(**common, outcome=Outcome.REGRESSED, reason=reason)
    if cand_ok and not base_ok and len(base.failed):
        reason = f"the baseline failed ({base.failure_reason()}); the candidate ran"
        return Verdict(**common, outcome=Outcome.IMPROVED, reason=reason)
    if not base_ok or not cand_ok:
        return Verdict(**common, outcome=Outcome.INCONCLUSIVE, reason="no measured repetitions")
    return None


@dataclass(frozen=True, slots=True)
class _Cell:
    cell_id: str
    label: str
    identity: dict[str, str]
    baseline: CellRows | None
    candidate: CellRows | None

    @property
    def notes(self) -> tuple[str, ...]:
        return (*_cell_notes("baseline", self.baseline), *_cell_notes("candidate", self.candidate))


def _reason(metric: GateMetric, ev: Evaluation, i: int, gates: Gates, threshold: float) -> str:
    """One sentence with the numbers behind gate ``i``'s outcome."""
    why = Why(int(ev.why[i]))
    change = float(ev.change[i])
    m, n = int(ev.n_baseline[i]), int(ev.n_candidate[i])
    needed = int(ev.needed)
    if why == Why.FEW and (m == 0 or n == 0):
        side = "baseline" if m == 0 else "candidate"
        return f"no {metric.label} values in the {side} (the column is empty)"
    if why == Why.FEW:
        return (
            f"{m} vs {n} repetitions, fewer than the {gates.min_repetitions} required; "
            f"run ≥ {needed} per side"
        )
    if why == Why.IDENTICAL:
        return "identical on both sides"
    if why == Why.UNDEFINED:
        return "the baseline median is 0: no relative change to judge"
    moved = "rose" if change > 0 else "fell"
    size = format_change(metric.name, abs(change))[1:]
    interval = format_interval(metric.name, float(ev.lower[i]), float(ev.upper[i]))
    confidence = f"{(1 - 2 * gates.alpha) * 100:.0f}% interval {interval}"
    limit = format_threshold(metric.name, threshold)
    adjusted = "Holm-adjusted " if gates.correction == "holm" else ""
    p = _directional_p(metric, ev, i)
    if why == Why.SIGNIFICANT:
        return (
            f"{moved} {size} ({confidence}), beyond {limit}; "
            f"{adjusted}p = {format_p(p)} ≤ α = {gates.alpha:g}"
        )
    if why == Why.UNDERPOWERED:
        level = float(ev.level)
        family = int(ev.family)
        over = f" ({family} gates at α = {gates.alpha:g})" if gates.correction == "holm" else ""
        return (
            f"{moved} {size}, but {m} vs {n} repetitions cannot reach p ≤ {level:.2g}{over}; "
            f"run ≥ {needed} per side"
        )
    if why == Why.NOISE:
        return (
            f"{moved} {size} ({confidence}), beyond {limit}, but within the noise: "
            f"{adjusted}p = {format_p(p)} > α = {gates.alpha:g}"
        )
    return f"{format_change(metric.name, change)} ({confidence}), within {limit}"


def _directional_p(metric: GateMetric, ev: Evaluation, i: int) -> float | None:
    """The p-value for a change in the direction the median moved (None outside the family)."""
    change = float(ev.change[i])
    worse = (change < 0) if metric.higher_is_better else (change > 0)
    p = float(ev.p_worse[i] if worse else ev.p_better[i])
    return p if np.isfinite(p) else None


def _optional(value: float) -> float | None:
    return float(value) if np.isfinite(value) else None


def judge(baseline: pd.DataFrame, candidate: pd.DataFrame, gates: Gates) -> list[Verdict]:
    """Compare two cells tables gate by gate; pure (no files, no printing).

    Raises:
        UsageError: a table lacks required columns, or no cell appears on both sides.
    """
    check_table(baseline, "baseline")
    check_table(candidate, "candidate")
    base_cells, cand_cells = split_cells(baseline), split_cells(candidate)
    order = list(base_cells) + [c for c in cand_cells if c not in base_cells]
    if not any(c in cand_cells for c in base_cells):
        raise UsageError(
            "no cell of the candidate matches a cell of the baseline (different scenarios?)"
        )
    cells: list[_Cell] = []
    for cell_id in order:
        base, cand = base_cells.get(cell_id), cand_cells.get(cell_id)
        rows = cand if cand is not None else base
        assert rows is not None
        frame = rows.measured if len(rows.measured) else rows.failed
        first = frame.iloc[0].to_dict() if len(frame) else {}
        cells.append(_Cell(cell_id, describe_cell(first), identity(first), base, cand))

    out: dict[str, list[Verdict]] = {c.cell_id: [] for c in cells}
    judged: list[_Cell] = []
    for cell in cells:
        status = _status_verdict(cell)
        if status is not None:
            out[cell.cell_id].append(status)
        else:
            judged.append(cell)
    metrics = gates.enabled()
    if judged and metrics:
        for verdict in _judge_metrics(judged, metrics, gates):
            out[verdict.cell_id].append(verdict)
    return [v for c in cells for v in out[c.cell_id]]


def _padded(rows: Sequence[list[float]]) -> np.ndarray:
    width = max(1, *(len(r) for r in rows))
    out = np.full((len(rows), width), np.nan)
    for i, values in enumerate(rows):
        out[i, : len(values)] = values
    return out


def _judge_metrics(
    judged: Sequence[_Cell], metrics: Sequence[GateMetric], gates: Gates
) -> list[Verdict]:
    """One family of gates: every judged cell × every enabled metric."""
    pairs = [(cell, metric) for cell in judged for metric in metrics]
    b = _padded([cell.baseline.values(m.name) for cell, m in pairs])  # type: ignore[union-attr]
    c = _padded([cell.candidate.values(m.name) for cell, m in pairs])  # type: ignore[union-attr]
    thresholds = [gates.threshold(m.name) or 0.0 for _, m in pairs]
    ev = evaluate(b, c, [m for _, m in pairs], thresholds, gates)
    verdicts: list[Verdict] = []
    for i, ((cell, metric), threshold) in enumerate(zip(pairs, thresholds, strict=True)):
        why = Why(int(ev.why[i]))
        verdicts.append(
            Verdict(
                cell_id=cell.cell_id,
                cell=cell.label,
                metric=metric.name,
                outcome=Outcome(int(ev.outcome[i])),
                reason=_reason(metric, ev, i, gates, threshold),
                threshold=threshold,
                baseline_median=_optional(ev.baseline_median[i]),
                candidate_median=_optional(ev.candidate_median[i]),
                change=_optional(ev.change[i]),
                lower=_optional(ev.lower[i]),
                upper=_optional(ev.upper[i]),
                p_value=_directional_p(metric, ev, i),
                n_baseline=int(ev.n_baseline[i]),
                n_candidate=int(ev.n_candidate[i]),
                needed=int(ev.needed) if why in (Why.FEW, Why.UNDERPOWERED) else None,
                notes=cell.notes,
                identity=cell.identity,
                in_family=bool(ev.testable[i]),
            )
        )
    return verdicts


def summarize(
    verdicts: Sequence[Verdict],
    gates: Gates,
    *,
    strict: bool = False,
    allow_inconclusive: bool = False,
) -> Summary:
    """Counts per outcome and the exit code (``bench.runner.exit_codes.ExitCode``).

    ``FAILED`` (1) if a gate regressed (or, with ``strict``, any was inconclusive);
    else ``INCONCLUSIVE`` (6) when no gate decided anything — every verdict inconclusive
    — unless ``allow_inconclusive``; else ``OK`` (0).
    """
    counts = {str(o): 0 for o in Outcome}
    for v in verdicts:
        counts[str(v.outcome)] += 1
    failing = counts["regressed"] + (counts["inconclusive"] if strict else 0)
    decided = len(verdicts) - counts["inconclusive"]
    if failing:
        code = ExitCode.FAILED
    elif not decided and not allow_inconclusive:
        code = ExitCode.INCONCLUSIVE
    else:
        code = ExitCode.OK
    metric_gates = [v for v in verdicts if v.metric != STATUS_METRIC]
    family = sum(1 for v in metric_gates if v.in_family)
    return Summary(
        counts=counts,
        gates=len(verdicts),
        family=family,
        alpha=gates.alpha,
        correction=gates.correction,
        exit_code=int(code),
    )
