"""Pure decisions of the engine: engine-bound, splitting a spec, merging shards."""

from __future__ import annotations

import pytest

from bench.runner.engines.native.cpu import engine_cpu_share, is_engine_bound, thread_sched_ns
from bench.runner.engines.native.merge import littles_law_ratio, merge_shards, second_counts
from bench.runner.engines.native.multiproc import split_spec
from bench.runner.engines.native.timeline import SecondStats, ShardResult, point_seconds
from bench.runner.loadspec import LoadSpec
from bench.runner.results.histogram import Histogram


def test_a_saturated_process_is_engine_bound() -> None:
    assert is_engine_bound([9.5], 10.0, cpus=1)
    assert not is_engine_bound([5.0], 10.0, cpus=1)
    # Two processes, one saturated: the saturated one limits the run.
    assert is_engine_bound([9.6, 2.0], 10.0, cpus=2)
    # Four processes squeezed onto two CPUs, all busy.
    assert is_engine_bound([4.6, 4.6, 4.6, 4.6], 10.0, cpus=2)
    assert not is_engine_bound([], 10.0, cpus=1)


def test_cpu_share_is_relative_to_usable_cpus() -> None:
    assert engine_cpu_share([5.0], 10.0, cpus=8) == pytest.approx(0.5)
    assert engine_cpu_share([5.0, 5.0], 10.0, cpus=2) == pytest.approx(0.5)
    assert engine_cpu_share([5.0, 5.0], 10.0, cpus=1) == pytest.approx(1.0)
    assert engine_cpu_share([1.0], 0.0, cpus=1) == 0.0


def test_split_spec_shares_connections_rate_and_pins() -> None:
    spec = LoadSpec(url="http://127.0.0.1:1/", connections=10, processes=3, cpus=(2, 3))
    parts = split_spec(spec)
    assert [p.connections for p in parts] == [4, 3, 3]
    assert [p.cpus for p in parts] == [(2,), (3,), (2,)]
    assert all(p.processes == 1 for p in parts)
    open_spec = LoadSpec(url="http://x/", mode="open", rate=900.0, connections=1, processes=3)
    assert [p.rate for p in split_spec(open_spec)] == [300.0, 300.0, 300.0]


def test_split_never_makes_an_idle_closed_loop_process() -> None:
    spec = LoadSpec(url="http://x/", connections=2, processes=4)
    assert [p.connections for p in split_spec(spec)] == [1, 1]


def shard(
    latencies_us: list[list[int]], errors: dict[str, int] | None = None, cpu: float = 0.5
) -> ShardResult:
    seconds = [
        SecondStats(float(i), 1.0, len(lat), 0, Histogram.from_ns([v * 1000 for v in lat]))
        for i, lat in enumerate(latencies_us)
    ]
    return ShardResult(
        seconds=seconds,
        errors=errors or {},
        window_s=float(len(seconds)),
        cpu_s=cpu,
        served=sum(s.requests for s in seconds),
    )


def open_shard(
    completed: list[int], *, rate: int, drained: list[int] = (), backlog: list[int] = ()
) -> ShardResult:
    """An open-loop shard: ``rate`` arrivals due each second, ``completed`` served in each
    second of the window, then ``drained`` seconds after its end."""
    seconds = [
        SecondStats(
            float(i),
            1.0,
            n,
            0,
            Histogram.from_ns([5_000_000] * n),
            sent=rate,
            scheduled=rate,
            backlog=backlog[i] if backlog else -1,
        )
        for i, n in enumerate(completed)
    ]
    window = float(len(seconds))
    seconds += [
        SecondStats(window + i, 1.0, n, 0, Histogram.from_ns([900_000_000] * n), drain=True)
        for i, n in enumerate(drained)
    ]
    return ShardResult(
        seconds=seconds,
        errors={},
        window_s=window,
        cpu_s=0.1,
        sent=rate * len(completed),
        scheduled=rate * len(completed),
        served=sum(completed),
    )


def test_open_loop_throughput_is_what_was_served_in_the_window() -> None:
    """A server that can do 400/s asked for 1,200/s: the drain's completions give
    latencies but not throughput, the cell is overloaded, and the throughput agrees with
    the window's own time series."""
    spec = LoadSpec(url="http://x/", mode="open", rate=1200.0)
    s = open_shard([400] * 4, rate=1200, drained=[400, 400, 400], backlog=[800, 1600, 2400, 3200])
    result = merge_shards(spec, [s], cpus=1)
    assert result.requests == 1600
    assert result.rps == pytest.approx(400.0)
    assert result.drained == 1200
    assert result.achieved_rate == pytest.approx(1200.0)
    assert result.overloaded
    assert "fell behind" in str(result.overload["reason"])
    window = [p for p in result.timeseries if not p["drain"]]
    assert sum(p["requests"] for p in window) / result.duration_s == pytest.approx(result.rps)
    assert sum(c for _, c in result.histogram) == 1600 + 1200  # drained latencies kept
    assert result.latency_us["max"] >= 900_000


