"""Shards (one per engine process) → one ``LoadResult``, losslessly.

Histograms merge by adding counts (exact); the time series merges second by second on
the shared window start (every shard has the same step, ``timeline.point_seconds``);
percentiles are taken from the merged counts, never averaged.
The checks that make a number honest are made here: engine-bound, target rate not
kept, the server falling behind in open loop (``bench.runner.results.overload``), Little's law
in closed loop (``bench.runner.results.little``), requests left in flight.

Throughput counts the responses completed *inside* the window, in both loops: an open
loop drains after the window (requests scheduled in it still complete and give their
latencies), and those drained responses are counted apart (``drained``), so the rate
of a server that fell behind is what it served, never what was sent.
"""

from __future__ import annotations

import math

from bench.runner.engines.native.cpu import engine_cpu_share, is_engine_bound, run_queue_wait_share
from bench.runner.engines.native.timeline import ShardResult
from bench.runner.loadspec import ERROR_KINDS, LoadResult, LoadSpec
from bench.runner.results.histogram import Histogram
from bench.runner.results.little import little_note, little_ratio
from bench.runner.results.overload import SecondCounts, judge_overload

#: Achieved open-loop rate below this share of the target is reported as not kept.
RATE_KEPT_SHARE = 0.95
#: An engine process waiting this share of the window for a CPU is noted as contended.
CONTENDED_SHARE = 0.1


def merge_shards(
    spec: LoadSpec,
    shards: list[ShardResult],
    *,
    cpus: int,
    connections: int | None = None,
) -> LoadResult:
    """Merge what the engine processes measured into the run's result.

    Args:
        spec: the spec of the whole run (not of a shard).
        shards: one per engine process.
        cpus: how many CPUs the engine processes could run on.
        connections: closed loop: the connections actually driven (default: spec's).
    """
    window_s = max((s.window_s for s in shards), default=0.0)
    total = Histogram.merge(sec.histogram for s in shards for sec in s.seconds)
    completed = sum(sec.requests for s in shards for sec in s.seconds)
    requests = sum(s.served for s in shards)
    connect = Histogram.merge(s.connect for s in shards)
    errors = dict.fromkeys(ERROR_KINDS, 0)
    for shard in shards:
        for kind, count in shard.errors.items():
            errors[kind] = errors.get(kind, 0) + count
    cpu_seconds = [s.cpu_s for s in shards]
    wait_seconds = [s.wait_s for s in shards]
    result = LoadResult(
        engine="native",
        requests=requests,
        errors=errors,
        duration_s=window_s,
        rps=requests / window_s if window_s > 0 else 0.0,
        latency_us=total.summary(),
        histogram=total.to_pairs(),
        latency_resolution_us=1.0,
        timeseries=merge_timeseries(shards),
        second_histograms=merge_second_histograms(shards),
        engine_cpu=engine_cpu_share(cpu_seconds, window_s, cpus),
        engine_bound=is_engine_bound(cpu_seconds, window_s, cpus, wait_seconds=wait_seconds),
        drained=max(0, completed - requests),
        connect_us=connect.summary() if connect.total else {},
        connections_opened=connect.total,
    )
    notes = result.notes
    for shard in shards:
        for note in shard.notes:
            if note not in notes:
                notes.append(note)
    target = target_rate(spec)
    if target is not None:
        lag = Histogram.merge(s.lag for s in shards)
        result.schedule_lag_us = lag.summary() if lag.total else {}
        result.target_rate = target
        sent = sum(s.sent for s in shards)
        result.achieved_rate = sent / window_s if window_s > 0 else 0.0
        if result.achieved_rate < RATE_KEPT_SHARE * target:
            why = "the engine was CPU-bound" if result.engine_bound else "see notes"
            notes.append(
                f"target rate not kept: {result.achieved_rate:.0f} of {target:.0f}/s "
                f"were sent ({why})"
            )
        verdict = judge_overload(
            asked_rate=target,
            sent_rate=result.achieved_rate,
            seconds=second_counts(result.timeseries),
        )
        result.overload = verdict.to_dict()
        if verdict.overloaded:
            notes.append(f"overloaded: {verdict.reason}")
        if result.drained:
            notes.append(
                f"{result.drained} responses completed after the window (drain): their "
                "latencies count, their throughput does not"
            )
    waited = run_queue_wait_share(wait_seconds, window_s)
    if result.engine_bound:
        notes.append(
            f"engine-bound: the engine used {result.engine_cpu:.0%} of its CPU"
            + (f" and waited {waited:.0%} of the time for one" if waited >= CONTENDED_SHARE else "")
            + "; these numbers are a lower bound on the server, not its capacity"
        )
    elif waited >= CONTENDED_SHARE:
        notes.append(
            f"the engine waited {waited:.0%} of the window for a CPU: another process "
            "shares its CPU (pin the engine to a CPU of its own)"
        )
    in_flight = sum(s.in_flight_at_end for s in shards)
    if in_flight:
        notes.append(f"{in_flight} requests were still in flight at the end and are not counted")
    if any(s.stopped_early for s in shards):
        notes.append("stopped early: results cover the part of the window that ran")
    if spec.mode == "closed" and not spec.websocket:
        notes.append("closed loop: latencies are service times under N connections")
        n = connections or spec.connections
        connect_mean = result.connect_us.get("mean", 0.0)
        note = little_note(
            littles_law_ratio(result, n),
            latency_only=little_ratio(result.rps, result.latency_us.get("mean", 0.0), n),
            connect_mean_us=connect_mean,
            connects_per_request=result.connects_per_request,
        )
        if note:
            notes.append(note)
    return result


