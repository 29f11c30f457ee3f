"""``load.mode: search`` in the scenario, the matrix and the run loop; then ``bench plan``."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from bench.runner.errors import ScenarioError
from bench.runner.matrix.cells import expand
from bench.runner.results.steps import read_steps
from bench.runner.scenario.model import parse_scenario
from bench.runner.session.loop import cell_estimate_s

REPO = Path(__file__).resolve().parents[3]

SEARCH = """
name: tiny_search
workload: {{app: hello}}
servers:
  - {{server: eventloop, workers: 1}}
load:
  mode: search
  slo: {{p99: {p99}, error_rate: 1%}}
  search: {{start_rate: 50, growth: 4, max_rate: 800, max_steps: 3}}
  duration: 0.3s
  warmup: 0.1s
  primer: 0.1s
  {extra}
repeat: 1
pin: auto
launch: {{ready_timeout: 20s, stop_timeout: 5s}}
"""


def test_a_search_scenario_expands_to_one_searched_cell_per_server():
    text = SEARCH.format(p99="1s", extra="")
    text = text.replace(
        "  - {server: eventloop, workers: 1}", "  - {server: eventloop, workers: [1, 2]}"
    )
    scenario = parse_scenario(text)
    assert scenario.load.mode == "search"
    slo = scenario.load.slo.to_slo()
    assert (slo.percentile, slo.limit_us, slo.error_limit) == ("p99", 1e6, 0.01)
    assert scenario.load.search.to_config().max_steps == 3
    cells = expand(scenario)
    assert [c.load.mode for c in cells] == ["search", "search"]
    assert cells[0].describe() == "eventloop w1 uvloop · search"
    # the time estimate counts several windows per searched cell
    assert cell_estimate_s(scenario) > 3 * (0.1 + 0.3)


@pytest.mark.parametrize(
    "extra, message",
    [
        ("rate: [100]", "drop concurrency and rate"),
        ("engine: wrk", "needs engine native"),
    ],
)
def test_search_scenario_errors(extra, message):
    with pytest.raises(ScenarioError, match=message):
        parse_scenario(SEARCH.format(p99="1s", extra=extra), "s.yaml")


def test_search_needs_its_slo_and_closed_loop_does_not_take_one():
    no_slo = SEARCH.format(p99="1s", extra="").replace("  slo: {p99: 1s, error_rate: 1%}\n", "")
    with pytest.raises(ScenarioError, match="search mode needs slo"):
        parse_scenario(no_slo, "s.yaml")
    closed = SEARCH.format(p99="1s", extra="concurrency: [4]").replace(
        "mode: search", "mode: closed"
    )
    with pytest.raises(ScenarioError, match=r"load\.slo is for mode: search"):
        parse_scenario(closed, "s.yaml")
    bad = SEARCH.format(p99="1s", extra="").replace("p99: 1s,", "p99: 1s, p50: 1ms,")
    with pytest.raises(ScenarioError, match="exactly one latency limit"):
        parse_scenario(bad, "s.yaml")


def _bench(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bench.runner.cli", *args],
        capture_output=True,
        text=True,
        cwd=REPO,
        env=dict(os.environ),
        timeout=180,
    )


@pytest.mark.slow
def test_a_real_search_is_recorded_and_planned(tmp_path):
    scenario = tmp_path / "search.yaml"
    scenario.write_text(SEARCH.format(p99="1s", extra=""))
    out = tmp_path / "runs"
    run = _bench("run", str(scenario), "--out", str(out))
    assert run.returncode == 0, run.stderr[-2000:]
    (run_dir,) = [p for p in out.iterdir() if p.is_dir()]
    cells = pd.read_parquet(run_dir / "cells.parquet")
    assert len(cells) == 1
    row = cells.iloc[0]
    steps = read_steps(run_dir, [(row["cell_id"], 0)])
    # 50, 200, 800 req/s at most (max_steps 3): every step measured and recorded
    assert int(row["search_steps"]) == len(steps) == 3
    assert list(steps["rate"])[:2] == [50.0, 200.0]
    assert row["mode"] == "open"
    passed = steps[steps["passed"].astype(bool)]
    if len(passed):
        assert row["search_capacity"] == passed["rate"].max() == row["target_rate"]
    assert row["search_slo"] == "p99 ≤ 1 s, errors ≤ 1%"
    plan = _bench("plan", str(run_dir), "--target-rps", "1000")
    assert plan.returncode == 0, plan.stderr
    assert (run_dir / "plan.md").exists() and (run_dir / "plan.html").exists()
    assert "open-loop search" in (run_dir / "plan.md").read_text()
