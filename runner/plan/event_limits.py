"""What a run's lifecycle and fault events say about the plan, as limits (pure).

A capacity plan assumes the steady state. When the scenario had ``events:``, the plan
also states what an event cost each configuration (from the events table): the worst
errors and lost requests, the recovery, the p99 inside the event window against the
steady state — and every action a configuration could not take (skipped, with the
reason) or that failed. Capacity measured in cells with events includes their cost: the
limits say so.
"""

from __future__ import annotations

import math

import pandas as pd

from bench.runner.plan.limits import Limit
from bench.runner.results.event_table import event_ranking


def _ms(value: object) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    ms = float(value)  # type: ignore[arg-type]
    return f"{ms:,.0f} ms" if ms >= 100 else f"{ms:.3g} ms"


def event_limits(events: pd.DataFrame, cells: pd.DataFrame) -> list[Limit]:
    """One limit per configuration and action (what it cost), plus skipped and failed ones."""
    if not len(events):
        return []
    out = [
        Limit(
            "events",
            "the scenario applied lifecycle or fault events during every measured window: "
            "throughput and latencies of those cells include what the events cost",
        )
    ]
    for row in event_ranking(events, cells).itertuples():
        status = str(row.status)
        if "done" not in status:
            continue
        recovery = (
            "never recovered in the window"
            if row.recovery_s is None or pd.isna(row.recovery_s)
            else f"recovered in {float(row.recovery_s):.3g} s"
        )
        out.append(
            Limit(
                "event cost",
                f"{row.label} · {row.action} (×{row.runs}): {row.errors} errors "
                f"({row.connect} failed connects), {row.lost} lost, {recovery}; p99 "
                f"{_ms(row.p99_ms)} in the event window vs {_ms(row.steady_p99_ms)} steady",
            )
        )
    labels = dict(zip(cells["cell_id"], cells["label"], strict=False))
    for status, group in events[events["status"] != "done"].groupby("status"):
        names = sorted({str(labels.get(c, c)) for c in group["cell_id"]})
        actions = sorted(set(group["action"]))
        out.append(
            Limit("event not taken", f"{', '.join(actions)} on {', '.join(names)}: {status}")
        )
    return out
