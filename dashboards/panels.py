"""Which figures a run gets, in which order, each with a short "what this shows" text.

A panel is a figure plus its heading and explanation. Figures that do not apply are left
out (no WebSocket cells: no WebSocket panel; workers never vary: no capacity-vs-workers
panel), so every figure in a report has something to say. The explanations mention what
the reader must keep in mind for this run: closed-loop latencies, engine-bound cells,
server CPUs fewer than workers.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd
import plotly.graph_objects as go

from bench.dashboards.event_panels import event_panels
from bench.dashboards.figures.latency import latency_vs_throughput, percentile_spectrum
from bench.dashboards.figures.matrix import matrix_heatmap
from bench.dashboards.figures.resources import server_resources
from bench.dashboards.figures.scaling import capacity_vs, throughput_vs_load
from bench.dashboards.figures.timeseries import cell_timeseries
from bench.dashboards.figures.websocket import websocket_figure
from bench.dashboards.run import RunView
from bench.dashboards.tables import is_websocket, server_cpu_count


@dataclass(frozen=True)
class Panel:
    """One section of the report: an anchor, a heading, an explanation and a figure."""

    key: str
    title: str
    explains: str
    figure: go.Figure


def unusable_note(failed: int, skipped: int) -> str:
    """`` ✕ marks 2 failed cell(s) and 1 skipped cell(s); hover for the reason.``, naming
    each kind by what it is (a skipped cell was never run: it did not fail), or ``""``."""
    parts = [f"{n} {kind} cell(s)" for n, kind in ((failed, "failed"), (skipped, "skipped")) if n]
    return f" ✕ marks {' and '.join(parts)}; hover for the reason." if parts else ""


def _notes(view: RunView) -> dict[str, str]:
    summary = view.summary
    closed = bool((summary["mode"] == "closed").any()) if not summary.empty else False
    engine_bound = int((summary["status_kind"] == "engine-bound").sum()) if len(summary) else 0
    overloaded = int((summary["status_kind"] == "overloaded").sum()) if len(summary) else 0
    failed = int((summary["status_kind"] == "failed").sum()) if len(summary) else 0
    skipped = int((summary["status_kind"] == "skipped").sum()) if len(summary) else 0
    cpus = server_cpu_count(summary)
    workers = pd.to_numeric(summary["workers"], errors="coerce").max() if len(summary) else None
    crowded = bool(cpus and workers is not None and not pd.isna(workers) and workers > cpus)
    return {
        "closed": (
            " Closed loop: each connection sends its next request when the previous answer "
            "arrives, so latencies are service times under that many connections; open-loop "
            "runs measure latency at a fixed arrival rate."
            if closed
            else ""
        ),
        "engine": (
            f" Open rings mark {engine_bound} engine-bound cell(s): the load generator was the "
            "limit, so those numbers are lower bounds on the server."
            if engine_bound
            else ""
        ),
        "overloaded": (
            f" Purple triangles (▲ in the matrix) mark {overloaded} overloaded cell(s): the "
            "server fell behind the asked arrival rate, so its throughput is what it served "
            "at its limit and its latency kept growing through the window."
            if overloaded
            else ""
        ),
        "failed": unusable_note(failed, skipped),
        "cores": (
            f" The server was pinned to {cpus} CPU(s): more workers than that share the same "
            "cores, so this is not scaling across cores."
            if crowded
            else ""
        ),
    }


def build_panels(view: RunView) -> list[Panel]:
    """The report's panels for this run, in reading order."""
    s, slo, notes = view.summary, view.slo, _notes(view)
    slo_text = f" The dashed red line is the SLO ({slo.describe()})." if slo else ""
    panels = [
        Panel(
            "matrix",
            "The matrix at a glance",
            "Every server configuration (rows) at every load point (columns). Toggle between "
            "throughput and p99; ✓/✗ is the SLO verdict, ≥ marks an engine-bound lower bound, "
            "▲ a server that fell behind the asked rate." + notes["overloaded"] + notes["failed"],
            matrix_heatmap(s, slo),
        ),
        Panel(
            "latency-throughput",
            "Latency vs throughput",
            "Each line walks one configuration through its load points. Flat means spare "
            "capacity; where the line turns up, more load only adds queueing. ★ marks the "
            "saturation point (95 % of that configuration's best throughput). p99 solid, "
            "p50 dotted." + slo_text + notes["engine"] + notes["overloaded"] + notes["closed"],
            latency_vs_throughput(s, slo),
        ),
        Panel(
            "throughput-load",
            "Throughput and p99 vs load",
            "Throughput (error bars: min–max over repetitions) and p99 at each load point."
            + notes["failed"]
            + notes["engine"],
            throughput_vs_load(s, slo),
        ),
    ]
    for axis in ("workers", "threads"):
        fig = capacity_vs(s, axis, slo)  # type: ignore[arg-type]
        if fig is not None:
            panels.append(
                Panel(
                    f"capacity-{axis}",
                    f"Capacity vs {axis}",
                    f"For configurations that differ only in {axis}: the best throughput over "
                    "the load points (each point names the load it was reached at), and the p99 "
                    "of every member at the same load: the highest load point they all ran."
                    + notes["cores"],
                    fig,
                )
            )
    panels.append(
        Panel(
            "spectrum",
            "Percentile spectrum",
            "The whole latency distribution of each cell, repetitions merged (never averaged): "
            "read across to see how slow the 1-in-N slowest request is. Pick the load point "
            "in the menu." + slo_text,
            percentile_spectrum(s, view.merged, slo),
        )
    )
    if bool(is_websocket(s).any()) if not s.empty else False:
        fig = websocket_figure(s)
        if fig is not None:
            panels.append(
                Panel(
                    "websocket",
                    "WebSocket",
                    "Echo round-trips per second, round-trip latency, and the time to open a "
                    "connection (TCP + upgrade handshake) as connections grow." + notes["failed"],
                    fig,
                )
            )
    panels.append(
        Panel(
            "resources",
            "Server CPU and memory",
            "CPU the server's whole process tree used (in cores), CPU per request (the "
            "serving stack's efficiency), and peak resident memory of all its processes."
            + notes["cores"],
            server_resources(s, server_cpu_count(s)),
        )
    )
    panels.append(
        Panel(
            "timeseries",
            "Time series",
            "Requests, errors and p99 through the window for one cell (a point per second, "
            "finer in windows under 10 s), each repetition a line; "
            "pick the cell in the menu. The shaded band is the warm-up, whose samples are "
            "discarded; a series still climbing at 0 s means the warm-up was too short.",
            cell_timeseries(s, view.timeseries),
        )
    )
    panels.extend(event_panels(view, panels[-1].figure))
    return panels
