"""The locust engine with relative paths: a scenario's own locustfile, the default --out.

Locust runs in the engine's work folder, so every path it is given must be absolute: a
scenario's ``load.locust.locustfile`` is resolved against the scenario file's folder
when the scenario loads (and refused there if missing), and the work folder (under
``--out``, relative to the cwd by default) is made absolute before locust starts.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from bench.runner.engines.locust import LocustEngine, LocustSettings
from bench.runner.errors import ScenarioError
from bench.runner.exit_codes import ExitCode
from bench.runner.loadspec import LoadSpec
from bench.runner.scenario.model import load_scenario, parse_scenario

USER_LOCUSTFILE = """
from locust import HttpUser, constant, task


class Visitor(HttpUser):
    wait_time = constant(0)

    @task
    def index(self):
        self.client.get("/")
"""

SCENARIO = """
name: own_locust
description: the user's own locustfile, beside the scenario
workload: {{app: hello}}
servers:
  - {{server: eventloop, workers: 1}}
load:
  engine: locust
  concurrency: 2
  duration: 1s
  warmup: 0s
  primer: 0.2s
  locust: {{locustfile: {locustfile}}}
repeat: 1
pin: none
launch: {{ready_timeout: 20s, stop_timeout: 5s}}
"""


def _scenario_dir(root: Path) -> Path:
    folder = root / "scenarios"
    (folder / "loads").mkdir(parents=True)
    (folder / "loads" / "visitor.py").write_text(USER_LOCUSTFILE)
    (folder / "own.yaml").write_text(SCENARIO.format(locustfile="loads/visitor.py"))
    return folder


def test_locustfile_is_resolved_against_the_scenario_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = _scenario_dir(tmp_path)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)  # neither the cwd nor the repository: the scenario's folder
    scenario = load_scenario(Path("..") / "scenarios" / "own.yaml")
    assert scenario.load.locust.locustfile == str(folder / "loads" / "visitor.py")


def test_a_missing_locustfile_is_refused_when_the_scenario_loads(tmp_path: Path) -> None:
    folder = _scenario_dir(tmp_path)
    # Relative to the cwd is not relative to the scenario: refused, naming both.
    (tmp_path / "visitor.py").write_text(USER_LOCUSTFILE)
    text = SCENARIO.format(locustfile="visitor.py")
    with pytest.raises(ScenarioError) as info:
        parse_scenario(text, str(folder / "own.yaml"))
    message = str(info.value)
    assert message.startswith(f"{folder / 'own.yaml'}:13: at load.locust.locustfile: ")
    assert f"'visitor.py' does not exist (looked for {folder / 'visitor.py'})" in message
    assert "relative to the scenario file's folder" in message
    with pytest.raises(ScenarioError, match="'loads' is a folder"):
        parse_scenario(SCENARIO.format(locustfile="loads"), str(folder / "own.yaml"))


@pytest.mark.slow
def test_locust_with_a_relative_work_folder(
    serve, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.chdir(tmp_path)
    with serve("eventloop", "hello") as url:
        engine = LocustEngine(LocustSettings(), workdir=Path("results") / "run" / "engine")
        result = engine.run(LoadSpec(url=url + "/", connections=2, duration_s=1.0, warmup_s=0.0))
    assert result.requests > 0 and sum(result.errors.values()) == 0
    assert (tmp_path / "results" / "run" / "engine" / "locustfile.py").is_file()


@pytest.mark.slow
def test_bench_run_with_an_own_locustfile_from_another_folder_and_the_default_out(
    tmp_path: Path,
) -> None:
    folder = _scenario_dir(tmp_path)
    cwd = tmp_path / "work"
    cwd.mkdir()
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "bench.runner.cli",
            "run",
            str(Path("..") / "scenarios" / "own.yaml"),
        ],
        cwd=cwd,
        capture_output=True,
        text=True,
        env={**os.environ, "COLUMNS": "200"},
        timeout=180,
    )
    assert proc.returncode == ExitCode.OK, proc.stdout + proc.stderr
    runs = list((cwd / "results").iterdir())  # the default --out, relative to the cwd
    assert len(runs) == 1, runs
    cells = pd.read_parquet(runs[0] / "cells.parquet")
    assert cells["status"].tolist() in (["ok"], ["engine-bound"]), cells["status"].tolist()
    assert cells["requests"].iloc[0] > 0
    assert (runs[0] / "engine" / "bench_locust_hooks.py").is_file()
    assert not (folder / "results").exists()
