"""bench's prefork server vs gunicorn, side by side: sync, threaded, and a 10 ms I/O app.

Usage (from the repository root)::

    python benchmarks/prefork_vs_gunicorn.py [--duration 10] [--warmup 2]
        [--repetitions 3] [--server-cpu 0] [--client-cpu 1] [--only NAME ...]

Comparisons (each: bench prefork vs gunicorn, one worker process):

- ``hello-sync``: the bundled ``hello`` app, ``-k sync`` vs gunicorn ``-k sync``
  (both close the connection after each response: wrk reconnects for every request);
- ``hello-thread``: ``-k thread --threads 4`` vs gunicorn ``-k gthread --threads 4``
  (keep-alive);
- ``sleep-thread``: the bundled ``io`` app sleeping 10 ms per request, 64 connections,
  ``-k thread --threads 16`` vs gunicorn ``-k gthread --threads 16``.

Method: the server (master and workers) is pinned to ``--server-cpu``, wrk to
``--client-cpu``; each run starts a fresh server on a free port of 127.0.0.1, waits
until it answers, warms it up, then measures one wrk run. Repetitions are interleaved
(A B, B A, ...) so that drift on a shared machine hits both sides. A run with socket
errors, non-2xx answers or a server that did not start is reported as failed, never as
zero. Besides requests/s, the server's CPU time per request (master and workers) is
reported: it is the efficiency, and it is less sensitive than requests/s to other
processes sharing the CPU.

Output: a markdown table per comparison (median requests/s, min–max, p99, CPU µs per
request, and the ratio bench/gunicorn of the medians). Exit code 0 if every run
succeeded. This is a benchmark, not a test: it asserts nothing.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
from dataclasses import dataclass, field

from wrkbench import REPO_ROOT, measure_pinned

from bench.runner.launch.process import free_port


@dataclass(frozen=True)
class Comparison:
    """Two server command lines (ours, gunicorn's) measured under the same load."""

    name: str
    ours: tuple[str, ...]
    gunicorn: tuple[str, ...]
    connections: int
    env: dict[str, str] = field(default_factory=dict)
    path: str = "/"


COMPARISONS: tuple[Comparison, ...] = (
    Comparison(
        "hello-sync",
        ("hello", "-k", "sync", "-w", "1"),
        ("bench.servers.apps.hello:wsgi", "-k", "sync", "-w", "1"),
        connections=32,
    ),
    Comparison(
        "hello-thread",
        ("hello", "-k", "thread", "--threads", "4", "-w", "1"),
        ("bench.servers.apps.hello:wsgi", "-k", "gthread", "--threads", "4", "-w", "1"),
        connections=32,
    ),
    Comparison(
        "sleep-thread",
        ("io", "-k", "thread", "--threads", "16", "-w", "1"),
        ("bench.servers.apps.io_app:wsgi", "-k", "gthread", "--threads", "16", "-w", "1"),
        connections=64,
        env={"BENCH_APP_MS": "10"},
    ),
)


@dataclass
class RunResult:
    """One measured wrk run against one server."""

    comparison: str
    server: str
    repetition: int
    rps: float | None = None
    p99_ms: float | None = None
    cpu_us_per_request: float | None = None
    failure: str | None = None


def command(comparison: Comparison, server: str, port: int) -> list[str]:
    """The command line of ``server`` ("bench" or "gunicorn") for ``comparison``."""
    bind = f"127.0.0.1:{port}"
    if server == "bench":
        return [
            sys.executable,
            "-m",
            "bench.runner.cli",
            "serve",
            "prefork",
            *comparison.ours,
            "-b",
            bind,
        ]
    return [
        sys.executable,
        "-m",
        "gunicorn",
        *comparison.gunicorn,
        "-b",
        bind,
        "--log-level",
        "warning",
    ]


def measure(args: argparse.Namespace, comparison: Comparison, server: str, rep: int) -> RunResult:
    """Start one server pinned, warm it up, measure one wrk run, stop it."""
    result = RunResult(comparison.name, server, rep)
    port = free_port()
    env = dict(os.environ, **comparison.env)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(REPO_ROOT), env.get("PYTHONPATH")) if p)
    pinned = measure_pinned(
        command(comparison, server, port),
        port=port,
        wrk=args.wrk,
        server_cpu=args.server_cpu,
        client_cpu=args.client_cpu,
        connections=comparison.connections,
        warmup=args.warmup,
        duration=args.duration,
        path=comparison.path,
        env=env,
    )
    result.rps, result.p99_ms = pinned.rps, pinned.p99_ms
    result.cpu_us_per_request = pinned.cpu_us_per_request
    result.failure = pinned.failure
    return result


