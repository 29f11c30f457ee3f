"""The native engine on a real dask LocalCluster (2 worker processes on 127.0.0.1).

Totals are the sums of the shards, merged percentiles are those of the concatenated
samples, a worker killed mid-run fails the run with its reason, and a cluster that
cannot run the load is one line before any load.
"""

from __future__ import annotations

import json
import os
import signal
from collections.abc import Iterator
from typing import Any

import numpy as np
import psutil
import pytest

distributed = pytest.importorskip("distributed")

from bench.runner.cli import main  # noqa: E402
from bench.runner.engines.cluster import Cluster, ClusterEngine  # noqa: E402
from bench.runner.engines.native.testing import Behaviour, closed_port, serve  # noqa: E402
from bench.runner.errors import EngineError, UsageError  # noqa: E402
from bench.runner.exit_codes import ExitCode  # noqa: E402
from bench.runner.loadspec import PERCENTILES, LoadSpec  # noqa: E402

pytestmark = pytest.mark.slow


def local_cluster(n_workers: int) -> Any:
    """A LocalCluster of worker processes on 127.0.0.1 (no dashboard)."""
    return distributed.LocalCluster(
        n_workers=n_workers,
        threads_per_worker=1,
        processes=True,
        host="127.0.0.1",
        dashboard_address="127.0.0.1:0",
        silence_logs=40,
    )


@pytest.fixture(scope="module")
def cluster() -> Iterator[Any]:
    with local_cluster(2) as c, distributed.Client(c, set_as_default=False) as client:
        client.wait_for_workers(2, timeout=60)
        yield c


def _samples(pairs: list[tuple[int, int]]) -> np.ndarray:
    values = np.array([v for v, _ in pairs], dtype=np.int64)
    counts = np.array([n for _, n in pairs], dtype=np.int64)
    return np.repeat(values, counts)


def test_totals_are_the_sums_and_percentiles_those_of_all_samples(cluster: Any) -> None:
    # Every 5th response is slow and times out: errors and requests both non-zero.
    behaviour = Behaviour(delay_ms=1.0, slow_every=5, slow_ms=400.0)
    spec = LoadSpec(url="", connections=4, duration_s=1.0, timeout_s=0.2)
    with serve(behaviour) as url, Cluster.open(cluster.scheduler_address) as c:
        run = c.run(LoadSpec(**{**_fields(spec), "url": url + "/"}))
    assert run.failed is None
    assert len(run.shards) == 2 and {s.status for s in run.shards} == {"ok"}
    assert {s.connections for s in run.shards} == {2}
    result = run.result
    assert result.requests > 0 and result.error_count > 0
    assert result.requests == sum(s.requests for s in run.shards)
    assert result.error_count == sum(s.errors for s in run.shards)
    own = list(run.by_worker.values())
    for kind, count in result.errors.items():
        assert count == sum(r.errors.get(kind, 0) for r in own)
    assert sum(p["requests"] for p in result.timeseries) == sum(
        p["requests"] for r in own for p in r.timeseries
    )
    samples = np.concatenate([_samples(r.histogram) for r in own])
    assert samples.size == sum(n for _, n in result.histogram)
    for key, pct in PERCENTILES:
        expected = np.percentile(samples, pct, method="inverted_cdf")
        assert result.latency_us[key] == pytest.approx(float(expected)), key
    assert result.latency_us["max"] == samples.max()
    assert result.latency_us["mean"] == pytest.approx(samples.mean())


def _fields(spec: LoadSpec) -> dict[str, Any]:
    return {name: getattr(spec, name) for name in spec.__dataclass_fields__}


