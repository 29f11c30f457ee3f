"""Pure pieces of running one cell: the engine spec for a cell, and its results row.

``cell_spec`` turns a cell into the ``LoadSpec`` the engine gets; ``primer_spec`` the
short, discarded run before it. ``cell_row`` turns what happened (a LoadResult and the
server's resource use, or a failure reason) into one row of ``cells.parquet``;
``judge_status`` decides ``ok`` / ``engine-bound`` / ``failed: …``; ``slo_pass`` checks the
scenario's SLO. No process is started here.
"""

from __future__ import annotations

import math
from dataclasses import replace
from typing import Any

from bench.runner.launch.sampler import WindowStats
from bench.runner.loadspec import ERROR_KINDS, LoadResult, LoadSpec
from bench.runner.matrix.cells import Cell
from bench.runner.results.little import little_ratio
from bench.runner.results.slo import LATENCY_KEYS, Slo
from bench.runner.scenario.model import Scenario
from bench.runner.units import format_cpus

#: Connections of the primer run (capped by the cell's concurrency).
PRIMER_CONNECTIONS = 4
#: Time-series points shorter than this (s) are dropped (an empty end-of-window sliver).
MIN_SPAN_S = 0.05


def cell_url(scenario: Scenario, host: str, port: int) -> str:
    """The URL the engine drives (ws:// for WebSocket workloads)."""
    scheme = "ws" if scenario.workload.is_websocket else "http"
    netloc = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
    return f"{scheme}://{netloc}{scenario.workload.path}"


def engine_processes(scenario: Scenario, engine_cpus: tuple[int, ...] | None) -> int:
    """Engine processes: as the scenario says, or one per engine CPU (``auto``)."""
    if scenario.load.processes != "auto":
        return int(scenario.load.processes)
    return max(1, len(engine_cpus)) if engine_cpus else 1


def cell_spec(
    cell: Cell,
    scenario: Scenario,
    host: str,
    port: int,
    engine_cpus: tuple[int, ...] | None,
) -> LoadSpec:
    """The load of one cell."""
    load, workload = scenario.load, scenario.workload
    point = cell.load
    closed = point.mode == "closed"
    connections = int(point.concurrency) if closed and point.concurrency else load.connections
    processes = min(engine_processes(scenario, engine_cpus), connections)
    return LoadSpec(
        url=cell_url(scenario, host, port),
        mode="closed" if closed else "open",
        connections=connections,
        rate=None if closed else point.rate,
        arrival=load.arrival,
        duration_s=load.duration,
        warmup_s=load.warmup,
        method=workload.method,
        headers=tuple(workload.headers.items()),
        body=workload.body.encode(),
        timeout_s=load.timeout,
        processes=max(1, processes),
        cpus=engine_cpus,
        websocket=workload.is_websocket,
        ws_message_size=point.message_size or 32,
        ws_message_rate=point.message_rate,
        expect_status=None if workload.is_websocket else workload.expect_status,
        expect_body=None if workload.expect_body is None else workload.expect_body.encode(),
    )


def primer_spec(spec: LoadSpec, seconds: float) -> LoadSpec:
    """A short closed-loop run at low concurrency whose results are thrown away."""
    return replace(
        spec,
        mode="closed",
        rate=None,
        connections=min(PRIMER_CONNECTIONS, spec.connections),
        duration_s=seconds,
        warmup_s=0.0,
        processes=1,
        ws_message_rate=None,
    )


def dimension_fields(
    cell: Cell, scenario: Scenario, run_id: str, repetition: int
) -> dict[str, Any]:
    """The columns that say which cell a row is (filled even for failed cells)."""
    s, p = cell.server, cell.load
    return {
        "run_id": run_id,
        "scenario": scenario.name,
        "cell_id": cell.cell_id,
        "cell_index": cell.index,
        "repetition": repetition,
        "label": s.describe(),
        "server": s.server,
        "server_kind": "peer" if s.is_peer else "bundled",
        "worker_class": s.worker_class,
        "workers": s.workers,
        "threads": s.threads,
        "loop": s.loop,
        "interface": s.interface,
        "http": s.http,
        "app": scenario.workload.app,
        "engine": scenario.load.engine,
        "mode": p.mode,
        "concurrency": p.concurrency,
        "target_rate": p.rate,
        "message_size": p.message_size,
        "message_rate": p.message_rate,
        "warmup_s": scenario.load.warmup,
    }


def slo_pass(slo: Slo | None, latency_us: dict[str, float], error_rate: float) -> bool | None:
    """Whether the SLO held (None without an SLO): ``Slo.verdict`` on this cell's values."""
    if slo is None:
        return None
    values = {LATENCY_KEYS[k]: v for k, v in latency_us.items() if k in LATENCY_KEYS}
    return slo.verdict({**values, "error_rate": error_rate})


def judge_status(result: LoadResult) -> str:
    """``failed: …`` when nothing valid came back, else ``engine-bound`` (the numbers are
    the engine's limit), ``overloaded: <why>`` (an open-loop server fell behind), ``ok``."""
    if result.requests == 0:
        kinds = ", ".join(f"{k} {v}" for k, v in result.errors.items() if v) or "none"
        return f"failed: no valid response in the window (errors: {kinds})"
    if result.engine_bound:
        return "engine-bound"
    if result.overloaded:
        assert result.overload is not None
        return f"overloaded: {result.overload.get('reason', 'fell behind')}"
    return "ok"


