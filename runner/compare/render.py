"""Verdicts as a terminal table (rich), markdown (CI summary, PR comment), JUnit XML, JSON.

Pure functions from (verdicts, summary, context) to text or a rich renderable; the
command writes the files. Every format says the same things: which way each metric went,
by how much, how sure (interval, p-value), the verdict, and the rule behind it.
"""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from rich import box
from rich.console import Group
from rich.table import Table
from rich.text import Text

from bench.runner.compare.decide import Outcome
from bench.runner.compare.formatting import (
    format_change,
    format_interval,
    format_p,
    format_threshold,
    format_value,
    metric_label,
)
from bench.runner.compare.judge import STATUS_METRIC, Summary, Verdict
from bench.runner.exit_codes import ExitCode
from bench.runner.scenario.gates import Gates

#: Markdown badge and rich style per outcome.
BADGES: dict[Outcome, str] = {
    Outcome.REGRESSED: "🔴 regressed",
    Outcome.IMPROVED: "🟢 improved",
    Outcome.UNCHANGED: "⚪ unchanged",
    Outcome.INCONCLUSIVE: "🟡 inconclusive",
}
STYLES: dict[Outcome, str] = {
    Outcome.REGRESSED: "bold red",
    Outcome.IMPROVED: "green",
    Outcome.UNCHANGED: "dim",
    Outcome.INCONCLUSIVE: "yellow",
}
#: Order in which the markdown summary lists what needs attention.
ATTENTION: tuple[Outcome, ...] = (Outcome.REGRESSED, Outcome.INCONCLUSIVE, Outcome.IMPROVED)


@dataclass(frozen=True)
class Context:
    """What was compared, for headers.

    Attributes:
        baseline, candidate: names (baseline name or run id) with a commit when known.
        scenario: the scenario's name.
        gates: the gates applied.
        notes: remarks about the comparison as a whole (scenario text differs, …).
    """

    baseline: str
    candidate: str
    scenario: str | None
    gates: Gates
    notes: tuple[str, ...] = field(default_factory=tuple)


def headline(summary: Summary) -> str:
    """``❌ 2 regressions`` / ``✅ no regression (1 inconclusive)`` / ``❔ inconclusive: …``."""
    c = summary.counts
    extra = []
    if c["inconclusive"]:
        extra.append(f"{c['inconclusive']} inconclusive")
    if c["improved"]:
        extra.append(f"{c['improved']} improved")
    tail = f" ({', '.join(extra)})" if extra else ""
    if c["regressed"]:
        plural = "s" if c["regressed"] > 1 else ""
        return f"❌ {c['regressed']} regression{plural}{tail}"
    if summary.exit_code == ExitCode.FAILED:
        return f"❌ inconclusive gates fail in strict mode{tail}"
    if not summary.decided:
        accepted = ", accepted by --allow-inconclusive" if summary.passed else ""
        return f"❔ inconclusive: no gate could decide{tail}{accepted}"
    return f"✅ no regression{tail}"


def rule_text(summary: Summary, gates: Gates) -> str:
    """The statistical rule and the false-alarm level, in one paragraph."""
    level = f"{(1 - 2 * gates.alpha) * 100:.0f}%"
    if gates.correction == "holm":
        family = (
            f"at α = {gates.alpha:g} after Holm's correction over the {summary.family} gates "
            f"that could be decided: when nothing changed, a false regression shows up in at "
            f"most {gates.alpha * 100:g}% of comparisons"
        )
    else:
        family = (
            f"at α = {gates.alpha:g} per gate (no correction): with {summary.family} gates, "
            f"up to {min(1.0, gates.alpha * summary.family) * 100:.3g}% of comparisons where "
            "nothing changed may show a false regression"
        )
    return (
        "A gate regresses when the median of the candidate's repetitions moved the wrong way "
        "by more than the threshold and a one-sided Mann-Whitney U test says so "
        f"{family}. Intervals are distribution-free {level} intervals of the change; fewer "
        f"than {gates.min_repetitions} repetitions, or too few to reach significance, give "
        "'inconclusive' with the number needed. Each figure here (p99 included) is the "
        "median of a side's per-repetition values; `bench run`'s summary shows p50/p99 from "
        "the histograms of all repetitions merged, so the two can differ."
    )


def verdict_row(v: Verdict, *, short: bool = False) -> list[str]:
    """The table cells of one verdict, in ``HEADERS`` order (``short``: terminal widths)."""
    if v.metric == STATUS_METRIC:
        return [v.cell, "status", "", "", "", "", "", BADGES[v.outcome], v.reason]
    return [
        v.cell,
        metric_label(v.metric),
        format_value(v.metric, v.baseline_median, short=short),
        format_value(v.metric, v.candidate_median, short=short),
        format_change(v.metric, v.change),
        format_interval(v.metric, v.lower, v.upper, short=short),
        format_p(v.p_value),
        BADGES[v.outcome],
        v.reason,
    ]


HEADERS = ["cell", "metric", "baseline", "candidate", "change", "interval", "p", "verdict", "why"]


