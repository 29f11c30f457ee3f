"""Misbehaving servers: errors are counted by kind and the run ends on time."""

from __future__ import annotations

import time

import pytest

from bench.runner.engines.native import run
from bench.runner.engines.native.testing import Behaviour, closed_port, serve
from bench.runner.loadspec import LoadSpec

DURATION_S = 0.6
TIMEOUT_S = 0.3
#: Start-up, drain and a noisy machine: still far below a hang.
SLACK_S = 2.5

#: fault -> the error kind it must produce
FAULTS = {
    "drop": "reset",
    "reset": "reset",
    "garbage": "protocol",
    "silent": "timeout",
    "status": "status",
    "body": "body",
}


def timed_run(spec: LoadSpec) -> tuple[object, float]:
    started = time.monotonic()
    result = run(spec)
    return result, time.monotonic() - started


@pytest.mark.parametrize("mode", ["closed", "open"])
@pytest.mark.parametrize("fault", list(FAULTS))
def test_fault_is_counted_by_kind_and_the_run_ends_on_time(fault: str, mode: str) -> None:
    with serve(Behaviour(fault=fault)) as url:  # type: ignore[arg-type]
        spec = LoadSpec(
            url=url + "/",
            mode=mode,  # type: ignore[arg-type]
            rate=100.0,
            connections=4,
            duration_s=DURATION_S,
            timeout_s=TIMEOUT_S,
            expect_body=b"hello",
        )
        result, elapsed = timed_run(spec)
    kind = FAULTS[fault]
    assert result.requests == 0  # type: ignore[attr-defined]
    assert result.errors[kind] > 0, result.errors  # type: ignore[attr-defined]
    others = {k: v for k, v in result.errors.items() if k != kind and v}  # type: ignore[attr-defined]
    assert not others, others
    assert elapsed < DURATION_S + TIMEOUT_S + SLACK_S


def test_a_refused_port_counts_connect_errors_and_ends_on_time() -> None:
    spec = LoadSpec(url=f"http://127.0.0.1:{closed_port()}/", connections=4, duration_s=DURATION_S)
    result, elapsed = timed_run(spec)
    assert result.errors["connect"] > 0  # type: ignore[attr-defined]
    assert result.requests == 0  # type: ignore[attr-defined]
    assert elapsed < DURATION_S + SLACK_S


def test_a_silent_server_in_open_loop_times_out_every_scheduled_request() -> None:
    with serve(Behaviour(fault="silent")) as url:
        spec = LoadSpec(
            url=url + "/", mode="open", rate=50.0, duration_s=DURATION_S, timeout_s=TIMEOUT_S
        )
        result, elapsed = timed_run(spec)
    # Every arrival scheduled in the window is accounted for, as a timeout.
    assert result.errors["timeout"] == pytest.approx(50 * DURATION_S, abs=3)  # type: ignore[attr-defined]
    assert elapsed < DURATION_S + TIMEOUT_S + SLACK_S


def test_a_wrong_status_is_not_a_fast_response() -> None:
    with serve(Behaviour(fault="status")) as url:
        result = run(LoadSpec(url=url + "/", connections=2, duration_s=0.4))
    assert result.requests == 0
    assert result.latency_us["p50"] == 0.0
    assert result.errors["status"] > 0


def test_any_status_is_accepted_when_none_is_expected() -> None:
    with serve(Behaviour(fault="status")) as url:
        result = run(LoadSpec(url=url + "/", connections=2, duration_s=0.4, expect_status=None))
    assert result.requests > 0
    assert result.error_count == 0
