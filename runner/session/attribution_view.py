"""The end-of-run lines on where the time went: worker balance and profiles (terminal).

Printed under the summary table by ``bench.runner.session.conduct`` from the same records the
dashboard shows (``bench.runner.results.attribution``): a table of each multi-worker cell's
CPU and request shares, busiest worker first, beside its p99 and the side channel's
loop lag and GC pauses; then one line per profiled cell with its top function, the
profiling overhead and the flamegraph's path, or why there is no profile.
"""

from __future__ import annotations

import pandas as pd
from rich.console import Console
from rich.table import Table

from bench.runner.results.attribution import cell_profiles, describe_shares, worker_balance
from bench.runner.results.formatting import format_latency


def _us(value: float | None) -> str:
    return format_latency(value) if value is not None else "–"


def render_attribution(console: Console, cells: pd.DataFrame) -> None:
    """Print the worker balance table and the profile lines (nothing when there are none)."""
    balance = [b for b in worker_balance(cells) if b.workers > 1]
    if balance:
        table = Table(title="worker balance (busiest worker first; even = 1/workers)")
        for name in ("server", "load", "CPU share", "request share", "p99", "loop lag p99", "GC"):
            table.add_column(name, justify="left" if name in ("server", "load") else "right")
        for b in balance:
            gc = f"{b.gc_pause_s * 1000:.1f} ms" if b.gc_pause_s is not None else "–"
            table.add_row(
                b.config,
                b.load,
                describe_shares(b.cpu_shares),
                describe_shares(b.request_shares),
                _us(b.p99_us),
                _us(b.lag_p99_us),
                gc,
            )
        console.print(table)
    for p in cell_profiles(cells):
        where = f"{p.config} · {p.load} r{p.repetition + 1}"
        if p.svg is None:
            console.print(f"[yellow]no profile[/] {where}: {p.note}")
            continue
        top = f"{p.top[0].function} {p.top[0].self_share:.0%}" if p.top else "no busy samples"
        cost = f", profiling cost {p.overhead:.1%} of req/s" if p.overhead is not None else ""
        if p.profiler_cores is not None:
            cost += f" (py-spy used {p.profiler_cores:.2f} cores)"
        console.print(f"profile {where}: top {top}{cost} — {p.svg}")
