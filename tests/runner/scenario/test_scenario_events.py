"""A scenario's events: accepted forms, and one line (file, YAML path, fix) for bad ones."""

from __future__ import annotations

import pytest

from bench.runner.errors import ScenarioError
from bench.runner.scenario.model import parse_scenario

BASE = """\
name: ev
workload: {app: hello}
servers:
  - {server: prefork, workers: 2}
  - {server: uvicorn, workers: 1}
load: {mode: open, rate: 100, duration: 10s}
"""


def load(events: str, base: str = BASE):  # type: ignore[no-untyped-def]
    return parse_scenario(base + events, "deploy.yaml")


def test_events_and_recovery_are_read_with_units() -> None:
    scenario = load(
        "events:\n  - {at: 4s, action: reload}\n  - {at: 6500ms, action: pause, for: 1s}\n"
        "recovery: {factor: 3, steady: 2s}\n"
    )
    reload, pause = scenario.events
    assert (reload.at, reload.action, reload.hold_s) == (4.0, "reload", 0.0)
    assert (pause.at, pause.for_, pause.hold_s) == (6.5, 1.0, 1.0)
    assert (scenario.recovery.factor, scenario.recovery.steady) == (3.0, 2.0)


def test_no_events_by_default() -> None:
    scenario = load("")
    assert scenario.events == [] and scenario.recovery.factor == 2.0


@pytest.mark.parametrize(
    ("events", "expected"),
    [
        (
            "events: [{at: 4s, action: pause}]",
            "deploy.yaml:7: at events[0].action: pause needs for: how long to stop the server",
        ),
        (
            "events: [{at: 12s, action: reload}]",
            "deploy.yaml:7: at events[0].at: at 12s is outside the measured window "
            "(load.duration 10s): give at below 10s or a longer duration",
        ),
        (
            "events: [{at: 9.5s, action: pause, for: 1s}]",
            "at events[0].at: at 9.5s plus for 1s is outside the measured window",
        ),
        ("events: [{at: 0.2s, action: reload}]", "at events[0].at: at 0.2s leaves no steady state"),
        (
            "events: [{at: 4s, action: reload, for: 1s}]",
            "at events[0].for: for applies to pause only",
        ),
        (
            "events: [{at: 4s, action: crash}]",
            "at events[0].action: got 'crash'; allowed: 'reload'",
        ),
        ("events: [{at: 4s, action: reload, when: 3}]", "at events[0].when: unknown field 'when'"),
        ("events: [{action: reload}]", "at events[0].at: required field is missing"),
        (
            "events: [{at: 3s, action: recycle}]",
            "at events[0].at: recycle is watched through the whole window",
        ),
        (
            "events: [{at: 5.5s, action: reload}, {at: 3s, action: pause, for: 1s}]",
            "at events[0].at: at 5.5s is within 2s of the end of event 1 (pause at 3s for 1s): "
            "one-second series cannot tell them apart; give at 6s or later",
        ),
    ],
)
def test_bad_events_give_one_line(events: str, expected: str) -> None:
    with pytest.raises(ScenarioError) as info:
        load(events + "\n")
    message = str(info.value)
    assert expected in message
    assert "\n" not in message and message.startswith("deploy.yaml")


def test_an_action_no_configuration_can_take_is_refused_naming_why() -> None:
    base = BASE.replace(
        "  - {server: prefork, workers: 2}\n", "  - {server: granian, workers: 2}\n"
    )
    with pytest.raises(ScenarioError) as info:
        load("events: [{at: 4s, action: scale-up}]\n", base)
    message = str(info.value)
    assert (
        "at events[0].action: no server configuration of this scenario can take scale-up" in message
    )
    assert "add one that can, or remove the event" in message


def test_events_need_the_native_engine_and_a_fixed_load() -> None:
    closed_wrk = BASE.replace(
        "load: {mode: open, rate: 100, duration: 10s}", "load: {engine: wrk, concurrency: 8}"
    )
    with pytest.raises(ScenarioError, match="at events: events need engine native"):
        load("events: [{at: 4s, action: reload}]\n", closed_wrk)


def test_recycle_is_watched_and_needs_no_time() -> None:
    (event,) = load("events: [{action: recycle}]\n").events
    assert event.action == "recycle" and event.at is None
