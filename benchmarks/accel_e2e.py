"""End to end: bench's servers on hello with the core's pure-Python path vs its C hot path.

    python benchmarks/accel_e2e.py [--duration 5] [--repetitions 3] [--connections 64]
        [--server-cpu 0] [--client-cpu 1]

Each server (``bench serve eventloop hello`` and ``bench serve prefork hello -k thread
--threads 4 -w 1``) runs pinned to ``--server-cpu`` with ``BENCH_PURE_PROTOCOL=1`` (the
pure path) or without it (the C path), one at a time; ``wrk -t1 --latency`` runs pinned
to ``--client-cpu``. Runs are interleaved (pure, C, pure, C, ...) so drift hits both
alike. The table gives median req/s, p99 and the server's CPU µs per request (its
process tree's rusage over the run), which moves less than req/s on a shared machine.

Needs wrk and taskset on PATH and at least two CPUs. Not a test: run on purpose.
"""

from __future__ import annotations

import argparse
import os
import shutil
import socket
import statistics
import sys

from wrkbench import parse_wrk, run_wrk, start_pinned, stop, tree_cpu_seconds, wait_ready

SERVERS = {
    "eventloop": ["serve", "eventloop", "hello"],
    "prefork -k thread": ["serve", "prefork", "hello", "-k", "thread", "--threads", "4", "-w", "1"],
}
PATHS = {"pure": {"BENCH_PURE_PROTOCOL": "1"}, "C": {"BENCH_PURE_PROTOCOL": "0"}}


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def one_run(
    server: str, path: str, args: argparse.Namespace, wrk: str
) -> tuple[float, float, float]:
    """(req/s, p99 ms, server CPU µs per request) of one pinned run."""
    port = free_port()
    command = [
        sys.executable,
        "-m",
        "bench.runner.cli",
        *SERVERS[server],
        "-b",
        f"127.0.0.1:{port}",
    ]
    env = {**os.environ, **PATHS[path]}
    process = start_pinned(command, args.server_cpu, env)
    try:
        wait_ready(port, process)
        before = tree_cpu_seconds(process.pid)
        output = run_wrk(
            wrk,
            args.client_cpu,
            f"http://127.0.0.1:{port}/",
            threads=1,
            connections=args.connections,
            seconds=args.duration,
        )
        cpu = tree_cpu_seconds(process.pid) - before
    finally:
        stop(process)
    run = parse_wrk(output)
    if run.failure or not run.requests:
        raise RuntimeError(f"{server} ({path}): {run.failure or 'no requests'}")
    return run.rps, run.p99_ms, cpu / run.requests * 1e6


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--duration", type=float, default=5.0)
    parser.add_argument("--repetitions", type=int, default=3)
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--server-cpu", type=int, default=0)
    parser.add_argument("--client-cpu", type=int, default=1)
    args = parser.parse_args(argv)
    wrk = shutil.which("wrk")
    if wrk is None or shutil.which("taskset") is None:
        print("needs wrk and taskset on PATH")
        return 1
    results: dict[tuple[str, str], list[tuple[float, float, float]]] = {}
    for _ in range(args.repetitions):
        for server in SERVERS:
            for path in PATHS:
                results.setdefault((server, path), []).append(one_run(server, path, args, wrk))
    print(f"| server | core path | req/s | p99 ms | server CPU µs/req | (wrk -c{args.connections})")
    print("|---|---|---:|---:|---:|")
    for (server, path), runs in results.items():
        rps, p99, cpu = (statistics.median(r[i] for r in runs) for i in range(3))
        print(f"| {server} | {path} | {rps:,.0f} | {p99:.2f} | {cpu:.1f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
