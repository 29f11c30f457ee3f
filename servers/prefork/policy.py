"""The supervision policy of the prefork master: pure decisions over plain values.

Theory of operation
-------------------
The master's process layer (``master.py``) records facts: which workers exist, when each
last signalled a heartbeat, whether it reported ready, which signals we already sent it
and when, which workers exited and how. It freezes those facts into a
``SupervisorState`` and asks ``reconcile(state, now)`` what to do. The answer is a list
of ``Action`` values (spawn a worker, stop one gracefully or fast, abort or kill one,
halt the master, exit) that the process layer performs, recording the new facts. Signals
the master receives change the state through ``on_signal`` (also pure). Nothing here
reads a clock, forks or sends a signal, so every rule is tested with plain values.

The rules, in order:

1. A worker that exited with the boot or app-load exit code halts the master (it
   would fail the same way again); so do ``max_boot_failures`` consecutive deaths of
   workers that never became ready. Other unexpected deaths are noted.
2. A worker silent for ``timeout`` seconds is aborted (SIGABRT, so it can print where
   it was stuck), and killed ``kill_grace`` seconds later if still there. A worker
   asked to stop gracefully and still running after ``graceful_timeout`` is killed.
3. While running: workers of the current generation that are not retiring are
   counted against the target; missing ones are spawned, extra ones stopped
   (oldest first). Old workers (a previous generation after HUP, a worker that
   asked to retire after ``--max-requests``, or one above ``--max-worker-rss``) keep
   serving until enough ready replacements exist, then are stopped gracefully, so
   the number of ready workers never drops below the target during a reload.
4. While stopping: every worker is asked to stop (gracefully on TERM, fast on
   INT/QUIT or a halt), stragglers are killed after the grace period, and the
   master exits once no worker is left.
"""

from __future__ import annotations

import enum
import signal
from dataclasses import dataclass, replace

from bench.servers.errors import APP_LOAD_ERROR, BOOT_ERROR


class Phase(enum.Enum):
    """What the master is doing."""

    #: Serving: keep ``target`` workers of the current generation alive.
    RUNNING = "running"
    #: Graceful stop (TERM): workers finish in-flight requests, then the master exits 0.
    STOPPING = "stopping"
    #: Fast stop (INT, QUIT): workers exit at once, then the master exits 0.
    QUITTING = "quitting"
    #: A fatal error (a worker cannot boot): stop workers fast, then exit ``halt_code``.
    HALTING = "halting"


@dataclass(frozen=True, slots=True)
class Settings:
    """The knobs of the policy (from the config).

    Attributes:
        timeout: seconds without a heartbeat before a worker is aborted (0: never).
        graceful_timeout: seconds a gracefully stopping worker may take before a kill.
        kill_grace: seconds between SIGABRT or SIGQUIT and SIGKILL.
        max_worker_rss_mib: resident memory above which a worker is replaced (0: off).
        max_boot_failures: consecutive deaths before ready that halt the master.
    """

    timeout: float = 30.0
    graceful_timeout: float = 30.0
    kill_grace: float = 1.0
    max_worker_rss_mib: float = 0.0
    max_boot_failures: int = 5


@dataclass(frozen=True, slots=True)
class WorkerView:
    """What the master knows about one live worker process.

    Attributes:
        pid: process id.
        generation: the master generation it was spawned for (HUP starts a new one).
        started_at: when it was forked.
        last_beat: its last heartbeat (``started_at`` until the first one).
        ready: it reported that it accepts connections.
        retire_requested: it asked to be replaced (``--max-requests`` reached).
        rss_mib: its resident memory, when measured.
        term_sent_at: when we asked it to stop gracefully (SIGTERM).
        quit_sent_at: when we asked it to stop fast (SIGQUIT).
        abort_sent_at: when we aborted it for silence (SIGABRT).
        kill_sent: whether SIGKILL was sent.
    """

    pid: int
    generation: int
    started_at: float
    last_beat: float
    ready: bool = False
    retire_requested: bool = False
    rss_mib: float | None = None
    term_sent_at: float | None = None
    quit_sent_at: float | None = None
    abort_sent_at: float | None = None
    kill_sent: bool = False

    @property
    def stopping(self) -> bool:
        """True once any stop, abort or kill was sent: it no longer counts as serving."""
        return (
            self.term_sent_at is not None
            or self.quit_sent_at is not None
            or self.abort_sent_at is not None
            or self.kill_sent
        )


@dataclass(frozen=True, slots=True)
class WorkerExit:
    """A worker that exited since the last reconcile.

    Attributes:
        pid: process id.
        ready: it had reported ready before exiting.
        exit_code: its exit status, or ``None`` when a signal ended it.
        signal: the signal that ended it, or ``None``.
        expected: we had asked it to stop (stop, abort or kill).
        message: the one-line reason it reported before exiting, if any.
    """

    pid: int
    ready: bool
    exit_code: int | None
    signal: int | None = None
    expected: bool = False
    message: str | None = None

    def describe(self) -> str:
        """``exit code 1`` or ``signal SIGKILL``."""
        if self.signal is not None:
            try:
                return f"signal {signal.Signals(self.signal).name}"
            except ValueError:
                return f"signal {self.signal}"
        return f"exit code {self.exit_code}"