def target_rate(spec: LoadSpec) -> float | None:
    """The arrival rate the spec asks for (requests or messages per second), if any."""
    if spec.websocket:
        if spec.ws_message_rate:
            return spec.ws_message_rate * spec.connections
        return spec.rate if spec.mode == "open" and spec.rate else None
    return spec.rate if spec.mode == "open" else None


def littles_law_ratio(result: LoadResult, connections: int) -> float | None:
    """Closed loop: rps × (mean latency + reconnect time per request) / connections.

    ≈ 1 when the loop is healthy (see ``bench.runner.results.little``).
    """
    if result.requests == 0:
        return None
    return little_ratio(
        result.rps,
        result.latency_us.get("mean", 0.0),
        connections,
        connect_mean_us=result.connect_us.get("mean", 0.0),
        connects_per_request=result.connects_per_request,
    )


def second_counts(timeseries: list[dict[str, float]]) -> list[SecondCounts]:
    """The window's whole seconds of a merged time series (drain excluded): the overload
    input. Points shorter than a second (short windows) are summed into the second they
    start in, so the verdict reads seconds whatever the series' step; a second's backlog
    is the one at its last point's end."""
    seconds: dict[int, SecondCounts] = {}
    for point in timeseries:
        if point["drain"]:
            continue
        key = math.floor(point["t"] + 1e-9)
        before = seconds.get(key)
        seconds[key] = SecondCounts(
            t=float(key),
            scheduled=int(point["scheduled"]) + (before.scheduled if before else 0),
            completed=int(point["requests"]) + (before.completed if before else 0),
            backlog=int(point["backlog"]),
            span_s=point["span_s"] + (before.span_s if before else 0.0),
        )
    return [seconds[key] for key in sorted(seconds)]


def _by_second(shards: list[ShardResult]) -> list[list]:
    by_index: dict[int, list] = {}
    for shard in shards:
        for i, sec in enumerate(shard.seconds):
            by_index.setdefault(i, []).append(sec)
    return [by_index[i] for i in sorted(by_index)]


def merge_second_histograms(shards: list[ShardResult]) -> list[Histogram]:
    """Each second's latency histogram, every process merged (same order as the series)."""
    return [Histogram.merge(s.histogram for s in secs) for secs in _by_second(shards)]


def merge_timeseries(shards: list[ShardResult]) -> list[dict[str, float]]:
    """One dict per second: t, span_s, requests, errors (and errors_<kind>), p50_us,
    p99_us, p999_us, max_us, sent, scheduled, backlog (-1: not tracked) and drain (1.0:
    after the window's end, not throughput)."""
    out: list[dict[str, float]] = []
    for secs in _by_second(shards):
        hist = Histogram.merge(s.histogram for s in secs)
        kinds = {
            f"errors_{k}": float(sum(s.error_kinds.get(k, 0) for s in secs)) for k in ERROR_KINDS
        }
        out.append(
            {
                "t": min(s.start_s for s in secs),
                "span_s": max(s.span_s for s in secs),
                "requests": sum(s.requests for s in secs),
                "errors": sum(s.errors for s in secs),
                "p50_us": hist.percentile(50.0),
                "p99_us": hist.percentile(99.0),
                "p999_us": hist.percentile(99.9),
                "max_us": float(hist.values[-1]) if hist.total else 0.0,
                **kinds,
                "sent": float(sum(s.sent for s in secs)),
                "scheduled": float(sum(s.scheduled for s in secs)),
                "backlog": float(
                    sum(s.backlog for s in secs) if all(s.backlog >= 0 for s in secs) else -1
                ),
                "drain": float(any(s.drain for s in secs)),
            }
        )
    return out
