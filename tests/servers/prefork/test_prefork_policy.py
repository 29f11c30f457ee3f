"""The supervision policy, with plain values: no process, no clock, no signal."""

from __future__ import annotations

import signal
from dataclasses import replace

from bench.servers.errors import APP_LOAD_ERROR, BOOT_ERROR
from bench.servers.prefork.policy import (
    Abort,
    Exit,
    Halt,
    Kill,
    Note,
    Phase,
    Settings,
    Spawn,
    Stop,
    SupervisorState,
    WorkerExit,
    WorkerView,
    halt,
    next_wakeup,
    on_signal,
    reconcile,
)

SETTINGS = Settings(timeout=30, graceful_timeout=10, kill_grace=1, max_boot_failures=3)


def worker(pid: int, *, gen: int = 1, at: float = 0.0, beat: float = 100.0, **kw) -> WorkerView:
    return WorkerView(pid=pid, generation=gen, started_at=at, last_beat=beat, ready=True, **kw)


def state(*workers: WorkerView, target: int = 2, gen: int = 1, **kw) -> SupervisorState:
    return SupervisorState(
        phase=kw.pop("phase", Phase.RUNNING),
        phase_since=kw.pop("phase_since", 0.0),
        target=target,
        generation=gen,
        workers=workers,
        settings=kw.pop("settings", SETTINGS),
        **kw,
    )


def of(kind: type, actions: list) -> list:
    return [a for a in actions if isinstance(a, kind)]


# -- keeping the target ------------------------------------------------------------


def test_boot_spawns_the_target_number_of_workers() -> None:
    assert reconcile(state(target=3), now=0.0) == [Spawn(1)] * 3


def test_steady_state_does_nothing() -> None:
    assert reconcile(state(worker(1), worker(2)), now=101.0) == []


def test_a_dead_worker_is_noted_and_replaced() -> None:
    s = state(worker(1), exits=(WorkerExit(pid=2, ready=True, exit_code=None, signal=9),))
    actions = reconcile(s, now=101.0)
    assert of(Spawn, actions) == [Spawn(1)]
    assert of(Note, actions) == [Note("worker 2 died (signal SIGKILL); replacing it")]


def test_an_expected_exit_is_not_noted() -> None:
    s = state(worker(1), worker(3), exits=(WorkerExit(2, True, 0, expected=True),))
    assert reconcile(s, now=101.0) == []


def test_booting_workers_count_towards_the_target() -> None:
    booting = replace(worker(2), ready=False)
    assert reconcile(state(worker(1), booting), now=101.0) == []


def test_ttin_adds_a_worker_and_ttou_stops_the_oldest() -> None:
    s = state(worker(1, at=5), worker(2, at=1))
    grown = on_signal(s, signal.SIGTTIN, 0.0)
    assert grown.target == 3
    assert reconcile(grown, now=101.0) == [Spawn(1)]
    shrunk = on_signal(s, signal.SIGTTOU, 0.0)
    assert shrunk.target == 1
    assert reconcile(shrunk, now=101.0) == [
        Stop(2, graceful=True, reason="fewer workers wanted (TTOU)")
    ]


def test_ttou_never_goes_below_one_worker() -> None:
    s = state(worker(1), target=1)
    assert on_signal(s, signal.SIGTTOU, 0.0).target == 1


# -- liveness ------------------------------------------------------------------------


def test_a_silent_worker_is_aborted_then_killed_and_replaced() -> None:
    s = state(worker(1, beat=100.0), worker(2, beat=69.0))
    actions = reconcile(s, now=100.0)
    assert of(Abort, actions) == [Abort(2, "no heartbeat for 30s (--timeout)")]
    # The aborted worker no longer serves: its replacement starts at once.
    assert of(Spawn, actions) == [Spawn(1)]

    aborted = state(worker(1), worker(2, beat=69.0, abort_sent_at=100.0), worker(3))
    assert reconcile(aborted, now=100.5) == []
    assert reconcile(aborted, now=101.0) == [Kill(2, "still alive after SIGABRT")]


