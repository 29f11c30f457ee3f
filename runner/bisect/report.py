"""The report of ``bench bisect``: the first bad commit and the evidence table per step."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from bench.runner.bisect.session import Report


def conclusion(report: Report) -> str:
    """One line: what the bisect found."""
    if report.first_bad is not None:
        c = report.first_bad
        return f"first bad commit: {c.short} {c.subject}"
    if report.candidates:
        names = ", ".join(c.short for c in report.candidates)
        return f"the first bad commit is one of {names} (skipped commits hide it)"
    return (
        f"BAD {report.bad.short} does not regress against GOOD {report.good.short}: nothing to find"
    )


def _link(run_dir: Path | None, base: Path) -> str:
    if run_dir is None:
        return "—"
    page = run_dir / "report.html"
    target = page if page.exists() else run_dir
    return f"[{run_dir.name}]({os.path.relpath(target, base)})"


def to_markdown(report: Report, base: Path) -> str:
    """The conclusion, then one row per step with a link to its run (relative to ``base``)."""
    lines = [
        f"## bench bisect: {conclusion(report)}",
        "",
        f"GOOD {report.good.short} → BAD {report.bad.short}: {len(report.commits)} commits, "
        f"{len(report.steps)} steps",
        "",
        "| step | commit | subject | attempt | verdict | evidence | run | GOOD run |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for s in report.steps:
        subject = s.commit.subject.replace("|", "\\|")
        evidence = s.evidence.replace("|", "\\|")
        lines.append(
            f"| {s.number} | `{s.commit.short}` | {subject} | {s.attempt} | {s.mark} | "
            f"{evidence} | {_link(s.run_dir, base)} | {_link(s.baseline, base)} |"
        )
    return "\n".join(lines) + "\n"


def to_dict(report: Report) -> dict[str, Any]:
    """JSON-ready form (``bisect.json``)."""

    def commit(c: Any) -> dict[str, str] | None:
        return None if c is None else {"sha": c.sha, "short": c.short, "subject": c.subject}

    return {
        "good": commit(report.good),
        "bad": commit(report.bad),
        "first_bad": commit(report.first_bad),
        "candidates": [commit(c) for c in report.candidates],
        "conclusion": conclusion(report),
        "steps": [
            {
                "step": s.number,
                "commit": commit(s.commit),
                "attempt": s.attempt,
                "mark": s.mark,
                "evidence": s.evidence,
                "run": str(s.run_dir) if s.run_dir else None,
                "baseline": str(s.baseline) if s.baseline else None,
            }
            for s in report.steps
        ],
    }


def write(report: Report, out: Path) -> tuple[Path, Path]:
    """``bisect.md`` and ``bisect.json`` in ``out``."""
    md, js = out / "bisect.md", out / "bisect.json"
    md.write_text(to_markdown(report, out))
    js.write_text(json.dumps(to_dict(report), indent=2) + "\n")
    return md, js
