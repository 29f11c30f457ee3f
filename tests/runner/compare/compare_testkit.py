"""Synthetic cells tables and run folders for the compare tests (schema: runner.results)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from bench.runner.results.schema import CELL_COLUMNS, frame
from bench.runner.results.store import atomic_write_json, atomic_write_parquet


@dataclass(frozen=True)
class CellSpec:
    """One synthetic cell: its id, label, configuration and typical values."""

    cell_id: str
    label: str
    server: str = "prefork"
    workers: int = 1
    concurrency: int = 32
    rps: float = 9000.0
    p50_us: float = 3000.0
    p99_us: float = 9000.0
    p999_us: float = 15000.0
    rss: float = 40e6


#: Repetitions per side by default: enough for 2 cells × 6 metrics at the default alpha (0.008).
REPS = 8

CELLS: tuple[CellSpec, ...] = (
    CellSpec("c1", "prefork sync w1", "prefork"),
    CellSpec("c2", "eventloop w1 uvloop", "eventloop", rps=12000.0, p50_us=2000.0),
)


def rows(
    *,
    slowdown: float = 0.0,
    reps: int = REPS,
    noise: float = 0.03,
    seed: int = 0,
    cells: Sequence[CellSpec] = CELLS,
    scenario: str = "quick",
    error_rate: float = 0.0,
    status: dict[tuple[str, int], str] | None = None,
    engine_bound: bool = False,
) -> pd.DataFrame:
    """A cells table: every cell × ``reps`` repetitions, ``slowdown`` slower than typical.

    ``status`` overrides the status of (cell_id, repetition) rows (e.g. "failed: …").
    """
    rng = np.random.default_rng(seed)
    factor = 1.0 + slowdown
    out: list[dict[str, Any]] = []
    for rep in range(reps):
        for index, cell in enumerate(cells):
            jitter = lambda: float(rng.lognormal(0.0, noise))  # noqa: E731
            state = (status or {}).get((cell.cell_id, rep), "ok")
            measured = state in ("ok", "engine-bound")
            out.append(
                {
                    "run_id": "run",
                    "scenario": scenario,
                    "cell_id": cell.cell_id,
                    "cell_index": index,
                    "repetition": rep,
                    "label": cell.label,
                    "server": cell.server,
                    "workers": cell.workers,
                    "mode": "closed",
                    "concurrency": cell.concurrency,
                    "requests": 100_000 if measured else None,
                    "errors": int(100_000 * error_rate) if measured else None,
                    "error_rate": error_rate if measured else None,
                    "rps": cell.rps / factor * jitter() if measured else None,
                    "p50_us": cell.p50_us * factor * jitter() if measured else None,
                    "p99_us": cell.p99_us * factor * jitter() if measured else None,
                    "p999_us": cell.p999_us * factor * jitter() if measured else None,
                    "server_rss_peak_bytes": int(cell.rss * jitter()) if measured else None,
                    "engine_bound": engine_bound,
                    "status": "engine-bound" if engine_bound and state == "ok" else state,
                }
            )
    return frame(out, CELL_COLUMNS)


def scenario_text(name: str = "quick", gates: str = "", work: int = 1) -> str:
    """A scenario file's text as a manifest would hold it."""
    text = (
        f"name: {name}\n"
        f"workload: {{app: cpu, params: {{work: {work}}}}}\n"
        "servers:\n  - {server: prefork, workers: [1]}\n"
        "load: {mode: closed, concurrency: [32], duration: 1s}\n"
        "repeat: 5\n"
    )
    return text + gates


def write_run(
    run_dir: Path,
    table: pd.DataFrame,
    *,
    scenario: str = "quick",
    text: str | None = None,
    extra: dict[str, Any] | None = None,
) -> Path:
    """A run folder (manifest.json + cells.parquet) as ``bench run`` writes it.

    ``extra`` adds manifest sections (``fingerprint``, ``reference``).
    """
    manifest = {
        "manifest_version": 1,
        "run_id": run_dir.name,
        "scenario": scenario,
        "scenario_text": text if text is not None else scenario_text(scenario),
        "environment": {"git_sha": "0123456789abcdef"},
        "status": "done",
        **(extra or {}),
    }
    atomic_write_json(run_dir / "manifest.json", manifest)
    atomic_write_parquet(run_dir / "cells.parquet", table)
    return run_dir