def test_bench_load_json_has_shards_and_merged_totals(
    cluster: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    with serve(Behaviour(delay_ms=1.0)) as url:
        code = main(
            [
                "load",
                url + "/",
                "--rate",
                "200",
                "-d",
                "1s",
                "--json",
                "--cluster",
                cluster.scheduler_address,
            ]
        )
    assert code == ExitCode.OK
    out = json.loads(capsys.readouterr().out)
    assert out["cluster"]["workers"] == 2 and out["cluster"]["failed"] is None
    assert out["cluster"]["start_skew_s"] >= 0
    shards = out["shards"]
    assert [s["rate"] for s in shards] == [100.0, 100.0]
    assert {"host", "processes", "requests", "errors", "engine_cpu", "engine_bound"} <= set(
        shards[0]
    )
    assert out["requests"] == sum(s["requests"] for s in shards) > 0
    assert out["error_count"] == sum(s["errors"] for s in shards)
    assert out["target_rate"] == 200.0


def test_a_worker_killed_mid_run_fails_the_run_with_its_reason() -> None:
    with (
        local_cluster(2) as c,
        distributed.Client(c, set_as_default=False) as client,
        serve(Behaviour(delay_ms=1.0)) as url,
    ):
        client.wait_for_workers(2, timeout=60)
        pids = client.run(os.getpid)
        victim = sorted(pids)[1]
        killed: list[str] = []
        engines: list[psutil.Process] = []

        def kill_once(report: dict[str, Any]) -> None:
            # The load is running on both workers (a progress report arrived): kill one.
            if not killed:
                killed.append(victim)
                engines.extend(psutil.Process(pids[victim]).children(recursive=True))
                os.kill(pids[victim], signal.SIGKILL)

        # A long window: the run must end because the worker died, not because time is up.
        spec = LoadSpec(url=url + "/", connections=2, duration_s=20.0)
        with Cluster.open(c.scheduler_address) as cl:
            run = cl.run(spec, progress=kill_once)
        # The dead worker's engine process stops loading the server too (it is not orphaned).
        _gone, alive = psutil.wait_procs(engines, timeout=5)
        for proc in alive:
            proc.kill()
        assert engines and not alive
    assert killed == [victim]
    assert run.failed is not None and victim in run.failed
    assert "left the cluster" in run.failed
    row = next(s for s in run.shards if s.worker == victim)
    assert row.status.startswith("failed: ") and row.requests == 0
    survivor = next(s for s in run.shards if s.worker != victim)
    assert not survivor.status.startswith("failed")


def test_the_cluster_engine_fails_a_cell_whose_shard_failed(cluster: Any) -> None:
    # The engine processes on the workers refuse the target: each shard fails, so the cell.
    spec = LoadSpec(url="ftp://127.0.0.1:9/", connections=2, duration_s=0.5)
    with pytest.raises(EngineError, match=r"shard 0 on tcp://.*unsupported URL scheme 'ftp'"):
        ClusterEngine(cluster.scheduler_address).run(spec)


def test_no_workers_is_one_line_before_any_load(capsys: pytest.CaptureFixture[str]) -> None:
    with local_cluster(0) as c:
        code = main(["load", "http://127.0.0.1:9/", "-d", "1s", "--cluster", c.scheduler_address])
    assert code == ExitCode.USAGE
    captured = capsys.readouterr()
    assert captured.out == ""
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1 and "has no workers" in lines[0] and "dask worker" in lines[0]


def test_an_unreachable_scheduler_is_one_line() -> None:
    with pytest.raises(UsageError, match="cannot reach a dask scheduler") as info:
        Cluster.open(f"tcp://127.0.0.1:{closed_port()}")
    assert "dask scheduler" in str(info.value) and "\n" not in str(info.value)


SCENARIO = """
name: on_a_cluster
description: one small cell, its load from the cluster's workers
workload: {{app: hello}}
servers:
  - {{server: eventloop, workers: 1}}
load:
  cluster: "{address}"
  concurrency: 4
  processes: 1
  duration: 1s
  warmup: 0s
  primer: 0.2s
repeat: 1
pin: none
launch: {{ready_timeout: 20s, stop_timeout: 5s}}
"""


def test_a_scenario_runs_its_load_on_the_cluster(cluster: Any, tmp_path: Any) -> None:
    import pandas as pd

    path = tmp_path / "cluster.yaml"
    path.write_text(SCENARIO.format(address=cluster.scheduler_address))
    code = main(["run", str(path), "--out", str(tmp_path / "results")])
    assert code == ExitCode.OK
    (run_dir,) = (tmp_path / "results").iterdir()
    cells = pd.read_parquet(run_dir / "cells.parquet")
    assert cells["status"].tolist() in (["ok"], ["engine-bound"]), cells["status"].tolist()
    assert cells["requests"].iloc[0] > 0
    notes = " ".join(str(n) for n in cells["notes"].tolist())
    assert "cluster: 2 shards" in notes
    assert notes.count("shard ") >= 2 and "requests" in notes


def test_a_scenario_with_an_unreachable_cluster_is_one_line(
    tmp_path: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "cluster.yaml"
    path.write_text(SCENARIO.format(address=f"tcp://127.0.0.1:{closed_port()}"))
    code = main(["run", str(path), "--out", str(tmp_path / "results")])
    assert code == ExitCode.USAGE
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "at load.cluster: cannot reach a dask scheduler" in err[0]
    assert not (tmp_path / "results").exists()
