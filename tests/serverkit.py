"""Starting real `bench serve` processes in tests (the fixtures are registered by tests/conftest.py).

``serve`` (and ``serve_module``, the same for module-scoped fixtures) — start a real ``bench serve`` process and stop it, whatever happens::

    def test_x(serve):
        with serve("eventloop", "hello") as url:          # url == "http://127.0.0.1:PORT"
            httpx.get(url + "/")

    serve(*args: str,
          env: dict[str, str] | None = None,   # extra environment (PYTHONPATH is prepended)
          bind: str | None = "127.0.0.1:0",    # added as -b unless args already bind
          ready_timeout: float = 20.0,         # deadline for the readiness line
          stop_timeout: float = 10.0,          # SIGTERM -> SIGKILL grace at teardown
          pass_fds: tuple[int, ...] = (),      # file descriptors the server inherits
          ) -> ContextManager[ServedURL]

It runs ``python -m bench.runner.cli serve *args -b 127.0.0.1:0`` in its own process group
(cwd: the repository root), waits for the one readiness line
``bench: listening on URL (...)`` on stderr (no sleeping, a deadline), and yields the
URL: a ``str`` subclass that also carries ``.process`` (the Popen), ``.host``,
``.port``, ``.log()`` (stderr so far), ``.signal(sig)`` and ``.stop(timeout) -> exit
code``. On leaving the block — also when the test failed — the process group gets
SIGTERM, then SIGKILL after ``stop_timeout``. Any server a test started and did not
stop is stopped when the test ends.
"""

from __future__ import annotations

import contextlib
import os
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parent.parent
READY_RE = re.compile(r"^bench: listening on (\S+) \(")
_BIND_FLAGS = ("-b", "--bind", "--uds", "--fd")


class ServerProcess:
    """A ``bench serve`` child process in its own process group, with its stderr collected."""

    def __init__(
        self, argv: list[str], env: dict[str, str], pass_fds: tuple[int, ...] = ()
    ) -> None:
        self.argv = argv
        self.process = subprocess.Popen(
            argv,
            cwd=REPO_ROOT,
            env=env,
            pass_fds=pass_fds,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            start_new_session=True,
        )
        self._lines: list[str] = []
        self._lock = threading.Lock()
        self._ready = threading.Event()
        self.url: str | None = None
        self._reader = threading.Thread(target=self._read_stderr, daemon=True)
        self._reader.start()

    def _read_stderr(self) -> None:
        assert self.process.stderr is not None
        for raw in self.process.stderr:
            line = raw.decode("utf-8", "replace").rstrip("\n")
            with self._lock:
                self._lines.append(line)
            match = READY_RE.match(line)
            if match and self.url is None:
                self.url = match.group(1)
                self._ready.set()
        self._ready.set()  # EOF: the process is gone

    def log(self) -> str:
        """Everything the process wrote to stderr so far."""
        with self._lock:
            return "\n".join(self._lines)

    def wait_ready(self, timeout: float) -> str:
        """Return the URL from the readiness line; raise if the process dies or is late."""
        if not self._ready.wait(timeout) or self.url is None:
            self.stop(2.0)
            raise RuntimeError(
                f"server did not become ready within {timeout}s: {' '.join(self.argv)}\n"
                f"exit code: {self.process.poll()}\nstderr:\n{self.log()}"
            )
        return self.url

    def signal(self, signum: int) -> None:
        """Send ``signum`` to the server process (not its group)."""
        if self.process.poll() is None:
            self.process.send_signal(signum)

    def stop(self, timeout: float = 10.0) -> int:
        """SIGTERM the process group, SIGKILL it after ``timeout``; return the exit code."""
        if self.process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(5.0)
        # Children of the group (prefork workers) must not outlive the test.
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.process.pid, signal.SIGKILL)
        self._reader.join(5.0)
        return self.process.returncode

    def wait(self, timeout: float) -> int:
        """Wait for the process to exit by itself; return its exit code."""
        return self.process.wait(timeout)


class ServedURL(str):
    """The base URL of a served process, with the process attached."""

    server: ServerProcess

    @property
    def process(self) -> subprocess.Popen[bytes]:
        return self.server.process

    @property
    def host(self) -> str:
        return self.split("://", 1)[1].rsplit(":", 1)[0].strip("[]")

    @property
    def port(self) -> int | None:
        tail = self.rsplit(":", 1)[1]
        return int(tail) if tail.isdigit() else None

    def log(self) -> str:
        return self.server.log()

    def signal(self, signum: int) -> None:
        self.server.signal(signum)

    def stop(self, timeout: float = 10.0) -> int:
        return self.server.stop(timeout)


def _environment(extra: dict[str, str] | None) -> dict[str, str]:
    env = dict(os.environ)
    extra = dict(extra or {})
    paths = [extra.pop("PYTHONPATH", ""), str(REPO_ROOT), env.get("PYTHONPATH", "")]
    env["PYTHONPATH"] = os.pathsep.join(p for p in paths if p)
    env["PYTHONUNBUFFERED"] = "1"
    env.update(extra)
    return env


@contextlib.contextmanager
def serve_process(
    *args: str,
    env: dict[str, str] | None = None,
    bind: str | None = "127.0.0.1:0",
    ready_timeout: float = 20.0,
    stop_timeout: float = 10.0,
    pass_fds: tuple[int, ...] = (),
    started: list[ServerProcess] | None = None,
) -> Iterator[ServedURL]:
    """The context manager behind the ``serve`` fixture (see the module docstring)."""
    argv = [sys.executable, "-m", "bench.runner.cli", "serve", *args]
    if bind is not None and not any(a in _BIND_FLAGS for a in args):
        argv += ["-b", bind]
    server = ServerProcess(argv, _environment(env), pass_fds)
    if started is not None:
        started.append(server)
    try:
        url = ServedURL(server.wait_ready(ready_timeout))
        url.server = server
        yield url
    finally:
        server.stop(stop_timeout)


@pytest.fixture
def serve() -> Iterator[Callable[..., contextlib.AbstractContextManager[ServedURL]]]:
    """Start ``bench serve ...`` processes; see the module docstring for the signature."""
    started: list[ServerProcess] = []

    def factory(*args: str, **kwargs: object) -> contextlib.AbstractContextManager[ServedURL]:
        return serve_process(*args, started=started, **kwargs)  # type: ignore[arg-type]

    try:
        yield factory
    finally:
        for server in started:
            server.stop(5.0)


def wait_until(predicate: Callable[[], bool], timeout: float, interval: float = 0.02) -> bool:
    """Poll ``predicate`` until it is true or ``timeout`` passes; return its last value."""
    deadline = time.monotonic() + timeout
    while True:
        if predicate():
            return True
        if time.monotonic() >= deadline:
            return False
        time.sleep(interval)


@pytest.fixture(scope="module")
def serve_module() -> Iterator[Callable[..., contextlib.AbstractContextManager[ServedURL]]]:
    """Like ``serve``, for module-scoped fixtures (one server shared by a test module)."""
    started: list[ServerProcess] = []

    def factory(*args: str, **kwargs: object) -> contextlib.AbstractContextManager[ServedURL]:
        return serve_process(*args, started=started, **kwargs)  # type: ignore[arg-type]

    try:
        yield factory
    finally:
        for server in started:
            server.stop(5.0)