def test_a_worker_that_never_beats_while_booting_is_aborted() -> None:
    booting = WorkerView(pid=7, generation=1, started_at=10.0, last_beat=10.0)
    actions = reconcile(state(worker(1), booting), now=40.0)
    assert of(Abort, actions) == [Abort(7, "no heartbeat while booting for 30s (--timeout)")]


def test_timeout_zero_disables_the_heartbeat_check() -> None:
    s = state(worker(1, beat=0.0), worker(2, beat=0.0), settings=Settings(timeout=0))
    assert reconcile(s, now=1e6) == []
    assert next_wakeup(s, now=1e6) is None


def test_a_graceful_stop_that_takes_too_long_ends_in_a_kill() -> None:
    slow = worker(2, beat=200.0, term_sent_at=100.0)
    s = state(worker(1, beat=200.0), worker(3, beat=200.0), slow)
    assert reconcile(s, now=109.0) == []
    assert reconcile(s, now=110.0) == [Kill(2, "not stopped 10s after SIGTERM")]


# -- fatal boot errors ---------------------------------------------------------------


def test_an_app_load_error_halts_with_the_workers_message() -> None:
    ex = WorkerExit(pid=5, ready=False, exit_code=APP_LOAD_ERROR, message="cannot import 'x'")
    actions = reconcile(state(exits=(ex,)), now=1.0)
    assert actions == [Halt(APP_LOAD_ERROR, "cannot import 'x'")]


def test_a_boot_error_halts() -> None:
    ex = WorkerExit(pid=5, ready=False, exit_code=BOOT_ERROR)
    assert reconcile(state(exits=(ex,)), now=1.0) == [Halt(BOOT_ERROR, "a worker failed to boot")]


def test_repeated_deaths_before_ready_halt_instead_of_looping() -> None:
    ex = WorkerExit(pid=5, ready=False, exit_code=None, signal=11)
    s = state(exits=(ex,), boot_failures=3)
    (halt_action,) = of(Halt, reconcile(s, now=1.0))
    assert halt_action.exit_code == BOOT_ERROR
    assert "3 workers in a row died before becoming ready (last: signal SIGSEGV)" in (
        halt_action.message
    )
    assert of(Halt, reconcile(replace(s, boot_failures=2), now=1.0)) == []


def test_halting_stops_everyone_fast_then_exits_with_the_halt_code() -> None:
    s = state(worker(1), worker(2))
    halted = halt(s, Halt(APP_LOAD_ERROR, "boom"), now=5.0)
    assert halted.phase is Phase.HALTING
    assert reconcile(halted, now=5.0) == [
        Stop(1, graceful=False, reason="halting"),
        Stop(2, graceful=False, reason="halting"),
    ]
    assert reconcile(replace(halted, workers=()), now=6.0) == [Exit(APP_LOAD_ERROR)]


# -- reload (HUP) and retirement ---------------------------------------------------


def test_hup_starts_new_workers_before_retiring_old_ones() -> None:
    s = on_signal(state(worker(1), worker(2)), signal.SIGHUP, 0.0)
    assert s.generation == 2
    # Old workers keep serving while replacements boot.
    assert reconcile(s, now=101.0) == [Spawn(2), Spawn(2)]

    booting = [WorkerView(pid=p, generation=2, started_at=101, last_beat=101) for p in (3, 4)]
    s = replace(s, workers=(*s.workers, *booting))
    assert reconcile(s, now=101.5) == []

    # One replacement is ready: exactly one old worker may go.
    one_ready = replace(
        s, workers=(worker(1), worker(2), replace(booting[0], ready=True), booting[1])
    )
    assert reconcile(one_ready, now=102.0) == [
        Stop(1, graceful=True, reason="replaced after reload (HUP)")
    ]

    both = replace(
        s,
        workers=(
            worker(1, term_sent_at=102.0),
            worker(2),
            replace(booting[0], ready=True),
            replace(booting[1], ready=True),
        ),
    )
    assert reconcile(both, now=102.5) == [
        Stop(2, graceful=True, reason="replaced after reload (HUP)")
    ]


