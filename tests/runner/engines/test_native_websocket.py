"""WebSocket load: echo round-trips, handshake latency apart, faults by kind."""

from __future__ import annotations

import time

import pytest

from bench.runner.engines.native import run
from bench.runner.engines.native.testing import Behaviour, serve
from bench.runner.loadspec import LoadSpec

MS = 1000.0


def ws_url(url: str) -> str:
    return url.replace("http://", "ws://") + "/ws"


def test_back_to_back_echo_round_trips_carry_the_server_delay() -> None:
    with serve(Behaviour(delay_ms=10.0)) as url:
        result = run(LoadSpec(url=ws_url(url), connections=4, duration_s=1.0, ws_message_size=64))
    assert result.error_count == 0
    assert result.requests > 50
    assert 10 * 0.6 - 2 <= result.latency_us["p50"] / MS <= 10 * 1.4 + 2
    # The handshake is measured apart and is not delayed by the echo delay.
    assert 0 < result.connect_us["p50"] < result.latency_us["p50"]


def test_message_rate_per_connection_is_kept() -> None:
    with serve(Behaviour(delay_ms=1.0)) as url:
        spec = LoadSpec(url=ws_url(url), connections=4, duration_s=1.0, ws_message_rate=50.0)
        result = run(spec)
    assert result.error_count == 0
    # 4 connections × 50 messages/s × 1 s, give or take connection start-up.
    assert result.requests == pytest.approx(200, rel=0.15)
    assert result.schedule_lag_us  # open-loop messages report their schedule lag
    assert result.target_rate == 200.0
    assert result.achieved_rate == pytest.approx(200.0, rel=0.15)


def test_websocket_stall_shows_in_the_tail_at_a_rate() -> None:
    with serve(Behaviour(stall_after_s=0.3, stall_s=0.8)) as url:
        spec = LoadSpec(url=ws_url(url), connections=2, duration_s=1.6, ws_message_rate=100.0)
        result = run(spec)
    assert result.error_count == 0
    assert result.latency_us["p99"] >= 400 * MS


@pytest.mark.parametrize(
    ("fault", "kind"),
    [
        ("garbage", "protocol"),
        ("silent", "timeout"),
        ("drop", "reset"),
        ("status", "status"),
        ("body", "body"),
    ],
)
def test_websocket_faults_are_counted_by_kind(fault: str, kind: str) -> None:
    with serve(Behaviour(fault=fault)) as url:  # type: ignore[arg-type]
        started = time.monotonic()
        result = run(LoadSpec(url=ws_url(url), connections=2, duration_s=0.6, timeout_s=0.3))
        elapsed = time.monotonic() - started
    assert result.errors[kind] > 0, result.errors
    assert result.requests == 0
    assert elapsed < 3.0
