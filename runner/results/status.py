"""Cell status: the values a results row's ``status`` takes, and the rule for a cell.

How this works: each repetition of a cell has a ``status`` text whose kind is the word
before ``:`` (``"failed: server exited (code 1)"`` is kind ``failed``). ``STATUSES`` lists
every kind once, with whether its repetitions carry numbers (``usable``) and the text a
cell of that kind shows. ``cell_status`` is THE rule of a cell over its repetitions, used
by the terminal summary and the dashboard alike:

- no usable repetition: ``failed`` (``skipped`` when every repetition was skipped), with
  the distinct reasons;
- else the first kind of ``STATUSES`` (in order) any usable repetition has; a kind listed
  earlier wins, so the more cautionary kinds come first (``engine-bound``: the numbers
  are a lower bound; ``overloaded``: the server fell behind an open-loop rate — its
  throughput is what it served, its latency grew through the window);
- any repetition that failed is named in the text: ``ok (1 of 3 repetitions failed: …)``.

Adding a status value is one entry in ``STATUSES`` (plus its display mark in
``bench.dashboards.theme.STATUS_STYLE`` and ``bench.runner.session.progress``).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import pandas as pd


@dataclass(frozen=True, slots=True)
class Status:
    """One status kind: its name, whether its numbers are usable, and a cell's text."""

    name: str
    usable: bool
    text: str


#: Every status kind, in the order legends list them. Among usable kinds, the order is
#: also the precedence of ``cell_status`` (earlier wins), so keep ``ok`` last of them.
STATUSES: tuple[Status, ...] = (
    Status("engine-bound", True, "engine-bound: the load generator was the bottleneck"),
    Status("overloaded", True, "overloaded: the server fell behind the asked rate"),
    Status("ok", True, "ok"),
    Status("failed", False, "failed"),
    Status("skipped", False, "skipped"),
)
#: Cell status kinds, in the order legends list them.
STATUS_KINDS: tuple[str, ...] = ("ok", *(s.name for s in STATUSES if s.name != "ok"))
#: Kinds whose repetitions carry numbers.
USABLE: frozenset[str] = frozenset(s.name for s in STATUSES if s.usable)
_BY_NAME = {s.name: s for s in STATUSES}


def status_kind(status: object) -> str:
    """``"failed: crashed"`` -> ``"failed"``; unknown or missing -> ``"failed"``."""
    text = "" if is_missing(status) else str(status).strip()
    kind = text.split(":", 1)[0].strip()
    return kind if kind in STATUS_KINDS else "failed"


def status_reason(status: object) -> str:
    """The text after ``failed:`` / ``skipped:`` / ``overloaded:`` (empty for ok)."""
    text = "" if is_missing(status) else str(status)
    _, sep, reason = text.partition(":")
    return reason.strip() if sep else ""


def is_missing(value: object) -> bool:
    """True for None, pandas NA and NaN."""
    if value is None or value is pd.NA:
        return True
    try:
        return bool(isinstance(value, float) and math.isnan(value))
    except TypeError:
        return False


def cell_status(statuses: Sequence[object]) -> tuple[str, str]:
    """``(kind, text)`` of a cell from its repetitions' status texts (the module's rule)."""
    kind, head, note = cell_status_parts(statuses)
    return kind, head + note


def cell_status_parts(statuses: Sequence[object]) -> tuple[str, str, str]:
    """``(kind, head, note)``: the cell's kind, its status text without the note of failed
    repetitions, and that note (``" (1 of 3 repetitions failed: …)"``, or empty)."""
    kinds = [status_kind(s) for s in statuses]
    usable = [k for k in kinds if k in USABLE]
    if not usable:
        kind = "skipped" if kinds and all(k == "skipped" for k in kinds) else "failed"
        reasons = sorted({status_reason(s) for s in statuses} - {""})
        return kind, f"{kind}: {'; '.join(reasons) or 'no reason recorded'}", ""
    failed = [s for s, k in zip(statuses, kinds, strict=True) if k not in USABLE]
    note = ""
    if failed:
        reasons = sorted({status_reason(s) for s in failed} - {""})
        note = f" ({len(failed)} of {len(statuses)} repetitions failed: {'; '.join(reasons)})"
    kind = next(s.name for s in STATUSES if s.name in usable)
    reason = next(
        (status_reason(s) for s, k in zip(statuses, kinds, strict=True) if k == kind), ""
    )
    head = f"{kind}: {reason}" if reason else _BY_NAME[kind].text
    return kind, head, note
