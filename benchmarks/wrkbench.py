"""What the wrk-driven server benchmarks share: a pinned server, readiness, wrk, its output.

Used by ``eventloop_vs_uvicorn.py`` and ``prefork_vs_gunicorn.py`` (run as scripts from
the repository root, so this module is importable beside them). Each server runs in its
own session (process group) pinned to one CPU; wrk runs under ``taskset`` on another.
"""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import psutil

REPO_ROOT = Path(__file__).resolve().parent.parent
_UNITS = {"us": 1e-3, "ms": 1.0, "s": 1e3}


@dataclass(frozen=True, slots=True)
class WrkRun:
    """What one ``wrk --latency`` run printed; ``failure`` is set when it cannot count."""

    rps: float = 0.0
    p50_ms: float = 0.0
    p99_ms: float = 0.0
    requests: int = 0
    failure: str | None = None


def _ms(value: str) -> float:
    match = re.fullmatch(r"([\d.]+)(us|ms|s)", value)
    if not match:
        raise ValueError(f"unparsable wrk latency {value!r}")
    return float(match.group(1)) * _UNITS[match.group(2)]


def parse_wrk(output: str) -> WrkRun:
    """Parse ``wrk --latency`` output; socket errors or non-2xx answers make it a failure."""
    rps = re.search(r"Requests/sec:\s+([\d.]+)", output)
    p50 = re.search(r"^\s+50%\s+(\S+)", output, re.M)
    p99 = re.search(r"^\s+99%\s+(\S+)", output, re.M)
    total = re.search(r"(\d+) requests in", output)
    if not (rps and p50 and p99 and total):
        return WrkRun(failure="wrk output not understood: " + " ".join(output.split())[:120])
    failure = None
    errors = re.search(r"Socket errors: (.*)", output)
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    if errors:
        failure = "socket errors: " + errors.group(1).strip()
    elif non2xx:
        failure = f"{non2xx.group(1)} non-2xx responses"
    return WrkRun(
        float(rps.group(1)), _ms(p50.group(1)), _ms(p99.group(1)), int(total.group(1)), failure
    )


def run_wrk(wrk: str, cpu: int, url: str, *, threads: int, connections: int, seconds: float) -> str:
    """Run wrk pinned to ``cpu``; return what it printed."""
    command = [
        "taskset", "-c", str(cpu), wrk, "-t", str(threads),
        "-c", str(connections), "-d", f"{seconds:g}s", "--latency", url,
    ]  # fmt: skip
    done = subprocess.run(command, capture_output=True, text=True, timeout=seconds + 30)
    return done.stdout + done.stderr


def start_pinned(
    command: Sequence[str],
    cpu: int,
    env: Mapping[str, str] | None = None,
    cwd: Path = REPO_ROOT,
) -> subprocess.Popen[bytes]:
    """Start a server in its own process group, pinned to ``cpu``, stderr kept for errors.

    It runs in ``cwd`` (the repository root unless told): ``python -m`` imports from there.
    """
    return subprocess.Popen(
        list(command),
        cwd=cwd,
        env=dict(env) if env is not None else None,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        start_new_session=True,
        preexec_fn=lambda: os.sched_setaffinity(0, {cpu}),
    )


def wait_ready(
    port: int, process: subprocess.Popen[bytes], path: str = "/", timeout: float = 30.0
) -> None:
    """Wait until a GET on ``port`` answers 200 (raise if the process dies or is late)."""
    deadline = time.monotonic() + timeout
    request = f"GET {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n".encode()
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server exited with {process.returncode} before it was ready")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=2) as probe:
                probe.sendall(request)
                if probe.recv(64).startswith(b"HTTP/1.1 200"):
                    return
        except OSError:
            pass
        time.sleep(0.05)
    raise RuntimeError("server did not answer in time")


def tree_cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of ``pid`` and its live descendants."""
    try:
        root = psutil.Process(pid)
        processes = [root, *root.children(recursive=True)]
    except psutil.NoSuchProcess:
        return 0.0
    total = 0.0
    for process in processes:
        try:
            times = process.cpu_times()
        except psutil.NoSuchProcess:
            continue
        total += times.user + times.system
    return total


def stop(process: subprocess.Popen[bytes]) -> str:
    """Stop the server's process group (TERM, then KILL); return the last lines of stderr."""
    try:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(15)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()
    except ProcessLookupError:
        process.wait()
    tail = ""
    if process.stderr is not None:
        lines = process.stderr.read().decode(errors="replace").strip().splitlines()[-3:]
        tail = " / ".join(lines)
        process.stderr.close()
    return tail


@dataclass(frozen=True, slots=True)
class PinnedRun:
    """One measured wrk run of a freshly started server; ``failure`` says why it counts not."""

    rps: float | None = None
    p99_ms: float | None = None
    cpu_us_per_request: float | None = None
    failure: str | None = None


def measure_pinned(
    command: Sequence[str],
    *,
    port: int,
    wrk: str,
    server_cpu: int,
    client_cpu: int,
    connections: int,
    warmup: float,
    duration: float,
    path: str = "/",
    env: Mapping[str, str] | None = None,
    cwd: Path = REPO_ROOT,
) -> PinnedRun:
    """Start ``command`` pinned, wait until it answers, warm it up, measure once, stop it.

    The server's CPU per request is its process tree's over the measured run. A server
    that does not start, wrk errors or non-2xx answers make a failed run, never zeros.
    """
    process = start_pinned(command, server_cpu, env, cwd=cwd)
    url = f"http://127.0.0.1:{port}{path}"
    failure = None
    try:
        wait_ready(port, process, path, timeout=30)
        run_wrk(wrk, client_cpu, url, threads=1, connections=connections, seconds=warmup)
        before = tree_cpu_seconds(process.pid)
        output = run_wrk(wrk, client_cpu, url, threads=1, connections=connections, seconds=duration)
        cpu = tree_cpu_seconds(process.pid) - before
        result = parse_wrk(output)
        failure = result.failure
    except (RuntimeError, subprocess.TimeoutExpired) as exc:
        failure = str(exc)
    finally:
        tail = stop(process)
    if failure is not None:
        return PinnedRun(failure=f"{failure} | {tail}" if tail else failure)
    per_request = cpu / result.requests * 1e6 if result.requests else None
    return PinnedRun(result.rps, result.p99_ms, per_request)