@dataclass(frozen=True, slots=True)
class SupervisorState:
    """Everything ``reconcile`` decides from.

    Attributes:
        phase: what the master is doing, since ``phase_since``.
        target: how many workers should serve.
        generation: the current generation (incremented by HUP).
        workers: live workers.
        exits: workers reaped since the last reconcile.
        boot_failures: consecutive workers that died before becoming ready.
        halt_code: exit code of the master in the HALTING phase.
    """

    phase: Phase
    phase_since: float
    target: int
    generation: int
    workers: tuple[WorkerView, ...] = ()
    exits: tuple[WorkerExit, ...] = ()
    boot_failures: int = 0
    halt_code: int = 0
    settings: Settings = Settings()


# -- actions -----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Spawn:
    """Fork a new worker for ``generation``."""

    generation: int


@dataclass(frozen=True, slots=True)
class Stop:
    """Ask a worker to stop: gracefully (SIGTERM) or fast (SIGQUIT)."""

    pid: int
    graceful: bool
    reason: str


@dataclass(frozen=True, slots=True)
class Abort:
    """Abort a silent worker (SIGABRT); it is killed if still there after ``kill_grace``."""

    pid: int
    reason: str


@dataclass(frozen=True, slots=True)
class Kill:
    """Kill a worker (SIGKILL)."""

    pid: int
    reason: str


@dataclass(frozen=True, slots=True)
class Halt:
    """Enter the HALTING phase: stop every worker, then exit with ``exit_code``."""

    exit_code: int
    message: str


@dataclass(frozen=True, slots=True)
class Note:
    """Tell the operator something (one line on stderr)."""

    message: str


@dataclass(frozen=True, slots=True)
class Exit:
    """No worker is left: the master exits with ``code``."""

    code: int


Action = Spawn | Stop | Abort | Kill | Halt | Note | Exit


# -- signals -----------------------------------------------------------------------


def on_signal(state: SupervisorState, signum: int, now: float) -> SupervisorState:
    """Return the state after the master received ``signum`` (no I/O; CHLD changes nothing).

    TERM: graceful stop. INT, QUIT: fast stop (also during a graceful one). HUP: a new
    generation (fresh workers replace the old ones). TTIN / TTOU: one worker more / less
    (never below one).
    """
    phase = state.phase
    if signum == signal.SIGTERM:
        if phase is Phase.RUNNING:
            return replace(state, phase=Phase.STOPPING, phase_since=now)
        return state
    if signum in (signal.SIGINT, signal.SIGQUIT):
        if phase in (Phase.RUNNING, Phase.STOPPING):
            return replace(state, phase=Phase.QUITTING, phase_since=now)
        return state
    if phase is not Phase.RUNNING:
        return state
    if signum == signal.SIGHUP:
        return replace(state, generation=state.generation + 1)
    if signum == signal.SIGTTIN:
        return replace(state, target=state.target + 1)
    if signum == signal.SIGTTOU:
        return replace(state, target=max(1, state.target - 1))
    return state


def halt(state: SupervisorState, action: Halt, now: float) -> SupervisorState:
    """Return the state after performing ``action`` (enter HALTING with its exit code)."""
    if state.phase is Phase.HALTING:
        return state
    return replace(state, phase=Phase.HALTING, phase_since=now, halt_code=action.exit_code)


# -- reconcile ---------------------------------------------------------------------


def reconcile(state: SupervisorState, now: float) -> list[Action]:
    """Return what the master should do now, given ``state`` (see the module docstring)."""
    fatal = _fatal_exit(state)
    if fatal is not None:
        return [fatal]  # its message says what happened; nothing is replaced
    actions: list[Action] = list(_notes_for_exits(state))
    actions.extend(_deadlines(state, now))
    doomed = {a.pid for a in actions if isinstance(a, Abort | Kill)}
    if state.phase is Phase.RUNNING:
        actions.extend(_keep_target(state, doomed))
    else:
        actions.extend(_wind_down(state, now, doomed))
    return actions


def _fatal_exit(state: SupervisorState) -> Halt | None:
    if state.phase is not Phase.RUNNING:
        return None
    for ex in state.exits:
        if ex.exit_code == APP_LOAD_ERROR:
            return Halt(APP_LOAD_ERROR, ex.message or "a worker could not load the application")
        if ex.exit_code == BOOT_ERROR:
            return Halt(BOOT_ERROR, ex.message or "a worker failed to boot")
    if state.boot_failures >= state.settings.max_boot_failures:
        last = state.exits[-1].describe() if state.exits else "an unknown cause"
        return Halt(
            BOOT_ERROR,
            f"{state.boot_failures} workers in a row died before becoming ready "
            f"(last: {last}); stopping instead of restarting them forever",
        )
    return None


def _notes_for_exits(state: SupervisorState) -> list[Action]:
    return [
        Note(f"worker {ex.pid} died ({ex.describe()}); replacing it")
        for ex in state.exits
        if not ex.expected and state.phase is Phase.RUNNING
    ]


