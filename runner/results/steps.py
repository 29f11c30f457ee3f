"""The record of an SLO search: every measured step, in a run folder's ``search/`` table.

A search cell (``load.mode: search``) is one row of ``cells.parquet`` per repetition —
the measurement at the capacity found (the highest passing step), with the
``SEARCH_CELL_COLUMNS`` saying what the search concluded — plus one row per measured
step in ``search/<cell_id>-r<repetition>.parquet`` (``SEARCH_STEP_COLUMNS``).

Like histograms and time series, the steps file is written before the cell's row, so a
row in ``cells.parquet`` means its steps are on disk; ``read_steps`` ignores step files
of cells without a row (a search interrupted before its row was written).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from bench.runner.results.schema import CELL_COLUMNS, Column, frame
from bench.runner.results.store import atomic_write_parquet, part_name

#: The folder of a run that holds the search steps.
STEPS_DIR = "search"

C = Column
SEARCH_STEP_COLUMNS: tuple[Column, ...] = (
    C("cell_id", "string", "", "cell (see cells.parquet)"),
    C("repetition", "int64", "", "repetition"),
    C("step", "int64", "", "0-based order of the step within the search"),
    C("rate", "float64", "req/s", "arrival rate the step scheduled (open loop)"),
    C("achieved_rate", "float64", "req/s", "arrivals actually sent per second"),
    C("rps", "float64", "req/s", "valid responses per second of the window"),
    C("requests", "Int64", "requests", "valid responses in the window"),
    C("errors", "Int64", "requests", "errors in the window, every kind"),
    C("error_rate", "float64", "fraction", "errors / (requests + errors)"),
    C("percentile", "string", "", "the SLO's percentile (p99, …)"),
    C("latency_us", "float64", "µs", "that percentile in this step"),
    C("p50_us", "float64", "µs", "median latency"),
    C("p99_us", "float64", "µs", "99th percentile latency"),
    C("latency_mean_us", "float64", "µs", "mean latency"),
    C("engine_cpu", "float64", "fraction", "engine CPU / CPUs it ran on"),
    C("engine_bound", "boolean", "", "the engine was the bottleneck: the search stopped"),
    C("server_cpu_s", "float64", "CPU s", "server CPU time in the window (when sampled)"),
    C("server_rss_peak_bytes", "Int64", "bytes", "server peak resident memory in the window"),
    C("passed", "boolean", "", "the step met the SLO"),
    C("reason", "string", "", "why it did not (empty when it passed)"),
)

#: Columns a search adds to its cell's row in ``cells.parquet`` (empty for other cells);
#: defined with the rest of that table in ``bench.runner.results``.
SEARCH_CELL_COLUMNS: tuple[Column, ...] = tuple(
    c for c in CELL_COLUMNS if c.name.startswith("search_")
)


def write_steps(
    run_dir: Path, cell_id: str, repetition: int, steps: Sequence[Mapping[str, Any]]
) -> Path | None:
    """Write one search's step rows (``SEARCH_STEP_COLUMNS``); None when there are none."""
    if not steps:
        return None
    rows = [{**step, "cell_id": cell_id, "repetition": int(repetition)} for step in steps]
    path = run_dir / STEPS_DIR / part_name(cell_id, repetition)
    atomic_write_parquet(path, frame(rows, SEARCH_STEP_COLUMNS))
    return path


def read_steps(run_dir: Path, keys: Iterable[tuple[str, int]] | None = None) -> pd.DataFrame:
    """Every step of the run's searches (empty table if none).

    ``keys``: the (cell_id, repetition) pairs that have a row in ``cells.parquet``; step
    files of other cells are left out. Columns missing from an older file read as NA.
    """
    folder = run_dir / STEPS_DIR
    parts = [pd.read_parquet(p, engine="pyarrow") for p in sorted(folder.glob("*.parquet"))]
    parts = [p for p in parts if len(p)]
    if not parts:
        return frame([], SEARCH_STEP_COLUMNS)
    df = pd.concat(parts, ignore_index=True)
    for column in SEARCH_STEP_COLUMNS:
        if column.name not in df.columns:
            df[column.name] = pd.Series([None] * len(df), dtype=column.dtype, index=df.index)
    if keys is not None:
        wanted = {(str(c), int(r)) for c, r in keys}
        pairs = zip(df["cell_id"], df["repetition"], strict=True)
        df = df[[(str(c), int(r)) in wanted for c, r in pairs]]
    return df.sort_values(["cell_id", "repetition", "step"]).reset_index(drop=True)
