"""Baseline files: save a run, find it by name or path, read it back unchanged."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from compare_testkit import REPS, rows, scenario_text, write_run

from bench.runner.compare.baseline import (
    baseline_path,
    baselines_dir,
    list_baselines,
    load_side,
    read_baseline_file,
    save_baseline,
)
from bench.runner.errors import UsageError


def test_compare_baseline_round_trip(tmp_path: Path) -> None:
    table = rows(seed=1)
    run = write_run(tmp_path / "run-1", table)
    saved = save_baseline(run, None, tmp_path / "baselines")
    assert saved == tmp_path / "baselines" / "quick.parquet"  # default name: the scenario
    side = read_baseline_file(saved)
    assert side.kind == "baseline" and side.name == "quick"
    assert side.scenario == "quick" and side.git_sha == "0123456789abcdef"
    assert side.scenario_text == scenario_text("quick")
    assert side.header["source_run"] == "run-1"
    pd.testing.assert_frame_equal(side.cells, table, check_dtype=True)


def test_compare_baseline_found_by_name_path_or_run_folder(tmp_path: Path) -> None:
    run = write_run(tmp_path / "run-2", rows(seed=2))
    directory = tmp_path / "b"
    saved = save_baseline(run, "feature/faster", directory)
    assert saved.name == "feature-faster.parquet"
    assert load_side("feature/faster", directory=directory).kind == "baseline"
    assert load_side(str(saved), directory=directory).name == "feature/faster"
    side = load_side(str(run), directory=directory)
    assert side.kind == "run" and side.name == "run-2" and len(side.cells) == 2 * REPS
    assert load_side(str(run / "manifest.json"), directory=directory).kind == "run"


def test_compare_baseline_errors_are_one_line(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="no such run folder, baseline file or saved baseline"):
        load_side(str(tmp_path / "nope"), directory=tmp_path)
    (tmp_path / "empty").mkdir()
    with pytest.raises(UsageError, match="not a run folder"):
        load_side(str(tmp_path / "empty"), directory=tmp_path)
    stray = tmp_path / "x.parquet"
    rows().to_parquet(stray)
    with pytest.raises(UsageError, match="without a bench baseline header"):
        load_side(str(stray), directory=tmp_path)
    (tmp_path / "junk.parquet").write_bytes(b"not parquet")
    with pytest.raises(UsageError, match="not a baseline file"):
        load_side(str(tmp_path / "junk.parquet"), directory=tmp_path)


def test_compare_baseline_refuses_runs_with_nothing_measured(tmp_path: Path) -> None:
    failed = {(c, r): "failed: no server" for c in ("c1", "c2") for r in range(REPS)}
    run = write_run(tmp_path / "run-3", rows(status=failed))
    with pytest.raises(UsageError, match="no measured repetition"):
        save_baseline(run, "x", tmp_path / "b")


def test_compare_baseline_does_not_silently_replace_another_scenario(tmp_path: Path) -> None:
    directory = tmp_path / "b"
    save_baseline(write_run(tmp_path / "r1", rows()), "main", directory)
    other = write_run(tmp_path / "r2", rows(scenario="io_bound"), scenario="io_bound")
    with pytest.raises(UsageError, match="holds scenario 'quick'"):
        save_baseline(other, "main", directory)
    save_baseline(other, "main", directory, force=True)
    assert read_baseline_file(directory / "main.parquet").scenario == "io_bound"
    # The same scenario replaces its baseline without --force (the usual CI update).
    save_baseline(
        write_run(tmp_path / "r3", rows(scenario="io_bound"), scenario="io_bound"),
        "main",
        directory,
    )


def test_compare_baseline_list(tmp_path: Path) -> None:
    directory = tmp_path / "b"
    assert list_baselines(directory) == []
    save_baseline(write_run(tmp_path / "r1", rows()), "main", directory)
    save_baseline(write_run(tmp_path / "r2", rows(reps=3)), "release", directory)
    (directory / "stray.parquet").write_bytes(b"junk")
    found = list_baselines(directory)
    assert [(b.name, b.cells, b.rows) for b in found] == [("main", 2, 2 * REPS), ("release", 2, 6)]
    assert found[0].source_run == "r1" and found[0].saved_at


def test_compare_baseline_dir_resolution(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("BENCH_BASELINES", raising=False)
    assert baselines_dir(None) == Path("results") / "baselines"
    monkeypatch.setenv("BENCH_BASELINES", str(tmp_path))
    assert baselines_dir(None) == tmp_path
    assert baselines_dir("elsewhere") == Path("elsewhere")
    with pytest.raises(UsageError):
        baseline_path("///", tmp_path)