def test_an_old_worker_that_is_not_ready_is_stopped_at_once() -> None:
    old_booting = WorkerView(pid=9, generation=1, started_at=100, last_beat=100)
    s = state(worker(1, gen=2), worker(2, gen=2), old_booting, gen=2)
    assert reconcile(s, now=101.0) == [Stop(9, graceful=True, reason="replaced after reload (HUP)")]


def test_a_worker_that_reached_max_requests_is_replaced_first() -> None:
    s = state(worker(1), worker(2, retire_requested=True))
    assert reconcile(s, now=101.0) == [Spawn(1)]
    fresh = WorkerView(pid=3, generation=1, started_at=101, last_beat=101)
    s = replace(s, workers=(*s.workers, fresh))
    assert reconcile(s, now=101.0) == []
    s = replace(s, workers=(s.workers[0], s.workers[1], replace(fresh, ready=True)))
    assert reconcile(s, now=101.0) == [
        Stop(2, graceful=True, reason="retired after --max-requests")
    ]


def test_a_worker_above_max_rss_is_recycled() -> None:
    settings = replace(SETTINGS, max_worker_rss_mib=100)
    s = state(worker(1, rss_mib=50.0), worker(2, rss_mib=150.0), settings=settings)
    assert reconcile(s, now=101.0) == [Spawn(1)]
    assert next_wakeup(s, now=101.0, rss_interval=1.0) == 1.0


# -- stopping ------------------------------------------------------------------------


def test_term_stops_workers_gracefully_and_exits_zero_when_they_are_gone() -> None:
    s = on_signal(state(worker(1), worker(2)), signal.SIGTERM, 50.0)
    assert s.phase is Phase.STOPPING
    assert reconcile(s, now=50.0) == [
        Stop(1, graceful=True, reason="graceful stop (TERM)"),
        Stop(2, graceful=True, reason="graceful stop (TERM)"),
    ]
    # Nothing is spawned while stopping, even when a worker exits.
    asked = replace(
        s, workers=(worker(2, term_sent_at=50.0),), exits=(WorkerExit(1, True, 0, expected=True),)
    )
    assert reconcile(asked, now=51.0) == []
    assert reconcile(replace(asked, workers=()), now=52.0) == [Exit(0)]


def test_quit_after_term_escalates_to_a_fast_stop() -> None:
    s = on_signal(state(worker(1, term_sent_at=50.0)), signal.SIGTERM, 50.0)
    s = on_signal(s, signal.SIGQUIT, 51.0)
    assert s.phase is Phase.QUITTING
    assert reconcile(s, now=51.0) == [Stop(1, graceful=False, reason="fast stop (INT/QUIT)")]
    quitting = replace(s, workers=(worker(1, term_sent_at=50.0, quit_sent_at=51.0),))
    assert reconcile(quitting, now=52.0) == [Kill(1, "still alive after SIGQUIT")]


def test_signals_other_than_quit_are_ignored_while_stopping() -> None:
    s = on_signal(state(worker(1)), signal.SIGTERM, 1.0)
    for sig in (signal.SIGHUP, signal.SIGTTIN, signal.SIGTTOU, signal.SIGCHLD, signal.SIGTERM):
        assert on_signal(s, sig, 2.0) == s


# -- wakeups -------------------------------------------------------------------------


def test_next_wakeup_is_the_earliest_deadline() -> None:
    s = state(worker(1, beat=100.0), worker(2, beat=90.0))
    assert next_wakeup(s, now=100.0) == 20.0
    s = state(worker(1, beat=100.0, abort_sent_at=119.5))
    assert next_wakeup(s, now=120.0) == 0.5
    assert next_wakeup(state(), now=0.0) is None
