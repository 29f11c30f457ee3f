"""A run folder as the dashboards see it: the raw tables plus what is derived from them.

``load_view(run_dir)`` reads the folder with ``bench.runner.results.load_run`` (the one reader
of the results schema), takes the SLO from the manifest's scenario text, summarizes the
cells (``bench.dashboards.tables.summarize``) and merges each cell's histograms once, so every
figure works from the same numbers.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from bench.dashboards.errors import ReportError
from bench.runner.results.histogram import Histogram
from bench.runner.results.schema import CELL_COLUMNS, frame
from bench.runner.results.slo import Slo, slo_from_manifest
from bench.runner.results.status import USABLE, status_kind
from bench.runner.results.store import RunData, load_run
from bench.runner.results.summary import merged_histograms, summarize


@dataclass(frozen=True)
class RunView:
    """Everything a report needs, computed once.

    Attributes:
        run_dir: the run folder.
        manifest: ``manifest.json`` (empty dict when absent).
        cells: ``cells.parquet`` (one row per cell × repetition).
        histograms: ``histograms.parquet`` rows.
        timeseries: ``timeseries.parquet`` rows.
        slo: the scenario's SLO, or None.
        summary: one row per cell (``bench.dashboards.tables.summarize``).
        merged: per cell_id, the merged histogram of its usable repetitions.
    """

    run_dir: Path
    manifest: dict[str, Any]
    cells: pd.DataFrame
    histograms: pd.DataFrame
    timeseries: pd.DataFrame
    slo: Slo | None
    summary: pd.DataFrame
    merged: dict[str, Histogram]

    @property
    def scenario(self) -> str:
        """The scenario's name (manifest first, else the cells table)."""
        name = self.manifest.get("scenario")
        if not name and not self.cells.empty:
            name = (
                self.cells["scenario"].dropna().iloc[0]
                if self.cells["scenario"].notna().any()
                else ""
            )
        return str(name or "unnamed scenario")

    def status_counts(self) -> dict[str, int]:
        """Cells per status kind (ok, engine-bound, failed, skipped)."""
        counts = self.summary["status_kind"].value_counts() if not self.summary.empty else {}
        return {str(k): int(v) for k, v in dict(counts).items()}


def view_from_data(run_dir: Path, data: RunData) -> RunView:
    """Derive a ``RunView`` from tables already read."""
    cells = _with_schema(data.cells)
    slo = slo_from_manifest(data.manifest)
    kinds = cells["status"].map(status_kind)
    keys = [
        (str(c), int(r))
        for c, r, k in zip(cells["cell_id"], cells["repetition"], kinds, strict=True)
        if k in USABLE
    ]
    merged = merged_histograms(data.histograms, keys)
    summary = summarize(cells, data.histograms, slo, merged=merged)
    return RunView(
        run_dir=run_dir,
        manifest=dict(data.manifest),
        cells=cells,
        histograms=data.histograms,
        timeseries=data.timeseries,
        slo=slo,
        summary=summary,
        merged=merged,
    )


def _with_schema(cells: pd.DataFrame) -> pd.DataFrame:
    """Add schema columns missing from an older cells table (as NA), keep extra columns."""
    missing = [c for c in CELL_COLUMNS if c.name not in cells.columns]
    if not missing:
        return cells
    empty = frame([{}] * len(cells), missing)
    empty.index = cells.index
    return pd.concat([cells, empty], axis=1)


def load_view(run_dir: Path) -> RunView:
    """Read a run folder.

    Raises:
        ReportError: the folder does not exist or holds no results.
    """
    run_dir = Path(run_dir)
    if not run_dir.is_dir():
        raise ReportError(f"{run_dir}: no such run folder")
    if not (run_dir / "cells.parquet").exists() and not (run_dir / "manifest.json").exists():
        raise ReportError(f"{run_dir}: not a run folder (no manifest.json or cells.parquet)")
    try:
        data = load_run(run_dir)
    except (OSError, ValueError) as exc:
        raise ReportError(f"{run_dir}: cannot read the results: {exc}") from None
    return view_from_data(run_dir, data)
