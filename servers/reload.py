"""``--reload`` for development: run the server as a child, restart it when files change.

The supervising process only watches (``watchfiles``, which uses the OS's file events)
and relaunches: the server runs in a child process started from the command it is
given (the same command line without ``--reload``), in the supervisor's process group
(whoever stops the group stops the child too); a restart sends the child SIGTERM, and
a prefork master stops its own workers. A change to a ``.py`` (or ``.env``, ``.json``, ``.yaml``) file under the watched
directories (``--reload-dir``, else the current one) sends the child SIGTERM, waits for it
(SIGKILL after ``STOP_TIMEOUT``) and starts a new one. SIGTERM/SIGINT to the
supervisor stops the child and exits with its exit code.

The child rebinds the same address on every restart (listeners are not inherited);
binding port 0 therefore gives a new port each time, which the readiness line tells.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
from collections.abc import Sequence
from pathlib import Path

from bench.servers.errors import ConfigError

#: Seconds a child gets to stop after SIGTERM before SIGKILL.
STOP_TIMEOUT = 10.0
#: Files whose change restarts the server (besides any file under a --reload-dir).
WATCHED_SUFFIXES: tuple[str, ...] = (".py", ".env", ".json", ".yaml", ".yml")


def _start(command: Sequence[str]) -> subprocess.Popen[bytes]:
    return subprocess.Popen(list(command))


def _stop(child: subprocess.Popen[bytes]) -> int:
    if child.poll() is None:
        child.terminate()
        try:
            child.wait(STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            child.kill()
            child.wait()
    return child.returncode


def _watch_filter(change: object, path: str) -> bool:
    return path.endswith(WATCHED_SUFFIXES) and "__pycache__" not in path


def run_with_reload(command: Sequence[str], dirs: Sequence[str] = ()) -> int:
    """Run ``command`` and restart it on file changes under ``dirs`` (default: the cwd).

    Returns the child's exit code once the supervisor is asked to stop (or the child
    exits by itself, which is not restarted until the next change).

    Raises:
        ConfigError: ``watchfiles`` is not installed or a directory does not exist.
    """
    try:
        import watchfiles
    except ImportError:
        raise ConfigError("--reload needs watchfiles (pip install watchfiles)") from None
    paths = [Path(d).resolve() for d in (dirs or [os.getcwd()])]
    for path in paths:
        if not path.is_dir():
            raise ConfigError(f"--reload-dir {path}: no such directory")
    stop = threading.Event()

    def on_signal(signum: int, frame: object) -> None:
        stop.set()

    previous = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGTERM, signal.SIGINT)}
    child = _start(command)
    print(f"bench: reload: watching {', '.join(map(str, paths))}", file=sys.stderr, flush=True)
    try:
        for changes in watchfiles.watch(
            *paths,
            watch_filter=_watch_filter,
            stop_event=stop,
            rust_timeout=1000,
            yield_on_timeout=False,
        ):
            names = sorted({Path(p).name for _kind, p in changes})
            print(f"bench: reload: {', '.join(names)} changed; restarting", file=sys.stderr)
            _stop(child)
            child = _start(command)
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        code = _stop(child)
    return 0 if code in (0, -signal.SIGTERM) else code
