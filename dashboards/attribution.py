"""The report's "where the time goes" sections: worker balance and profiles (HTML tables).

How this works: ``attribution_html(view)`` renders the records of
``bench.runner.results.attribution``: a worker balance table (each worker's CPU and request
share, busiest first, bar-shaded against the even share, beside the cell's p99 and the
side channel's event-loop lag and GC pauses), and for each profiled cell a link to its
flamegraph SVG and speedscope file (relative to the page: the run folder itself when the
report is written there, as by default), the profiling overhead and the top functions by self share. Cells
that asked for a profile and got none show the one-line reason. Every string from the
run is escaped. Nothing is rendered when the run has neither.
"""

from __future__ import annotations

from html import escape

from bench.dashboards.run import RunView
from bench.runner.results.attribution import Balance, CellProfile, cell_profiles, worker_balance
from bench.runner.results.formatting import format_latency, format_rate

#: Top functions listed per profiled cell.
TOP_SHOWN = 8

CSS = """
table.attribution { border-collapse: collapse; font-size: 13px; margin: 4px 0 12px; }
table.attribution th, table.attribution td { padding: 2px 10px 2px 0; text-align: right; }
table.attribution th:first-child, table.attribution td.fn, table.attribution td.cfg { text-align: left; }
td.fn { font-family: ui-monospace, monospace; }
span.share { display: inline-block; min-width: 3.2em; padding: 0 3px; border-radius: 3px; }
span.share.hot { background: rgba(220, 80, 40, 0.25); }
.profile h3 { font-size: 15px; margin: 14px 0 2px; }
"""


def _us(value: float | None) -> str:
    return format_latency(value) if value is not None else "–"


def _shares(shares: list[float], even: float) -> str:
    if not shares:
        return "–"
    spans = (
        f'<span class="share{" hot" if s > even * 1.2 else ""}">{s:.0%}</span>' for s in shares
    )
    return " ".join(spans)


def _balance_row(b: Balance) -> str:
    gc = "–"
    if b.gc_pause_s is not None:
        gc = f"{b.gc_pause_s * 1000:.1f} ms (max {_us(b.gc_pause_max_us)})"
    lag = "–" if b.lag_p99_us is None else f"{_us(b.lag_p99_us)} (max {_us(b.lag_max_us)})"
    cells = [
        f'<td class="cfg">{escape(b.config)}</td>',
        f"<td>{escape(b.load)}</td>",
        f"<td>{_shares(b.cpu_shares, b.even_share)}</td>",
        f"<td>{_shares(b.request_shares, b.even_share)}</td>",
        f"<td>{escape(_us(b.p99_us))}</td>",
        f"<td>{escape(lag)}</td>",
        f"<td>{escape(gc)}</td>",
    ]
    return "<tr>" + "".join(cells) + "</tr>"


def balance_html(balance: list[Balance]) -> str:
    """The worker balance section ('' without multi-worker cells)."""
    rows = [b for b in balance if b.workers > 1]
    if not rows:
        return ""
    head = "".join(
        f"<th>{h}</th>"
        for h in ("server", "load", "CPU share", "request share", "p99", "loop lag p99", "GC")
    )
    body = "".join(_balance_row(b) for b in rows)
    return (
        '<section class="card" id="workers"><h2>Worker balance</h2>\n'
        "<p class=\"explains\">Each worker's share of the workers' CPU and of the requests "
        "in the measured window, busiest first (averaged over repetitions); an even spread "
        "is 1/workers each, shaded shares are 20 % over it. Request shares, event-loop lag "
        "(ASGI workers: how late a 50 ms timer fired) and GC pauses come from the bundled "
        "servers' side channel; peer servers show CPU only. A busiest worker far over its "
        "share often explains a high p99: its queue is the long one.</p>\n"
        f'<div class="table-wrap"><table class="attribution"><thead><tr>{head}</tr></thead>'
        f"<tbody>{body}</tbody></table></div></section>"
    )


def _href(files: str, relative: str) -> str:
    return relative if files in ("", ".") else f"{files.rstrip('/')}/{relative}"


def _profile_block(p: CellProfile, files: str = ".") -> str:
    title = escape(f"{p.config} · {p.load} · repetition {p.repetition + 1}")
    if p.svg is None:
        return (
            f'<div class="profile"><h3>{title}</h3><p>no profile: {escape(p.note or "")}</p></div>'
        )
    links = f'<a href="{escape(_href(files, p.svg))}">flamegraph (SVG)</a>'
    if p.speedscope:
        links += f' · <a href="{escape(_href(files, p.speedscope))}">speedscope JSON</a>'
    cost = ""
    if p.overhead is not None and p.rps is not None and p.profile_rps is not None:
        cost = (
            f" Profiling cost {p.overhead:.1%} of throughput ({format_rate(p.rps)} clean, "
            f"{format_rate(p.profile_rps)} profiled)."
        )
    samples = f" {p.samples} samples." if p.samples else ""
    if p.profiler_cores is not None:
        cost += f" py-spy itself used {p.profiler_cores:.2f} cores while it recorded."
    rows = "".join(
        f'<tr><td class="fn">{escape(s.function)}</td><td>{s.self_share:.1%}</td>'
        f"<td>{s.total_share:.1%}</td></tr>"
        for s in p.top[:TOP_SHOWN]
    )
    table = (
        '<table class="attribution"><thead><tr><th>function</th><th>self</th>'
        f"<th>total</th></tr></thead><tbody>{rows}</tbody></table>"
        if rows
        else "<p>no busy samples</p>"
    )
    return (
        f'<div class="profile" id="profile-{escape(p.cell_id)}-r{p.repetition}"><h3>{title}</h3>'
        f"<p>{links}.{escape(samples + cost)}</p>{table}</div>"
    )


def profiles_html(profiles: list[CellProfile], files: str = ".") -> str:
    """The profiles section ('' when no cell asked for a profile); links under ``files``."""
    if not profiles:
        return ""
    blocks = "\n".join(_profile_block(p, files) for p in profiles)
    costs = sorted(p.overhead for p in profiles if p.overhead is not None)
    median = ""
    if costs:
        mid = len(costs) // 2
        value = costs[mid] if len(costs) % 2 else (costs[mid - 1] + costs[mid]) / 2
        median = (
            f" Median profiling overhead over {len(costs)} profiled window(s): {value:.1%} "
            "of throughput (one window each, so a single cell's figure is noisy)."
        )
    return (
        '<section class="card" id="profiles"><h2>Where the time goes: profiles</h2>\n'
        '<p class="explains">A py-spy sampling profile of the server\'s whole process tree '
        "during a second window of the same cell, right after the clean window the other "
        "figures show. <em>self</em>: share of busy samples in the function itself; "
        "<em>total</em>: with what it called. Open the flamegraph for the whole picture, or "
        f"load the speedscope file in speedscope.{escape(median)}</p>\n"
        f"{blocks}</section>"
    )


def attribution_html(view: RunView, files: str = ".") -> str:
    """Both sections for the report page ('' when the run has neither).

    ``files``: the run folder relative to the page, for the links to profile files.
    """
    profiles = profiles_html(cell_profiles(view.cells), files)
    return balance_html(worker_balance(view.cells)) + profiles


def toc_links(view: RunView) -> list[tuple[str, str]]:
    """(anchor, title) of the sections ``attribution_html`` renders, for the page's menu."""
    links: list[tuple[str, str]] = []
    if any(b.workers > 1 for b in worker_balance(view.cells)):
        links.append(("workers", "Worker balance"))
    if cell_profiles(view.cells):
        links.append(("profiles", "Profiles"))
    return links
