"""Terminal output of `bench load --cluster`: the per-shard table under the merged result.

Rendering only: every number comes from the ``ClusterRun`` (its shards' own merges).
"""

from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.table import Table

_PIPE_WIDTH = 120


def shard_table(run: Any) -> Table:
    """One row per worker: host, processes, load given, requests, errors, CPU, status."""
    table = Table(
        title=f"shards ({run.address}, start skew {run.start_skew_s * 1000:.1f} ms)",
        title_justify="left",
        box=None,
        pad_edge=False,
    )
    for name, justify in (
        ("worker", "left"),
        ("host", "left"),
        ("processes", "right"),
        ("load", "right"),
        ("requests", "right"),
        ("req/s", "right"),
        ("errors", "right"),
        ("engine CPU", "right"),
        ("start", "right"),
        ("status", "left"),
    ):
        table.add_column(name, justify=justify, no_wrap=name != "status")  # type: ignore[arg-type]
    for s in run.shards:
        load = f"{s.rate:,.1f}/s" if s.rate is not None else f"{s.connections} conns"
        style = "red" if s.status.startswith("failed") else ("yellow" if s.status != "ok" else "")
        table.add_row(
            s.worker,
            s.host,
            str(s.processes),
            load,
            f"{s.requests:,}",
            f"{s.rps:,.1f}",
            f"{s.errors:,}",
            f"{s.engine_cpu:.0%}",
            f"+{s.start_offset_s * 1000:.1f} ms",
            f"[{style}]{s.status}[/]" if style else s.status,
        )
    return table


def print_shards(run: Any, console: Console | None = None) -> None:
    """Print the per-shard table (and the failure, if any)."""
    if console is None:
        console = Console()
        if not console.is_terminal:
            console = Console(width=_PIPE_WIDTH)
    console.print(shard_table(run))
    if run.failed:
        console.print(f"  [red bold]failed[/]: {run.failed}")
