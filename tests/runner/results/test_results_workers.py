"""Per-worker attribution over a window, from plain samples (pure)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import pytest

from bench.runner.results.workers import (
    hist_quantile,
    is_helper,
    shares,
    shares_from_json,
    worker_fields,
    worker_window,
)
from bench.servers.worker_stats import bucket, bucket_upper_us


@dataclass
class S:
    t: float
    per_pid: dict[int, float]
    channel: dict[int, dict[str, Any]] = field(default_factory=dict)


def _snap(requests: int, gc_s: float = 0.0, gc: dict | None = None, lag: dict | None = None):
    return {"requests": requests, "gc_pause_s": gc_s, "gc_hist": gc or {}, "lag_hist": lag or {}}


def test_cpu_of_each_worker_is_cut_to_the_window_and_the_master_left_out() -> None:
    samples = [
        S(0.0, {1: 0.1, 2: 0.0, 3: 0.0}),
        S(1.0, {1: 0.1, 2: 0.6, 3: 0.2}),
        S(2.0, {1: 0.2, 2: 1.2, 3: 0.4}),
    ]
    w = worker_window(samples, root=1, start=0.5, end=2.0)
    assert w is not None and w.pids == [2, 3]
    assert w.cpu_s == pytest.approx([0.9, 0.3])  # interpolated at 0.5 s
    assert w.requests is None  # no side channel: a peer server
    fields = worker_fields(w)
    assert json.loads(fields["worker_cpu_shares"]) == pytest.approx([0.75, 0.25])
    assert fields["worker_cpu_max_share"] == pytest.approx(0.75)
    assert "worker_request_shares" not in fields


def test_a_single_process_server_is_its_own_worker() -> None:
    samples = [S(0.0, {7: 0.0}), S(1.0, {7: 0.5})]
    w = worker_window(samples, root=7, start=0.0, end=1.0)
    assert w is not None and w.pids == [7] and w.cpu_s == pytest.approx([0.5])


def test_channel_counters_are_subtracted_and_a_silent_worker_served_nothing() -> None:
    lag_a = {str(bucket(100)): 10}
    lag_b = {str(bucket(100)): 108, str(bucket(40_000)): 2}
    samples = [
        S(0.0, {1: 0, 2: 0, 3: 0}, {2: _snap(50, 0.01, lag=lag_a)}),
        S(1.0, {1: 0, 2: 1, 3: 0}, {2: _snap(250, 0.05, {str(bucket(3000)): 2}, lag_b)}),
    ]
    w = worker_window(samples, root=1, start=0.0, end=1.0)
    assert w is not None and w.requests == [200, 0]  # worker 3 wrote no file: took no request
    assert w.gc_pause_s == pytest.approx(0.04)
    assert w.gc_pause_max_us == pytest.approx(bucket_upper_us(bucket(3000)))
    assert w.lag_p99_us == pytest.approx(bucket_upper_us(bucket(40_000)))  # 2 of 100 probes
    fields = worker_fields(w)
    assert json.loads(fields["worker_request_shares"]) == [1.0, 0.0]
    assert fields["worker_request_max_share"] == 1.0


def test_no_samples_in_the_window_gives_no_fields() -> None:
    assert worker_window([S(0.0, {1: 0})], 1, 0.0, 1.0) is None
    assert worker_fields(None) == {}


def test_small_pure_helpers() -> None:
    assert shares([3, 1]) == [0.75, 0.25] and shares([0, 0]) == [0.0, 0.0]
    assert hist_quantile({}, 0.99) is None
    assert hist_quantile({bucket(10): 99, bucket(1000): 1}, 0.5) == bucket_upper_us(bucket(10))
    for us in (1.5, 10, 999, 123_456):
        assert us <= bucket_upper_us(bucket(us)) < us * 1.2
    assert is_helper(["python", "-c", "from multiprocessing.resource_tracker import main"])
    assert not is_helper(["python", "-c", "from multiprocessing.spawn import spawn_main"])
    assert shares_from_json("[0.5, 0.5]") == [0.5, 0.5] and shares_from_json(None) == []
