"""Event gates: absolute limits on what a lifecycle or fault event may cost.

``bench compare`` judges them on the candidate's events table (``bench.runner.compare.
event_gates``), from the scenario's ``gates: {events: [...]}`` or ``--event-gate``:

    gates:
      events:
        - reload errors <= 0          # no failed request during a reload
        - kill-worker lost <= 5
        - kill-worker recovery <= 3s  # per-second p99 back within the factor in 3 s
        - pause p999 <= 1.5s

Each is ``ACTION METRIC <= LIMIT``; ``*`` as the action means every action. These are
limits, not regressions: a baseline is not needed to break one.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from bench.runner.events.mapping import ACTIONS
from bench.runner.units import parse_duration

#: metric -> (events table column, is a duration, what it means).
EVENT_GATE_METRICS: dict[str, tuple[str, bool, str]] = {
    "errors": ("errors", False, "errors in the event window"),
    "lost": ("lost", False, "requests sent and never answered"),
    "unsent": ("unsent", False, "requests due and never sent"),
    "recovery": ("recovery_s", True, "time until per-second p99 was back (never: breaks)"),
    "p99": ("p99_us", True, "p99 in the event window"),
    "p999": ("p999_us", True, "p99.9 in the event window"),
    "max": ("max_us", True, "largest latency in the event window"),
    "p99_ratio": ("p99_ratio", False, "event-window p99 ÷ steady p99"),
    "workers_back": ("workers_back_s", True, "time until as many workers ran again"),
}
_GATE = re.compile(r"^\s*(\S+)\s+(\S+?)\s*<=\s*(\S+)\s*$")


@dataclass(frozen=True, slots=True)
class EventGate:
    """``action metric <= limit``; ``limit`` in the column's unit (µs, s or a count)."""

    action: str
    metric: str
    limit: float
    text: str

    @property
    def column(self) -> str:
        """The events table column the gate reads."""
        return EVENT_GATE_METRICS[self.metric][0]


def parse_event_gate(text: object) -> EventGate:
    """Parse ``reload errors <= 0`` (or ``* recovery <= 2s``); ValueError says what is allowed."""
    if isinstance(text, EventGate):
        return text
    if isinstance(text, dict) and set(text) == {"action", "metric", "limit", "text"}:
        return EventGate(**text)  # a dumped gate, read back (Gates.overridden)
    match = _GATE.match(str(text))
    if not match:
        raise ValueError(
            f"expected 'ACTION METRIC <= LIMIT' like 'reload errors <= 0'; got {text!r}"
        )
    action, metric, raw = match.groups()
    if action != "*" and action not in ACTIONS:
        raise ValueError(f"unknown action {action!r}; allowed: *, {', '.join(ACTIONS)}")
    if metric not in EVENT_GATE_METRICS:
        raise ValueError(f"unknown metric {metric!r}; allowed: {', '.join(EVENT_GATE_METRICS)}")
    column, is_duration, _ = EVENT_GATE_METRICS[metric]
    if is_duration:
        seconds = parse_duration(raw)
        limit = seconds * 1e6 if column.endswith("_us") else seconds
    else:
        try:
            limit = float(raw)
        except ValueError:
            raise ValueError(f"the limit of {metric} is a number; got {raw!r}") from None
    return EventGate(action, metric, limit, f"{action} {metric} <= {raw}")
