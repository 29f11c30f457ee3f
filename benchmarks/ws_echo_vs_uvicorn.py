"""WebSocket echo of bench's eventloop server vs uvicorn, side by side: round trips/s and RSS.

Usage (from the repository root)::

    python benchmarks/ws_echo_vs_uvicorn.py [--duration 5] [--warmup 1] [--repetitions 3]
        [--connections 64] [--sizes 32,16384] [--idle 5000] [--server-cpu 0] [--client-cpu 1]

Method. Every server serves the bundled ``ws_echo`` app, one process pinned to
``--server-cpu``: ``eventloop`` (``bench serve eventloop``), ``uvicorn`` (``--ws
websockets``, httptools, uvloop) and ``uvicorn-sansio`` (``--ws websockets-sansio``).
Pings are pushed out of the measurement (interval 3600 s); compression is not offered.
The load client runs in this process on uvloop, pinned to ``--client-cpu``: it speaks
the client role of our sans-IO WebSocket core for the handshake, then each of the
``--connections`` connections sends one masked message, waits for its echo, checks it
byte for byte, and sends the next (closed loop). The masked frame is built once per
connection with its own random key, so the client does no per-message work but a write
and a compare — it must be faster than the servers, and its CPU share is reported.

Each (server, message size) cell gets a fresh server per repetition, a warm-up, then a
measured window; repetitions are interleaved (A B C, C B A, ...) so drift hits every
server. A cell whose server does not start, or whose echoes are wrong or lost, is
reported as failed (never as zero). Memory: each server is started again, 5,000 (or
``--idle``) WebSocket connections are opened and left idle, and the server's RSS is
read before and after (RLIMIT_NOFILE is raised as needed).

Output: markdown tables (every run, the medians with min–max and the ratio to
uvicorn, and the RSS table). This is a benchmark, not a test: it asserts nothing.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import resource
import socket
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO_ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from ws_clients import EchoClient, IdleClient, Stats, open_many  # noqa: E402

SERVERS = ("eventloop", "uvicorn", "uvicorn-sansio")
START_TIMEOUT = 20.0


def server_command(name: str, port: int) -> list[str]:
    """The command line of server ``name`` serving ws_echo on 127.0.0.1:``port``."""
    python = sys.executable
    if name == "eventloop":
        return [
            python, "-m", "bench.runner.cli", "serve", "eventloop", "ws_echo",
            "-b", f"127.0.0.1:{port}", "--log-level", "warning",
            "--ws-ping-interval", "3600", "--ws-ping-timeout", "3600",
        ]  # fmt: skip
    ws = "websockets" if name == "uvicorn" else "websockets-sansio"
    return [
        python, "-W", "ignore", "-m", "uvicorn", "bench.servers.apps.ws_echo:asgi",
        "--host", "127.0.0.1", "--port", str(port), "--ws", ws,
        "--http", "httptools", "--loop", "uvloop", "--lifespan", "off",
        "--no-access-log", "--log-level", "warning",
        "--ws-ping-interval", "3600", "--ws-ping-timeout", "3600",
    ]  # fmt: skip


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of process ``pid`` (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def rss_bytes(pid: int) -> int:
    """Resident set size of process ``pid`` in bytes (Linux /proc)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise RuntimeError("no VmRSS")


@dataclass
class Run:
    """One measured window against one server and message size."""

    server: str
    size: int
    repetition: int
    rate: float | None = None
    p50_us: float | None = None
    p99_us: float | None = None
    server_cpu: float | None = None
    client_cpu: float | None = None
    cpu_us_per_round_trip: float | None = None
    failure: str | None = None


@dataclass
class Memory:
    """RSS of one server before and after ``connections`` idle WebSockets."""

    server: str
    connections: int = 0
    before: int | None = None
    after: int | None = None
    failure: str | None = None
    notes: list[str] = field(default_factory=list)


