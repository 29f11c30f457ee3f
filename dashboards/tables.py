"""View helpers over the per-cell summary (``bench.runner.results.summary``): axis titles, units,
line order, the HDR spectrum and the failed-cell lines a page lists.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import pandas as pd

from bench.runner.results.histogram import Histogram
from bench.runner.units import parse_cpus


def rate_unit(summary: pd.DataFrame) -> str:
    """``msg/s`` when every cell is a WebSocket cell (a round-trip per message), else ``req/s``."""
    ws = is_websocket(summary)
    return "msg/s" if len(summary) and bool(ws.all()) else "req/s"


def load_axis_title(mode: str) -> str:
    """Axis title of the load point: connections or target arrival rate."""
    return "target rate (req/s)" if mode == "open" else "concurrency (connections)"


def spectrum(hist: Histogram, points: int = 80) -> tuple[list[float], list[float]]:
    """HDR-style percentile spectrum: (``1 in N`` values, latency µs) from p0 up to the max.

    ``1 in N`` is ``1 / (1 − percentile)``: 10 is p90, 1000 is p99.9; the grid includes
    p50 and every ``10^k`` exactly. The last point is the largest value, at ``1 in total``.
    """
    total = hist.total
    if total == 0:
        return [], []
    top = max(1.0, float(total))
    marks = [2.0] + [10.0**k for k in range(1, int(math.log10(top)) + 1)]  # p50, p90, p99…
    grid = np.concatenate(
        [np.logspace(0.0, math.log10(top), points), [m for m in marks if m < top]]
    )
    ns = np.unique(np.round(grid, 6))
    xs: list[float] = []
    ys: list[float] = []
    for n in ns:
        pct = 100.0 * (1.0 - 1.0 / float(n))
        xs.append(float(n))
        ys.append(hist.percentile(pct))
    xs.append(top)
    ys.append(float(hist.values[-1]))
    return xs, ys


def ordered_configs(summary: pd.DataFrame) -> list[str]:
    """Configuration labels in matrix order (the order the scenario lists them)."""
    return list(dict.fromkeys(summary.sort_values("cell_index", kind="stable")["config"]))


def ordered_series(summary: pd.DataFrame) -> list[str]:
    """Line labels (``series``) grouped by configuration in matrix order."""
    if summary.empty:
        return []
    ordered = summary.sort_values(["cell_index"], kind="stable")
    return [
        s
        for c in ordered_configs(summary)
        for s in dict.fromkeys(ordered[ordered["config"] == c]["series"])
    ]


def is_websocket(summary: pd.DataFrame) -> pd.Series:
    """True for the cells of a WebSocket workload (they have a message size)."""
    return summary["message_size"].notna() if "message_size" in summary else pd.Series(False)


def server_cpu_count(summary: pd.DataFrame) -> int | None:
    """How many CPUs the server was pinned to (the smallest over cells), or None."""
    counts: list[int] = []
    for text in summary.get("server_cpus", pd.Series(dtype=object)).dropna():
        try:
            counts.append(len(parse_cpus(str(text))))
        except ValueError:
            continue
    return min(counts) if counts else None


def failed_lines(summary: pd.DataFrame, kinds: Sequence[str] = ("failed", "skipped")) -> list[str]:
    """``"prefork sync w1 · c=512 — failed: server exited (code 1)"`` per unusable cell."""
    rows = summary[summary["status_kind"].isin(kinds)]
    return [f"✕ {r.config} · {r.load_label} — {r.status_text}" for r in rows.itertuples()]
