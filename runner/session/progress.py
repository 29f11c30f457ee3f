"""What a person sees while ``bench run`` works: a rich progress bar, a line per cell, a summary.

``RunView`` is the small interface the runner talks to; ``RichView`` draws it with rich
(a live bar on a terminal; on a pipe or in CI, rich prints the per-cell lines only).
``render_summary`` prints the end-of-run table built by ``bench.runner.session.summary``.
"""

from __future__ import annotations

import time
from typing import Any, Protocol

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, SpinnerColumn, TextColumn

from bench.runner.matrix.cells import Cell
from bench.runner.results.formatting import format_latency
from bench.runner.results.labels import load_label
from bench.runner.results.status import status_kind
from bench.runner.session.summary_table import summary_table
from bench.runner.units import format_duration


class RunView(Protocol):
    """Callbacks from the runner (all optional to draw)."""

    def run_started(self, total: int, estimate_s: float) -> None:
        """The run starts with ``total`` cell repetitions, expected to take ``estimate_s``."""

    def cell_started(self, n: int, cell: Cell, repetition: int, repeat: int) -> None:
        """Cell repetition ``n`` (1-based) starts."""

    def phase(self, text: str) -> None:
        """The current cell entered a phase (starting server, primer, warm-up, measuring)."""

    def engine_progress(self, data: dict[str, Any]) -> None:
        """The engine's once-a-second progress dict."""

    def cell_finished(self, row: dict[str, Any], remaining_s: float) -> None:
        """A cell repetition has a row; about ``remaining_s`` seconds are left."""

    def message(self, text: str) -> None:
        """A line for the user (notes, warnings)."""

    def close(self) -> None:
        """The run is over; stop drawing."""


def cell_line(row: dict[str, Any]) -> str:
    """One line for a finished cell repetition (rich markup)."""
    status = str(row.get("status", ""))
    what = f"{row.get('label')} · {_load_text(row)} r{int(row.get('repetition', 0)) + 1}"
    if status.startswith(("failed", "skipped")):
        colour = "red" if status.startswith("failed") else "yellow"
        return f"[{colour}]✗[/] {what}: [{colour}]{status}[/]"
    kind = status_kind(status)
    mark = {"engine-bound": "[yellow]≈[/]", "overloaded": "[magenta]▲[/]"}.get(kind, "[green]✓[/]")
    errors = int(row.get("errors") or 0)
    extra = f", {errors} errors" if errors else ""
    if kind == "engine-bound":
        extra += " [yellow](engine-bound: a lower bound)[/]"
    elif kind == "overloaded":
        extra += f" [magenta]({status})[/]"
    resolution = row.get("latency_resolution_us")
    return (
        f"{mark} {what}: {float(row.get('rps') or 0):,.0f} req/s, "
        f"p50 {format_latency(row.get('p50_us'), resolution)}, "
        f"p99 {format_latency(row.get('p99_us'), resolution)}{extra}"
    )


def _load_text(row: dict[str, Any]) -> str:
    if row.get("mode") == "search" or (
        row.get("concurrency") is None and row.get("target_rate") is None
    ):
        return "search"
    return load_label(row)


class RichView:
    """Draws the run with rich."""

    def __init__(self, console: Console | None = None) -> None:
        self.console = console or Console(stderr=True)
        self.progress = Progress(
            SpinnerColumn(),
            TextColumn("{task.description}"),
            BarColumn(bar_width=24),
            MofNCompleteColumn(),
            TextColumn("{task.fields[rps]}"),
            TextColumn("[dim]{task.fields[left]}[/]"),
            console=self.console,
            transient=True,
        )
        self.task: Any = None
        self._deadline = 0.0
        self._label = ""

    def run_started(self, total: int, estimate_s: float) -> None:
        """Show the bar."""
        self.progress.start()
        self._deadline = time.monotonic() + estimate_s
        self.task = self.progress.add_task("starting", total=total, rps="", left="")
        self._refresh_left()

    def _refresh_left(self) -> None:
        left = max(0.0, self._deadline - time.monotonic())
        self.progress.update(self.task, left=f"~{format_duration(left)} left")

    def cell_started(self, n: int, cell: Cell, repetition: int, repeat: int) -> None:
        """Name the cell in the bar."""
        rep = f" rep {repetition + 1}/{repeat}" if repeat > 1 else ""
        self._label = f"{cell.describe()}{rep}"
        self.progress.update(self.task, description=self._label, rps="")

    def phase(self, text: str) -> None:
        """Show the phase next to the cell."""
        self.progress.update(self.task, description=f"{self._label} [dim]{text}[/]")
        self._refresh_left()

    def engine_progress(self, data: dict[str, Any]) -> None:
        """Live req/s."""
        rps = float(data.get("rps") or 0.0)
        phase = str(data.get("phase", ""))
        text = f"{rps:,.0f} req/s" if rps else ""
        label = {"warmup": "warm-up", "measure": "measuring", "drain": "draining"}.get(phase, phase)
        self.progress.update(self.task, description=f"{self._label} [dim]{label}[/]", rps=text)
        self._refresh_left()

    def cell_finished(self, row: dict[str, Any], remaining_s: float) -> None:
        """Print the cell's line above the bar and advance it."""
        self.progress.console.print(cell_line(row), highlight=False)
        self._deadline = time.monotonic() + remaining_s
        self.progress.advance(self.task)
        self._refresh_left()

    def message(self, text: str) -> None:
        """Print a line above the bar."""
        self.progress.console.print(text, highlight=False)

    def close(self) -> None:
        """Remove the bar."""
        self.progress.stop()


def make_console() -> Console:
    """The console for ``bench run``: the terminal's width, or 120 columns on a pipe."""
    console = Console(highlight=False)
    if not console.is_terminal:
        console = Console(highlight=False, width=120)
    return console


def render_summary(console: Console, rows: list[dict[str, Any]], title: str) -> None:
    """Print the summary table (rows from ``bench.runner.session.summary.summarize``), laid out
    by ``bench.runner.session.summary_table`` to fit 100 columns."""
    console.print(summary_table(rows, title))
