"""The run folder on disk: atomic writes, reading a run back, and the row store.

A run folder holds:

- ``manifest.json`` — how the run was made (``bench.runner.results.manifest``);
- ``cells.parquet`` — one row per cell × repetition, columns in ``CELL_COLUMNS``;
- ``histograms/`` — every latency histogram, lossless, one parquet file per cell ×
  repetition with (cell_id, repetition, value_us, count) rows; histograms merge by
  adding counts (``HISTOGRAM_COLUMNS``); read the folder as one table with pandas;
- ``timeseries/`` — one row per point of the window (1 s, finer in short windows), likewise (``TIMESERIES_COLUMNS``);
- ``logs/`` — each server's output, ``engine/`` — engine files (locustfile, raw stats).

How this works: every file is written to a temporary name and ``os.replace``d over the
old one, so an interrupted run never leaves a half-written file. For each finished cell
the histogram and time series are written first, then ``cells.parquet`` is rewritten
with the new row: a row there means its histogram and time series are on disk.
``load_run`` ignores histogram and time-series files of cells without a row (a cell
interrupted between the two writes; ``--resume`` runs it again and replaces them).
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from bench.runner.results.schema import (
    CELL_COLUMNS,
    HISTOGRAM_COLUMNS,
    TABLES,
    TIMESERIES_COLUMNS,
    Column,
    frame,
)


#: Mode of the files a run writes (temporary files start owner-only).
FILE_MODE = 0o644


def _atomic_replace(path: Path, write: Callable[[str], None]) -> None:
    """Write through ``write(tmp_path)`` then rename over ``path``: readers see the old
    file or the new one, never half of one (the rename is atomic on POSIX)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(fd)
    try:
        write(tmp)
        with open(tmp, "rb") as fh:
            os.fsync(fh.fileno())
        os.chmod(tmp, FILE_MODE)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def atomic_write_bytes(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` atomically."""
    _atomic_replace(path, lambda tmp: Path(tmp).write_bytes(data))


def atomic_write_json(path: Path, data: Any) -> None:
    """``atomic_write_bytes`` of pretty JSON."""
    atomic_write_bytes(path, (json.dumps(data, indent=2, default=str) + "\n").encode())


def atomic_write_parquet(path: Path, df: pd.DataFrame) -> None:
    """Write a DataFrame as parquet (pyarrow) atomically."""
    _atomic_replace(path, lambda tmp: df.to_parquet(tmp, engine="pyarrow", index=False))


@dataclass
class RunData:
    """A run folder read back."""

    manifest: dict[str, Any]
    cells: pd.DataFrame
    histograms: pd.DataFrame
    timeseries: pd.DataFrame


def _read_table(path: Path, columns: Sequence[Column]) -> pd.DataFrame:
    """A table from one parquet file or a folder of them (empty frame if absent).

    Columns added to the schema after the file was written are added as NA, so older
    run folders read like new ones (columns are only ever added, never renamed).
    """
    if path.is_dir():
        parts = [pd.read_parquet(p, engine="pyarrow") for p in sorted(path.glob("*.parquet"))]
        parts = [p for p in parts if len(p)]
        df = pd.concat(parts, ignore_index=True) if parts else frame([], columns)
    elif path.exists():
        df = pd.read_parquet(path, engine="pyarrow")
    else:
        df = frame([], columns)
    for column in columns:
        if column.name not in df.columns:
            df[column.name] = pd.Series([None] * len(df), dtype=column.dtype, index=df.index)
    ordered = [c.name for c in columns]
    return df[ordered + [c for c in df.columns if c not in ordered]]


def load_run(run_dir: Path) -> RunData:
    """Read a run folder; histogram/time-series rows without a cell row are dropped."""
    manifest_path = run_dir / "manifest.json"
    manifest = json.loads(manifest_path.read_text()) if manifest_path.exists() else {}
    cells = _read_table(run_dir / "cells.parquet", CELL_COLUMNS)
    keys = set(zip(cells["cell_id"], cells["repetition"], strict=True))
    tables = []
    for name in ("histograms", "timeseries"):
        df = _read_table(run_dir / name, TABLES[f"{name}/"])
        if len(df):
            pairs = zip(df["cell_id"], df["repetition"], strict=True)
            df = df[[(c, int(r)) in keys for c, r in pairs]].reset_index(drop=True)
        tables.append(df)
    return RunData(manifest, cells, tables[0], tables[1])


def part_name(cell_id: str, repetition: int) -> str:
    """File name of one cell × repetition in ``histograms/`` and ``timeseries/``."""
    return f"{cell_id}-r{repetition}.parquet"


class RunStore:
    """The rows of a run, written atomically to its folder after every cell."""

    def __init__(self, run_dir: Path) -> None:
        self.run_dir = run_dir
        self.cells: list[dict[str, Any]] = []

    @classmethod
    def resume(cls, run_dir: Path) -> RunStore:
        """A store holding the cell rows an earlier (interrupted) run already wrote."""
        store = cls(run_dir)
        store.cells = _records(load_run(run_dir).cells)
        return store

    def done(self) -> set[tuple[str, int]]:
        """(cell_id, repetition) pairs that have a row."""
        return {(row["cell_id"], int(row["repetition"])) for row in self.cells}

    def add(
        self,
        row: dict[str, Any],
        histogram: Iterable[tuple[int, int]] = (),
        timeseries: Iterable[dict[str, Any]] = (),
    ) -> None:
        """Record one cell × repetition: its histogram and time series, then its row."""
        key = {"cell_id": row["cell_id"], "repetition": int(row["repetition"])}
        name = part_name(row["cell_id"], int(row["repetition"]))
        hist_rows = [{**key, "value_us": int(v), "count": int(c)} for v, c in histogram]
        series_rows = [{**key, **point} for point in timeseries]
        if hist_rows:
            atomic_write_parquet(
                self.run_dir / "histograms" / name, frame(hist_rows, HISTOGRAM_COLUMNS)
            )
        if series_rows:
            atomic_write_parquet(
                self.run_dir / "timeseries" / name, frame(series_rows, TIMESERIES_COLUMNS)
            )
        self.cells.append(row)
        atomic_write_parquet(self.run_dir / "cells.parquet", frame(self.cells, CELL_COLUMNS))


def _records(df: pd.DataFrame) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for record in df.to_dict(orient="records"):
        out.append({k: (None if _is_na(v) else v) for k, v in record.items()})
    return out


def _is_na(value: Any) -> bool:
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):
        return False


