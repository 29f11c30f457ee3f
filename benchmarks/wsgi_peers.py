"""bench's servers against granian, uvicorn and each other on one core: WSGI and ASGI.

Usage (from the repository root)::

    python benchmarks/wsgi_peers.py [--duration 5] [--warmup 1] [--repetitions 3]
        [--baseline REF] [--only CASE ...] [--server-cpu 0] [--client-cpu 1]

Cases (``wrk -t1 --latency``, one worker process each):

- ``hello-c64`` and ``hello-c256``: the bundled ``hello`` app at 64 and 256 keep-alive
  connections: granian ``--interface wsgi`` and ``--interface asgi``, uvicorn
  (httptools, uvloop), bench prefork ``-k thread --threads 4``, bench prefork
  ``-k eventloop --interface wsgi`` (the WSGI app on the loop's thread while it does not
  wait), bench eventloop ``--interface wsgi`` and bench eventloop (ASGI);
- ``sleep-c64``: the bundled ``io`` app sleeping 10 ms per request (WSGI form), 16
  threads, 64 connections: the ceiling is 16 / 10 ms = 1,600 req/s.

``--baseline REF`` also runs bench's servers from a git worktree of ``REF`` (its C
extensions built in place), labelled ``@REF``, interleaved with the rest: before and
after in the same run, on the same machine. A server a ref does not have (a flag it
does not know) shows as failed in its rows.

Method: the server is pinned to ``--server-cpu`` and wrk to ``--client-cpu``; each run
starts a fresh server on a free port, waits until it answers, warms it up, measures
once, stops it. Repetitions rotate the order of the servers so drift on a shared
machine spreads over all. A run with socket errors, non-2xx answers or a server that
did not start is reported failed, never as zero. Besides req/s and p99, the server's
CPU time per request (its process tree) is given: it moves less than req/s when other
processes share the CPU. Ratios are of medians, against the row named in each table.
Not a test: it asserts nothing; the exit code is 1 if a run failed.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from wrkbench import REPO_ROOT, measure_pinned

from bench.runner.launch.process import free_port

HELLO_WSGI = "bench.servers.apps.hello:wsgi"
HELLO_ASGI = "bench.servers.apps.hello:asgi"
IO_WSGI = "bench.servers.apps.io_app:wsgi"
PEER_FLAGS = ("--host", "127.0.0.1", "--workers", "1", "--log-level", "warning")
GRANIAN = ("-m", "granian", "--http", "1", "--no-ws", "--no-access-log", "--loop", "uvloop")
UVICORN_FLAGS = ("--loop", "uvloop", "--http", "httptools", "--no-access-log")


@dataclass(frozen=True)
class Server:
    """One server command line: ``argv`` after the interpreter; ``{port}`` is filled in."""

    label: str
    argv: tuple[str, ...]
    ours: bool = False  #: bench's own: also run from the baseline worktree


def granian(interface: str, app: str, *extra: str) -> tuple[str, ...]:
    return (*GRANIAN, "--interface", interface, *PEER_FLAGS, "--port", "{port}", *extra, app)


def bench(*argv: str) -> tuple[str, ...]:
    return ("-m", "bench.runner.cli", "serve", *argv, "-b", "127.0.0.1:{port}")


HELLO_SERVERS: tuple[Server, ...] = (
    Server("granian wsgi", granian("wsgi", HELLO_WSGI)),
    Server(
        "bench prefork -k thread --threads 4",
        bench("prefork", "hello", "-k", "thread", "--threads", "4", "-w", "1"),
        ours=True,
    ),
    Server(
        "bench prefork -k eventloop --interface wsgi",
        bench("prefork", "hello", "-k", "eventloop", "--interface", "wsgi", "-w", "1"),
        ours=True,
    ),
    Server(
        "bench eventloop --interface wsgi",
        bench("eventloop", "hello", "--interface", "wsgi"),
        ours=True,
    ),
    Server("granian asgi", granian("asgi", HELLO_ASGI)),
    Server(
        "uvicorn", ("-m", "uvicorn", HELLO_ASGI, *PEER_FLAGS, "--port", "{port}", *UVICORN_FLAGS)
    ),
    Server("bench eventloop", bench("eventloop", "hello"), ours=True),
)

SLEEP_SERVERS: tuple[Server, ...] = (
    Server(
        "granian wsgi --blocking-threads 16", granian("wsgi", IO_WSGI, "--blocking-threads", "16")
    ),
    Server(
        "bench prefork -k thread --threads 16",
        bench("prefork", "io", "-k", "thread", "--threads", "16", "-w", "1"),
        ours=True,
    ),
    Server(
        "bench prefork -k eventloop --interface wsgi --threads 16",
        bench(
            "prefork", "io", "-k", "eventloop", "--interface", "wsgi", "--threads", "16", "-w", "1"
        ),
        ours=True,
    ),
)


@dataclass(frozen=True)
class Case:
    """Servers measured under one load; ratios are against ``reference``."""

    name: str
    servers: tuple[Server, ...]
    connections: int
    reference: str
    env: dict[str, str] = field(default_factory=dict)


CASES: tuple[Case, ...] = (
    Case("hello-c64", HELLO_SERVERS, 64, "granian wsgi"),
    Case("hello-c256", HELLO_SERVERS, 256, "granian wsgi"),
    Case(
        "sleep-c64",
        SLEEP_SERVERS,
        64,
        "bench prefork -k thread --threads 16",
        {"BENCH_APP_MS": "10"},
    ),
)


@dataclass
class Run:
    """One measured wrk run of one server."""

    case: str
    label: str
    repetition: int
    rps: float | None = None
    p99_ms: float | None = None
    cpu_us: float | None = None
    failure: str | None = None


def measure(
    args: argparse.Namespace, case: Case, server: Server, label: str, tree: Path, rep: int
) -> Run:
    """One pinned run of ``server`` from checkout ``tree`` (``wrkbench.measure_pinned``)."""
    run = Run(case.name, label, rep)
    port = free_port()
    argv = [sys.executable, *(a.replace("{port}", str(port)) for a in server.argv)]
    env = dict(os.environ, **case.env)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(tree), env.get("PYTHONPATH")) if p)
    pinned = measure_pinned(
        argv,
        port=port,
        wrk=args.wrk,
        server_cpu=args.server_cpu,
        client_cpu=args.client_cpu,
        connections=case.connections,
        warmup=args.warmup,
        duration=args.duration,
        env=env,
        cwd=tree,
    )
    run.rps, run.p99_ms, run.cpu_us = pinned.rps, pinned.p99_ms, pinned.cpu_us_per_request
    run.failure = pinned.failure
    return run


#: The folders an install maps under ``bench.`` (setup.py's package_dir).
_MAPPED = ("servers", "runner", "dashboards", "scenarios")


def link_namespace(tree: Path) -> None:
    """Make ``bench.servers`` (and the rest) of ``tree`` importable from its root.

    Checkouts from before ``bench/`` found its folders by itself hold only
    ``bench/__init__.py``: their ``bench.servers`` would come from the installed bench
    (an editable install maps it to this checkout), so the baseline would silently run
    the new code. A link per folder, inside the temporary worktree, points it home.
    """
    package = tree / "bench"
    for name in _MAPPED:
        if (tree / name).is_dir() and package.is_dir() and not (package / name).exists():
            (package / name).symlink_to(Path("..") / name, target_is_directory=True)


def check_imports_from(tree: Path) -> None:
    """Refuse a baseline whose servers would not be imported from ``tree`` itself."""
    probe = "import bench.servers, bench.runner; print(bench.servers.__path__[0])"
    env = dict(os.environ, PYTHONPATH=str(tree))
    found = subprocess.run(
        [sys.executable, "-c", probe], cwd=tree, env=env, capture_output=True, text=True
    )
    where = Path(found.stdout.strip() or "?").resolve()
    if found.returncode != 0 or not where.is_relative_to(tree.resolve()):
        detail = found.stderr.strip().splitlines()[-1:] or [f"bench.servers is {where}"]
        raise SystemExit(f"baseline: its bench.servers does not import from {tree}: {detail[0]}")


@contextlib.contextmanager
def baseline_tree(ref: str) -> Iterator[Path]:
    """A detached git worktree of ``ref`` with its C extensions built in place."""
    with tempfile.TemporaryDirectory(prefix="bench-baseline-") as tmp:
        tree = Path(tmp) / "tree"
        subprocess.run(
            ["git", "worktree", "add", "--detach", str(tree), ref],
            cwd=REPO_ROOT,
            check=True,
            capture_output=True,
        )
        try:
            subprocess.run(
                [sys.executable, "setup.py", "-q", "build_ext", "--inplace"],
                cwd=tree,
                check=True,
                capture_output=True,
            )
            link_namespace(tree)
            check_imports_from(tree)
            yield tree
        finally:
            subprocess.run(
                ["git", "worktree", "remove", "--force", str(tree)],
                cwd=REPO_ROOT,
                capture_output=True,
            )


def _median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


def report(runs: list[Run], cases: list[Case], labels: dict[str, list[str]], args: Any) -> str:
    """Markdown: a table per case (medians and ratios), then every run."""
    lines = [
        f"server pinned to CPU {args.server_cpu}, `wrk -t1 --latency` to CPU "
        f"{args.client_cpu}; {args.repetitions} rotated repetitions of {args.duration:g} s "
        f"after {args.warmup:g} s warm-up; medians",
    ]
    for case in cases:
        medians: dict[str, float] = {}
        rows = []
        for label in labels[case.name]:
            ok = [r for r in runs if r.case == case.name and r.label == label and r.rps]
            if not ok:
                rows.append((label, "| 0 | failed | | | |"))
                continue
            rps = [r.rps for r in ok if r.rps is not None]
            medians[label] = _median(rps)
            p99 = _median([r.p99_ms for r in ok if r.p99_ms is not None])
            cpu = _median([r.cpu_us for r in ok if r.cpu_us is not None])
            rows.append(
                (
                    label,
                    f"| {len(ok)} | {medians[label]:,.0f} | {min(rps):,.0f}–{max(rps):,.0f} "
                    f"| {p99:.2f} | {cpu:.1f} |",
                )
            )
        reference = medians.get(case.reference)
        lines += [
            "",
            f"**{case.name}** (wrk -c{case.connections}{''.join(f', {k}={v}' for k, v in case.env.items())})",
            "",
            f"| server | runs ok | req/s | min–max | p99 ms | CPU µs/req | × {case.reference} |",
            "|---|---:|---:|---|---:|---:|---:|",
        ]
        for label, cells in rows:
            ratio = f"{medians[label] / reference:.2f}" if reference and label in medians else ""
            lines.append(f"| {label} {cells} {ratio} |")
    lines += ["", "| case | server | rep | req/s | p99 ms | CPU µs/req | note |"]
    lines.append("|---|---|---:|---:|---:|---:|---|")
    for r in runs:
        rps = "failed" if r.rps is None else f"{r.rps:,.0f}"
        p99 = "" if r.p99_ms is None else f"{r.p99_ms:.2f}"
        cpu = "" if r.cpu_us is None else f"{r.cpu_us:.1f}"
        note = (r.failure or "").replace("|", "/")
        lines.append(f"| {r.case} | {r.label} | {r.repetition} | {rps} | {p99} | {cpu} | {note} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=float, default=5.0, help="measured seconds per run")
    parser.add_argument("--warmup", type=float, default=1.0, help="warm-up seconds per run")
    parser.add_argument("--repetitions", type=int, default=3, help="runs per server")
    parser.add_argument("--baseline", metavar="REF", help="also run bench's servers at REF")
    parser.add_argument("--only", nargs="*", choices=[c.name for c in CASES], help="cases")
    parser.add_argument("--server-cpu", type=int, default=0, help="CPU the servers run on")
    parser.add_argument("--client-cpu", type=int, default=1, help="CPU wrk runs on")
    parser.add_argument("--wrk", default=shutil.which("wrk") or "wrk", help="wrk executable")
    args = parser.parse_args(argv)
    for tool, hint in ((args.wrk, "wrk (apt-get install wrk)"), ("taskset", "taskset")):
        if shutil.which(tool) is None:
            print(f"{hint} is needed", file=sys.stderr)
            return 2
    cases = [c for c in CASES if not args.only or c.name in args.only]
    with contextlib.ExitStack() as stack:
        trees: dict[str, Path] = {"": REPO_ROOT}
        if args.baseline:
            trees[f" @{args.baseline}"] = stack.enter_context(baseline_tree(args.baseline))
        plan: dict[str, list[tuple[Server, str, Path]]] = {}
        for case in cases:
            plan[case.name] = [
                (server, server.label + suffix, tree)
                for server in case.servers
                for suffix, tree in trees.items()
                if server.ours or not suffix
            ]
        runs: list[Run] = []
        for rep in range(1, args.repetitions + 1):
            for case in cases:
                entries = plan[case.name]
                shift = (rep - 1) % len(entries)
                for server, label, tree in entries[shift:] + entries[:shift]:
                    run = measure(args, case, server, label, tree, rep)
                    runs.append(run)
                    print(
                        f"rep {rep} {case.name} {label}: "
                        + (run.failure or f"{run.rps:,.0f} req/s, p99 {run.p99_ms:.2f} ms"),
                        file=sys.stderr,
                        flush=True,
                    )
    labels = {name: [label for _, label, _ in entries] for name, entries in plan.items()}
    print(report(runs, cases, labels, args))
    return 0 if all(r.failure is None for r in runs) else 1


if __name__ == "__main__":
    sys.exit(main())
