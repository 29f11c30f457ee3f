"""Hello-world throughput of bench's eventloop server vs uvicorn (httptools + uvloop), side by side.

Usage (from the repository root)::

    python benchmarks/eventloop_vs_uvicorn.py [--duration 10] [--connections 64]
        [--repetitions 3] [--server-cpu 0] [--client-cpu 1] [--app hello]

Method: both servers serve the same bundled ASGI app (``bench.servers.apps.hello:asgi``), one
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
import functools
import shutil
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass

from wrkbench import (
    parse_wrk,
    run_wrk,
    start_pinned,
    stop,
    tree_cpu_seconds,
    wait_ready,
)

from bench.runner.launch.process import free_port


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
            python, "-m", "bench.runner.cli", "serve", "eventloop", app,
            "-b", f"127.0.0.1:{port}", "--log-level", "warning",
        ],
        "uvicorn": [
            python, "-m", "uvicorn", f"bench.servers.apps.{app}:asgi",
            "--host", "127.0.0.1", "--port", str(port),
            "--http", "httptools", "--loop", "uvloop", "--workers", "1",
            "--no-access-log", "--log-level", "warning", "--lifespan", "auto",
        ],
    }  # fmt: skip


def measure(args: argparse.Namespace, server: str, repetition: int) -> RunResult:
    """Start ``server`` pinned, warm it up, measure one wrk run, stop it."""
    result = RunResult(server, repetition)
    port = free_port()
    process = start_pinned(server_commands(args.app, port)[server], args.server_cpu)
    url = f"http://127.0.0.1:{port}/"
    wrk = functools.partial(
        run_wrk, args.wrk, args.client_cpu, url, threads=args.threads, connections=args.connections
    )
    try:
        wait_ready(port, process, timeout=20)
        wrk(seconds=args.warmup)
        before = tree_cpu_seconds(process.pid)
        started = time.monotonic()
        run = parse_wrk(wrk(seconds=args.duration))
        elapsed = time.monotonic() - started
        result.server_cpu = (tree_cpu_seconds(process.pid) - before) / elapsed
        if run.failure is not None:
            result.failure = run.failure
        else:
            result.rps, result.p50_ms, result.p99_ms = run.rps, run.p50_ms, run.p99_ms
    except (RuntimeError, subprocess.TimeoutExpired) as exc:
        result.failure = str(exc)
    finally:
        tail = stop(process)
        if result.failure and tail:
            result.failure += " | " + tail
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
