"""The events table of a run folder: written per cell × repetition, read back, ranked.

``events/<cell>-r<rep>.parquet`` holds one row per scenario event (``EVENT_COLUMNS``),
written before the cell's row like histograms and time series; ``load_events`` drops the
rows of cells without a row in ``cells.parquet``. ``event_ranking`` is what the dashboard
and the closing notes show: per configuration and action, what the event cost, the
cheapest first.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from bench.runner.results.schema import EVENT_COLUMNS, frame
from bench.runner.results.store import atomic_write_parquet, part_name

EVENTS_DIR = "events"


def write_events(
    run_dir: Path, cell_id: str, repetition: int, rows: Sequence[dict[str, Any]]
) -> None:
    """Write one cell repetition's event rows (nothing when there are none)."""
    if not rows:
        return
    key = {"cell_id": cell_id, "repetition": int(repetition)}
    table = frame([{**key, **row} for row in rows], EVENT_COLUMNS)
    atomic_write_parquet(run_dir / EVENTS_DIR / part_name(cell_id, repetition), table)


def load_events(run_dir: Path, cells: pd.DataFrame | None = None) -> pd.DataFrame:
    """Every event row of a run (only of cells that have a row, when ``cells`` is given)."""
    parts = sorted((run_dir / EVENTS_DIR).glob("*.parquet"))
    frames = [pd.read_parquet(p, engine="pyarrow") for p in parts]
    frames = [f for f in frames if len(f)]
    df = pd.concat(frames, ignore_index=True) if frames else frame([], EVENT_COLUMNS)
    for column in EVENT_COLUMNS:
        if column.name not in df.columns:
            df[column.name] = pd.Series([None] * len(df), dtype=column.dtype, index=df.index)
    if cells is not None and len(df):
        keys = set(zip(cells["cell_id"], cells["repetition"].astype(int), strict=True))
        pairs = zip(df["cell_id"], df["repetition"].astype(int), strict=True)
        df = df[[pair in keys for pair in pairs]].reset_index(drop=True)
    return df


#: What the ranking shows per (configuration, action), in order.
RANK_COLUMNS: tuple[str, ...] = (
    "label",
    "action",
    "runs",
    "status",
    "errors",
    "connect",
    "lost",
    "unsent",
    "recovery_s",
    "p99_ms",
    "p999_ms",
    "max_ms",
    "steady_p99_ms",
    "workers_back_s",
)


def event_ranking(events: pd.DataFrame, cells: pd.DataFrame) -> pd.DataFrame:
    """Per configuration and action: errors and lost (summed over repetitions), worst
    recovery and latencies (the max over repetitions); cheapest first."""
    if not len(events):
        return pd.DataFrame(columns=list(RANK_COLUMNS))
    labels = cells[["cell_id", "label"]].drop_duplicates("cell_id")
    df = events.merge(labels, on="cell_id", how="left")
    rows: list[dict[str, Any]] = []
    for (label, action), group in df.groupby(["label", "action"], sort=False):
        done = group[group["status"] == "done"]
        statuses = sorted({s.split(":")[0] for s in group["status"].dropna()})
        rows.append(
            {
                "label": label,
                "action": action,
                "runs": len(group),
                "status": ", ".join(statuses),
                "errors": int(done["errors"].fillna(0).sum()),
                "connect": int(done["errors_connect"].fillna(0).sum()),
                "lost": int(done["lost"].fillna(0).sum()),
                "unsent": int(done["unsent"].fillna(0).sum()),
                "recovery_s": _worst(done["recovery_s"], never=~done["recovered"].fillna(False)),
                "p99_ms": _max_ms(done["p99_us"]),
                "p999_ms": _max_ms(done["p999_us"]),
                "max_ms": _max_ms(done["max_us"]),
                "steady_p99_ms": _max_ms(done["steady_p99_us"]),
                "workers_back_s": _max(done["workers_back_s"]),
            }
        )
    out = pd.DataFrame(rows, columns=list(RANK_COLUMNS))
    order = out.assign(_r=out["recovery_s"].fillna(float("inf")))
    order = order.sort_values(["action", "errors", "lost", "_r", "p99_ms"], kind="stable")
    return order.drop(columns="_r").reset_index(drop=True)


def _max(series: pd.Series) -> float | None:
    values = series.dropna()
    return float(values.max()) if len(values) else None


def _max_ms(series: pd.Series) -> float | None:
    value = _max(series)
    return None if value is None else value / 1000.0


def _worst(series: pd.Series, never: pd.Series) -> float | None:
    """The longest recovery; None (never recovered) when any repetition never did."""
    if bool(never.any()):
        return None
    return _max(series)
