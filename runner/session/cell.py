"""One cell repetition on a freshly started server: start, sample, prime, drive, stop.

How this works: ``run_cell``

1. starts the server configuration in its own process group on the server CPUs and
   waits until it answers HTTP (``bench.runner.launch``);
2. samples the server's process tree (CPU, RSS; per worker, with the bundled servers'
   worker stats side channel turned on: ``bench.servers.worker_stats``) in a background
   thread (``bench.runner.launch.sampler``);
3. runs the primer (short, low concurrency, discarded), then hands the running server
   to the driver of the cell's load mode (``bench.runner.session.drivers``): one warm-up +
   measured window, or an SLO search;
4. stops the server (TERM, KILL after the timeout) and kills anything left behind;
5. returns the row (``bench.runner.session.rows``), which the loop stores at once.

Failures (no start, crash, engine error, nothing valid measured) become a row with status
``failed: reason``. A stop request (Ctrl-C sets ``stop``) ends the engine run early; that
cell is thrown away (``Interrupted``), its server stopped.
"""

from __future__ import annotations

from bench.runner.errors import EngineError, LaunchError, UsageError
from bench.runner.launch.commands import server_command
from bench.runner.launch.process import ServerProcess, free_port
from bench.runner.launch.sampler import TreeSampler
from bench.runner.matrix.cells import Cell
from bench.runner.results.manifest import utc_now
from bench.runner.session.context import CellOutcome, CellRun, Interrupted, RunContext
from bench.runner.session.drivers import DRIVERS, in_process_if_pinned
from bench.runner.session.external import run_external_cell
from bench.runner.session.rows import cell_spec, dimension_fields, failed_row, primer_spec
from bench.servers.worker_stats import ENV as WORKER_STATS_ENV


def run_cell(ctx: RunContext, cell: Cell, repetition: int) -> CellOutcome:
    """Run one cell repetition; failures become a ``failed:`` row.

    Raises:
        Interrupted: ``ctx.stop`` was set while the cell ran (the cell is thrown away).
    """
    scenario = ctx.scenario
    pin = ctx.pinning
    base = dimension_fields(cell, scenario, ctx.run_id, repetition)
    base["started_at"] = utc_now()
    cpus = {"server_cpus": pin.server_cpus, "engine_cpus": pin.engine_cpus}
    if cell.cell_id in ctx.skipped:
        row = failed_row(base, ctx.skipped[cell.cell_id], notes=[], status_prefix="skipped", **cpus)
        return CellOutcome({**row, "finished_at": utc_now()})
    if cell.server.is_external:  # a server bench did not start: no launch, no sampling
        outcome = run_external_cell(ctx, cell, repetition, base, _prime)
        outcome.row["finished_at"] = utc_now()
        return outcome
    host = scenario.launch.host
    port = free_port(host)
    command = server_command(cell.server, scenario.workload, host, port)
    log = ctx.run_dir / "logs" / f"{cell.cell_id}-r{repetition}.log"
    stats_dir = ctx.run_dir / "workers" / f"{cell.cell_id}-r{repetition}"  # servers.worker_stats
    env = {**command.env, **ctx.extra_env, WORKER_STATS_ENV: str(stats_dir)}
    server = ServerProcess(command.argv, env=env, cpus=pin.server_cpus, log_path=log)
    notes: list[str] = []
    outcome: CellOutcome
    try:
        ctx.view.phase("starting server")
        server.start()
        startup = server.wait_ready(
            host,
            port,
            scenario.workload.path,
            scenario.launch.ready_timeout,
            should_stop=ctx.stop.is_set,
        )
        with TreeSampler(server, stats_dir=stats_dir) as sampler:
            spec = in_process_if_pinned(cell_spec(cell, scenario, host, port, pin.engine_cpus))
            run = CellRun(ctx, cell, base, spec, server, sampler, startup, notes)
            _prime(run)
            outcome = DRIVERS[cell.load.mode](run)
    except LaunchError as exc:
        if ctx.stop.is_set():
            raise Interrupted from None
        outcome = CellOutcome(failed_row(base, str(exc), notes=notes, **cpus))
    except (EngineError, UsageError) as exc:
        if ctx.stop.is_set():
            raise Interrupted from None
        outcome = CellOutcome(failed_row(base, f"engine: {exc}", notes=notes, **cpus))
    finally:
        ctx.view.phase("stopping server")
        report = server.stop(scenario.launch.stop_timeout)
    # A cell whose window completed is kept even if Ctrl-C came while its server stopped.
    extra: list[str] = []
    if report.killed:
        extra.append(f"server needed SIGKILL after {scenario.launch.stop_timeout:g}s")
    if report.leftovers:
        extra.append(f"killed {len(report.leftovers)} leftover process(es) after stop")
    if extra:
        outcome.row["notes"] = "; ".join(filter(None, [outcome.row.get("notes", ""), *extra]))
    outcome.row["finished_at"] = utc_now()
    return outcome


def _prime(run: CellRun) -> None:
    """The primer: a short low-concurrency run, discarded; no valid response fails the cell."""
    seconds = run.ctx.scenario.load.primer
    if seconds <= 0:
        return
    run.ctx.view.phase("primer")
    primer = in_process_if_pinned(primer_spec(run.spec, seconds))
    primed = run.ctx.engine.run(primer, stop=run.ctx.stop)
    if run.ctx.stop.is_set():
        raise Interrupted
    if primed.requests == 0:
        kinds = ", ".join(f"{k} {v}" for k, v in primed.errors.items() if v) or "none"
        raise LaunchError(f"primer: no valid response (errors: {kinds})" + run.exit_note())
