"""Real short runs of our prefork under kill-worker, reload, pause and restart (``bench run``).

Each run starts a real prefork server (port picked free, readiness waited for, stopped by
the run) and drives it with the native engine's open loop on 127.0.0.1; the assertions
are about what happened (pids, statuses, workers replaced, the stall seen), not timing.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from bench.runner.results.event_table import event_ranking, load_events

REPO = Path(__file__).resolve().parents[3]

SCENARIO = """\
name: lifecycle
workload: {app: hello}
servers:
  - {server: prefork, worker_class: sync, workers: 2}
  - {server: eventloop, workers: 1}
load: {mode: open, rate: 200, duration: 10s, warmup: 0.5s, primer: 0.3s}
pin: none
events:
  - {at: 1.5s, action: kill-worker}
  - {at: 4s, action: reload}
  - {at: 6s, action: pause, for: 0.5s}
  - {at: 8.5s, action: restart}
"""


def _bench(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bench.runner.cli", *args],
        capture_output=True,
        text=True,
        cwd=REPO,
        env=dict(os.environ),
        timeout=110,
    )


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    tmp = tmp_path_factory.mktemp("events")
    scenario = tmp / "lifecycle.yaml"
    scenario.write_text(SCENARIO)
    out = tmp / "runs"
    run = _bench("run", str(scenario), "--out", str(out))
    assert run.returncode == 0, run.stdout[-2000:] + run.stderr[-2000:]
    (folder,) = [p for p in out.iterdir() if p.is_dir()]
    return folder


def _events(run_dir: Path, server: str) -> tuple[pd.Series, pd.DataFrame]:
    cells = pd.read_parquet(run_dir / "cells.parquet")
    cell = cells[cells["server"] == server].iloc[0]
    events = load_events(run_dir, cells)
    mine = events[events["cell_id"] == cell["cell_id"]].set_index("action")
    return cell, mine


@pytest.mark.slow
def test_prefork_kill_worker_hits_one_worker_and_the_master_replaces_it(run_dir: Path) -> None:
    cell, events = _events(run_dir, "prefork")
    # the restart's downtime may mark the open loop overloaded; the cell is never failed
    assert cell["status"].split(":")[0] in ("ok", "overloaded") and cell["requests"] > 0
    kill, reload = events.loc["kill-worker"], events.loc["reload"]
    assert kill["status"] == "done" and kill["signal"] == "SIGKILL" and kill["target"] == "worker"
    assert (
        reload["status"] == "done" and reload["signal"] == "SIGHUP" and reload["target"] == "master"
    )
    master = int(reload["pids"])
    assert int(kill["pids"]) != master  # a worker, never the master
    assert kill["workers_before"] == 2 and kill["workers_back_s"] >= 0  # a new worker came
    assert kill["fired_at_s"] >= 1.5 and kill["window_from_s"] <= kill["fired_at_s"]
    assert kill["steady_p99_us"] > 0 and kill["requests"] > 0


@pytest.mark.slow
def test_prefork_reload_replaces_every_worker_and_the_window_is_measured(run_dir: Path) -> None:
    _, events = _events(run_dir, "prefork")
    reload = events.loc["reload"]
    assert reload["workers_before"] == 2 and reload["workers_back_s"] >= 0  # all old pids gone
    assert reload["steady_from_s"] >= events.loc["kill-worker"]["window_to_s"]  # no overlap
    assert (
        reload["errors"]
        == reload["errors_connect"]
        + reload["errors_reset"]
        + reload["errors_timeout"]
        + reload["errors_status"]
        + reload["errors_body"]
        + reload["errors_protocol"]
    )


@pytest.mark.slow
def test_a_pause_stops_every_process_and_the_open_loop_sees_the_stall(run_dir: Path) -> None:
    _, events = _events(run_dir, "prefork")
    pause = events.loc["pause"]
    assert pause["status"] == "done" and pause["target"] == "group"
    assert len(pause["pids"].split(",")) == 3  # the master and its two workers
    assert pause["ended_at_s"] - pause["fired_at_s"] >= 0.5
    assert pause["max_us"] >= 250_000  # arrivals during the stall waited for it
    assert bool(pause["stall_seen"])


@pytest.mark.slow
def test_a_one_process_server_records_each_skip_with_its_reason(run_dir: Path) -> None:
    cell, events = _events(run_dir, "eventloop")
    assert events.loc["kill-worker"]["status"].startswith("skipped: eventloop -w 1 is one process")
    assert events.loc["reload"]["status"].startswith("skipped:")
    assert events.loc["pause"]["status"] == "done"  # pause applies to every server
    assert "event reload at 4s skipped" in cell["notes"]
    ranking = event_ranking(load_events(run_dir), pd.read_parquet(run_dir / "cells.parquet"))
    assert set(ranking["action"]) == {"kill-worker", "reload", "pause", "restart"}


@pytest.mark.slow
def test_restart_brings_every_server_back_on_the_same_port(run_dir: Path) -> None:
    for server in ("prefork", "eventloop"):
        cell, events = _events(run_dir, server)
        restart = events.loc["restart"]
        assert restart["status"] == "done" and restart["target"] == "server"
        assert restart["ended_at_s"] > restart["fired_at_s"]  # when it answered again
        assert not cell["status"].startswith("failed")  # the restarted server outlived the window
    _, prefork = _events(run_dir, "prefork")
    master = prefork.loc["reload"]["pids"]
    assert master in prefork.loc["restart"]["pids"].split(",")  # the old master was stopped


def test_the_dry_run_says_what_each_event_does_to_each_configuration() -> None:
    from bench.runner.matrix.cells import expand
    from bench.runner.scenario.model import parse_scenario
    from bench.runner.session.cell_events import event_plan_lines

    scenario = parse_scenario(SCENARIO, "lifecycle.yaml")
    lines = event_plan_lines(scenario, expand(scenario))
    assert "event kill-worker at 1.5s on prefork sync w2: SIGKILL to the worker" in lines
    assert "event reload at 4s on prefork sync w2: SIGHUP to the master" in lines
    assert "event pause at 6s on eventloop w1 uvloop: SIGSTOP to the group" in lines
    assert any(
        line.startswith("event reload at 4s on eventloop w1 uvloop: skipped: eventloop -w 1")
        for line in lines
    )


RECYCLE = """\
name: recycle
workload: {app: hello}
servers:
  - {server: prefork, worker_class: sync, workers: 2, args: ["--max-requests", "250"]}
load: {mode: open, rate: 200, duration: 5s, warmup: 0.5s, primer: 0.3s}
pin: none
events:
  - {action: recycle}
"""


@pytest.mark.slow
def test_worker_recycles_after_max_requests_are_recorded_as_events(tmp_path: Path) -> None:
    scenario = tmp_path / "recycle.yaml"
    scenario.write_text(RECYCLE)
    run = _bench("run", str(scenario), "--out", str(tmp_path / "runs"))
    assert run.returncode == 0, run.stdout[-2000:] + run.stderr[-2000:]
    (folder,) = list((tmp_path / "runs").iterdir())
    events = load_events(folder)
    # 1,000+ requests over 2 workers recycling every 250: several exits, each seen once
    assert len(events) >= 2 and set(events["action"]) == {"recycle"}
    assert set(events["status"]) == {"done"} and set(events["target"]) == {"watch"}
    assert events["pids"].is_unique  # one row per worker that exited
    assert (events["workers_before"] == 2).all()
    assert (events["workers_back_s"] >= 0).all()  # the master replaced each one
    assert list(events["fired_at_s"]) == sorted(events["fired_at_s"])
