"""The prefork master: the thin process layer that performs what ``policy`` decides.

How this works
--------------
``Master.run`` binds the listening sockets once, optionally imports the app
(``--preload``), installs signal handlers that only append the signal number to a
queue (the wakeup fd of the ``signal`` module makes the main loop's ``select``
return), and loops:

1. turn queued signals into state changes (``policy.on_signal``);
2. read the workers' status lines (ready, retire, boot error) from the status pipe;
3. reap exited children (``waitpid(-1, WNOHANG)``) into ``WorkerExit`` facts;
4. read each worker's heartbeat (and resident memory when ``--max-worker-rss`` is set);
5. freeze all of that into a ``SupervisorState``, call ``policy.reconcile`` and
   perform the returned actions (fork, kill, print), recording what was done;
6. ``select`` on the signal and status pipes until the next deadline
   (``policy.next_wakeup``).

Children are forked from this loop: a child resets the signal handling, closes the
master's ends of the pipes, and runs ``workers.run_worker_process``, which never
returns into this loop (``os._exit``). The master never starts threads, so forking is
safe.
"""

from __future__ import annotations

import collections
import contextlib
import os
import select
import signal
import socket
import sys
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any, TextIO

from bench.servers.errors import APP_LOAD_ERROR, AppLoadError, ServerError, WorkerBootFailed
from bench.servers.prefork import policy
from bench.servers.prefork.config import PreforkConfig
from bench.servers.prefork.heartbeat import Heartbeat, StatusPipe
from bench.servers.prefork.policy import Phase, SupervisorState, WorkerExit, WorkerView

#: Signals the master handles (each only queued by its handler).
HANDLED_SIGNALS: tuple[signal.Signals, ...] = (
    signal.SIGTERM,
    signal.SIGINT,
    signal.SIGQUIT,
    signal.SIGHUP,
    signal.SIGTTIN,
    signal.SIGTTOU,
    signal.SIGCHLD,
)
#: Longest sleep of the main loop when no deadline is pending (a safety net only:
#: signals, status lines and child exits wake the loop at once).
MAX_WAIT = 5.0
#: How often resident memory is sampled when --max-worker-rss is set.
RSS_INTERVAL = 1.0


@dataclass(slots=True)
class _Worker:
    """The master's mutable record of one live worker (frozen into a WorkerView)."""

    pid: int
    generation: int
    started_at: float
    heartbeat: Heartbeat
    ready: bool = False
    retire_requested: bool = False
    rss_mib: float | None = None
    term_sent_at: float | None = None
    quit_sent_at: float | None = None
    abort_sent_at: float | None = None
    kill_sent: bool = False
    message: str | None = None

    def view(self) -> WorkerView:
        return WorkerView(
            pid=self.pid,
            generation=self.generation,
            started_at=self.started_at,
            last_beat=max(self.started_at, self.heartbeat.last()),
            ready=self.ready,
            retire_requested=self.retire_requested,
            rss_mib=self.rss_mib,
            term_sent_at=self.term_sent_at,
            quit_sent_at=self.quit_sent_at,
            abort_sent_at=self.abort_sent_at,
            kill_sent=self.kill_sent,
        )