def free_port() -> int:
    """A port the OS says is free on 127.0.0.1."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


async def start_server(name: str, cpu: int) -> tuple[subprocess.Popen[bytes], int]:
    """Start ``name`` pinned to ``cpu``; return it once a WebSocket handshake succeeds."""
    port = free_port()
    process = subprocess.Popen(
        server_command(name, port),
        cwd=REPO_ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        start_new_session=True,
        preexec_fn=lambda: os.sched_setaffinity(0, {cpu}),
    )
    loop = asyncio.get_running_loop()
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{name} exited with {process.returncode} before it was ready")
        opened = loop.create_future()
        try:
            transport, _ = await loop.create_connection(
                lambda opened=opened: IdleClient(port, opened), "127.0.0.1", port
            )
        except OSError:
            await asyncio.sleep(0.05)
            continue
        try:
            await asyncio.wait_for(opened, 2)
            return process, port
        except (ConnectionError, TimeoutError):
            await asyncio.sleep(0.05)
        finally:
            transport.close()
    stop_server(process)
    raise RuntimeError(f"{name} did not complete a WebSocket handshake in time")


def stop_server(process: subprocess.Popen[bytes]) -> str:
    """Stop a server started here; return the tail of its stderr."""
    process.terminate()
    try:
        process.wait(10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
    tail = ""
    if process.stderr is not None:
        tail = " / ".join(process.stderr.read().decode(errors="replace").strip().splitlines()[-3:])
        process.stderr.close()
    return tail


async def measure(args: argparse.Namespace, name: str, size: int, repetition: int) -> Run:
    """One cell: fresh server, connections, warm-up, measured window."""
    run = Run(name, size, repetition)
    try:
        process, port = await start_server(name, args.server_cpu)
    except RuntimeError as exc:
        run.failure = str(exc)
        return run
    stats = Stats()
    transports: list[asyncio.Transport] = []
    try:
        transports = await open_many(
            port, args.connections, lambda opened: EchoClient(port, size, stats, opened)
        )
        for transport in transports:
            transport.get_protocol().start()  # type: ignore[attr-defined]
        await asyncio.sleep(args.warmup)
        server_before = cpu_seconds(process.pid)
        client_before = time.process_time()
        started = time.perf_counter()
        stats.measuring = True
        await asyncio.sleep(args.duration)
        stats.measuring = False
        elapsed = time.perf_counter() - started
        server_cpu = cpu_seconds(process.pid) - server_before
        run.server_cpu = server_cpu / elapsed
        run.client_cpu = (time.process_time() - client_before) / elapsed
        stats.stopping = True
        if stats.errors:
            run.failure = f"{len(stats.errors)} errors, first: {stats.errors[0]}"
        elif stats.round_trips == 0:
            run.failure = "no round trip completed"
        else:
            run.rate = stats.round_trips / elapsed
            run.cpu_us_per_round_trip = server_cpu / stats.round_trips * 1e6
            lat = sorted(stats.latencies_ns)
            run.p50_us = lat[len(lat) // 2] / 1000
            run.p99_us = lat[min(len(lat) - 1, int(len(lat) * 0.99))] / 1000
    except (OSError, ConnectionError, TimeoutError) as exc:
        run.failure = f"{type(exc).__name__}: {exc}"
    finally:
        stats.stopping = True
        for transport in transports:
            transport.abort()
        tail = stop_server(process)
        if run.failure and tail:
            run.failure += f" | {tail}"
    return run


async def memory(args: argparse.Namespace, name: str) -> Memory:
    """RSS of ``name`` before and after ``--idle`` idle WebSocket connections."""
    result = Memory(name)
    try:
        process, port = await start_server(name, args.server_cpu)
    except RuntimeError as exc:
        result.failure = str(exc)
        return result
    transports: list[asyncio.Transport] = []
    try:
        result.before = rss_bytes(process.pid)
        transports = await open_many(port, args.idle, lambda opened: IdleClient(port, opened))
        result.connections = len(transports)
        await asyncio.sleep(0.5)  # let the server finish whatever each accept scheduled
        result.after = rss_bytes(process.pid)
    except (OSError, ConnectionError, TimeoutError) as exc:
        result.failure = f"{type(exc).__name__}: {exc}"
    finally:
        for transport in transports:
            transport.abort()
        tail = stop_server(process)
        if result.failure and tail:
            result.failure += f" | {tail}"
    return result


def _fmt(value: float | None, pattern: str) -> str:
    return "failed" if value is None else pattern.format(value)


def report(runs: list[Run], memories: list[Memory], servers: list[str], sizes: list[int]) -> str:
    """Markdown tables: every run, medians with ratios, memory."""
    lines = [
        "| server | msg bytes | rep | round trips/s | p50 µs | p99 µs | server CPU | server CPU µs"
        " per round trip | client CPU | note |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    for r in runs:
        lines.append(
            f"| {r.server} | {r.size} | {r.repetition} | {_fmt(r.rate, '{:,.0f}')}"
            f" | {_fmt(r.p50_us, '{:.0f}')} | {_fmt(r.p99_us, '{:.0f}')}"
            f" | {_fmt(r.server_cpu, '{:.0%}')} | {_fmt(r.cpu_us_per_round_trip, '{:.1f}')}"
            f" | {_fmt(r.client_cpu, '{:.0%}')} | {r.failure or ''} |"
        )
    lines += [
        "",
        "| msg bytes | server | runs ok | median round trips/s | min–max | median p99 µs"
        " | median server CPU µs per round trip | round trips/s vs uvicorn |",
        "|---:|---|---:|---:|---|---:|---:|---:|",
    ]
    for size in sizes:
        medians: dict[str, float] = {}
        rows = []
        for server in servers:
            ok = [r for r in runs if r.server == server and r.size == size and r.rate is not None]
            if not ok:
                rows.append((server, f"| {size} | {server} | 0 | failed | | | | |"))
                continue
            rates = [r.rate for r in ok if r.rate is not None]
            p99 = statistics.median(r.p99_us for r in ok if r.p99_us is not None)
            cost = statistics.median(
                r.cpu_us_per_round_trip for r in ok if r.cpu_us_per_round_trip is not None
            )
            medians[server] = statistics.median(rates)
            rows.append(
                (
                    server,
                    f"| {size} | {server} | {len(ok)} | {medians[server]:,.0f}"
                    f" | {min(rates):,.0f}–{max(rates):,.0f} | {p99:,.0f} | {cost:.1f} |",
                )
            )
        base = medians.get("uvicorn")
        for server, row in rows:
            ratio = f" {medians[server] / base:.2f} |" if base and server in medians else " |"
            lines.append(row + ratio)
    if memories:
        lines += [
            "",
            "| server | idle WebSockets | RSS before | RSS after | per connection |",
            "|---|---:|---:|---:|---:|",
        ]
        for m in memories:
            if m.before is None or m.after is None or not m.connections:
                lines.append(f"| {m.server} | {m.connections} | failed: {m.failure} | | |")
                continue
            per = (m.after - m.before) / m.connections / 1024
            lines.append(
                f"| {m.server} | {m.connections:,} | {m.before / 2**20:.1f} MiB"
                f" | {m.after / 2**20:.1f} MiB | {per:.1f} KiB |"
            )
    return "\n".join(lines)


def environment() -> str:
    """One line on what ran: Python, packages, CPU, pinning."""
    from importlib.metadata import version

    cpu = "unknown CPU"
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            cpu = line.split(":", 1)[1].strip()
            break
    packages = ", ".join(f"{p} {version(p)}" for p in ("uvicorn", "websockets", "uvloop"))
    return f"Python {platform.python_version()}, {packages}; {cpu}, {os.cpu_count()} CPUs"


async def main_async(args: argparse.Namespace) -> int:
    servers = [s.strip() for s in args.servers.split(",") if s.strip()]
    sizes = [int(s) for s in args.sizes.split(",")]
    runs: list[Run] = []
    for repetition in range(1, args.repetitions + 1):
        order = servers if repetition % 2 else list(reversed(servers))
        for size in sizes:
            for name in order:
                run = await measure(args, name, size, repetition)
                runs.append(run)
                print(
                    f"rep {repetition} {name:15s} {size:6d} B "
                    + (run.failure or f"{run.rate:,.0f} round trips/s p99 {run.p99_us:.0f} µs"),
                    file=sys.stderr,
                    flush=True,
                )
    memories = []
    if args.idle:
        for name in servers:
            result = await memory(args, name)
            memories.append(result)
            print(f"memory {name}: {result.failure or 'ok'}", file=sys.stderr, flush=True)
    print(f"{environment()}; server on CPU {args.server_cpu}, client on CPU {args.client_cpu}")
    print(
        f"{args.connections} connections, closed loop, {args.warmup:g} s warm-up +"
        f" {args.duration:g} s measured per run\n"
    )
    print(report(runs, memories, servers, sizes))
    failed = any(r.failure for r in runs) or any(m.failure for m in memories)
    return 1 if failed else 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=float, default=5.0, help="measured seconds per run")
    parser.add_argument("--warmup", type=float, default=1.0, help="warm-up seconds per run")
    parser.add_argument("--repetitions", type=int, default=3, help="runs per cell")
    parser.add_argument("--connections", type=int, default=64, help="concurrent connections")
    parser.add_argument("--sizes", default="32,16384", help="message sizes in bytes")
    parser.add_argument("--idle", type=int, default=5000, help="idle connections (0: skip)")
    parser.add_argument("--servers", default=",".join(SERVERS), help="servers to compare")
    parser.add_argument("--server-cpu", type=int, default=0, help="CPU the server is pinned to")
    parser.add_argument("--client-cpu", type=int, default=1, help="CPU the client is pinned to")
    args = parser.parse_args(argv)
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    needed = args.idle + args.connections + 256
    if soft < needed:
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, max(needed, soft)), hard))
    os.sched_setaffinity(0, {args.client_cpu})
    try:
        import uvloop
    except ImportError:
        return asyncio.run(main_async(args))
    return uvloop.run(main_async(args))


if __name__ == "__main__":
    sys.exit(main())
