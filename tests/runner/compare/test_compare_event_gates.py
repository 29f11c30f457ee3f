"""Event gates: parsed from the scenario or the command line, judged on an events table."""

from __future__ import annotations

import pandas as pd
import pytest

from bench.runner.compare.event_gates import event_gate_lines, judge_event_gates
from bench.runner.results.schema import EVENT_COLUMNS, frame
from bench.runner.scenario.event_gates import parse_event_gate
from bench.runner.scenario.gates import Gates

CELLS = pd.DataFrame({"cell_id": ["a", "b"], "label": ["prefork sync w4", "gunicorn sync w4"]})


def table() -> pd.DataFrame:
    rows = [
        {"cell_id": "a", "repetition": 0, "event_index": 0, "action": "reload", "status": "done", "errors": 0,
         "recovery_s": 1.0, "p999_us": 40_000.0, "recovered": True},
        {"cell_id": "b", "repetition": 0, "event_index": 0, "action": "reload", "status": "done", "errors": 7,
         "recovery_s": None, "p999_us": 900_000.0, "recovered": False},
        {"cell_id": "b", "repetition": 1, "event_index": 1, "action": "scale-up", "status": "skipped: no TTIN"},
    ]  # fmt: skip
    return frame(rows, EVENT_COLUMNS)


def test_parse_reads_units_into_the_columns_unit() -> None:
    gate = parse_event_gate("pause p999 <= 1.5s")
    assert (gate.action, gate.column, gate.limit) == ("pause", "p999_us", 1_500_000.0)
    assert parse_event_gate("kill-worker recovery<=3s").limit == 3.0
    assert parse_event_gate("* errors <= 0").action == "*"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("reload errors", "expected 'ACTION METRIC <= LIMIT'"),
        ("explode errors <= 0", "unknown action 'explode'; allowed: *, reload"),
        ("reload bogus <= 0", "unknown metric 'bogus'; allowed: errors, lost"),
        ("reload errors <= some", "the limit of errors is a number"),
    ],
)
def test_bad_gates_say_what_is_allowed(text: str, message: str) -> None:
    with pytest.raises(ValueError, match=message.replace("*", r"\*")):
        parse_event_gate(text)


def test_a_scenario_gates_section_holds_event_gates_and_survives_overrides() -> None:
    gates = Gates.model_validate({"events": ["reload errors <= 0"]})
    assert gates.overridden(max_regression=0.1).events == gates.events


def test_errors_during_reload_must_stay_zero() -> None:
    (result,) = judge_event_gates([parse_event_gate("reload errors <= 0")], table(), CELLS)
    assert result.judged == 2 and not result.passed
    assert result.breaches == ("gunicorn sync w4 rep 0 (reload): 7",)


def test_never_recovered_breaks_a_recovery_gate_and_durations_are_shown() -> None:
    gates = [parse_event_gate("reload recovery <= 2s"), parse_event_gate("* p999 <= 100ms")]
    recovery, p999 = judge_event_gates(gates, table(), CELLS)
    assert recovery.breaches == ("gunicorn sync w4 rep 0 (reload): never recovered",)
    assert p999.breaches == ("gunicorn sync w4 rep 0 (reload): 900 ms",)  # skipped rows not judged


def test_a_gate_without_events_to_judge_says_so() -> None:
    (result,) = judge_event_gates([parse_event_gate("pause lost <= 0")], table(), CELLS)
    assert result.judged == 0 and not result.passed
    assert event_gate_lines([result]) == ["event gate pause lost <= 0: no event taken to judge"]