class Master:
    """Supervise ``config.workers`` worker processes serving ``app_spec``.

    Args:
        config: the settings.
        app_spec: a bundled app name or ``module:attr``.
        log: where notes and errors go (stderr).
    """

    def __init__(
        self,
        config: PreforkConfig,
        app_spec: str,
        *,
        log: TextIO | None = None,
    ) -> None:
        self.config = config
        self.app_spec = app_spec
        self.sockets: list[socket.socket] = []
        #: The app imported by the master (--preload), and its interface.
        self.preloaded: tuple[Callable[..., Any], str] | None = None
        self.status = StatusPipe()
        self._log = log if log is not None else sys.stderr
        self._signals: collections.deque[int] = collections.deque()
        self._wakeup_r, self._wakeup_w = os.pipe()
        for fd in (self._wakeup_r, self._wakeup_w):
            os.set_blocking(fd, False)
        self._workers: dict[int, _Worker] = {}
        self._exits: list[WorkerExit] = []
        self._boot_failures = 0
        self._halt_message: str | None = None
        self._announced = False
        self._last_rss = 0.0
        self._state = SupervisorState(
            phase=Phase.RUNNING,
            phase_since=time.monotonic(),
            target=config.workers,
            generation=1,
            settings=policy.Settings(
                timeout=config.timeout,
                graceful_timeout=config.graceful_timeout,
                max_worker_rss_mib=float(config.max_worker_rss),
            ),
        )

    # -- lifecycle ------------------------------------------------------------------

    def run(self) -> int:
        """Serve until stopped; return the exit code (0 after TERM, INT or QUIT).

        Raises:
            BindError: an address could not be bound.
            AppLoadError: the app could not be imported (``--preload``, or by workers).
            WorkerBootFailed: workers kept failing to boot.
        """
        previous: dict[int, Any] = {}
        if self.config.chdir:
            try:
                os.chdir(self.config.chdir)
            except OSError as exc:
                raise ServerError(f"--chdir {self.config.chdir}: {exc.strerror}") from None
        if self.config.pythonpath:
            dirs = [os.path.abspath(d) for d in self.config.pythonpath.split(",") if d]
            sys.path[:0] = [d for d in dirs if d not in sys.path]
        try:
            self._bind()
            if self.config.preload:
                self._preload()
            self._write_pidfile()
            for sig in HANDLED_SIGNALS:
                previous[sig] = signal.signal(sig, self._on_signal)
            previous_wakeup = signal.set_wakeup_fd(self._wakeup_w, warn_on_full_buffer=False)
            try:
                code = self._loop()
            finally:
                signal.set_wakeup_fd(previous_wakeup)
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)
            self._cleanup()
        if self._state.phase is Phase.HALTING:
            message = self._halt_message or "workers failed"
            if code == APP_LOAD_ERROR:
                raise AppLoadError(message)
            raise WorkerBootFailed(message, exit_code=code)
        return code

    def _bind(self) -> None:
        from bench.servers.sockets import create_listener, parse_bind

        for address in self.config.bind:  # BindError propagates
            spec = parse_bind(address)
            sock = create_listener(
                spec, reuse_port=self.config.reuse_port, backlog=self.config.backlog
            )
            self.sockets.append(sock)

    def _preload(self) -> None:
        from bench.servers.prefork.workers import load_worker_app

        self.preloaded = load_worker_app(self.config, self.app_spec)

    def _write_pidfile(self) -> None:
        if self.config.pidfile:
            tmp = f"{self.config.pidfile}.{os.getpid()}.tmp"
            with open(tmp, "w") as f:
                f.write(f"{os.getpid()}\n")
            os.replace(tmp, self.config.pidfile)

    def _cleanup(self) -> None:
        for w in self._workers.values():
            with contextlib.suppress(ProcessLookupError):
                os.kill(w.pid, signal.SIGKILL)
        for w in list(self._workers.values()):
            with contextlib.suppress(ChildProcessError):
                os.waitpid(w.pid, 0)
            w.heartbeat.close()
        self._workers.clear()
        for sock in self.sockets:
            self._close_listener(sock)
        if self.config.pidfile:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(self.config.pidfile)
        self.status.close()
        for fd in (self._wakeup_r, self._wakeup_w):
            with contextlib.suppress(OSError):
                os.close(fd)

    @staticmethod
    def _close_listener(sock: socket.socket) -> None:
        path = sock.getsockname() if sock.family == socket.AF_UNIX else None
        sock.close()
        if path:
            with contextlib.suppress(OSError):
                os.unlink(path)

    # -- the main loop ----------------------------------------------------------------

    def _on_signal(self, signum: int, frame: object) -> None:
        self._signals.append(signum)

    def _loop(self) -> int:
        while True:
            now = time.monotonic()
            self._take_signals(now)
            self._take_status()
            self._reap()
            self._sample_rss(now)
            snapshot = self._snapshot()
            self._exits.clear()
            again = False
            for action in policy.reconcile(snapshot, now):
                if isinstance(action, policy.Exit):
                    return action.code
                again |= self._perform(action, now)
            if again:
                continue
            wait = policy.next_wakeup(self._snapshot(), now, RSS_INTERVAL)
            self._wait(MAX_WAIT if wait is None else min(wait + 0.001, MAX_WAIT))

    def _wait(self, timeout: float) -> None:
        if self._signals:
            return
        readable, _, _ = select.select([self._wakeup_r, self.status.read_fd], [], [], timeout)
        if self._wakeup_r in readable:
            with contextlib.suppress(BlockingIOError):
                while os.read(self._wakeup_r, 4096):
                    pass

    def _take_signals(self, now: float) -> None:
        while self._signals:
            signum = self._signals.popleft()
            before = self._state
            self._state = policy.on_signal(before, signum, now)
            if signum == signal.SIGHUP and self._state.generation != before.generation:
                self._note("reloading: starting fresh workers, then retiring the old ones")

    def _take_status(self) -> None:
        for message in self.status.read():
            w = self._workers.get(message.pid)
            if w is None:
                continue
            if message.kind == "ready":
                w.ready = True
                self._boot_failures = 0
                if not self._announced:
                    self._announce()
            elif message.kind == "retire":
                w.retire_requested = True
            elif message.kind == "error":
                w.message = message.text

    def _reap(self) -> None:
        while True:
            try:
                pid, status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                return
            if pid == 0:
                return
            w = self._workers.pop(pid, None)
            if w is None:
                continue
            w.heartbeat.close()
            code = os.waitstatus_to_exitcode(status)
            expected = w.kill_sent or w.abort_sent_at is not None
            expected |= w.term_sent_at is not None or w.quit_sent_at is not None
            if not w.ready and w.term_sent_at is None and w.quit_sent_at is None:
                self._boot_failures += 1
            self._exits.append(
                WorkerExit(
                    pid=pid,
                    ready=w.ready,
                    exit_code=code if code >= 0 else None,
                    signal=-code if code < 0 else None,
                    expected=expected,
                    message=w.message,
                )
            )

    def _sample_rss(self, now: float) -> None:
        if self.config.max_worker_rss <= 0 or now - self._last_rss < RSS_INTERVAL:
            return
        self._last_rss = now
        page = os.sysconf("SC_PAGE_SIZE")
        for w in self._workers.values():
            try:
                with open(f"/proc/{w.pid}/statm", "rb") as f:
                    w.rss_mib = int(f.read().split()[1]) * page / (1024 * 1024)
            except (OSError, IndexError, ValueError):
                w.rss_mib = _rss_mib_portable(w.pid)

    def _snapshot(self) -> SupervisorState:
        return replace(
            self._state,
            workers=tuple(w.view() for w in self._workers.values()),
            exits=tuple(self._exits),
            boot_failures=self._boot_failures,
        )

    # -- actions ----------------------------------------------------------------------

    def _perform(self, action: policy.Action, now: float) -> bool:
        """Do ``action``; return True if the master's phase changed (reconcile again)."""
        if isinstance(action, policy.Spawn):
            self._spawn(action.generation, now)
        elif isinstance(action, policy.Stop):
            w = self._workers[action.pid]
            if action.graceful:
                w.term_sent_at = now
                self._kill(w.pid, signal.SIGTERM)
            else:
                w.quit_sent_at = now
                self._kill(w.pid, signal.SIGQUIT)
        elif isinstance(action, policy.Abort):
            self._workers[action.pid].abort_sent_at = now
            self._note(f"worker {action.pid}: {action.reason}; aborting it")
            self._kill(action.pid, signal.SIGABRT)
        elif isinstance(action, policy.Kill):
            self._workers[action.pid].kill_sent = True
            self._note(f"worker {action.pid}: {action.reason}; killing it")
            self._kill(action.pid, signal.SIGKILL)
        elif isinstance(action, policy.Halt):
            self._halt_message = action.message
            self._state = policy.halt(self._state, action, now)
            return True
        elif isinstance(action, policy.Note):
            self._note(action.message)
        return False

    @staticmethod
    def _kill(pid: int, sig: int) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, sig)

    def _note(self, message: str) -> None:
        print(f"bench: prefork: {message}", file=self._log, flush=True)

    def _announce(self) -> None:
        from bench.servers.sockets import READY_PREFIX, describe

        self._announced = True
        names = [describe(s) for s in self.sockets]
        if self.config.certfile is not None:
            names = [n.replace("http://", "https://", 1) for n in names]
        extra = f"also {', '.join(names[1:])}; " if len(names) > 1 else ""
        print(
            f"{READY_PREFIX} {names[0]} ({extra}prefork master pid {os.getpid()}, "
            f"{self.config.describe()})",
            file=self._log,
            flush=True,
        )

    def _spawn(self, generation: int, now: float) -> None:
        heartbeat = Heartbeat()
        for stream in (sys.stdout, sys.stderr, self._log):
            with contextlib.suppress(Exception):
                stream.flush()
        pid = os.fork()
        if pid == 0:  # pragma: no cover - runs in the child, which ends in os._exit
            code = 1
            try:
                self._become_child()
                code = self._run_child(heartbeat)
            except SystemExit as exc:
                code = exc.code if isinstance(exc.code, int) else 1
            except BaseException:
                traceback.print_exc()
                code = 1
            finally:
                with contextlib.suppress(Exception):
                    sys.stdout.flush()
                    sys.stderr.flush()
                os._exit(code)
        self._workers[pid] = _Worker(pid, generation, now, heartbeat)

    def _become_child(self) -> None:
        """In a fresh child: drop the master's signal handling and its ends of the pipes."""
        signal.set_wakeup_fd(-1)
        for sig in HANDLED_SIGNALS:
            signal.signal(sig, signal.SIG_DFL)
        self._signals.clear()
        for fd in (self._wakeup_r, self._wakeup_w):
            os.close(fd)
        self.status.close_read_end()

    def _run_child(self, heartbeat: Heartbeat) -> int:
        from bench.servers.prefork.workers import run_worker_process

        return run_worker_process(
            self.config,
            self.app_spec,
            sockets=self.sockets,
            heartbeat=heartbeat,
            status=self.status,
            preloaded=self.preloaded,
        )


def _rss_mib_portable(pid: int) -> float | None:
    """Resident memory of ``pid`` in MiB where /proc is not available (psutil)."""
    try:
        import psutil

        return psutil.Process(pid).memory_info().rss / (1024 * 1024)
    except Exception:
        return None


def serve_forever(config: PreforkConfig, app_spec: str) -> int:
    """Run a master for ``config`` and ``app_spec``; ServerError for fatal problems."""
    try:
        return Master(config, app_spec).run()
    except ServerError:
        raise
    except OSError as exc:
        raise ServerError(f"prefork master failed: {exc}") from None