def test_open_loop_below_capacity_is_ok() -> None:
    spec = LoadSpec(url="http://x/", mode="open", rate=100.0)
    result = merge_shards(
        spec, [open_shard([100, 99, 101, 100], rate=100, backlog=[2] * 4)], cpus=1
    )
    assert not result.overloaded
    assert result.rps == pytest.approx(100.0)
    assert result.overload is not None and result.overload["served_share"] == pytest.approx(1.0)


def test_merge_adds_counts_and_keeps_the_tail() -> None:
    spec = LoadSpec(url="http://x/", connections=2, processes=2)
    a = shard([[100] * 99, [100] * 99], errors={"timeout": 1})
    b = shard([[100] * 99 + [50_000] * 3, [100]], errors={"timeout": 2, "reset": 1})
    result = merge_shards(spec, [a, b], cpus=2)
    assert result.requests == 99 * 3 + 3 + 1
    assert result.errors["timeout"] == 3 and result.errors["reset"] == 1
    assert result.latency_us["max"] == 50_000
    assert result.rps == pytest.approx(result.requests / 2.0)
    assert [p["requests"] for p in result.timeseries] == [99 + 102, 99 + 1]
    assert result.timeseries[0]["p99_us"] == 50_000
    assert sum(c for _, c in result.histogram) == result.requests
    assert not result.engine_bound


def test_merge_flags_an_engine_bound_run() -> None:
    spec = LoadSpec(url="http://x/", connections=1)
    result = merge_shards(spec, [shard([[100] * 10], cpu=0.97)], cpus=1)
    assert result.engine_bound
    assert any("engine-bound" in n for n in result.notes)


def test_merge_reports_an_open_loop_rate_not_kept() -> None:
    spec = LoadSpec(url="http://x/", mode="open", rate=1000.0)
    s = shard([[100] * 10])
    s.sent = 500
    s.seconds[0].scheduled = 1000
    result = merge_shards(spec, [s], cpus=1)
    assert result.target_rate == 1000.0
    assert result.achieved_rate == pytest.approx(500.0)
    assert any("target rate not kept" in n for n in result.notes)


def test_littles_law_ratio() -> None:
    spec = LoadSpec(url="http://x/", connections=4)
    # 4 connections, 1 s window, 4000 requests of 1 ms each: 4000 × 0.001 / 4 = 1.
    result = merge_shards(spec, [shard([[1000] * 4000])], cpus=1)
    assert littles_law_ratio(result, 4) == pytest.approx(1.0)
    assert not any("Little" in n for n in result.notes)
    off = merge_shards(spec, [shard([[1000] * 1000])], cpus=1)
    assert any("Little" in n for n in off.notes)


def test_an_engine_starved_of_cpu_is_engine_bound() -> None:
    # Half the window running, half waiting for a CPU another process holds.
    assert is_engine_bound([5.0], 10.0, cpus=1, wait_seconds=[4.5])
    assert not is_engine_bound([5.0], 10.0, cpus=1, wait_seconds=[0.5])


def test_merge_notes_a_contended_engine() -> None:
    spec = LoadSpec(url="http://x/", connections=1)
    s = shard([[100] * 10], cpu=0.5)
    s.wait_s = 0.2
    result = merge_shards(spec, [s], cpus=1)
    assert not result.engine_bound
    assert any("waited 20%" in n for n in result.notes)


def test_thread_sched_is_read_on_linux() -> None:
    sched = thread_sched_ns()
    if sched is not None:
        assert sched[0] > 0 and sched[1] >= 0


def test_short_windows_get_finer_points() -> None:
    assert point_seconds(60.0) == 1.0 and point_seconds(10.0) == 1.0
    assert point_seconds(5.0) == 0.5 and point_seconds(9.9) == 0.5
    assert point_seconds(2.0) == 0.2 and point_seconds(0.5) == 0.2


def test_overload_reads_whole_seconds_whatever_the_step() -> None:
    """Five 0.2 s points make one second for the overload verdict: counts add up, the
    backlog is the one at the second's end, the partial last second keeps its span."""
    points = [
        {"t": i / 5, "span_s": 0.2, "requests": 10.0, "scheduled": 12.0, "backlog": float(i),
         "drain": 0.0}
        for i in range(7)
    ] + [{"t": 1.4, "span_s": 0.2, "requests": 5.0, "scheduled": 5.0, "backlog": 9.0,
          "drain": 1.0}]  # fmt: skip
    seconds = second_counts(points)
    assert [s.t for s in seconds] == [0.0, 1.0]
    assert [s.completed for s in seconds] == [50, 20]
    assert [s.scheduled for s in seconds] == [60, 24]
    assert [s.backlog for s in seconds] == [4, 6]
    assert [s.span_s for s in seconds] == pytest.approx([1.0, 0.4])
