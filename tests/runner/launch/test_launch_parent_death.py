"""A runner killed with SIGKILL leaves no server under test running (Linux).

A small launcher process starts a prefork server with two workers through
``bench.runner.launch.ServerProcess``, as ``bench run`` does, waits until it answers and
prints the pids of the server's process tree; the test SIGKILLs the launcher and waits
(a bounded poll) for every one of those pids to go away.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import psutil
import pytest
from serverkit import REPO_ROOT, wait_until

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not sys.platform.startswith("linux"), reason="PR_SET_PDEATHSIG is Linux"),
]

LAUNCHER = textwrap.dedent(
    """
    import sys
    import time
    from pathlib import Path
    from bench.runner.launch.process import ServerProcess, free_port

    port = free_port()
    argv = [sys.executable, "-m", "bench.runner.cli", "serve", "prefork", "hello", "-w", "2",
            "-b", f"127.0.0.1:{port}"]
    server = ServerProcess(argv, log_path=Path(sys.argv[1]), cwd=sys.argv[2])
    server.start()
    server.wait_ready("127.0.0.1", port, "/", 30)
    deadline = time.monotonic() + 30
    while len(server.tree()) < 3 and time.monotonic() < deadline:  # both workers forked
        time.sleep(0.02)
    pids = [p.pid for p in server.tree()]
    print(" ".join(map(str, pids)), flush=True)
    sys.stdin.read()  # until killed
    """
)


def _gone(pids: list[int]) -> bool:
    for pid in pids:
        with contextlib.suppress(psutil.NoSuchProcess):
            if psutil.Process(pid).status() != psutil.STATUS_ZOMBIE:
                return False
    return True


def test_a_killed_runner_takes_the_server_and_its_workers_down(tmp_path: Path) -> None:
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT)}
    launcher = subprocess.Popen(
        [sys.executable, "-c", LAUNCHER, str(tmp_path / "server.log"), str(REPO_ROOT)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        env=env,
        cwd=REPO_ROOT,
    )
    pids: list[int] = []
    try:
        assert launcher.stdout is not None
        line = launcher.stdout.readline().decode()
        pids = [int(p) for p in line.split()]
        assert len(pids) >= 3, f"expected a master and two workers, got {line!r}"
        launcher.kill()
        launcher.wait(10)
        assert wait_until(lambda: _gone(pids), 20.0), "the server outlived the runner"
    finally:
        launcher.kill()
        launcher.wait(10)
        if pids:  # the server's process group, should the test have failed
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(pids[0], signal.SIGKILL)
