"""Terminal output of `bench load`: a progress bar while it runs, then the result.

Rendering only: every number shown comes from the ``LoadResult`` (percentiles from its
merged histogram, never recomputed from averages).
"""

from __future__ import annotations

from types import TracebackType
from typing import Any

from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

from bench.runner.loadspec import PERCENTILES, LoadResult, LoadSpec
from bench.runner.results.formatting import format_latency
from bench.runner.results.histogram import Histogram

#: Percentiles of the spectrum printed under the table.
SPECTRUM: tuple[float, ...] = (10, 25, 50, 75, 90, 95, 99, 99.9, 99.99, 100)
_BAR_WIDTH = 40
_PIPE_WIDTH = 120


def fmt_us(value: float, resolution_us: float = 1.0) -> str:
    """A latency in µs as text (``bench.runner.results.formatting.format_latency``)."""
    return format_latency(value, resolution_us)


class ProgressView:
    """A rich progress bar fed by the engine's progress callback (a no-op when disabled)."""

    def __init__(self, spec: LoadSpec, *, enabled: bool) -> None:
        self._spec = spec
        self._enabled = enabled
        self._progress: Progress | None = None
        self._task: Any = None

    def __enter__(self) -> ProgressView:
        if self._enabled:
            self._progress = Progress(
                TextColumn("[bold]{task.fields[phase]}"),
                BarColumn(),
                TextColumn("{task.fields[requests]:>10,} req  {task.fields[rps]:>10,.0f} req/s"),
                TextColumn("{task.fields[errors]:>6,} errors"),
                TimeRemainingColumn(),
                console=Console(stderr=True),
                transient=True,
            )
            self._progress.__enter__()
            total = self._spec.warmup_s + self._spec.duration_s
            self._task = self._progress.add_task(
                "load", total=total, phase="start", requests=0, rps=0.0, errors=0
            )
        return self

    def update(self, report: dict[str, Any]) -> None:
        """Engine progress callback."""
        if self._progress is None:
            return
        phase = str(report.get("phase", ""))
        done = report.get("elapsed_s", 0.0) + (self._spec.warmup_s if phase != "warmup" else 0)
        self._progress.update(
            self._task,
            completed=min(done, self._spec.warmup_s + self._spec.duration_s),
            phase=phase,
            requests=int(report.get("requests", 0)),
            rps=float(report.get("rps", 0.0)),
            errors=int(report.get("errors", 0)),
        )

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._progress is not None:
            self._progress.__exit__(exc_type, exc, tb)


def print_result(
    spec: LoadSpec, result: LoadResult, *, interrupted: bool = False, console: Console | None = None
) -> None:
    """Print the summary, the latency table, the spectrum, errors and notes."""
    if console is None:
        console = Console()
        if not console.is_terminal:
            console = Console(width=_PIPE_WIDTH)  # no wrapping when piped to a file
    unit = "messages" if spec.websocket else "requests"
    mode = (
        f"open loop, {spec.rate:g}/s {spec.arrival}"
        if spec.mode == "open" and spec.rate
        else f"closed loop, {spec.connections} connections"
    )
    if interrupted:
        console.print("[yellow]interrupted: results cover what was measured so far[/]")
    console.print(
        f"[bold]{spec.url}[/]  {mode}, {result.duration_s:.2f}s"
        + (f", {spec.processes} processes" if spec.processes > 1 else "")
    )
    console.print(
        f"  {result.requests:,} {unit} in {result.duration_s:.2f}s: "
        f"[bold]{result.rps:,.1f}[/] {unit}/s, {result.error_count:,} errors, "
        f"engine CPU {result.engine_cpu:.0%}"
        + ("  [red]engine-bound[/]" if result.engine_bound else "")
    )
    if result.target_rate:
        console.print(
            f"  asked {result.target_rate:,.1f}/s, sent {result.achieved_rate or 0:,.1f}/s, "
            f"served {result.rps:,.1f}/s"
            + (f" (+{result.drained:,} completed while draining)" if result.drained else "")
        )
    if result.overloaded:
        assert result.overload is not None
        console.print(f"  [magenta bold]overloaded[/]: {result.overload.get('reason')}")
    if result.requests > 0:
        console.print(_latency_table(result))
        if result.histogram:
            _print_spectrum(
                console, Histogram.from_pairs(result.histogram), result.latency_resolution_us
            )
    else:  # no latency was measured: never show zeros as if they were
        console.print("  [red]no successful response[/]: no latency measured")
    errors = {k: v for k, v in result.errors.items() if v}
    if errors:
        console.print("  errors: " + ", ".join(f"{k} {v:,}" for k, v in errors.items()))
    for note in result.notes:
        console.print(f"  [dim]note:[/] {note}")


def _latency_table(result: LoadResult) -> Table:
    table = Table(title="latency", title_justify="left", box=None, pad_edge=False)
    rows: list[tuple[str, dict[str, float]]] = [("round-trip", result.latency_us)]
    if result.schedule_lag_us:
        rows.append(("schedule lag", result.schedule_lag_us))
    if result.connect_us:
        rows.append(("connect", result.connect_us))
    keys = ["min", "mean", *[k for k, _ in PERCENTILES], "max"]
    table.add_column("", no_wrap=True)
    for key in keys:
        table.add_column(key, justify="right")
    for name, values in rows:
        resolution = result.latency_resolution_us if name == "round-trip" else 1.0
        table.add_row(name, *[fmt_us(values.get(k, 0.0), resolution) for k in keys])
    return table


def _print_spectrum(console: Console, hist: Histogram, resolution_us: float = 1.0) -> None:
    if hist.total == 0:
        return
    spectrum = hist.spectrum(SPECTRUM)
    top = max(v for _, v in spectrum) or 1.0
    console.print("  percentile spectrum:")
    for percent, value in spectrum:
        bar = "■" * max(1, round(_BAR_WIDTH * value / top))
        console.print(f"  {percent:>7g}%  {fmt_us(value, resolution_us):>10}  [cyan]{bar}[/]")