def _median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


def report(results: list[RunResult], args: argparse.Namespace) -> str:
    """Markdown: one summary table over all comparisons, then every run."""
    lines = [
        f"server pinned to CPU {args.server_cpu}, wrk (1 thread) to CPU {args.client_cpu}; "
        f"{args.repetitions} interleaved repetitions of {args.duration:g} s "
        f"after {args.warmup:g} s warm-up",
        "",
        "| comparison | server | runs ok | median req/s | min–max | median p99 ms "
        "| CPU µs/req | ratio bench/gunicorn (req/s) |",
        "|---|---|---:|---:|---|---:|---:|---:|",
    ]
    for comparison in COMPARISONS:
        runs = [r for r in results if r.comparison == comparison.name]
        if not runs:
            continue
        medians: dict[str, float] = {}
        cells: dict[str, str] = {}
        for server in ("bench", "gunicorn"):
            ok = [r for r in runs if r.server == server and r.rps is not None]
            rps = [r.rps for r in ok if r.rps is not None]
            p99 = [r.p99_ms for r in ok if r.p99_ms is not None]
            cpu = [r.cpu_us_per_request for r in ok if r.cpu_us_per_request is not None]
            if not rps:
                cells[server] = f"| {comparison.name} | {server} | 0 | failed | | | |"
                continue
            medians[server] = _median(rps)
            cells[server] = (
                f"| {comparison.name} | {server} | {len(ok)} | {medians[server]:,.0f} "
                f"| {min(rps):,.0f}–{max(rps):,.0f} | {_median(p99):.2f} | {_median(cpu):.0f} |"
            )
        ratio = f" {medians['bench'] / medians['gunicorn']:.2f} |" if len(medians) == 2 else " |"
        lines.append(cells["bench"] + ratio)
        lines.append(cells["gunicorn"] + " |")
    lines += ["", "| comparison | server | rep | req/s | p99 ms | CPU µs/req | note |"]
    lines.append("|---|---|---:|---:|---:|---:|---|")
    for r in results:
        rps = "failed" if r.rps is None else f"{r.rps:,.0f}"
        p99 = "" if r.p99_ms is None else f"{r.p99_ms:.2f}"
        cpu = "" if r.cpu_us_per_request is None else f"{r.cpu_us_per_request:.0f}"
        lines.append(
            f"| {r.comparison} | {r.server} | {r.repetition} | {rps} | {p99} | {cpu} "
            f"| {r.failure or ''} |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=float, default=10.0, help="measured seconds per run")
    parser.add_argument("--warmup", type=float, default=2.0, help="warm-up seconds per run")
    parser.add_argument("--repetitions", type=int, default=3, help="runs per server")
    parser.add_argument("--server-cpu", type=int, default=0, help="CPU the servers are pinned to")
    parser.add_argument("--client-cpu", type=int, default=1, help="CPU wrk is pinned to")
    parser.add_argument(
        "--only", nargs="*", choices=[c.name for c in COMPARISONS], help="comparisons to run"
    )
    parser.add_argument("--wrk", default=shutil.which("wrk") or "wrk", help="wrk executable")
    args = parser.parse_args(argv)
    if shutil.which(args.wrk) is None:
        print("wrk is not installed (Debian/Ubuntu: apt-get install wrk)", file=sys.stderr)
        return 2
    if shutil.which("taskset") is None:
        print("taskset is needed to pin wrk (util-linux)", file=sys.stderr)
        return 2
    chosen = [c for c in COMPARISONS if not args.only or c.name in args.only]
    results: list[RunResult] = []
    for repetition in range(1, args.repetitions + 1):
        order = ["bench", "gunicorn"] if repetition % 2 else ["gunicorn", "bench"]
        for comparison in chosen:
            for server in order:
                result = measure(args, comparison, server, repetition)
                results.append(result)
                print(
                    f"rep {repetition} {comparison.name:13s} {server:8s} "
                    + (
                        result.failure
                        or f"{result.rps:,.0f} req/s, p99 {result.p99_ms:.2f} ms, "
                        f"{result.cpu_us_per_request or 0:.0f} CPU µs/req"
                    ),
                    file=sys.stderr,
                    flush=True,
                )
    print(report(results, args))
    return 0 if all(r.failure is None for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
