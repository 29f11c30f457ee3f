"""Judge event gates (``reload errors <= 0``) on a run's events table (pure).

Every event row taken (``status`` done) whose action the gate names is checked; a row
over the limit is a breach, and so is a ``recovery`` gate on an event that never
recovered (its recovery is unbounded). A gate that matched no event taken is reported
as unmatched: it decided nothing, which the command says (never a silent pass).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import pandas as pd

from bench.runner.scenario.event_gates import EventGate


@dataclass(frozen=True, slots=True)
class EventGateResult:
    """One gate on one run: how many events it judged and which broke it."""

    gate: EventGate
    judged: int
    breaches: tuple[str, ...]

    @property
    def passed(self) -> bool:
        """Judged at least one event, and none broke the limit."""
        return self.judged > 0 and not self.breaches


def _shown(value: float, gate: EventGate) -> str:
    if gate.column.endswith("_us"):
        return f"{value / 1000:.4g} ms"
    if gate.column.endswith("_s"):
        return f"{value:.3g} s"
    return f"{value:g}"


def judge_event_gates(
    gates: Sequence[EventGate], events: pd.DataFrame, cells: pd.DataFrame
) -> list[EventGateResult]:
    """Each gate against every event taken that it names."""
    labels = {}
    if len(cells):
        labels = dict(zip(cells["cell_id"], cells["label"], strict=False))
    taken = events[events["status"] == "done"] if len(events) else events
    results: list[EventGateResult] = []
    for gate in gates:
        rows = taken if gate.action == "*" else taken[taken["action"] == gate.action]
        breaches: list[str] = []
        for row in rows.itertuples():
            value = getattr(row, gate.column)
            where = f"{labels.get(row.cell_id, row.cell_id)} rep {row.repetition} ({row.action})"
            missing = value is None or (isinstance(value, float) and math.isnan(value))
            if missing and gate.metric == "recovery":
                breaches.append(f"{where}: never recovered")
            elif not missing and float(value) > gate.limit:
                breaches.append(f"{where}: {_shown(float(value), gate)}")
        results.append(EventGateResult(gate, len(rows), tuple(breaches)))
    return results


def event_gate_lines(results: Sequence[EventGateResult]) -> list[str]:
    """One line per gate (and per breach), for the terminal and the markdown report."""
    lines: list[str] = []
    for result in results:
        if not result.judged:
            lines.append(f"event gate {result.gate.text}: no event taken to judge")
        elif result.passed:
            lines.append(f"event gate {result.gate.text}: pass ({result.judged} events)")
        else:
            lines.append(
                f"event gate {result.gate.text}: FAIL, {len(result.breaches)} of "
                f"{result.judged} events over the limit"
            )
            lines.extend(f"  {breach}" for breach in result.breaches)
    return lines


def side_events(source: str, kind: str) -> pd.DataFrame:
    """The events table of a comparison side (empty for a baseline file: it has none)."""
    from pathlib import Path

    from bench.runner.results.event_table import load_events
    from bench.runner.results.schema import EVENT_COLUMNS, frame

    if kind != "run":
        return frame([], EVENT_COLUMNS)
    path = Path(source)
    return load_events(path.parent if path.is_file() else path)