def _md_escape(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _md_table(verdicts: Sequence[Verdict]) -> list[str]:
    lines = ["| " + " | ".join(HEADERS) + " |", "|" + "---|" * len(HEADERS)]
    for v in verdicts:
        lines.append("| " + " | ".join(_md_escape(x) for x in verdict_row(v)) + " |")
    return lines


def to_markdown(verdicts: Sequence[Verdict], summary: Summary, ctx: Context) -> str:
    """A GitHub-flavoured markdown report (job summary or pull-request comment)."""
    lines = [f"## bench compare: {headline(summary)}", ""]
    scenario = f" · scenario `{ctx.scenario}`" if ctx.scenario else ""
    lines += [f"Baseline **{ctx.baseline}** → candidate **{ctx.candidate}**{scenario}", ""]
    attention = [v for o in ATTENTION for v in verdicts if v.outcome == o]
    if attention:
        lines += [*_md_table(attention), ""]
    else:
        lines += [f"All {len(verdicts)} gates unchanged.", ""]
    thresholds = ", ".join(
        f"{m.label} {format_threshold(m.name, ctx.gates.threshold(m.name))}"
        for m in ctx.gates.enabled()
    )
    lines += [
        f"<details><summary>All {len(verdicts)} gates (thresholds: {thresholds})</summary>",
        "",
        *_md_table(verdicts),
        "",
        "</details>",
        "",
    ]
    notes = [*ctx.notes, *_cell_notes(verdicts)]
    if notes:
        lines += ["**Notes**", ""] + [f"- {_md_escape(n)}" for n in notes] + [""]
    lines += [f"<sub>{rule_text(summary, ctx.gates)}</sub>", ""]
    return "\n".join(lines)


def _cell_notes(verdicts: Sequence[Verdict]) -> list[str]:
    seen: dict[str, None] = {}
    for v in verdicts:
        for note in v.notes:
            seen.setdefault(f"{v.cell}: {note}", None)
    return list(seen)


def to_rich(verdicts: Sequence[Verdict], summary: Summary, ctx: Context) -> Any:
    """A rich renderable: a small table per cell, the reasons of what needs attention,
    the headline, the notes and the rule (narrow enough for an 80-column CI log)."""
    title = f"bench compare: {ctx.baseline} → {ctx.candidate}"
    if ctx.scenario:
        title += f" · {ctx.scenario}"
    parts: list[Any] = [Text(title, style="bold")]
    by_cell: dict[str, list[Verdict]] = {}
    for v in verdicts:
        by_cell.setdefault(v.cell_id, []).append(v)
    for group in by_cell.values():
        table = Table(
            title=group[0].cell, title_justify="left", box=box.SIMPLE_HEAD, padding=(0, 1)
        )
        for name in HEADERS[1:8]:
            table.add_column(
                name,
                no_wrap=name != "interval",  # the interval wraps before anything is cut
                overflow="fold",
                justify="left" if name == "metric" else "right",
            )
        for v in group:
            row = verdict_row(v, short=True)
            table.add_row(*row[1:7], Text(str(v.outcome), style=STYLES[v.outcome]))
        parts.append(table)
    for v in verdicts:
        if v.outcome != Outcome.UNCHANGED:
            label = f"{v.cell} · {metric_label(v.metric)}"
            parts.append(Text(f"{v.outcome}: {label}: {v.reason}", style=STYLES[v.outcome]))
    for note in [*ctx.notes, *_cell_notes(verdicts)]:
        parts.append(Text(f"note: {note}", style="yellow"))
    parts.append(Text(headline(summary), style="bold"))
    parts.append(Text(rule_text(summary, ctx.gates), style="dim"))
    return Group(*parts)


def to_junit(verdicts: Sequence[Verdict], summary: Summary, ctx: Context) -> str:
    """JUnit XML: one testcase per gate; regressed = failure, inconclusive = skipped."""
    suite_name = f"bench compare {ctx.scenario or ''}".strip()
    failures = summary.counts["regressed"]
    skipped = summary.counts["inconclusive"]
    root = ET.Element(
        "testsuites", name=suite_name, tests=str(len(verdicts)), failures=str(failures)
    )
    suite = ET.SubElement(
        root,
        "testsuite",
        name=suite_name,
        tests=str(len(verdicts)),
        failures=str(failures),
        skipped=str(skipped),
        errors="0",
    )
    props = ET.SubElement(suite, "properties")
    for key, value in (("baseline", ctx.baseline), ("candidate", ctx.candidate)):
        ET.SubElement(props, "property", name=key, value=value)
    ET.SubElement(props, "property", name="alpha", value=f"{ctx.gates.alpha:g}")
    for v in verdicts:
        case = ET.SubElement(
            suite,
            "testcase",
            classname=f"bench.{ctx.scenario or 'compare'}.{v.cell}",
            name=metric_label(v.metric),
        )
        text = " | ".join(x for x in verdict_row(v)[2:7] if x)
        details = f"{v.cell} {metric_label(v.metric)}: {v.reason}" + (f"\n{text}" if text else "")
        if v.outcome == Outcome.REGRESSED:
            failure = ET.SubElement(case, "failure", message=v.reason, type="regression")
            failure.text = details
            continue
        if v.outcome == Outcome.INCONCLUSIVE:
            ET.SubElement(case, "skipped", message=f"inconclusive: {v.reason}")
        ET.SubElement(case, "system-out").text = details
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"


def to_json(verdicts: Sequence[Verdict], summary: Summary, ctx: Context) -> str:
    """Everything, machine-readable."""
    data = {
        "passed": summary.passed,
        "exit_code": summary.exit_code,
        "headline": headline(summary),
        "baseline": ctx.baseline,
        "candidate": ctx.candidate,
        "scenario": ctx.scenario,
        "gates": ctx.gates.model_dump(),
        "summary": {
            "counts": summary.counts,
            "gates": summary.gates,
            "family": summary.family,
            "alpha": summary.alpha,
            "correction": summary.correction,
        },
        "notes": list(ctx.notes),
        "verdicts": [v.to_dict() for v in verdicts],
    }
    return json.dumps(data, indent=2, ensure_ascii=False) + "\n"
