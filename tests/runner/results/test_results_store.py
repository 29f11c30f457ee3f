"""Results: the schema as data, round trips, atomic writes, the generated schema doc."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from bench.runner.results.schema import (
    CELL_COLUMNS,
    HISTOGRAM_COLUMNS,
    TIMESERIES_COLUMNS,
    frame,
    schema_markdown,
)
from bench.runner.results.store import (
    RunStore,
    atomic_write_json,
    atomic_write_parquet,
    load_run,
    part_name,
)

DOCS = Path(__file__).resolve().parents[3] / "docs" / "results-schema.md"


def row(cell_id: str, rep: int, **extra: object) -> dict[str, object]:
    return {
        "run_id": "r",
        "scenario": "s",
        "cell_id": cell_id,
        "cell_index": 0,
        "repetition": rep,
        "label": "eventloop w1",
        "server": "eventloop",
        "workers": 1,
        "status": "ok",
        **extra,
    }


def test_columns_are_unique_and_documented() -> None:
    for columns in (CELL_COLUMNS, HISTOGRAM_COLUMNS, TIMESERIES_COLUMNS):
        names = [c.name for c in columns]
        assert len(names) == len(set(names))
        assert all(c.meaning for c in columns)


def test_schema_doc_is_generated_from_the_schema() -> None:
    assert schema_markdown() in DOCS.read_text(encoding="utf-8")


def test_round_trip(tmp_path: Path) -> None:
    store = RunStore(tmp_path)
    store.add(
        row("a", 0, requests=10, rps=5.0, p99_us=120.0, engine_bound=False, threads=None),
        histogram=[(100, 7), (120, 3)],
        timeseries=[{"t_s": 0.0, "span_s": 1.0, "requests": 5.0, "errors": 0.0}],
    )
    store.add(row("b", 0, status="failed: server did not start"))
    data = load_run(tmp_path)
    assert list(data.cells.columns) == [c.name for c in CELL_COLUMNS]
    assert data.cells["cell_id"].tolist() == ["a", "b"]
    assert data.cells.loc[0, "requests"] == 10
    assert pd.isna(data.cells.loc[1, "requests"])  # a failed cell is not zeros
    assert pd.isna(data.cells.loc[0, "threads"])
    assert data.cells.loc[1, "status"] == "failed: server did not start"
    assert sorted(zip(data.histograms["value_us"], data.histograms["count"], strict=True)) == [
        (100, 7),
        (120, 3),
    ]
    assert data.timeseries["requests"].tolist() == [5.0]
    # dtypes come from the schema
    for column in CELL_COLUMNS:
        assert str(data.cells[column.name].dtype) == column.dtype, column.name


def test_resume_reads_rows_back(tmp_path: Path) -> None:
    store = RunStore(tmp_path)
    store.add(row("a", 0), histogram=[(1, 1)])
    store.add(row("a", 1), histogram=[(2, 1)])
    again = RunStore.resume(tmp_path)
    assert again.done() == {("a", 0), ("a", 1)}
    again.add(row("b", 0))
    assert len(load_run(tmp_path).cells) == 3


def test_histograms_of_cells_without_a_row_are_ignored(tmp_path: Path) -> None:
    # An interrupted cell wrote its histogram but not its row.
    RunStore(tmp_path).add(row("a", 0), histogram=[(1, 1)])
    orphan = frame(
        [{"cell_id": "z", "repetition": 0, "value_us": 5, "count": 9}], HISTOGRAM_COLUMNS
    )
    atomic_write_parquet(tmp_path / "histograms" / part_name("z", 0), orphan)
    data = load_run(tmp_path)
    assert set(data.histograms["cell_id"]) == {"a"}


def test_failed_atomic_write_keeps_the_old_file(tmp_path: Path) -> None:
    target = tmp_path / "manifest.json"
    atomic_write_json(target, {"status": "running"})

    class Boom:
        def __str__(self) -> str:
            raise RuntimeError("interrupted mid-write")

    with pytest.raises(RuntimeError):
        atomic_write_json(target, {"status": Boom()})
    assert json.loads(target.read_text()) == {"status": "running"}
    assert [p.name for p in tmp_path.iterdir()] == ["manifest.json"]  # no temp file left


def test_empty_run_folder_reads_as_empty_tables(tmp_path: Path) -> None:
    data = load_run(tmp_path)
    assert data.cells.empty and data.histograms.empty and data.timeseries.empty
    assert data.manifest == {}


def test_older_run_folders_gain_new_columns_as_na(tmp_path: Path) -> None:
    old = frame([row("a", 0)], CELL_COLUMNS).drop(columns=["server_cpu_per_request_us", "notes"])
    atomic_write_parquet(tmp_path / "cells.parquet", old)
    cells = load_run(tmp_path).cells
    assert list(cells.columns) == [c.name for c in CELL_COLUMNS]
    assert pd.isna(cells.loc[0, "server_cpu_per_request_us"])
    assert str(cells["notes"].dtype) == "string"
