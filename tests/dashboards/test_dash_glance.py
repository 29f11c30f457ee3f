"""Reports that read at a glance: skipped vs failed wording, no emoji, USL refusals once."""

from __future__ import annotations

import re
from pathlib import Path

import dash_synth

from bench.dashboards.panels import unusable_note
from bench.dashboards.plan.markdown import render_markdown
from bench.dashboards.plan.page import render_html
from bench.dashboards.plan.tables import fits_table, plan_limits
from bench.dashboards.report import build_report
from bench.dashboards.theme import TEXT_SYMBOLS, plain_symbols
from bench.runner.plan.analysis import build_plan
from bench.runner.results.slo import Slo

#: Characters drawn from a colour-emoji font (absent in a headless CI browser).
EMOJI = re.compile("[\U0001f000-\U0001faff\u274c\u2705\u2754\u26aa\ufe0f]")


def _without_plotly_js(page: str) -> str:
    head, _, rest = page.partition('<script type="text/javascript">')
    return head + rest.partition("</script>")[2]


def test_skipped_cells_are_not_called_failed() -> None:
    assert unusable_note(0, 2) == " ✕ marks 2 skipped cell(s); hover for the reason."
    assert "failed" not in unusable_note(0, 2)
    assert (
        unusable_note(1, 2)
        == " ✕ marks 1 failed cell(s) and 2 skipped cell(s); hover for the reason."
    )
    assert unusable_note(0, 0) == ""


def test_plain_symbols_replace_every_emoji() -> None:
    assert (
        plain_symbols("❌ 2 regressions · 🔴 regressed · ✅ ok")
        == "✗ 2 regressions · ✗ regressed · ✓ ok"
    )
    assert not any(EMOJI.search(v) for v in TEXT_SYMBOLS.values())


def test_no_emoji_in_the_report_or_the_plan(io_run: Path, tmp_path: Path) -> None:
    report = build_report(io_run, tmp_path / "report.html").read_text(encoding="utf-8")
    assert not EMOJI.findall(_without_plotly_js(report))
    plan = build_plan(io_run, Slo({"p99": 100_000.0}, 0.01))
    assert not EMOJI.findall(_without_plotly_js(render_html(plan)))


def test_usl_refusal_is_said_once_for_all_its_families(tmp_path: Path) -> None:
    run = dash_synth.write_run(tmp_path / "run", dash_synth.IO_SCENARIO)
    plan = build_plan(run, Slo({"p99": 100_000.0}, 0.01))
    reason = "only 3 distinct concurrency values; the fit needs at least 4"
    refused = [f.family for f in plan.fits if f.fit is None and reason in f.refusals]
    assert len(refused) >= 2
    _, rows = fits_table(plan)
    assert sum(reason in row[-1] for row in rows) == 1
    assert [row[0] for row in rows if reason in row[-1]] == [", ".join(refused)]
    lines = [text for kind, text in plan_limits(plan) if reason in text]
    assert lines == [f"over concurrency, {', '.join(refused)}: {reason}"]
    assert render_html(plan).count(reason) == 2  # the table's row and the limits' line
    assert render_markdown(plan).count(reason) == 2
