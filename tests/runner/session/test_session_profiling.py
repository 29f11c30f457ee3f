"""Profiled cells: the pure row fields, and a real profiled run end to end."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from bench.runner.launch.profiler import RecordedProfile, py_spy_path
from bench.runner.results.profile import FunctionShare
from bench.runner.session.profiling import overhead, profile_fields

REPO = Path(__file__).resolve().parents[3]


def test_overhead_is_the_throughput_lost() -> None:
    assert overhead(1000.0, 900.0) == pytest.approx(0.1)
    assert overhead(1000.0, 1100.0) == pytest.approx(-0.1)  # noise can make it negative
    assert overhead(0.0, 10.0) is None


def test_fields_of_a_recording_and_of_a_missing_one() -> None:
    recorded = RecordedProfile(
        speedscope="profiles/a-r0.speedscope.json",
        svg="profiles/a-r0.svg",
        samples=300,
        top=[FunctionShare("burn (servers/apps/cpu.py)", 0.7, 0.7)],
        profiler_cpu_s=0.3,
        recorded_s=3.0,
    )
    fields = profile_fields(recorded, 1000.0, 800.0)
    assert fields["profile_svg"] == "profiles/a-r0.svg" and fields["profile_samples"] == 300
    assert fields["profile_overhead"] == pytest.approx(0.2)
    assert fields["profile_cpu_share"] == pytest.approx(0.1)
    assert json.loads(fields["profile_top"])[0][0] == "burn (servers/apps/cpu.py)"
    missing = profile_fields(RecordedProfile(reason="py-spy is not installed"), 1000.0, None)
    assert missing == {"profile_note": "py-spy is not installed"}


SCENARIO = """\
name: profiled
workload: {app: cpu, params: {iterations: 20000}}
servers:
  - {server: prefork, worker_class: sync, workers: [2]}
load: {mode: closed, concurrency: [4], duration: 1.5s, warmup: 0.3s, primer: 0.2s}
pin: none
"""


@pytest.mark.slow
@pytest.mark.skipif(py_spy_path() is None, reason="py-spy is not installed")
def test_a_profiled_run_writes_a_flamegraph_naming_the_work_function(tmp_path: Path) -> None:
    scenario = tmp_path / "profiled.yaml"
    scenario.write_text(SCENARIO, encoding="utf-8")
    out = tmp_path / "runs"
    run = subprocess.run(
        [
            sys.executable,
            "-m",
            "bench.runner.cli",
            "run",
            str(scenario),
            "--profile",
            "--out",
            str(out),
        ],
        capture_output=True,
        text=True,
        cwd=REPO,
        env=dict(os.environ),
        timeout=180,
    )
    assert run.returncode == 0, run.stdout[-2000:] + run.stderr[-2000:]
    [run_dir] = out.iterdir()
    row = pd.read_parquet(run_dir / "cells.parquet").iloc[0]
    assert json.loads(row["worker_request_shares"]) and len(json.loads(row["worker_pids"])) == 2
    if pd.isna(row["profile_svg"]):  # py-spy could not attach here: the reason, one line
        assert "\n" not in row["profile_note"] and "no profile" in row["notes"]
        return
    top = json.loads(row["profile_top"])
    assert top[0][0] == "burn (servers/apps/cpu.py)"
    svg = (run_dir / row["profile_svg"]).read_text(encoding="utf-8")
    assert "burn (servers/apps/cpu.py)" in svg
    assert (run_dir / row["profile_speedscope"]).is_file()
    assert row["profile_rps"] > 0 and not pd.isna(row["profile_overhead"])
    report = (run_dir / "report.html").read_text(encoding="utf-8")
    assert f'href="{row["profile_svg"]}"' in report and "Worker balance" in report
    assert "profile prefork sync w2" in run.stdout


def test_a_profiled_scenario_is_estimated_with_its_second_window() -> None:
    from bench.runner.scenario.model import parse_scenario
    from bench.runner.session.loop import cell_estimate_s

    plain = parse_scenario(SCENARIO)
    profiled = parse_scenario(SCENARIO + "profile: true\n")
    window = plain.load.warmup + plain.load.duration
    assert cell_estimate_s(profiled) == pytest.approx(cell_estimate_s(plain) + window)


def test_profile_must_be_a_boolean() -> None:
    from bench.runner.errors import ScenarioError
    from bench.runner.scenario.model import parse_scenario

    with pytest.raises(ScenarioError, match="profile"):
        parse_scenario(SCENARIO + "profile: often\n", "s.yaml")