def cell_row(
    base: dict[str, Any],
    result: LoadResult,
    window: WindowStats,
    *,
    slo: Slo | None,
    server_cpus: tuple[int, ...] | None,
    engine_cpus: tuple[int, ...] | None,
    startup_s: float | None,
    notes: list[str],
) -> dict[str, Any]:
    """The row of a cell whose engine run completed."""
    lat = result.latency_us
    errors = sum(result.errors.values())
    attempts = result.requests + errors
    error_rate = errors / attempts if attempts else 0.0
    concurrency = base.get("concurrency")
    little = little_ratio(
        result.rps,
        lat.get("mean", 0.0),
        concurrency,
        connect_mean_us=result.connect_us.get("mean", 0.0),
        connects_per_request=result.connects_per_request,
    )
    overload = result.overload or {}
    n_server_cpus = len(server_cpus) if server_cpus else None
    util = None
    if window.cpu_s is not None and result.duration_s > 0:
        util = window.cpu_s / (result.duration_s * (n_server_cpus or 1))
    other = sum(v for k, v in result.errors.items() if k not in ERROR_KINDS)
    row = {
        **base,
        "duration_s": result.duration_s,
        "achieved_rate": result.achieved_rate,
        "served_share": overload.get("served_share"),
        "backlog_slope": overload.get("backlog_slope"),
        "drained": result.drained if result.target_rate is not None else None,
        "requests": result.requests,
        "errors": errors,
        **{f"errors_{k}": result.errors.get(k, 0) for k in ERROR_KINDS},
        "error_rate": error_rate,
        "rps": result.rps,
        "latency_mean_us": lat.get("mean"),
        "latency_min_us": lat.get("min"),
        "p50_us": lat.get("p50"),
        "p90_us": lat.get("p90"),
        "p99_us": lat.get("p99"),
        "p999_us": lat.get("p999"),
        "p9999_us": lat.get("p9999"),
        "latency_max_us": lat.get("max"),
        "latency_resolution_us": result.latency_resolution_us,
        "schedule_lag_p99_us": result.schedule_lag_us.get("p99"),
        "ws_connect_p50_us": (
            result.connect_us.get("p50") if base.get("message_size") is not None else None
        ),
        "connect_mean_us": result.connect_us.get("mean") if result.connect_us else None,
        "connects_per_request": result.connects_per_request if result.connect_us else None,
        "little_ratio": little,
        "server_cpu_s": window.cpu_s,
        "server_cpu_util": util,
        "server_cpu_per_request_us": (
            window.cpu_s * 1e6 / result.requests
            if window.cpu_s is not None and result.requests
            else None
        ),
        "server_rss_peak_bytes": window.rss_peak_bytes,
        "server_processes": window.processes,
        "startup_s": startup_s,
        "engine_cpu": result.engine_cpu,
        "engine_bound": result.engine_bound,
        "server_cpus": format_cpus(server_cpus),
        "engine_cpus": format_cpus(engine_cpus),
        "status": judge_status(result),
        "notes": "; ".join([*result.notes, *notes]),
    }
    row["errors_protocol"] = int(row["errors_protocol"]) + other
    if row["status"].startswith("failed"):
        row["slo_pass"] = None
    else:
        row["slo_pass"] = slo_pass(slo, lat, error_rate)
    return row


def failed_row(
    base: dict[str, Any],
    reason: str,
    *,
    server_cpus: tuple[int, ...] | None,
    engine_cpus: tuple[int, ...] | None,
    notes: list[str],
    status_prefix: str = "failed",
) -> dict[str, Any]:
    """The row of a cell that failed (or was skipped): dimensions, status, no numbers."""
    return {
        **base,
        "server_cpus": format_cpus(server_cpus),
        "engine_cpus": format_cpus(engine_cpus),
        "status": f"{status_prefix}: {reason}",
        "notes": "; ".join(notes),
    }


def timeseries_rows(result: LoadResult, window: WindowStats) -> list[dict[str, Any]]:
    """Time-series rows: the engine's points (1 s, or shorter in short windows) joined with
    the server's CPU and RSS of the second each point falls in."""
    server = {round(t): (cpu, rss) for t, cpu, rss in window.per_second}  # by whole second
    rows: list[dict[str, Any]] = []
    for point in result.timeseries:
        t = float(point.get("t", 0.0))
        span = point.get("span_s")
        if span is not None and float(span) < MIN_SPAN_S:
            continue  # the empty sliver after the window's last full second
        cpu, rss = server.get(math.floor(t + 1e-9), (None, None))  # the second t falls in
        measured = bool(point.get("requests"))
        rows.append(
            {
                "t_s": t,
                "span_s": None if span is None else float(span),
                "requests": point.get("requests"),
                "errors": point.get("errors"),
                "p50_us": point.get("p50_us") if measured else None,
                "p99_us": point.get("p99_us") if measured else None,
                "server_cpu": cpu,
                "server_rss_bytes": rss,
                "sent": point.get("sent"),
                "scheduled": point.get("scheduled"),
                "backlog": _tracked(point.get("backlog")),
                "drain": bool(point.get("drain", 0.0)),
                "p999_us": point.get("p999_us") if measured else None,
                "max_us": point.get("max_us") if measured else None,
                **{k: v for k, v in point.items() if k.startswith("errors_")},
            }
        )
    if not rows:
        rows = [
            {"t_s": t, "server_cpu": cpu, "server_rss_bytes": rss}
            for t, cpu, rss in window.per_second
        ]
    return rows


def _tracked(value: object) -> float | None:
    """A time-series count, or None where the engine did not track it (-1)."""
    if value is None:
        return None
    number = float(value)  # type: ignore[arg-type]
    return None if number < 0 else number
