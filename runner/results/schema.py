"""The results schema as data: every column of every results table, once.

The tables of a run folder (see ``bench.runner.results.store``): ``cells.parquet`` (one row per
cell × repetition, ``CELL_COLUMNS``), ``histograms/`` (``HISTOGRAM_COLUMNS``) and
``timeseries/`` (``TIMESERIES_COLUMNS``) and, when the scenario has ``events:``,
``events/`` (``EVENT_COLUMNS``: what each lifecycle or fault event cost).

The schema is what users and dashboards see: add columns, do not rename them
(docs/results-schema.md is generated from these tuples by ``schema_markdown``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import pandas as pd

from bench.runner.loadspec import ERROR_KINDS


@dataclass(frozen=True, slots=True)
class Column:
    """One column of a results table: name, pandas dtype, unit and meaning."""

    name: str
    dtype: str
    unit: str
    meaning: str


C = Column
CELL_COLUMNS: tuple[Column, ...] = (
    C("run_id", "string", "", "the run folder's name"),
    C("scenario", "string", "", "scenario name"),
    C("cell_id", "string", "", "stable id of the cell's parameters (same across runs)"),
    C("cell_index", "int64", "", "position of the cell in the expanded matrix"),
    C("repetition", "int64", "", "0-based repetition number"),
    C("label", "string", "", "human label of the server configuration"),
    C("server", "string", "", "prefork, eventloop, gunicorn, uvicorn, granian, hypercorn"),
    C("server_kind", "string", "", "bundled (ours), peer, or external (not started by bench)"),
    C("worker_class", "string", "", "prefork: sync/thread/eventloop; gunicorn: sync/gthread"),
    C("workers", "Int64", "processes", "worker processes"),
    C("threads", "Int64", "threads", "threads per worker (where it applies)"),
    C("loop", "string", "", "event loop (uvloop/asyncio) where it applies"),
    C("interface", "string", "", "asgi or wsgi"),
    C("http", "string", "", "uvicorn's HTTP parser (httptools/h11)"),
    C("app", "string", "", "workload app (bundled name or import string)"),
    C("engine", "string", "", "load engine: native, locust or wrk"),
    C("mode", "string", "", "closed (fixed connections) or open (fixed arrival rate)"),
    C("concurrency", "Int64", "connections", "closed loop: connections kept busy"),
    C("target_rate", "float64", "req/s", "open loop: scheduled arrivals per second"),
    C("achieved_rate", "float64", "req/s", "open loop: arrivals actually sent per second"),
    C(
        "served_share",
        "float64",
        "fraction",
        "open loop: valid responses ÷ arrivals due over the window's steady seconds",
    ),
    C(
        "backlog_slope",
        "float64",
        "req/s",
        "open loop: growth of the arrivals without a response, through the window",
    ),
    C(
        "drained",
        "Int64",
        "requests",
        "open loop: responses completed after the window (latency counted, not throughput)",
    ),
    C("message_size", "Int64", "bytes", "WebSocket: bytes per message"),
    C("message_rate", "float64", "msg/s", "WebSocket: messages per second per connection"),
    C("duration_s", "float64", "s", "length of the measured window"),
    C("warmup_s", "float64", "s", "warm-up before the window (discarded)"),
    C("requests", "Int64", "requests", "responses (or WebSocket round-trips) that were valid"),
    C("errors", "Int64", "requests", "all errors in the window"),
    C("errors_connect", "Int64", "requests", "connection refused or failed"),
    C("errors_timeout", "Int64", "requests", "no complete response within the timeout"),
    C("errors_reset", "Int64", "requests", "connection reset or closed mid-response"),
    C("errors_status", "Int64", "requests", "unexpected HTTP status"),
    C("errors_body", "Int64", "requests", "unexpected response body"),
    C("errors_protocol", "Int64", "requests", "malformed response, or another engine error"),
    C("error_rate", "float64", "fraction", "errors / (requests + errors)"),
    C("rps", "float64", "req/s", "valid responses per second of the window"),
    C("latency_mean_us", "float64", "µs", "mean latency"),
    C("latency_min_us", "float64", "µs", "smallest latency"),
    C("p50_us", "float64", "µs", "median latency (from the cell's histogram)"),
    C("p90_us", "float64", "µs", "90th percentile latency"),
    C("p99_us", "float64", "µs", "99th percentile latency"),
    C("p999_us", "float64", "µs", "99.9th percentile latency"),
    C("p9999_us", "float64", "µs", "99.99th percentile latency"),
    C("latency_max_us", "float64", "µs", "largest latency"),
    C("latency_resolution_us", "float64", "µs", "smallest difference the engine can report"),
    C("schedule_lag_p99_us", "float64", "µs", "open loop: 99th percentile of send lateness"),
    C("ws_connect_p50_us", "float64", "µs", "WebSocket: median connect + handshake time"),
    C(
        "connect_mean_us",
        "float64",
        "µs",
        "mean connect time of the connections opened in the window (not in the latency)",
    ),
    C(
        "connects_per_request",
        "float64",
        "",
        "connections opened per valid response (≈1: the server closes after each one)",
    ),
    C(
        "little_ratio",
        "float64",
        "",
        "closed loop: rps × (mean latency + reconnect time per request) / concurrency (≈1)",
    ),
    C("server_cpu_s", "float64", "CPU s", "CPU time of the server's process tree in the window"),
    C("server_cpu_util", "float64", "fraction", "server CPU / (window × its CPUs; 1 if unpinned)"),
    C(
        "server_cpu_per_request_us",
        "float64",
        "CPU µs",
        "server CPU per valid response: its cost, steady even when the machine is contended",
    ),
    C("server_rss_peak_bytes", "Int64", "bytes", "peak resident memory, tree sum"),
    C("server_processes", "Int64", "processes", "processes in the server's tree"),
    C("startup_s", "float64", "s", "time from start to the first HTTP answer"),
    C("engine_cpu", "float64", "fraction", "engine CPU / CPUs it ran on"),
    C("engine_bound", "boolean", "", "the engine was the bottleneck (lower bound only)"),
    C("server_cpus", "string", "", "CPUs the server was pinned to"),
    C("engine_cpus", "string", "", "CPUs the engine was pinned to"),
    C("slo_pass", "boolean", "", "the scenario's SLO held (empty: no SLO or no data)"),
    C(
        "status",
        "string",
        "",
        "ok, engine-bound, overloaded: reason, failed: reason, skipped: reason",
    ),
    C("notes", "string", "", "remarks (precision limits, leftovers killed, …), '; '-joined"),
    C("started_at", "string", "ISO 8601", "when the cell started (UTC)"),
    C("finished_at", "string", "ISO 8601", "when the cell finished (UTC)"),
    # --- search mode (bench plan): what a cell's SLO search concluded (steps: search/) ---
    C("search_slo", "string", "", "search: the SLO searched for, e.g. 'p99 ≤ 100 ms, errors ≤ 0.1%'"),
    C("search_capacity", "float64", "req/s", "search: highest arrival rate meeting the SLO"),
    C("search_steps", "Int64", "", "search: measured windows (see search/)"),
    C("search_converged", "boolean", "", "search: the bracket closed within the precision"),
    C("search_reason", "string", "", "search: why it stopped"),
    # --- where the time goes: profile (profile: true) and per-worker attribution ---
    C("profile_svg", "string", "path", "profiled: flamegraph SVG, relative to the run folder"),
    C(
        "profile_speedscope",
        "string",
        "path",
        "profiled: py-spy's speedscope JSON (speedscope opens it)",
    ),
    C("profile_samples", "Int64", "samples", "profiled: stack samples of busy threads"),
    C("profile_top", "string", "JSON", "profiled: [[function, self share, total share], …] top 10"),
    C(
        "profile_rps",
        "float64",
        "req/s",
        "profiled: rps of the profiled window (row: the clean one)",
    ),
    C("profile_overhead", "float64", "fraction", "profiled: 1 − profile_rps ÷ rps"),
    C(
        "profile_cpu_share",
        "float64",
        "cores",
        "profiled: CPU py-spy itself used ÷ time it recorded",
    ),
    C(
        "profile_note",
        "string",
        "",
        "profiled: why there is no profile (py-spy missing, no ptrace)",
    ),
    C(
        "worker_pids",
        "string",
        "JSON",
        "PIDs of the server's workers (the tree's leaves), in order",
    ),
    C(
        "worker_cpu_shares",
        "string",
        "JSON",
        "each worker's share of the workers' CPU in the window",
    ),
    C(
        "worker_cpu_max_share",
        "float64",
        "fraction",
        "the busiest worker's CPU share (1/workers: even)",
    ),
    C(
        "worker_request_shares",
        "string",
        "JSON",
        "bundled servers: each worker's share of requests",
    ),
    C(
        "worker_request_max_share",
        "float64",
        "fraction",
        "bundled servers: the busiest worker's share",
    ),
    C("loop_lag_p99_us", "float64", "µs", "eventloop workers: 99th percentile event-loop lag"),
    C("loop_lag_max_us", "float64", "µs", "eventloop workers: largest event-loop lag"),
    C("gc_pause_s", "float64", "s", "bundled servers: time in garbage collection, all workers"),
    C("gc_pause_max_us", "float64", "µs", "bundled servers: longest single collection"),
)

HISTOGRAM_COLUMNS: tuple[Column, ...] = (
    C("cell_id", "string", "", "cell (see cells.parquet)"),
    C("repetition", "int64", "", "repetition"),
    C("value_us", "int64", "µs", "a latency value"),
    C("count", "int64", "requests", "how many responses had it"),
)

TIMESERIES_COLUMNS: tuple[Column, ...] = (
    C("cell_id", "string", "", "cell (see cells.parquet)"),
    C("repetition", "int64", "", "repetition"),
    C("t_s", "float64", "s", "start of the point, from the start of the window"),
    C(
        "span_s",
        "float64",
        "s",
        "length of the point: 1 s, 0.5/0.2 s in windows under 10/5 s; last may be shorter",
    ),
    C("requests", "float64", "requests", "valid responses in that point"),
    C("errors", "float64", "requests", "errors in that point"),
    C("p50_us", "float64", "µs", "median latency in that point (empty: engine cannot say)"),
    C("p99_us", "float64", "µs", "99th percentile latency in that point"),
    C("server_cpu", "float64", "cores", "server CPU in the whole second the point falls in"),
    C("server_rss_bytes", "float64", "bytes", "server tree resident memory"),
    C("sent", "float64", "requests", "open loop: requests sent in that point"),
    C("scheduled", "float64", "requests", "open loop: arrivals due in that point"),
    C("backlog", "float64", "requests", "open loop: arrivals without a response at its end"),
    C("drain", "boolean", "", "after the window's end: latencies only, not throughput"),
    C("p999_us", "float64", "µs", "99.9th percentile latency in that second"),
    C("max_us", "float64", "µs", "largest latency in that second"),
    *(C(f"errors_{k}", "float64", "requests", f"{k} errors in that second") for k in ERROR_KINDS),
)

EVENT_COLUMNS: tuple[Column, ...] = (
    C("cell_id", "string", "", "cell (see cells.parquet)"),
    C("repetition", "int64", "", "repetition"),
    C("event_index", "int64", "", "position of the event in the scenario's events list"),
    C(
        "action",
        "string",
        "",
        "reload, kill-worker, term-worker, pause, scale-up, scale-down, restart, recycle",
    ),
    C("at_s", "float64", "s", "when asked for, from the window's start (recycle: when seen)"),
    C("for_s", "float64", "s", "pause: how long the server was stopped"),
    C("status", "string", "", "done, skipped: reason, failed: reason"),
    C("signal", "string", "", "the signal sent (SIGHUP, SIGKILL, …)"),
    C("target", "string", "", "master, worker, group (every process), server (restart), watch"),
    C("pids", "string", "", "the processes acted on, comma-separated"),
    C("fired_at_s", "float64", "s", "when it was actually done, from the start of the window"),
    C(
        "ended_at_s",
        "float64",
        "s",
        "pause: when SIGCONT was sent; restart: when it answered again",
    ),
    C("workers_before", "Int64", "processes", "worker processes just before the action"),
    C("workers_back_s", "float64", "s", "seconds until as many workers ran again (new pids)"),
    C("steady_from_s", "float64", "s", "steady state before the event: start"),
    C("steady_to_s", "float64", "s", "steady state before the event: end"),
    C("window_from_s", "float64", "s", "event window: start (the second holding at)"),
    C(
        "window_to_s",
        "float64",
        "s",
        "event window: end (the end of the first second back to normal)",
    ),
    C("recovery_factor", "float64", "", "recovered: per-second p99 within this × steady p99"),
    C("recovered", "boolean", "", "per-second p99 came back before the window ended"),
    C("recovery_s", "float64", "s", "time to recover, to whole seconds (0: never left normal)"),
    C("requests", "Int64", "requests", "valid responses in the event window"),
    C("errors", "Int64", "requests", "errors in the event window"),
    *(
        C(f"errors_{k}", "Int64", "requests", f"{k} errors in the event window")
        for k in ERROR_KINDS
    ),
    C(
        "lost",
        "Int64",
        "requests",
        "sent and never answered (reset or timeout) in the event window",
    ),
    C(
        "unsent",
        "Int64",
        "requests",
        "due by the steady rate in the event window but never sent (closed loop: omission)",
    ),
    C("p99_us", "float64", "µs", "99th percentile latency in the event window"),
    C("p999_us", "float64", "µs", "99.9th percentile latency in the event window"),
    C("max_us", "float64", "µs", "largest latency in the event window"),
    C("steady_p99_us", "float64", "µs", "99th percentile latency in the steady state before"),
    C("steady_p999_us", "float64", "µs", "99.9th percentile latency in the steady state"),
    C("steady_max_us", "float64", "µs", "largest latency in the steady state"),
    C("p99_ratio", "float64", "", "event-window p99 ÷ steady p99"),
    C("window_p999_us", "float64", "µs", "the cell's whole-window p99.9 (the stall self-test)"),
    C("stall_seen", "boolean", "", "pause: the window's p99.9 shows at least half the stall"),
    C("notes", "string", "", "remarks, '; '-joined"),
)

TABLES: dict[str, tuple[Column, ...]] = {
    "cells.parquet": CELL_COLUMNS,
    "histograms/": HISTOGRAM_COLUMNS,
    "timeseries/": TIMESERIES_COLUMNS,
    "events/": EVENT_COLUMNS,
}


def frame(rows: Sequence[dict[str, Any]], columns: Sequence[Column]) -> pd.DataFrame:
    """A DataFrame with exactly ``columns`` in order and dtype; missing values are NA."""
    data = {c.name: [row.get(c.name) for row in rows] for c in columns}
    df = pd.DataFrame(data, columns=[c.name for c in columns])
    for c in columns:
        df[c.name] = df[c.name].astype(c.dtype)
    return df


def schema_markdown() -> str:
    """The results schema as markdown tables (docs/results-schema.md embeds this)."""
    parts: list[str] = []
    for name, columns in TABLES.items():
        title = f"{name}*.parquet" if name.endswith("/") else name
        parts.append(f"### `{title}`\n")
        parts.append("| column | dtype | unit | meaning |")
        parts.append("|---|---|---|---|")
        for c in columns:
            parts.append(f"| `{c.name}` | {c.dtype} | {c.unit} | {c.meaning} |")
        parts.append("")
    return "\n".join(parts)
