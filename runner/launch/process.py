"""Start a server configuration, wait until it answers, stop it, leave nothing behind.

How this works:
- ``ServerProcess.start`` runs the command in a new process group (``process_group=0``)
  pinned to the server's CPUs (``bench.runner.launch.pinning.pin_command``), stdout and stderr going
  to a log file (never a pipe nobody reads).
- ``wait_ready`` probes: connect to host:port and send a GET; the first HTTP status line
  back means ready. Between probes it checks the process is alive, so a server that exits
  fails fast with the tail of its log. No fixed sleep: the deadline bounds the polling.
- the process tree is sampled while it serves by ``bench.runner.launch.sampler``.
- ``stop`` sends SIGTERM to the group, SIGKILL after the timeout, then looks for any
  process of the group or of the sampled tree still alive, kills it and reports it.
- The server gets SIGTERM if the runner dies without stopping it (even by SIGKILL):
  on Linux the child asks for it with ``prctl(PR_SET_PDEATHSIG)`` before it runs the
  command; a server with workers (a prefork master) then takes them down itself.

Resource handling: every process started here is stopped by ``stop`` (use it in a
``finally``). Error handling: start/readiness problems raise ``LaunchError``.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import signal
import socket
import subprocess
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import psutil

from bench.runner.errors import LaunchError
from bench.runner.launch.pinning import pin_command

#: Seconds between readiness probes.
PROBE_INTERVAL_S = 0.05
#: Lines of the server log quoted in a failure reason.
LOG_TAIL_LINES = 3


#: prctl option: the signal this process gets when its parent exits (Linux).
_PR_SET_PDEATHSIG = 1


def _load_prctl() -> Callable[..., int] | None:
    """libc's ``prctl``, resolved in the parent (the child then only calls it)."""
    if os.uname().sysname != "Linux":
        return None
    try:
        return ctypes.CDLL(None, use_errno=True).prctl  # type: ignore[no-any-return]
    except (OSError, AttributeError):
        return None


_PRCTL = _load_prctl()


def _parent_death_signal(parent: int) -> Callable[[], None] | None:
    """A ``preexec_fn`` that makes the child get SIGTERM when the runner dies (Linux)."""
    prctl = _PRCTL
    if prctl is None:
        return None

    def preexec() -> None:
        prctl(_PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)
        if os.getppid() != parent:  # the runner died before prctl: act as if after
            os.kill(os.getpid(), signal.SIGTERM)

    return preexec


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port the OS says is free on ``host`` right now."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def log_tail(path: Path, lines: int = LOG_TAIL_LINES) -> str:
    """The last non-empty lines of a log file, joined with `` | `` (for one-line reasons)."""
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return ""
    kept = [line.strip() for line in text.splitlines() if line.strip()]
    return " | ".join(kept[-lines:])


def probe_http(host: str, port: int, path: str = "/", timeout: float = 2.0) -> bool:
    """True when a GET to host:port gets an HTTP status line back (any status)."""
    request = f"GET {path} HTTP/1.1\r\nHost: {host}:{port}\r\nConnection: close\r\n\r\n"
    try:
        with socket.create_connection((host, port), timeout=timeout) as sock:
            sock.sendall(request.encode("latin-1"))
            head = sock.recv(16)
    except OSError:
        return False
    return head.startswith(b"HTTP/")


@dataclass(slots=True)
class StopReport:
    """How a stop went: exit code, whether SIGKILL was needed, leftovers killed."""

    exit_code: int | None
    killed: bool = False
    leftovers: list[int] = field(default_factory=list)


