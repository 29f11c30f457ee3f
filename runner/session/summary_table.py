"""The end-of-run summary as a rich table that fits 100 columns.

How this works
--------------
One section per server configuration: its label on a row of its own (never wrapped,
the longest label sets the first column's width), then one row per load point, indented,
with the numbers. So the label does not share a line with eleven numeric columns, and a
27-character label (``uvicorn w1 uvloop httptools``) still leaves room for the rest.

Columns that would say the same on every row are left out and said once in the caption:
``reps`` when every cell ran as many repetitions, the repetitions' spread when there was
one repetition, ``SLO`` when the scenario has none. The spread is ``±`` half the min–max
range as a share of the median (the report keeps the min–max itself). The status column
is the only one that wraps: an engine-bound cell says ``engine-bound`` (the caption
explains), a failed cell keeps its reason.

``summary_table`` is pure (rows in, ``Table`` out); ``progress.render_summary`` prints it.
"""

from __future__ import annotations

from typing import Any

from rich import box
from rich.markup import escape
from rich.table import Table

from bench.runner.results.formatting import format_latency

#: Rich styles of the status column by status kind ("": the terminal's default).
SUMMARY_STYLE: dict[str, str] = {
    "ok": "",
    "engine-bound": "yellow",
    "overloaded": "magenta",
    "failed": "red",
    "skipped": "red",
}

#: The status column is never narrower than "engine-bound".
STATUS_MIN_WIDTH = 12
#: Indent of a load row under its configuration's label.
INDENT = "  "


def spread_text(row: dict[str, Any]) -> str:
    """``±4%``: half the repetitions' min–max range as a share of the median, or ``""``."""
    rps, low, high = row.get("rps_median"), row.get("rps_min"), row.get("rps_max")
    if rps is None or low is None or high is None or rps <= 0 or row.get("reps_ok", 0) < 2:
        return ""
    return f"±{(high - low) / 2 / rps:.0%}"


def short_status(row: dict[str, Any]) -> str:
    """The status column: ``engine-bound`` without its explanation (in the caption), any
    note about failed repetitions kept; every other status as it is."""
    status = str(row["status"])
    prefix = "engine-bound: "
    if row.get("status_kind") == "engine-bound" and status.startswith(prefix):
        note = status.split(prefix, 1)[1].removeprefix("the load generator was the bottleneck")
        return "engine-bound" + note
    return status


def _caption(rows: list[dict[str, Any]], *, reps: int | None, spread: bool) -> str:
    parts = ["req/s: completed responses per second of window (median of repetitions)"]
    if spread:
        parts.append("±: half the repetitions' min–max range")
    parts.append("p50, p99: from the histograms of all repetitions merged")
    if reps is not None:
        parts.append(f"{reps} repetition{'s' if reps != 1 else ''} per cell")
    if any(row.get("status_kind") == "engine-bound" for row in rows):
        parts.append("engine-bound: the load generator was the limit, the numbers a lower bound")
    return "; ".join(parts)


def summary_table(rows: list[dict[str, Any]], title: str) -> Table:
    """The summary table of ``rows`` (from ``bench.runner.session.summary.summarize``)."""
    with_slo = any(row.get("slo") for row in rows)
    counts = {int(row["reps"]) for row in rows}
    uniform_reps = counts.pop() if len(counts) == 1 else None
    with_spread = any(spread_text(row) for row in rows)
    table = Table(
        title=title,
        title_justify="left",
        header_style="bold",
        box=box.SIMPLE_HEAD,
        caption=_caption(rows, reps=uniform_reps, spread=with_spread),
        caption_justify="left",
        padding=0,  # the box's blank column separator is the one space between columns
        pad_edge=False,
    )
    table.add_column("server · load", no_wrap=True)
    if uniform_reps is None:
        table.add_column("reps", justify="right", no_wrap=True)
    table.add_column("req/s", justify="right", no_wrap=True)
    if with_spread:
        table.add_column("±", justify="right", no_wrap=True)
    for name in ("p50", "p99", "errors", "CPU", "CPU/req"):
        table.add_column(name, justify="right", no_wrap=True)
    if with_slo:
        table.add_column("SLO", no_wrap=True)
    table.add_column("status", overflow="fold", min_width=STATUS_MIN_WIDTH)
    width = len(table.columns)
    for label, group in by_configuration(rows).items():
        table.add_row(f"[bold]{escape(label)}[/]", *[""] * (width - 1))
        for row in group:
            table.add_row(*_cells(row, uniform_reps is None, with_spread, with_slo))
    return table


def by_configuration(rows: list[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    """Rows grouped by configuration label, in order of first appearance (the matrix's
    order), each group's rows in their own order (its load points)."""
    groups: dict[str, list[dict[str, Any]]] = {}
    for row in rows:
        groups.setdefault(str(row["label"]), []).append(row)
    return groups


def _cells(row: dict[str, Any], reps: bool, spread: bool, slo: bool) -> list[str]:
    """The cells of one load row, in the table's column order."""
    status = escape(short_status(row))
    style = SUMMARY_STYLE.get(row.get("status_kind", ""), "red")
    if style == "" and row["status"] != "ok":
        style = "yellow"  # usable, with failed repetitions named in the text
    rps = row.get("rps_median")
    cpu = row.get("server_cpu_util")
    resolution = row.get("latency_resolution_us")
    cells = [INDENT + escape(str(row["load"]))]
    if reps:
        cells.append(str(row["reps"]))
    cells.append("–" if rps is None else f"{rps:,.0f}")
    if spread:
        cells.append(spread_text(row))
    cells += [
        format_latency(row.get("p50_us"), resolution),
        format_latency(row.get("p99_us"), resolution),
        str(row.get("errors", 0)),
        "–" if cpu is None else f"{cpu:.0%}",
        format_latency(row.get("cpu_per_request_us")),
    ]
    if slo:
        cells.append(
            {"pass": "[green]pass[/]", "fail": "[red]fail[/]"}.get(row.get("slo", ""), "–")
        )
    cells.append(f"[{style}]{status}[/]" if style else status)
    return cells