def _deadlines(state: SupervisorState, now: float) -> list[Action]:
    """Aborts for silence, kills for aborts, quits and graceful stops that took too long."""
    settings = state.settings
    actions: list[Action] = []
    for w in state.workers:
        if w.kill_sent:
            continue
        if w.abort_sent_at is not None:
            if now - w.abort_sent_at >= settings.kill_grace:
                actions.append(Kill(w.pid, "still alive after SIGABRT"))
            continue
        if w.quit_sent_at is not None:
            if now - w.quit_sent_at >= settings.kill_grace:
                actions.append(Kill(w.pid, "still alive after SIGQUIT"))
            continue
        if w.term_sent_at is not None and now - w.term_sent_at >= settings.graceful_timeout:
            actions.append(Kill(w.pid, f"not stopped {settings.graceful_timeout:g}s after SIGTERM"))
            continue
        if settings.timeout > 0 and now - w.last_beat >= settings.timeout:
            what = "heartbeat" if w.ready else "heartbeat while booting"
            actions.append(Abort(w.pid, f"no {what} for {settings.timeout:g}s (--timeout)"))
    return actions


def _is_old(state: SupervisorState, w: WorkerView) -> bool:
    limit = state.settings.max_worker_rss_mib
    return (
        w.generation != state.generation
        or w.retire_requested
        or (limit > 0 and w.rss_mib is not None and w.rss_mib > limit)
    )


def _keep_target(state: SupervisorState, doomed: set[int]) -> list[Action]:
    actions: list[Action] = []
    serving = [w for w in state.workers if not w.stopping and w.pid not in doomed]
    current = sorted(
        (w for w in serving if not _is_old(state, w)), key=lambda w: (w.started_at, w.pid)
    )
    old = sorted((w for w in serving if _is_old(state, w)), key=lambda w: (w.started_at, w.pid))

    missing = state.target - len(current)
    actions.extend(Spawn(state.generation) for _ in range(max(0, missing)))
    for w in current[: max(0, -missing)]:
        actions.append(Stop(w.pid, graceful=True, reason="fewer workers wanted (TTOU)"))

    # Old workers not yet ready never served: stop them now. Ready ones stop only as
    # ready replacements arrive, so ready workers never drop below the target.
    ready_current = sum(1 for w in current[max(0, -missing) :] if w.ready)
    old_ready = [w for w in old if w.ready]
    for w in old:
        if not w.ready:
            actions.append(Stop(w.pid, graceful=True, reason=_old_reason(state, w)))
    surplus = ready_current + len(old_ready) - state.target
    for w in old_ready[: max(0, surplus)]:
        actions.append(Stop(w.pid, graceful=True, reason=_old_reason(state, w)))
    return actions


def _old_reason(state: SupervisorState, w: WorkerView) -> str:
    if w.generation != state.generation:
        return "replaced after reload (HUP)"
    if w.retire_requested:
        return "retired after --max-requests"
    return f"resident memory {w.rss_mib:.0f} MiB above --max-worker-rss"


def _wind_down(state: SupervisorState, now: float, doomed: set[int]) -> list[Action]:
    actions: list[Action] = []
    graceful = state.phase is Phase.STOPPING
    for w in state.workers:
        if w.kill_sent or w.pid in doomed or w.abort_sent_at is not None:
            continue
        if graceful:
            if w.term_sent_at is None and w.quit_sent_at is None:
                actions.append(Stop(w.pid, graceful=True, reason="graceful stop (TERM)"))
        elif w.quit_sent_at is None:
            why = "halting" if state.phase is Phase.HALTING else "fast stop (INT/QUIT)"
            actions.append(Stop(w.pid, graceful=False, reason=why))
    if not state.workers:
        actions.append(Exit(state.halt_code if state.phase is Phase.HALTING else 0))
    return actions


def next_wakeup(state: SupervisorState, now: float, rss_interval: float = 1.0) -> float | None:
    """Seconds until the next deadline that ``reconcile`` would act on (``None``: none).

    Events (a signal, a worker reporting ready, a child exiting) wake the master
    earlier; this only covers the clock: heartbeats going stale, kill graces, graceful
    timeouts, and the periodic memory check when ``max_worker_rss_mib`` is set.
    """
    settings = state.settings
    deadlines: list[float] = []
    for w in state.workers:
        if w.kill_sent:
            continue
        if w.abort_sent_at is not None:
            deadlines.append(w.abort_sent_at + settings.kill_grace)
        elif w.quit_sent_at is not None:
            deadlines.append(w.quit_sent_at + settings.kill_grace)
        else:
            if w.term_sent_at is not None:
                deadlines.append(w.term_sent_at + settings.graceful_timeout)
            if settings.timeout > 0:
                deadlines.append(w.last_beat + settings.timeout)
    if settings.max_worker_rss_mib > 0 and state.phase is Phase.RUNNING:
        deadlines.append(now + rss_interval)
    if not deadlines:
        return None
    return max(0.0, min(deadlines) - now)
