"""What every worker process does besides serving: signals, heartbeat, retirement.

``WorkerRuntime`` is created once in a freshly forked worker. It installs the
worker's signal handlers: TERM only clears ``alive`` (graceful stop: the loop stops
accepting, finishes what is in flight and returns), INT and QUIT raise ``SystemExit``
(fast stop), ABRT (sent by the master after ``--timeout`` of silence) prints every
thread's stack and exits at once, and the signals meant for the master (HUP, TTIN,
TTOU, USR1, USR2, WINCH) are ignored so a signal sent to the whole process group does
no harm. A wakeup pipe (``signal.set_wakeup_fd``) makes a loop blocked in
``poll``/``epoll`` return as soon as a signal arrives.

``beat()`` records the heartbeat and, about once a second, checks that the master is
still our parent (a worker whose master died stops accepting and exits).
``count_request()`` asks the master for a replacement after ``--max-requests``.
"""

from __future__ import annotations

import faulthandler
import os
import random
import signal
import sys
import time
from types import FrameType

from bench.servers.prefork.config import PreforkConfig
from bench.servers.prefork.heartbeat import Heartbeat, StatusPipe

#: Seconds between checks that the master is still alive.
PARENT_CHECK_INTERVAL = 1.0
#: Exit status of a worker aborted for silence.
ABORTED = 1
#: Signals meant for the master that a worker ignores.
_IGNORED = ("SIGHUP", "SIGTTIN", "SIGTTOU", "SIGUSR1", "SIGUSR2", "SIGWINCH")


class WorkerRuntime:
    """Process-level duties of one worker (see the module docstring)."""

    def __init__(self, config: PreforkConfig, heartbeat: Heartbeat, status: StatusPipe) -> None:
        self.config = config
        self.heartbeat = heartbeat
        self.status = status
        #: False once a graceful stop was requested (or the master is gone).
        self.alive = True
        #: Monotonic time of the graceful stop request.
        self.stop_requested_at: float | None = None
        self.ppid = os.getppid()
        self.wake_r, self.wake_w = os.pipe()
        os.set_blocking(self.wake_r, False)
        os.set_blocking(self.wake_w, False)
        self.requests = 0
        self.max_requests = 0
        if config.max_requests > 0:
            self.max_requests = config.max_requests + random.randint(0, config.max_requests_jitter)
        self._retire_sent = False
        self._next_parent_check = 0.0
        #: True while the app is being imported: a quit then ends the process at once.
        self.booting = False

    def install_signals(self) -> None:
        """Install the worker's handlers (call once, in the worker's main thread)."""
        signal.signal(signal.SIGTERM, self._on_term)
        signal.signal(signal.SIGINT, self._on_quit)
        signal.signal(signal.SIGQUIT, self._on_quit)
        signal.signal(signal.SIGABRT, self._on_abort)
        for name in _IGNORED:
            sig = getattr(signal, name, None)
            if sig is not None:
                signal.signal(sig, signal.SIG_IGN)
        signal.set_wakeup_fd(self.wake_w, warn_on_full_buffer=False)

    def _on_term(self, signum: int, frame: FrameType | None) -> None:
        if self.alive:
            self.alive = False
            self.stop_requested_at = time.monotonic()

    def _on_quit(self, signum: int, frame: FrameType | None) -> None:
        if self.booting:
            # Mid-import, a SystemExit can land in one of importlib's callbacks, which
            # swallows it ("Exception ignored in ...") and the import goes on: nothing is
            # served yet, so there is nothing to finish; leave now.
            os._exit(0)
        raise SystemExit(0)

    def _on_abort(self, signum: int, frame: FrameType | None) -> None:
        print(
            f"bench: prefork: worker {os.getpid()} aborted (no heartbeat for "
            f"{self.config.timeout:g}s); where its threads were:",
            file=sys.stderr,
            flush=True,
        )
        faulthandler.dump_traceback(all_threads=True)
        os._exit(ABORTED)

    def drain_wakeups(self) -> None:
        """Empty the wakeup pipe after a poll returned because of a signal."""
        try:
            while os.read(self.wake_r, 4096):
                pass
        except BlockingIOError:
            pass

    def beat(self) -> None:
        """Heartbeat; once a second also check that the master is still our parent."""
        now = time.monotonic()
        self.heartbeat.beat_at(now)
        if now >= self._next_parent_check:
            self._next_parent_check = now + PARENT_CHECK_INTERVAL
            if os.getppid() != self.ppid and self.alive:
                self.alive = False
                self.stop_requested_at = now

    def ready(self) -> None:
        """Tell the master this worker accepts connections."""
        self.beat()
        self.status.send("ready")

    def count_request(self) -> None:
        """Count a served request; past ``--max-requests``, ask to be replaced (once)."""
        self.requests += 1
        if self.max_requests and self.requests >= self.max_requests and not self._retire_sent:
            self._retire_sent = True
            self.status.send("retire", f"{self.requests} requests served")
