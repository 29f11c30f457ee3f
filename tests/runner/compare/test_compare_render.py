"""Reports of a comparison: markdown, JUnit XML, JSON and the terminal table agree."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET

import pytest
from compare_testkit import REPS, CellSpec, rows
from rich.console import Console

from bench.runner.compare import judge, summarize
from bench.runner.compare.judge import Summary, Verdict
from bench.runner.compare.render import (
    Context,
    headline,
    to_json,
    to_junit,
    to_markdown,
    to_rich,
    verdict_row,
)
from bench.runner.scenario.gates import Gates


@pytest.fixture(scope="module")
def regression() -> tuple[list[Verdict], Summary, Context]:
    cells = (CellSpec("c1", "prefork sync w1"), CellSpec("c2", "odd | label <b>x</b>"))
    failed = {("c2", r): "failed: boom" for r in range(REPS)}
    verdicts = judge(
        rows(seed=1, cells=cells), rows(seed=2, cells=cells, slowdown=0.2, status=failed), Gates()
    )
    gates = Gates()
    ctx = Context("main (0123456)", "pr-42 (89abcde)", "quick", gates, ("a note",))
    return verdicts, summarize(verdicts, gates), ctx


def test_compare_markdown_lists_regressions_first_and_explains_the_rule(
    regression: tuple[list[Verdict], Summary, Context],
) -> None:
    verdicts, summary, ctx = regression
    text = to_markdown(verdicts, summary, ctx)
    assert text.startswith("## bench compare: ❌ 5 regressions")
    assert "Baseline **main (0123456)** → candidate **pr-42 (89abcde)**" in text
    top = text.split("<details>")[0]
    assert top.count("🔴 regressed") == 5  # 4 metrics of c1 + the failed cell c2
    assert "odd \\| label" in text  # pipes escaped: the table keeps its columns
    assert "every candidate repetition failed: boom" in text
    assert "- a note" in text
    assert "at most 0.8% of comparisons" in text
    assert "p99 ±5%" in text and "error rate ±0.1 pp" in text
    for line in text.splitlines():
        if line.startswith("| prefork"):
            assert line.count(" | ") == 8  # 9 columns


def test_compare_junit_one_testcase_per_gate(
    regression: tuple[list[Verdict], Summary, Context],
) -> None:
    verdicts, summary, ctx = regression
    root = ET.fromstring(to_junit(verdicts, summary, ctx))
    suite = root.find("testsuite")
    assert suite is not None
    cases = suite.findall("testcase")
    assert len(cases) == len(verdicts)
    failures = [c for c in cases if c.find("failure") is not None]
    assert len(failures) == summary.counts["regressed"] == int(suite.get("failures", "-1"))
    names = {(c.get("classname"), c.get("name")) for c in failures}
    assert ("bench.quick.prefork sync w1 · c=32", "p99") in names
    assert all(c.find("skipped") is None for c in failures)


def test_compare_json_round_trips(regression: tuple[list[Verdict], Summary, Context]) -> None:
    verdicts, summary, ctx = regression
    data = json.loads(to_json(verdicts, summary, ctx))
    assert data["passed"] is False and data["exit_code"] == 1
    assert data["summary"]["counts"]["regressed"] == 5
    assert data["gates"]["alpha"] == 0.008
    first = data["verdicts"][0]
    assert first["outcome"] == "regressed" and first["metric"] == "rps"
    assert first["change"] < 0 and first["lower"] <= first["change"] <= first["upper"]


def test_compare_rich_table_fits_a_ci_log(
    regression: tuple[list[Verdict], Summary, Context],
) -> None:
    verdicts, summary, ctx = regression
    console = Console(record=True, width=80, color_system=None)
    console.print(to_rich(verdicts, summary, ctx))
    text = console.export_text()
    flat = " ".join(text.split())
    for v in verdicts:  # nothing truncated at 80 columns (the interval may wrap)
        row = verdict_row(v, short=True)
        line = next(
            (ln for ln in text.splitlines() if f" {row[1]} " in f" {ln} " and row[2] in ln), ""
        )
        assert all(cell in line for cell in (*row[2:5], row[6])), (row, line)
        assert all(part in flat for part in row[5].split()), row
    assert "regressed: prefork sync w1 · c=32 · p99: rose" in flat
    assert headline(summary) in text


def test_compare_headline_pass_and_strict() -> None:
    verdicts = judge(rows(seed=3, reps=3), rows(seed=4, reps=3, slowdown=0.3), Gates())
    assert headline(summarize(verdicts, Gates())).startswith("✅ no regression (")
    assert headline(summarize(verdicts, Gates(), strict=True)).startswith("❌ inconclusive")
