"""One cell repetition on a server bench did not start (a scenario entry with ``url``).

How this works: like ``bench.runner.session.cell.run_cell`` without the launch. The target
is probed once (one GET, TLS verified unless the entry opts out with
``tls_verify: false``) so an unreachable host or a refused certificate is one clear
reason; then the primer and the cell's driver run against the URL the user wrote, and
only that host is targeted. Nothing is launched, so nothing is sampled: the row's
server CPU and RSS are empty and its notes say why (``NOT_LAUNCHED_NOTE``).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

from bench.runner.errors import EngineError, LaunchError, UsageError
from bench.runner.launch.sampler import WindowStats
from bench.runner.matrix.cells import Cell
from bench.runner.session.context import CellOutcome, CellRun, Interrupted, RunContext
from bench.runner.session.drivers import DRIVERS, in_process_if_pinned
from bench.runner.session.rows import cell_spec, failed_row
from bench.runner.units import format_cpus

#: The note on every row of an external target.
NOT_LAUNCHED_NOTE = (
    "external target: bench did not start this server; no server CPU or RSS was measured"
)
#: The note on an external target whose certificate is not verified (the user opted out).
UNVERIFIED_NOTE = "TLS certificate not verified (tls_verify: false)"


@dataclass
class NotLaunched:
    """The server side of an external target: nothing to stop, no log, never exits."""

    url: str
    log_path: Path = Path("/nonexistent/external-target.log")

    def returncode(self) -> int | None:
        """An external server's exit is not ours to see."""
        return None


class NotSampled:
    """No resource sampling (the server's processes are on someone else's host)."""

    def sample(self) -> None:
        """Nothing to sample."""

    def window(self, start: float, end: float) -> WindowStats:
        """An empty window: no CPU, no RSS, no processes."""
        return WindowStats(cpu_s=None, rss_peak_bytes=None, processes=None, per_second=[])


def probe(url: str, *, verify: bool, timeout_s: float) -> float:
    """One GET to the target (any status counts); seconds it took. LaunchError when none."""
    import httpx

    http_url = url.replace("wss://", "https://", 1).replace("ws://", "http://", 1)
    started = time.monotonic()
    try:
        httpx.get(http_url, verify=verify, timeout=timeout_s)
    except httpx.HTTPError as exc:
        why = str(exc) or type(exc).__name__
        hint = (
            " (trust its CA with SSL_CERT_FILE, or set tls_verify: false)"
            if "CERTIFICATE_VERIFY_FAILED" in why
            else ""
        )
        raise LaunchError(f"external target {url} did not answer: {why}{hint}") from None
    return time.monotonic() - started


def run_external_cell(
    ctx: RunContext,
    cell: Cell,
    repetition: int,
    base: dict[str, object],
    prime: Callable[[CellRun], None],
) -> CellOutcome:
    """Run one cell repetition against the external URL; failures become a ``failed:`` row."""
    point = cell.server
    assert point.url is not None
    verify = point.tls_verify is not False
    base = {**base, "server_kind": "external"}
    engine_cpus = ctx.pinning.engine_cpus
    notes = [NOT_LAUNCHED_NOTE] + ([] if verify else [UNVERIFIED_NOTE])
    try:
        ctx.view.phase("probing target")
        startup = probe(point.url, verify=verify, timeout_s=ctx.scenario.launch.ready_timeout)
        spec = cell_spec(cell, ctx.scenario, "127.0.0.1", 0, engine_cpus)
        spec = in_process_if_pinned(replace(spec, url=point.url, tls_verify=verify))
        run = CellRun(ctx, cell, base, spec, NotLaunched(point.url), NotSampled(), startup, notes)  # type: ignore[arg-type]
        prime(run)
        outcome = DRIVERS[cell.load.mode](run)
        outcome.row["server_cpus"] = format_cpus(None)  # the server runs elsewhere
        return outcome
    except LaunchError as exc:
        if ctx.stop.is_set():
            raise Interrupted from None
        reason = str(exc)
    except (EngineError, UsageError) as exc:
        if ctx.stop.is_set():
            raise Interrupted from None
        reason = f"engine: {exc}"
    return CellOutcome(
        failed_row(base, reason, notes=notes, server_cpus=None, engine_cpus=engine_cpus)
    )
