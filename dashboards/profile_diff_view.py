"""The comparison page's differential profile section (HTML), from ``bench.runner.compare.profile_diff``.

One table per cell profiled on both sides — regressed cells first — listing the
functions whose self share grew the most (shaded warm) and shrank the most (cool), with
both shares and the change in percentage points. Every string is escaped.
"""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

from bench.runner.compare.profile_diff import CellDiff, FunctionDelta

DIFF_CSS = """
table.profile-diff { border-collapse: collapse; font-size: 13px; margin: 4px 0 14px; }
table.profile-diff th, table.profile-diff td { padding: 2px 10px 2px 0; text-align: right; }
table.profile-diff td.fn, table.profile-diff th:first-child { text-align: left; font-family: ui-monospace, monospace; }
tr.grew td.change { color: #c0392b; }
tr.shrank td.change { color: #2471a3; }
"""


def _row(f: FunctionDelta, kind: str) -> str:
    return (
        f'<tr class="{kind}"><td class="fn">{escape(f.function)}</td>'
        f"<td>{f.baseline:.1%}</td><td>{f.candidate:.1%}</td>"
        f'<td class="change">{f.delta * 100:+.1f} pp</td></tr>'
    )


def _cell(d: CellDiff) -> str:
    rows = [_row(f, "grew") for f in d.grew] + [_row(f, "shrank") for f in d.shrank]
    body = "".join(rows) or '<tr><td class="fn" colspan="4">no function moved by 0.5 pp</td></tr>'
    notes = "".join(f"<li>{escape(n)}</li>" for n in d.notes)
    mark = " — regressed" if d.regressed else ""
    return (
        f"<h3>{escape(d.cell + mark)}</h3>"
        '<table class="profile-diff"><thead><tr><th>function</th><th>baseline</th>'
        f"<th>candidate</th><th>change</th></tr></thead><tbody>{body}</tbody></table>"
        + (f"<ul>{notes}</ul>" if notes else "")
    )


def diff_html(diffs: Sequence[CellDiff]) -> str:
    """The section ('' when no cell was profiled on both sides)."""
    if not diffs:
        return ""
    cells = "\n".join(_cell(d) for d in diffs)
    return (
        '<section class="card" id="profile-diff"><h2>Where the time went: differential profile</h2>'
        '<p class="explains">Self share of the server\'s busy samples (py-spy), baseline → '
        "candidate, for every cell profiled on both sides; the functions that grew the most "
        "and shrank the most, in percentage points. A slower function grows; the rest "
        f"shrink to make room.</p>\n{cells}</section>"
    )
