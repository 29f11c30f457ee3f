"""InlinePolicy: where a WSGI app's next request runs, decided from plain timings."""

from __future__ import annotations

import pytest

from bench.servers.wsgi.inline import InlinePolicy, Placement

BUDGET = 0.001
FAST = 0.00001  # a hello-world call: 10 µs


def policy(mode: str = "auto", settle: int = 4) -> InlinePolicy:
    return InlinePolicy(mode, wait_budget=BUDGET, settle=settle)


def test_a_fast_app_stays_inline_on_the_wall_clock_alone() -> None:
    p = policy()
    for _ in range(1000):
        assert p.inline and not p.measures_cpu
        p.observe(FAST, None)
    assert p.placement is Placement.FAST and p.switches == 0


def test_a_long_call_sends_the_app_to_the_pool_at_once() -> None:
    p = policy()
    p.observe(0.010, None)  # 10 ms: whatever it did, the loop was held that long
    assert p.placement is Placement.POOL and not p.inline and p.measures_cpu


def test_a_waiting_app_stays_in_the_pool() -> None:
    p = policy()
    p.observe(0.010, None)
    for _ in range(100):
        p.observe(0.010, 0.0001)  # 10 ms of wall, 0.1 ms of CPU: it waits
        assert p.placement is Placement.POOL
    assert p.switches == 1


def test_back_inline_after_settle_calm_calls_then_fast_after_settle_more() -> None:
    p = policy(settle=4)
    p.observe(0.010, None)
    for _ in range(3):
        p.observe(FAST, FAST)
        assert p.placement is Placement.POOL
    p.observe(FAST, FAST)
    assert p.placement is Placement.MEASURED and p.inline and p.measures_cpu
    for _ in range(3):
        p.observe(FAST, FAST)
    assert p.placement is Placement.MEASURED
    p.observe(FAST, FAST)
    assert p.placement is Placement.FAST and not p.measures_cpu
    assert p.switches == 3


def test_one_waiting_call_restarts_the_count_in_the_pool() -> None:
    p = policy(settle=4)
    p.observe(0.010, None)
    for _ in range(3):
        p.observe(FAST, FAST)
    p.observe(0.005, 0.0)  # waited again
    for _ in range(3):
        p.observe(FAST, FAST)
    assert p.placement is Placement.POOL
    p.observe(FAST, FAST)
    assert p.placement is Placement.MEASURED


def test_a_cpu_bound_app_stays_inline_once_measured() -> None:
    """Long calls that burn CPU (no waiting) stay on the loop: threads would only fight for the GIL."""
    p = policy(settle=4)
    p.observe(0.005, None)  # first long call: to the pool (it could have been waiting)
    for _ in range(4):
        p.observe(0.005, 0.005)  # measured in the pool: all CPU
    assert p.placement is Placement.MEASURED
    for _ in range(100):
        p.observe(0.005, 0.0049)
        assert p.placement is Placement.MEASURED  # long but busy: inline, never FAST
    p.observe(0.005, 0.001)  # this one waited 4 ms
    assert p.placement is Placement.POOL


def test_a_late_report_without_cpu_counts_its_wall_as_waiting() -> None:
    p = policy(settle=2)
    p.observe(0.010, None)
    p.observe(0.010, None)  # timed before the switch, reported after it
    p.observe(FAST, FAST)
    assert p.placement is Placement.POOL
    p.observe(FAST, FAST)
    assert p.placement is Placement.MEASURED


@pytest.mark.parametrize(("mode", "inline"), [("always", True), ("never", False)])
def test_fixed_modes_never_move(mode: str, inline: bool) -> None:
    p = policy(mode)
    for wall, cpu in [(0.1, None), (0.1, 0.0), (FAST, FAST)] * 50:
        p.observe(wall, cpu)
        assert p.inline is inline
    assert p.switches == 0


@pytest.mark.parametrize("kwargs", [{"mode": "sometimes"}, {"wait_budget": -1.0}, {"settle": 0}])
def test_bad_settings_are_refused(kwargs: dict) -> None:
    with pytest.raises(ValueError):
        InlinePolicy(**kwargs)


def test_a_preempted_cpu_bound_call_is_not_a_wait() -> None:
    """5 ms of CPU with 0.5 ms off the CPU (a busy machine): it did not wait on anything."""
    p = policy(settle=2)
    p.observe(0.005, None)
    p.observe(0.0055, 0.005)
    p.observe(0.0055, 0.005)
    assert p.placement is Placement.MEASURED
    p.observe(0.0055, 0.005)
    assert p.placement is Placement.MEASURED
    p.observe(0.004, 0.002)  # half of it off the CPU: that is waiting
    assert p.placement is Placement.POOL
