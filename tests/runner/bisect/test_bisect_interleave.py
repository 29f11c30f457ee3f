"""Interleaved measuring: single-repetition runs combined into one run folder."""

from __future__ import annotations

from pathlib import Path

from bench.runner.bisect.interleave import combine, scenario_repeat
from bench.runner.compare.baseline import load_side
from bench.runner.results.schema import CELL_COLUMNS, frame
from bench.runner.results.store import atomic_write_json, atomic_write_parquet


def write_run(run_dir: Path, rps: float) -> Path:
    """A single-repetition run folder of one scenario, two cells."""
    cells = [
        {"run_id": run_dir.name, "scenario": "quick", "cell_id": cell, "cell_index": i,
         "repetition": 0, "label": cell, "status": "ok", "rps": rps, "error_rate": 0.0}
        for i, cell in enumerate(("c1", "c2"))
    ]  # fmt: skip
    atomic_write_json(run_dir / "manifest.json", {"run_id": run_dir.name, "scenario": "quick"})
    atomic_write_parquet(run_dir / "cells.parquet", frame(cells, CELL_COLUMNS))
    return run_dir


def test_bisect_combine_joins_parts_with_their_repetitions_renumbered(tmp_path: Path) -> None:
    parts = [write_run(tmp_path / f"p{i}", 100.0 + i) for i in range(3)]
    combined = combine(parts, tmp_path / "combined")
    side = load_side(str(combined), directory=tmp_path)
    assert sorted(side.cells["repetition"].unique().tolist()) == [0, 1, 2]
    assert len(side.cells) == 3 * 2  # 2 cells per part
    assert side.manifest["run_id"] == "combined"
    assert side.manifest["interleaved_parts"] == [str(p) for p in parts]
    assert side.scenario == "quick"
    first = side.cells[side.cells["cell_id"] == "c1"].sort_values("repetition")
    assert first["rps"].tolist() == [100.0, 101.0, 102.0]  # each part's rows, in turn


def test_bisect_scenario_repeat(tmp_path: Path) -> None:
    good = tmp_path / "s.yaml"
    good.write_text("name: x\nrepeat: 7\n")
    assert scenario_repeat(good) == 7
    (tmp_path / "none.yaml").write_text("name: x\n")
    assert scenario_repeat(tmp_path / "none.yaml", default=4) == 4
    assert scenario_repeat(tmp_path / "missing.yaml") == 5
