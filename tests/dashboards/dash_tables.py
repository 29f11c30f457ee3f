"""Small fixed results tables for the figure tests, in the real schema of runner.results.

``cell_row(...)`` gives one cells.parquet row (every column of ``CELL_COLUMNS``, unknown
keys rejected), ``cells(rows)`` / ``histograms(...)`` / ``timeseries(...)`` the typed
frames ``bench.runner.results.frame`` builds, exactly as ``load_run`` returns them.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from bench.runner.results.schema import CELL_COLUMNS, HISTOGRAM_COLUMNS, TIMESERIES_COLUMNS, frame

_CELL_NAMES = {c.name for c in CELL_COLUMNS}


def cell_row(
    cell_id: str,
    *,
    label: str,
    concurrency: int,
    repetition: int = 0,
    rps: float | None = 1000.0,
    p50: float | None = 900.0,
    p99: float | None = 3000.0,
    status: str = "ok",
    **extra: Any,
) -> dict[str, Any]:
    """A cells.parquet row; numbers are left empty for a failed status."""
    server, _, rest = label.partition(" ")
    workers = next((int(p[1:]) for p in rest.replace("×", " ").split() if p[:1] == "w"), 1)
    threads = next((int(p[1:]) for p in rest.replace("×", " ").split() if p[:1] == "t"), None)
    failed = status.startswith(("failed", "skipped"))
    row: dict[str, Any] = {
        "run_id": "r1",
        "scenario": "fixed",
        "cell_id": cell_id,
        "cell_index": extra.pop("cell_index", 0),
        "repetition": repetition,
        "label": label,
        "server": server,
        "server_kind": "bundled",
        "worker_class": "sync" if server == "prefork" else None,
        "workers": workers,
        "threads": threads,
        "mode": "closed",
        "concurrency": concurrency,
        "engine": "native",
        "duration_s": 10.0,
        "warmup_s": 2.0,
        "status": status,
    }
    if not failed:
        row.update(
            requests=int(rps * 10),
            errors=0,
            error_rate=0.0,
            rps=rps,
            latency_mean_us=p50,
            p50_us=p50,
            p90_us=p99,
            p99_us=p99,
            p999_us=p99,
            latency_max_us=p99 * 2,
            server_cpu_s=5.0,
            server_rss_peak_bytes=50 * 1024 * 1024,
            engine_cpu=0.5,
            engine_bound=status == "engine-bound",
            **{
                f"errors_{k}": 0
                for k in ("connect", "timeout", "reset", "status", "body", "protocol")
            },
        )
    unknown = set(extra) - _CELL_NAMES
    assert not unknown, f"not in the results schema: {unknown}"
    row.update(extra)
    return row


def cells(rows: list[dict[str, Any]]) -> pd.DataFrame:
    """The typed cells table."""
    return frame(rows, CELL_COLUMNS)


def histograms(parts: dict[tuple[str, int], list[tuple[int, int]]]) -> pd.DataFrame:
    """The histograms table from {(cell_id, repetition): [(value_us, count), ...]}."""
    rows = [
        {"cell_id": c, "repetition": r, "value_us": v, "count": n}
        for (c, r), pairs in parts.items()
        for v, n in pairs
    ]
    return frame(rows, HISTOGRAM_COLUMNS)


def timeseries(rows: list[dict[str, Any]]) -> pd.DataFrame:
    """The per-second table."""
    return frame(rows, TIMESERIES_COLUMNS)


def three_configs() -> list[dict[str, Any]]:
    """Three configurations × three loads (c=1, 8, 64); ``A`` saturates, ``C`` fails at 64.

    A: prefork sync w1 (saturates at c=8), B: prefork sync w2, C: eventloop w1 (engine-bound
    at c=8, failed at c=64).
    """
    rows = []
    index = 0
    for c in (1, 8, 64):
        for cid, label, rps, p99, status in (
            (f"A{c}", "prefork sync w1", {1: 500, 8: 990, 64: 1000}[c], {1: 2e3, 8: 9e3, 64: 70e3}[c], "ok"),
            (f"B{c}", "prefork sync w2", {1: 500, 8: 1800, 64: 2000}[c], {1: 2e3, 8: 5e3, 64: 40e3}[c], "ok"),
            (
                f"C{c}",
                "eventloop w1",
                {1: 520, 8: 4000, 64: None}[c],
                {1: 1.8e3, 8: 2.5e3, 64: None}[c],
                {1: "ok", 8: "engine-bound", 64: "failed: server exited with code 1"}[c],
            ),
        ):  # fmt: skip
            rows.append(
                cell_row(cid, label=label, concurrency=c, rps=rps, p50=None if rps is None else p99 / 3,
                         p99=p99, status=status, cell_index=index)
            )  # fmt: skip
            index += 1
    return rows
