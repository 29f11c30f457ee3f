"""A cell's lifecycle and fault events around its measured window (the drivers' hook).

How this works: ``start_events`` (called by ``measure_window`` just before the engine
runs) plans every scenario event for the cell's server configuration
(``bench.runner.events.mapping``) and starts the scheduler thread; the engine's progress goes
through the scheduler so it learns when the window started. ``finish_events`` (right
after the engine returned) stops the thread, joins what was done with what the window's
per-second series says it cost (``bench.runner.results.events.event_cost``), writes the cell's
``events/`` part and notes skipped or failed actions on the row. A server that did not
come back after ``restart`` fails the cell (``LaunchError``), and the run goes on.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from bench.runner.errors import LaunchError
from bench.runner.events.mapping import Plan, plan_action
from bench.runner.events.scheduler import EventRecord, EventScheduler
from bench.runner.launch.process import ServerProcess
from bench.runner.loadspec import LoadResult, LoadSpec
from bench.runner.matrix.cells import Cell
from bench.runner.results.event_table import write_events
from bench.runner.results.events import event_cost, seconds_from_series, stall_seen
from bench.runner.results.histogram import Histogram
from bench.runner.scenario.model import Scenario
from bench.runner.session.context import CellRun


def event_plan_lines(scenario: Scenario, cells: Sequence[Cell]) -> list[str]:
    """What each event will do to each server configuration (``--dry-run`` prints these)."""
    lines: list[str] = []
    seen: set[str] = set()
    for cell in cells:
        label = cell.server.describe()
        if label in seen:
            continue
        seen.add(label)
        for event in scenario.events:
            plan = plan_action(cell.server.server, cell.server.workers, event.action)
            if isinstance(plan, Plan):
                what = (
                    "every worker that exits is recorded"
                    if plan.target == "watch"
                    else (f"{plan.signal} to the {plan.target}")
                )
            else:
                what = f"skipped: {plan.reason}"
            when = "through the window" if event.at is None else f"at {event.at:g}s"
            lines.append(f"event {event.action} {when} on {label}: {what}")
    return lines


def start_events(run: CellRun, spec: LoadSpec) -> EventScheduler | None:
    """Plan and start the scenario's events for this cell (None: the scenario has none)."""
    scenario = run.ctx.scenario
    if not scenario.events:
        return None
    point = run.cell.server
    records = [
        EventRecord(
            index=i,
            action=event.action,
            at_s=event.at,
            for_s=event.for_,
            plan=plan_action(point.server, point.workers, event.action),
        )
        for i, event in enumerate(scenario.events)
    ]
    return EventScheduler(
        records,
        run.server,
        warmup_s=spec.warmup_s,
        restart=lambda: _restart(run.server, scenario),
        workers=point.workers,
    ).start()


def _restart(server: ServerProcess, scenario: Scenario) -> None:
    """TERM the whole server, start it again on the same port, wait until it answers."""
    launch = scenario.launch
    host, port = _host_port(server)
    server.stop(launch.stop_timeout)
    server.start()
    server.wait_ready(host, port, scenario.workload.path, launch.ready_timeout)


def _host_port(server: ServerProcess) -> tuple[str, int]:
    """The address the server was started on (its argv names it; see launch.commands)."""
    argv = server.argv
    for flag in ("-b", "--bind"):
        if flag in argv:
            bind = argv[argv.index(flag) + 1]
            host, _, port = bind.rpartition(":")
            return host.strip("[]"), int(port)
    return argv[argv.index("--host") + 1], int(argv[argv.index("--port") + 1])


def finish_events(
    run: CellRun, scheduler: EventScheduler | None, result: LoadResult | None
) -> None:
    """Stop the scheduler, write the cell's events table and note what was not done.

    Raises:
        LaunchError: the server did not come back after a ``restart``.
    """
    if scheduler is None:
        return
    records = scheduler.finish()
    rows: list[dict[str, Any]] = []
    not_before = 0.0
    taken = sorted(r.fired_at_s for r in records if r.fired_at_s is not None)
    in_time = sorted(records, key=lambda r: (r.fired_at_s is None, r.fired_at_s or 0.0))
    for record in in_time:
        later = [t for t in taken if record.fired_at_s is not None and t > record.fired_at_s]
        row = _row(record, run, result, not_before, later[0] if later else None)
        not_before = max(not_before, float(row.get("window_to_s") or 0.0))
        rows.append(row)
    repetition = int(run.base["repetition"])
    write_events(run.ctx.run_dir, run.cell.cell_id, repetition, rows)
    for record in records:
        if record.status != "done":
            when = "" if record.at_s is None else f" at {record.at_s:g}s"
            run.notes.append(f"event {record.action}{when} {record.status}")
    if scheduler.restart_error:
        raise LaunchError(scheduler.restart_error)


def _row(
    record: EventRecord,
    run: CellRun,
    result: LoadResult | None,
    not_before_s: float,
    until_s: float | None,
) -> dict[str, Any]:
    recovery = run.ctx.scenario.recovery
    row: dict[str, Any] = {**record.fields(), "recovery_factor": recovery.factor}
    if result is None or record.status != "done" or not result.timeseries:
        return row
    histograms = result.second_histograms or [Histogram.empty() for _ in result.timeseries]
    seconds = seconds_from_series(result.timeseries, histograms)
    at = record.fired_at_s if record.fired_at_s is not None else (record.at_s or 0.0)
    if not seconds or at > seconds[-1].t_s + seconds[-1].span_s:
        return {**row, "notes": "the window ended before the event's second"}
    cost = event_cost(
        seconds,
        at,
        record.for_s or 0.0,
        steady_s=recovery.steady,
        factor=recovery.factor,
        not_before_s=not_before_s,
        until_s=until_s,
    )
    window_p999 = result.latency_us.get("p999")
    row.update(cost.to_row())
    row["window_p999_us"] = window_p999
    row["stall_seen"] = stall_seen(window_p999, record.for_s or 0.0)
    row["notes"] = "; ".join(cost.notes) or None
    return row