class ServerProcess:
    """One server under test, as a process group.

    Args:
        argv: the command; env: variables added to the runner's environment.
        cpus: CPUs to pin to (``None``: not pinned). log_path: where stdout/stderr go.
    """

    def __init__(
        self,
        argv: Sequence[str],
        *,
        env: Mapping[str, str] | None = None,
        cpus: tuple[int, ...] | None = None,
        log_path: Path,
        cwd: str | None = None,
    ) -> None:
        self.argv = list(argv)
        self.env = dict(env or {})
        self.cpus = cpus
        self.log_path = log_path
        self.cwd = cwd
        self.proc: subprocess.Popen[bytes] | None = None
        #: Every process seen in the tree (psutil objects remember their start time, so a
        #: reused pid is never mistaken for one of ours).
        self.seen: dict[int, psutil.Process] = {}

    @property
    def pid(self) -> int:
        """The group leader's pid (also the process group id)."""
        if self.proc is None:
            raise RuntimeError("server not started")
        return self.proc.pid

    def start(self) -> None:
        """Start the command in its own process group; raise LaunchError if it cannot run."""
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        env = {**os.environ, **self.env, "PYTHONUNBUFFERED": "1"}
        with open(self.log_path, "ab") as log:
            try:
                self.proc = subprocess.Popen(
                    pin_command(self.argv, self.cpus),
                    stdin=subprocess.DEVNULL,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    env=env,
                    cwd=self.cwd,
                    process_group=0,
                    preexec_fn=_parent_death_signal(os.getpid()),
                )
            except OSError as exc:
                raise LaunchError(f"cannot run {self.argv[0]}: {exc.strerror}") from None
        with contextlib.suppress(psutil.Error):
            self.seen[self.proc.pid] = psutil.Process(self.proc.pid)

    def returncode(self) -> int | None:
        """The exit code if the group leader has exited, else None."""
        return None if self.proc is None else self.proc.poll()

    def wait_ready(
        self,
        host: str,
        port: int,
        path: str,
        timeout: float,
        *,
        should_stop: Callable[[], bool] | None = None,
    ) -> float:
        """Poll until the server answers HTTP; return the seconds it took.

        Raises:
            LaunchError: the process exited, the deadline passed, or ``should_stop()``.
        """
        start = time.monotonic()
        deadline = start + timeout
        while True:
            if should_stop is not None and should_stop():
                raise LaunchError("stopped while waiting for the server")
            code = self.returncode()
            if code is not None:
                tail = log_tail(self.log_path)
                raise LaunchError(
                    f"server exited with code {code} before listening"
                    + (f": {tail}" if tail else "")
                )
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                tail = log_tail(self.log_path)
                raise LaunchError(
                    f"server not ready after {timeout:g}s" + (f": {tail}" if tail else "")
                )
            if probe_http(host, port, path, timeout=min(2.0, max(remaining, 0.05))):
                return time.monotonic() - start
            time.sleep(PROBE_INTERVAL_S)

    def tree(self) -> list[psutil.Process]:
        """The group leader and all its descendants that are alive now."""
        if self.proc is None or self.proc.poll() is not None:
            return []
        try:
            root = psutil.Process(self.proc.pid)
            procs = [root, *root.children(recursive=True)]
        except psutil.Error:
            return []
        for proc in procs:
            self.seen.setdefault(proc.pid, proc)
        return procs

    def stop(self, timeout: float) -> StopReport:
        """SIGTERM the group, SIGKILL after ``timeout``, then kill any leftover process."""
        if self.proc is None:
            return StopReport(exit_code=None)
        known = self._known_processes()
        killed = False
        if self.proc.poll() is None:
            _signal_group(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                _signal_group(self.proc.pid, signal.SIGKILL)
                killed = True
                with contextlib.suppress(subprocess.TimeoutExpired):
                    self.proc.wait(5.0)
        leftovers = self._leftovers(known)
        return StopReport(exit_code=self.proc.returncode, killed=killed, leftovers=leftovers)

    def _known_processes(self) -> list[psutil.Process]:
        self.tree()
        return list(self.seen.values())

    def _leftovers(self, known: list[psutil.Process]) -> list[int]:
        """Kill processes of the group (or seen in the tree) still alive; return their pids."""
        assert self.proc is not None
        alive = [p for p in known if p.pid != self.proc.pid and _still_running(p)]
        # Processes that kept the group id but were never sampled (short-lived forks).
        with contextlib.suppress(psutil.Error):
            for proc in psutil.process_iter(["pid"]):
                if proc.pid in {p.pid for p in alive} or proc.pid == os.getpid():
                    continue
                with contextlib.suppress(psutil.Error, ProcessLookupError):
                    if os.getpgid(proc.pid) == self.proc.pid and _still_running(proc):
                        alive.append(proc)
        for proc in alive:
            with contextlib.suppress(psutil.Error):
                proc.kill()
        psutil.wait_procs(alive, timeout=3.0)
        return sorted(p.pid for p in alive)


def _still_running(proc: psutil.Process) -> bool:
    try:
        return proc.is_running() and proc.status() != psutil.STATUS_ZOMBIE
    except psutil.Error:
        return False


def _signal_group(pgid: int, sig: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, sig)
