"""A scenario's ``events:`` list and ``recovery:`` settings, and the checks on them.

How this works: each event is ``{at: 4s, action: reload}`` (``pause`` also takes
``for: 1s``); it happens during the measured window of every cell, ``at`` seconds after
the window starts. ``events_problem`` holds the rules that need the whole scenario (the
window's length, the engine, which servers are listed) and returns the YAML path and
the problem, which the scenario model raises as one located line before anything
starts. Which server takes which action is the pure table in ``bench.runner.events.mapping``.
"""

from __future__ import annotations

import itertools
from typing import Any, Literal

from pydantic import Field, PositiveFloat, model_validator
from pydantic_core import PydanticCustomError

from bench.runner.events.mapping import ACTIONS, Skip, plan_action, supported_by_any
from bench.runner.scenario.base import Duration
from bench.runner.scenario.base import StrictModel as _Model

#: The least steady state (seconds of the window) an event needs before it.
MIN_STEADY_S = 1.0
#: The least time between the end of one event and the next (the series has 1 s points).
MIN_GAP_S = 2.0

Action = Literal[
    "reload", "kill-worker", "term-worker", "pause", "scale-up", "scale-down", "restart", "recycle"
]
assert set(Action.__args__) == set(ACTIONS)  # type: ignore[attr-defined]


class Event(_Model):
    """One lifecycle or fault action at a time of the measured window."""

    model_config = {**_Model.model_config, "populate_by_name": True}

    at: Duration | None = Field(
        default=None, description="seconds after the measured window starts (not for recycle)"
    )
    action: Action
    for_: Duration | None = Field(
        default=None, alias="for", description="pause: how long the server stays stopped"
    )

    @model_validator(mode="before")
    @classmethod
    def _reject_unknown(cls, data: Any) -> Any:  # the alias ``for`` is a field too
        if isinstance(data, dict):
            allowed = ["at", "action", "for"]
            for key in data:
                if key not in allowed:
                    raise PydanticCustomError(
                        "unknown_field",
                        "unknown field '{field}'; allowed: {allowed}",
                        {"field": str(key), "allowed": ", ".join(allowed)},
                    )
        return data

    @property
    def hold_s(self) -> float:
        """How long the action lasts (``pause``'s ``for``; 0 for an instant action)."""
        return self.for_ or 0.0


class Recovery(_Model):
    """How an event's cost is measured against the steady state before it."""

    factor: PositiveFloat = Field(
        default=2.0, description="recovered: per-second p99 back within factor × steady p99"
    )
    steady: Duration = Field(default=3.0, description="seconds of steady state before an event")


def events_problem(
    events: list[Event],
    *,
    duration_s: float,
    mode: str,
    engine: str,
    configurations: list[tuple[str, int]],
) -> tuple[str, str] | None:
    """The first problem of a scenario's events as (dotted YAML path, message), or None.

    ``configurations`` are the scenario's (server, workers) pairs.
    """
    if not events:
        return None
    if mode == "search":
        return "events", "events apply to closed or open loop cells, not to mode: search"
    if engine != "native":
        return "events", f"events need engine native (its per-second series); got {engine}"
    for i, event in enumerate(events):  # at first: the spacing rule below needs it
        problem = _event_problem(event, duration_s)
        if problem:
            return f"events.{i}.{problem[0]}", problem[1]
    timed = [i for i, e in enumerate(events) if e.at is not None]
    order = sorted(timed, key=lambda i: events[i].at or 0.0)
    for before, after in itertools.pairwise(order):
        ends = (events[before].at or 0.0) + events[before].hold_s
        if (events[after].at or 0.0) < ends + MIN_GAP_S:
            return (
                f"events.{after}.at",
                f"at {events[after].at or 0:g}s is within {MIN_GAP_S:g}s of the end of event "
                f"{before} ({events[before].action} at {events[before].at or 0:g}s"
                + (f" for {events[before].hold_s:g}s" if events[before].hold_s else "")
                + f"): one-second series cannot tell them apart; give at {ends + MIN_GAP_S:g}s "
                "or later",
            )
    for i, event in enumerate(events):
        if not supported_by_any(event.action, configurations):
            reasons = sorted(
                {
                    plan.reason
                    for s, w in configurations
                    if isinstance(plan := plan_action(s, w, event.action), Skip)
                }
            )
            return (
                f"events.{i}.action",
                f"no server configuration of this scenario can take {event.action}: "
                f"{reasons[0]}; add one that can, or remove the event",
            )
    return None


def _event_problem(event: Event, duration_s: float) -> tuple[str, str] | None:
    if event.action == "recycle":
        if event.at is not None or event.for_ is not None:
            field = "at" if event.at is not None else "for"
            return field, (
                "recycle is watched through the whole window (every worker that exits is "
                f"recorded): drop {field}"
            )
        return None
    if event.at is None:
        return "at", "required field is missing: when in the window to act, e.g. at: 4s"
    last = duration_s - event.hold_s
    if event.action == "pause" and event.for_ is None:
        return (
            "action",
            "pause needs for: how long to stop the server, e.g. {at: 4s, action: pause, for: 1s}",
        )
    if event.action != "pause" and event.for_ is not None:
        return "for", f"for applies to pause only; drop it from {event.action}"
    if event.action == "pause" and event.hold_s <= 0:
        return "for", "for must be more than 0, e.g. for: 1s"
    if event.at < MIN_STEADY_S:
        return (
            "at",
            f"at {event.at:g}s leaves no steady state before the event: give at least "
            f"{MIN_STEADY_S:g}s (the window's first seconds are its baseline)",
        )
    if event.at >= last:
        ends = f" plus for {event.hold_s:g}s" if event.hold_s else ""
        return (
            "at",
            f"at {event.at:g}s{ends} is outside the measured window (load.duration "
            f"{duration_s:g}s): give at below {last:g}s or a longer duration",
        )
    return None
