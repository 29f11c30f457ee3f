"""Interleaved measuring for ``bench bisect``: GOOD and the probe, one repetition each in turn.

How this works: on a shared machine the load changes within seconds, so two runs made
one after the other differ by more than a 30 % slowdown (measured: an unchanged commit
+42 %, a slowed one −1 %). Alternating single-repetition runs — GOOD, probe, GOOD,
probe, … — exposes both sides to the same drift, as the interleaved schedule of one
``bench run`` does for its cells. ``combine`` then joins each side's single-repetition
run folders into one run folder (the first part's manifest, every part's cells rows with
their repetition renumbered), which ``bench compare`` and the gate read like any run;
the parts stay beside it with their own reports.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pandas as pd
import yaml

from bench.runner.results.store import atomic_write_json, atomic_write_parquet, load_run

#: Subfolder of a combined run holding its single-repetition parts.
PARTS = "parts"


def scenario_repeat(path: Path, default: int = 5) -> int:
    """The ``repeat`` of a scenario file (``default`` when unreadable or absent)."""
    try:
        data: Any = yaml.safe_load(path.read_text())
    except (OSError, yaml.YAMLError):
        return default
    value = data.get("repeat") if isinstance(data, dict) else None
    return value if isinstance(value, int) and value > 0 else default


def combine(parts: Sequence[Path], into: Path) -> Path:
    """One run folder at ``into`` from single-repetition run folders (in order)."""
    tables = []
    manifest: dict[str, Any] = {}
    for index, part in enumerate(parts):
        run = load_run(part)
        if not manifest:
            manifest = dict(run.manifest)
        cells = run.cells.copy()
        cells["repetition"] = index
        tables.append(cells)
    manifest["run_id"] = into.name
    manifest["interleaved_parts"] = [str(p) for p in parts]
    manifest.setdefault("options", {})["repeat"] = len(parts)
    into.mkdir(parents=True, exist_ok=True)
    atomic_write_json(into / "manifest.json", manifest)
    atomic_write_parquet(into / "cells.parquet", pd.concat(tables, ignore_index=True))
    return into
