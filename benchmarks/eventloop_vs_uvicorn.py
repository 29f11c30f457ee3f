"""Hello-world throughput of bench's eventloop server vs uvicorn (httptools + uvloop), side by side.

Usage (from the repository root)::

    python benchmarks/eventloop_vs_uvicorn.py [--duration 10] [--connections 64]
        [--repetitions 3] [--server-cpu 0] [--client-cpu 1] [--app hello]

Method: both servers serve the same bundled ASGI app (``servers.apps.hello:asgi``), one
worker, pinned to ``--server-cpu``; wrk runs pinned to ``--client-cpu`` (so the load
generator never competes with the server). Each server gets a fresh process per
repetition on a free port of 127.0.0.1, a short warm-up,
then one measured wrk run. Repetitions are interleaved (A B, B A, A B, ...) so drift
hits both. A run whose wrk reports socket errors or non-2xx answers, or whose server
did not start, is marked failed — never counted as zero. The server's CPU use during
the measured run is reported: ≈100 % means the number is the server's capacity; much
less means something else took the server's core (a shared machine), and requests per
CPU-second is then the fairer comparison.

Output: a markdown table of every run and a summary (median requests/s, median p99,
and the throughput ratio eventloop / uvicorn). Exit code 0 if every run succeeded.
This is a benchmark, not a test: it asserts nothing. The runner's scenarios replace it.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
_UNITS = {"us": 1e-3, "ms": 1.0, "s": 1e3}


@dataclass
class RunResult:
    """One measured wrk run against one server."""

    server: str
    repetition: int
    rps: float | None = None
    p50_ms: float | None = None
    p99_ms: float | None = None
    server_cpu: float | None = None
    failure: str | None = None


def server_commands(app: str, port: int) -> dict[str, list[str]]:
    """The command line of each server, serving ``app`` on 127.0.0.1:``port``.

    Each server binds the port itself (uvicorn's ``--fd`` assumes a Unix socket, which
    would leave TCP_NODELAY off and measure Nagle's algorithm instead of the server).
    """
    python = sys.executable
    return {
        "eventloop": [
            python, "-m", "runner.cli", "serve", "eventloop", app,
            "-b", f"127.0.0.1:{port}", "--log-level", "warning",
        ],
        "uvicorn": [
            python, "-m", "uvicorn", f"servers.apps.{app}:asgi",
            "--host", "127.0.0.1", "--port", str(port),
            "--http", "httptools", "--loop", "uvloop", "--workers", "1",
            "--no-access-log", "--log-level", "warning", "--lifespan", "auto",
        ],
    }  # fmt: skip


def _ms(value: str) -> float:
    match = re.fullmatch(r"([\d.]+)(us|ms|s)", value)
    if not match:
        raise ValueError(f"unparsable wrk latency {value!r}")
    return float(match.group(1)) * _UNITS[match.group(2)]


def parse_wrk(output: str) -> tuple[float, float, float, str | None]:
    """Return (requests/s, p50 ms, p99 ms, failure or None) from ``wrk --latency`` output."""
    rps = re.search(r"Requests/sec:\s+([\d.]+)", output)
    p50 = re.search(r"^\s+50%\s+(\S+)", output, re.M)
    p99 = re.search(r"^\s+99%\s+(\S+)", output, re.M)
    if not (rps and p50 and p99):
        snippet = " ".join(output.split())[:120]
        return 0.0, 0.0, 0.0, f"wrk output not understood: {snippet}"
    failure = None
    errors = re.search(r"Socket errors: (.*)", output)
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    if errors:
        failure = "socket errors: " + errors.group(1).strip()
    elif non2xx:
        failure = f"{non2xx.group(1)} non-2xx responses"
    return float(rps.group(1)), _ms(p50.group(1)), _ms(p99.group(1)), failure


def _cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of ``pid`` (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _wait_ready(port: int, process: subprocess.Popen[bytes], timeout: float) -> None:
    """Wait until an HTTP GET on ``port`` answers (or fail if the process dies or is late)."""
    deadline = time.monotonic() + timeout
    request = b"GET / HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n"
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server exited with {process.returncode} before it was ready")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1) as probe:
                probe.sendall(request)
                if probe.recv(64).startswith(b"HTTP/1.1 200"):
                    return
        except OSError:
            pass
        time.sleep(0.05)
    raise RuntimeError("server did not answer in time")


def _wrk(args: argparse.Namespace, url: str, seconds: float) -> str:
    command = [
        "taskset", "-c", str(args.client_cpu), args.wrk, "-t", str(args.threads),
        "-c", str(args.connections), "-d", f"{seconds:g}s", "--latency", url,
    ]  # fmt: skip
    done = subprocess.run(command, capture_output=True, text=True, timeout=seconds + 30)
    return done.stdout + done.stderr


def measure(args: argparse.Namespace, server: str, repetition: int) -> RunResult:
    """Start ``server`` pinned, warm it up, measure one wrk run, stop it."""
    result = RunResult(server, repetition)
    with socket.socket() as probe:  # a port the OS says is free
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    command = server_commands(args.app, port)[server]
    cpu = args.server_cpu
    process = subprocess.Popen(
        command,
        cwd=REPO_ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        start_new_session=True,
        preexec_fn=lambda: os.sched_setaffinity(0, {cpu}),
    )
    url = f"http://127.0.0.1:{port}/"
    try:
        _wait_ready(port, process, timeout=20)
        _wrk(args, url, args.warmup)
        before = _cpu_seconds(process.pid)
        started = time.monotonic()
        output = _wrk(args, url, args.duration)
        elapsed = time.monotonic() - started
        result.server_cpu = (_cpu_seconds(process.pid) - before) / elapsed
        rps, p50, p99, failure = parse_wrk(output)
        if failure is not None:
            result.failure = failure
        else:
            result.rps, result.p50_ms, result.p99_ms = rps, p50, p99
    except (RuntimeError, subprocess.TimeoutExpired) as exc:
        result.failure = str(exc)
    finally:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        if result.failure and process.stderr is not None:
            tail = process.stderr.read().decode(errors="replace").strip().splitlines()[-3:]
            if tail:
                result.failure += " | " + " / ".join(tail)
        if process.stderr is not None:
            process.stderr.close()
    return result


def _fmt(value: float | None, pattern: str) -> str:
    return "failed" if value is None else pattern.format(value)


def report(results: list[RunResult]) -> str:
    """Markdown: every run, then the summary per server and the ratio."""
    lines = [
        "| server | rep | requests/s | p50 ms | p99 ms | server CPU | requests per CPU-second | note |",
        "|---|---|---:|---:|---:|---:|---:|---|",
    ]
    for r in results:
        per_cpu = r.rps / r.server_cpu if r.rps and r.server_cpu else None
        lines.append(
            f"| {r.server} | {r.repetition} | {_fmt(r.rps, '{:,.0f}')} | {_fmt(r.p50_ms, '{:.2f}')}"
            f" | {_fmt(r.p99_ms, '{:.2f}')} | {_fmt(r.server_cpu, '{:.0%}')}"
            f" | {_fmt(per_cpu, '{:,.0f}')} | {r.failure or ''} |"
        )
    medians: dict[str, tuple[float, float]] = {}
    lines += [
        "",
        "| server | runs ok | median requests/s | min–max | median p99 ms |",
        "|---|---:|---:|---|---:|",
    ]
    for server in ("eventloop", "uvicorn"):
        ok = [r for r in results if r.server == server and r.rps is not None]
        if not ok:
            lines.append(f"| {server} | 0 | failed | | |")
            continue
        rps = [r.rps for r in ok if r.rps is not None]
        p99 = [r.p99_ms for r in ok if r.p99_ms is not None]
        medians[server] = (statistics.median(rps), statistics.median(p99))
        lines.append(
            f"| {server} | {len(ok)} | {medians[server][0]:,.0f} | {min(rps):,.0f}–{max(rps):,.0f}"
            f" | {medians[server][1]:.2f} |"
        )
    if len(medians) == 2:
        ratio = medians["eventloop"][0] / medians["uvicorn"][0]
        p99_ratio = medians["eventloop"][1] / medians["uvicorn"][1]
        lines += [
            "",
            f"throughput ratio eventloop/uvicorn: {ratio:.2f}; p99 ratio: {p99_ratio:.2f}",
        ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--app", default="hello", help="bundled app (default hello)")
    parser.add_argument("--duration", type=float, default=10.0, help="measured seconds per run")
    parser.add_argument("--warmup", type=float, default=2.0, help="warm-up seconds per run")
    parser.add_argument("--connections", type=int, default=64, help="wrk connections")
    parser.add_argument("--threads", type=int, default=1, help="wrk threads")
    parser.add_argument("--repetitions", type=int, default=3, help="runs per server")
    parser.add_argument("--server-cpu", type=int, default=0, help="CPU the server is pinned to")
    parser.add_argument("--client-cpu", type=int, default=1, help="CPU wrk is pinned to")
    parser.add_argument("--wrk", default=shutil.which("wrk") or "wrk", help="wrk executable")
    args = parser.parse_args(argv)
    if shutil.which(args.wrk) is None:
        print("wrk is not installed (Debian/Ubuntu: apt-get install wrk)", file=sys.stderr)
        return 2
    results: list[RunResult] = []
    order = ["eventloop", "uvicorn"]
    for repetition in range(1, args.repetitions + 1):
        for server in order if repetition % 2 else reversed(order):
            result = measure(args, server, repetition)
            results.append(result)
            print(
                f"rep {repetition} {server:9s} "
                + (result.failure or f"{result.rps:,.0f} req/s p99 {result.p99_ms:.2f} ms"),
                file=sys.stderr,
                flush=True,
            )
    print(report(results))
    return 0 if all(r.failure is None for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
