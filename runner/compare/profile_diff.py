"""The differential profile of a comparison: which functions' share of the time grew or shrank.

How this works: for every cell profiled on both sides (``profile: true``), each side's
profiles of that cell (one per repetition, ``profiles/*.speedscope.json``) are folded
into one set of function shares (``bench.runner.results.profile``: self share, the time the
function itself was running); when a side's files are not at hand (a saved baseline
file keeps the table, not the folder) its top functions from ``cells.parquet``
(``profile_top``, ten functions) stand in, and the diff says so. ``differential`` is the
pure part: the functions whose self share moved the most, in percentage points, grown
and shrunk. Cells whose gates regressed come first, so the PR comment opens with
where the time went in the regression.

A share is a fraction of the busy samples, so it moves when anything else moves: a
function that got slower grows, and everything else shrinks a little to make room.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from bench.runner.compare.judge import Verdict
from bench.runner.compare.table import describe_cell
from bench.runner.results.profile import Profile, function_shares, load_profile, top_from_json

#: Functions listed per direction and cell.
SHOWN = 5
#: Changes smaller than this (share, 0.5 percentage points) are noise, not listed.
MIN_DELTA = 0.005


@dataclass(frozen=True, slots=True)
class FunctionDelta:
    """One function's self share on both sides."""

    function: str
    baseline: float
    candidate: float

    @property
    def delta(self) -> float:
        """Candidate minus baseline share (+ = more of the time)."""
        return self.candidate - self.baseline


@dataclass(frozen=True)
class CellDiff:
    """One cell's differential profile."""

    cell_id: str
    cell: str
    regressed: bool
    grew: list[FunctionDelta]
    shrank: list[FunctionDelta]
    notes: list[str] = field(default_factory=list)


def differential(
    baseline: dict[str, float],
    candidate: dict[str, float],
    n: int = SHOWN,
    min_delta: float = MIN_DELTA,
) -> tuple[list[FunctionDelta], list[FunctionDelta]]:
    """Pure: the ``n`` functions whose share grew most, and the ``n`` that shrank most."""
    deltas = [
        FunctionDelta(f, baseline.get(f, 0.0), candidate.get(f, 0.0))
        for f in set(baseline) | set(candidate)
    ]
    grew = sorted((d for d in deltas if d.delta >= min_delta), key=lambda d: (-d.delta, d.function))
    shrank = sorted(
        (d for d in deltas if -d.delta >= min_delta), key=lambda d: (d.delta, d.function)
    )
    return grew[:n], shrank[:n]


def merge(profiles: Sequence[Profile]) -> Profile:
    """Pure: several profiles of one cell as one (stacks added up)."""
    stacks: dict[tuple[str, ...], float] = {}
    for p in profiles:
        for stack, weight in p.stacks.items():
            stacks[stack] = stacks.get(stack, 0.0) + weight
    return Profile(stacks, samples=sum(p.samples for p in profiles))


def _profiled(cells: pd.DataFrame) -> dict[str, list[dict[str, object]]]:
    out: dict[str, list[dict[str, object]]] = {}
    if "profile_top" not in cells.columns or cells.empty:
        return out
    for row in cells.to_dict("records"):
        if isinstance(row.get("profile_top"), str):
            out.setdefault(str(row["cell_id"]), []).append(row)
    return out


def side_shares(
    rows: list[dict[str, object]], run_dir: Path | None
) -> tuple[dict[str, float], bool]:
    """A side's self shares of one cell, and whether they are the full profile.

    The full profile when every repetition's speedscope file reads, else the rows' top
    functions (averaged over repetitions).
    """
    if run_dir is not None:
        try:
            profiles = [load_profile(run_dir / str(r["profile_speedscope"])) for r in rows]
            merged = merge(profiles)
            if merged.total > 0:
                return {s.function: s.self_share for s in function_shares(merged)}, True
        except (ValueError, KeyError, TypeError):
            pass
    sums: dict[str, float] = {}
    for r in rows:
        for s in top_from_json(r.get("profile_top")):
            sums[s.function] = sums.get(s.function, 0.0) + s.self_share / len(rows)
    return sums, False


def profile_diffs(
    baseline: pd.DataFrame,
    candidate: pd.DataFrame,
    baseline_dir: Path | None,
    candidate_dir: Path | None,
    verdicts: Sequence[Verdict] = (),
) -> list[CellDiff]:
    """The differential of every cell profiled on both sides, regressed cells first."""
    base, cand = _profiled(baseline), _profiled(candidate)
    regressed = {v.cell_id for v in verdicts if v.outcome == "regressed"}
    out: list[CellDiff] = []
    for cell_id in [c for c in base if c in cand]:
        b, b_full = side_shares(base[cell_id], baseline_dir)
        c, c_full = side_shares(cand[cell_id], candidate_dir)
        grew, shrank = differential(b, c)
        notes = [
            f"{name}: top functions only (its profile files are not at hand)"
            for name, full in (("baseline", b_full), ("candidate", c_full))
            if not full
        ]
        label = describe_cell(cand[cell_id][0])
        out.append(CellDiff(cell_id, label, cell_id in regressed, grew, shrank, notes))
    out.sort(key=lambda d: not d.regressed)
    return out


def _pp(delta: float) -> str:
    return f"{delta * 100:+.1f} pp"


def diff_markdown(diffs: Sequence[CellDiff]) -> str:
    """The differential as markdown (after the gates in a PR comment; '' without any)."""
    if not diffs:
        return ""
    lines = ["### Where the time went (differential profile)", ""]
    lines += [
        "Self share of the server's busy samples, baseline → candidate, in percentage "
        "points (pp). A slower function grows; the rest shrink to make room.",
        "",
    ]
    for d in diffs:
        mark = " — **regressed**" if d.regressed else ""
        lines += [f"**{d.cell}**{mark}", "", "| function | baseline | candidate | change |"]
        lines += ["|---|---:|---:|---:|"]
        for f in [*d.grew, *d.shrank]:
            name = f.function.replace("|", "\\|")
            lines.append(f"| `{name}` | {f.baseline:.1%} | {f.candidate:.1%} | {_pp(f.delta)} |")
        if not d.grew and not d.shrank:
            lines.append("| (no function moved by 0.5 pp or more) | | | |")
        lines += [*(f"- {n}" for n in d.notes), ""]
    return "\n".join(lines) + "\n"


def diff_lines(diffs: Sequence[CellDiff]) -> list[str]:
    """One terminal line per cell: the function that grew the most and the one that shrank."""
    out: list[str] = []
    for d in diffs:
        grew = f"grew {d.grew[0].function} {_pp(d.grew[0].delta)}" if d.grew else "nothing grew"
        shrank = f"shrank {d.shrank[0].function} {_pp(d.shrank[0].delta)}" if d.shrank else ""
        out.append(f"profile {d.cell}: {grew}" + (f"; {shrank}" if shrank else ""))
    return out
