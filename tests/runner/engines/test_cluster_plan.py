"""Pure rules of a cluster run: the one-line checks, the split, shard status, skew."""

from __future__ import annotations

import pytest

from bench.runner.engines.cluster import plan
from bench.runner.loadspec import LoadSpec

ADDR = "tcp://10.0.0.1:8786"


def test_a_cluster_with_no_workers_says_what_to_start() -> None:
    line = plan.cluster_problem(ADDR, "1.0", {})
    assert line is not None and "no workers" in line and f"dask worker {ADDR}" in line
    assert "\n" not in line


def test_workers_on_another_bench_version_say_what_to_upgrade() -> None:
    line = plan.cluster_problem(ADDR, "1.0", {"tcp://a:1": "1.0", "tcp://b:1": "0.9"})
    assert line is not None
    assert "tcp://b:1 has 0.9" in line and "install bench 1.0" in line
    assert "tcp://a:1" not in line


def test_a_worker_without_bench_says_what_to_install() -> None:
    line = plan.cluster_problem(ADDR, "1.0", {"tcp://a:1": None, "tcp://b:1": "1.0"})
    assert line is not None and "not installed on worker tcp://a:1" in line
    assert "bench[cluster]==1.0" in line


def test_a_usable_cluster_has_no_problem() -> None:
    assert plan.cluster_problem(ADDR, "1.0", {"tcp://a:1": "1.0", "tcp://b:1": "1.0"}) is None


def test_split_across_shares_connections_cap_and_rate() -> None:
    spec = LoadSpec(url="http://x/", connections=5, max_connections=101, processes=2)
    parts = plan.split_across(spec, 2)
    assert [p.connections for p in parts] == [3, 2]
    assert [p.max_connections for p in parts] == [51, 50]
    assert all(p.processes == 2 for p in parts)  # processes are per worker host
    open_spec = LoadSpec(url="http://x/", mode="open", rate=1000.0, connections=1)
    assert [p.rate for p in plan.split_across(open_spec, 4)] == [250.0] * 4


def test_fewer_connections_than_workers_use_fewer_workers() -> None:
    parts = plan.split_across(LoadSpec(url="http://x/", connections=2), 5)
    assert [p.connections for p in parts] == [1, 1]


def test_shard_status_failure_wins_then_engine_bound_then_late() -> None:
    assert plan.shard_status(failed="worker left", engine_bound=True, late=True) == (
        "failed: worker left"
    )
    assert plan.shard_status(failed=None, engine_bound=True, late=True) == "engine-bound"
    assert plan.shard_status(failed=None, engine_bound=False, late=True) == "late"
    assert plan.shard_status(failed=None, engine_bound=False, late=False) == "ok"


@pytest.mark.parametrize(
    ("offset", "duration", "late"),
    [(0.1, 10.0, False), (0.4, 10.0, False), (0.6, 10.0, True), (0.3, 2.0, True)],
)
def test_late_start_is_relative_to_the_window(offset: float, duration: float, late: bool) -> None:
    assert plan.is_late(offset, duration) is late


def test_start_skew_is_the_spread_of_starts() -> None:
    assert plan.start_skew_s([10.0, 10.25, 10.1]) == pytest.approx(0.25)
    assert plan.start_skew_s([]) == 0.0
