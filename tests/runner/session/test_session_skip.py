"""A peer that is not installed is skipped with a note, and the run goes on (in process)."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from rich.console import Console

from bench.runner.exit_codes import ExitCode
from bench.runner.launch import commands as server_commands
from bench.runner.launch.preflight import skipped_cells
from bench.runner.results.manifest import new_manifest
from bench.runner.session.conduct import run_session
from bench.runner.session.prepare import new_run_dir, plan_run

SCENARIO = """
name: skip
workload: {app: hello}
servers:
  - {server: gunicorn, workers: 1}
  - {server: eventloop, workers: 1}
load: {concurrency: 2, duration: 0.3s, warmup: 0.1s, primer: 0.1s}
"""


@pytest.fixture
def gunicorn_missing(monkeypatch: pytest.MonkeyPatch) -> None:
    # Point the gunicorn check at a module that cannot exist, as on a machine without it.
    monkeypatch.setitem(server_commands.PEER_MODULES, "gunicorn", "no_such_module_for_bench_tests")


def test_missing_peer_cells_are_planned_as_skipped(tmp_path: Path, gunicorn_missing: None) -> None:
    path = tmp_path / "skip.yaml"
    path.write_text(SCENARIO)
    plan = plan_run(str(path), check=False)
    skipped = {c.server.server for c in plan.cells if c.cell_id in plan.skipped}
    assert skipped == {"gunicorn"}
    assert "gunicorn is not installed" in next(iter(plan.skipped.values()))


def test_asgi_only_app_skips_wsgi_only_servers(tmp_path: Path) -> None:
    path = tmp_path / "s.yaml"
    path.write_text(SCENARIO.replace("{app: hello}", "{app: 'mypkg.app:asgi_app'}"))
    plan = plan_run(str(path), check=False)
    reasons = skipped_cells(plan.cells, "asgi")
    assert [plan.cells[0].cell_id] == list(reasons)
    assert "serves WSGI apps; the app is ASGI" in reasons[plan.cells[0].cell_id]


@pytest.mark.slow
def _start(path: Path, tmp_path: Path) -> tuple[Any, Path, dict[str, Any]]:
    plan = plan_run(str(path))
    run_dir = new_run_dir(tmp_path / "results", plan.scenario.name)
    manifest = new_manifest(
        run_id=run_dir.name,
        scenario_name=plan.scenario.name,
        scenario_path=str(path),
        scenario_text=plan.scenario_text,
        options={"repeat": 1, "only": []},
        pinning=plan.pinning.to_dict(),
        planned=len(plan.order),
        skipped=sorted(set(plan.skipped.values())),
    )
    return plan, run_dir, manifest


@pytest.mark.slow
def test_run_records_skipped_rows_and_goes_on(tmp_path: Path, gunicorn_missing: None) -> None:
    path = tmp_path / "skip.yaml"
    path.write_text(SCENARIO)
    plan, run_dir, manifest = _start(path, tmp_path)
    out = io.StringIO()
    code = run_session(plan, run_dir, manifest, console=Console(file=out, width=140))
    assert code == ExitCode.OK, out.getvalue()
    assert "1 of 2 cells measured (0 failed, 1 skipped)" in out.getvalue()
    cells = pd.read_parquet(run_dir / "cells.parquet").set_index("server")
    assert cells.loc["gunicorn", "status"].startswith("skipped: gunicorn is not installed")
    assert pd.isna(cells.loc["gunicorn", "rps"])
    assert cells.loc["eventloop", "status"] in ("ok", "engine-bound")
    saved = json.loads((run_dir / "manifest.json").read_text())
    assert saved["status"] == "complete"
    assert saved["skipped"] and "gunicorn" in saved["skipped"][0]
    assert "skipped: gunicorn is not installed" in out.getvalue()


def test_a_run_whose_every_cell_was_skipped_measured_nothing(
    tmp_path: Path, gunicorn_missing: None
) -> None:
    path = tmp_path / "skip.yaml"
    path.write_text(SCENARIO.replace("  - {server: eventloop, workers: 1}\n", ""))
    plan, run_dir, manifest = _start(path, tmp_path)
    out = io.StringIO()
    code = run_session(plan, run_dir, manifest, console=Console(file=out, width=140))
    assert code == ExitCode.NOTHING_MEASURED, out.getvalue()
    assert "nothing measured: 0 of 1 cell measured (0 failed, 1 skipped)" in out.getvalue()
