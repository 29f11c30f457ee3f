"""The native engine's ceiling on one pinned core, side by side with wrk and locust.

    python benchmarks/engine_ceiling.py [--duration 10] [--repeat 3] [--connections 64]

A server that is not the bottleneck — nginx (``nginx-light`` from Debian), one worker,
``return 200 "hello"`` on 127.0.0.1, pinned to ``--server-cpu`` with taskset — is driven
by each load generator in turn, pinned to ``--engine-cpu``:

* ``wrk -t1 -c64``;
* ``locust`` (FastHttpUser, one process, headless, stats reset after spawning);
* ``bench load -c 64`` (the native engine, full latency recording), and the same with
  ``--no-record`` to state what recording costs per request;
* a bare uvloop client (no parsing, no verification, no recording): the floor of any
  Python client on this loop, for reference.

Repetitions are interleaved (A B C D E, then again in a rotated order) so drift hits
every tool alike. The output is a markdown table: median req/s with min–max, ratios to
wrk and to locust, and each tool's CPU time per request (wrk and locust: the child's
rusage, locust's including its start-up; the engine and the bare client: their own
thread over the measured window). On a shared machine the CPU a tool gets varies; its
CPU per request does not much, so "one-core ceiling" (10^6 / CPU µs per request) is what
the tool would do with a core to itself, the comparison that survives a noisy host.

Needs nginx, wrk and taskset on PATH and at least two CPUs. Not a test: run on purpose.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import resource
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

NGINX_CONF = """\
worker_processes 1;
daemon off;
error_log {dir}/error.log warn;
pid {dir}/nginx.pid;
events {{ worker_connections 4096; }}
http {{
    access_log off;
    client_body_temp_path {dir}/body;
    proxy_temp_path {dir}/proxy;
    fastcgi_temp_path {dir}/fastcgi;
    uwsgi_temp_path {dir}/uwsgi;
    scgi_temp_path {dir}/scgi;
    keepalive_requests 1000000000;
    keepalive_timeout 300s;
    server {{
        listen 127.0.0.1:{port};
        location / {{ return 200 "hello"; }}
    }}
}}
"""

LOCUSTFILE = """\
from locust import constant, task
from locust.contrib.fasthttp import FastHttpUser


class Hello(FastHttpUser):
    wait_time = constant(0)

    @task
    def hello(self):
        self.client.get("/")
"""

BARE_CLIENT = """\
import asyncio, sys, time, uvloop
host, port, conns, duration = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4])
req = b"GET / HTTP/1.1\\r\\nHost: %b:%d\\r\\n\\r\\n" % (host.encode(), port)
count = 0
class P(asyncio.Protocol):
    def connection_made(self, t):
        self.t = t
        t.write(req)
    def data_received(self, data):
        global count
        count += 1
        self.t.write(req)
async def main():
    global count
    loop = asyncio.get_running_loop()
    for _ in range(conns):
        await loop.create_connection(P, host, port)
    await asyncio.sleep(1.0)
    count, t0, c0 = 0, time.perf_counter(), time.thread_time()
    await asyncio.sleep(duration)
    wall = time.perf_counter() - t0
    print(count / wall, (time.thread_time() - c0) / wall)
uvloop.run(main())
"""


@dataclass
class Sample:
    """One run of one tool."""

    rps: float
    cpu: float | None = None
    p50_us: float | None = None
    p99_us: float | None = None
    extra: dict[str, float] = field(default_factory=dict)


def free_port() -> int:
    """A free TCP port on 127.0.0.1."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_listening(port: int, deadline_s: float = 10.0) -> None:
    """Poll connect() until the port accepts, or fail after the deadline."""
    deadline = time.monotonic() + deadline_s
    while time.monotonic() < deadline:
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.2):
            return
        time.sleep(0.05)
    raise RuntimeError(f"nothing listens on 127.0.0.1:{port}")


@contextlib.contextmanager
def nginx(workdir: Path, cpu: int) -> Iterator[str]:
    """nginx serving ``hello`` on a free port, pinned to ``cpu``; yields the URL."""
    port = free_port()
    conf = workdir / "nginx.conf"
    conf.write_text(NGINX_CONF.format(dir=workdir, port=port))
    proc = subprocess.Popen(
        ["taskset", "-c", str(cpu), "nginx", "-p", str(workdir), "-c", str(conf)],
        start_new_session=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_listening(port)
        yield f"http://127.0.0.1:{port}/"
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


def pinned(cpu: int, *cmd: str) -> list[str]:
    return ["taskset", "-c", str(cpu), *cmd]


def child_cpu_s() -> float:
    """User + system CPU seconds of all waited-for children so far."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def run_wrk(url: str, cpu: int, conns: int, duration: float, workdir: Path) -> Sample:
    cpu0 = child_cpu_s()
    out = subprocess.run(
        pinned(cpu, "wrk", "-t1", f"-c{conns}", f"-d{int(duration)}s", url),
        capture_output=True,
        text=True,
        check=True,
        timeout=duration + 30,
    ).stdout
    used = child_cpu_s() - cpu0
    for line in out.splitlines():
        if line.startswith("Requests/sec:"):
            rps = float(line.split()[1])
            return Sample(
                rps=rps,
                cpu=used / duration,
                extra={"cpu_us_per_request": used / (rps * duration) * 1e6},
            )
    raise RuntimeError(f"no Requests/sec in wrk output:\n{out}")


def run_locust(url: str, cpu: int, conns: int, duration: float, workdir: Path) -> Sample:
    locustfile = workdir / "locustfile.py"
    locustfile.write_text(LOCUSTFILE)
    cmd = pinned(
        cpu,
        sys.executable,
        "-m",
        "locust",
        "-f",
        str(locustfile),
        "--headless",
        "-u",
        str(conns),
        "-r",
        str(conns),
        "-t",
        f"{int(duration + 1)}s",
        "--host",
        url.rstrip("/"),
        "--reset-stats",
        "--json",
        "--skip-log",
    )
    cpu0 = child_cpu_s()
    out = subprocess.run(
        cmd, capture_output=True, text=True, check=False, timeout=duration + 60, cwd=workdir
    ).stdout
    used = child_cpu_s() - cpu0  # includes start-up: an upper bound per request
    stats = json.loads(out[out.index("[") :])
    total = sum(s["num_requests"] for s in stats)
    start = min(s["start_time"] for s in stats)
    end = max(s["last_request_timestamp"] for s in stats)
    return Sample(
        rps=total / (end - start), extra={"cpu_us_per_request": used / max(1, total) * 1e6}
    )


def run_bench(
    url: str, cpu: int, conns: int, duration: float, workdir: Path, *, record: bool = True
) -> Sample:
    cmd = [
        sys.executable,
        "-m",
        "bench.runner.cli",
        "load",
        url,
        "-c",
        str(conns),
        "-d",
        f"{duration}s",
        "--warmup",
        "1s",
        "--expect-body",
        "hello",
        "--json",
    ]
    if not record:
        cmd.append("--no-record")
    out = subprocess.run(
        pinned(cpu, *cmd), capture_output=True, text=True, check=True, timeout=duration + 60
    ).stdout
    result = json.loads(out)
    if result["error_count"]:
        raise RuntimeError(f"bench load saw errors: {result['errors']}")
    cpu_per_req_us = result["engine_cpu"] * result["duration_s"] / max(1, result["requests"]) * 1e6
    return Sample(
        rps=result["rps"],
        cpu=result["engine_cpu"],
        p50_us=result["latency_us"].get("p50") if record else None,
        p99_us=result["latency_us"].get("p99") if record else None,
        extra={"cpu_us_per_request": cpu_per_req_us},
    )


def run_bench_norecord(url: str, cpu: int, conns: int, duration: float, workdir: Path) -> Sample:
    return run_bench(url, cpu, conns, duration, workdir, record=False)


def run_bare(url: str, cpu: int, conns: int, duration: float, workdir: Path) -> Sample:
    script = workdir / "bare_client.py"
    script.write_text(BARE_CLIENT)
    port = url.rsplit(":", 1)[1].strip("/")
    out = subprocess.run(
        pinned(cpu, sys.executable, str(script), "127.0.0.1", port, str(conns), str(duration)),
        capture_output=True,
        text=True,
        check=True,
        timeout=duration + 30,
    ).stdout
    rps, cpu_share = (float(x) for x in out.split())
    return Sample(rps=rps, cpu=cpu_share, extra={"cpu_us_per_request": cpu_share / rps * 1e6})


Runner = Callable[[str, int, int, float, Path], Sample]
TOOLS: dict[str, Runner] = {
    "wrk -t1": run_wrk,
    "locust (FastHttpUser, 1 process)": run_locust,
    "bench load (recording)": run_bench,
    "bench load --no-record": run_bench_norecord,
    "bare uvloop client": run_bare,
}


def recording_microbench(n: int = 200_000) -> dict[str, float]:
    """ns per sample: list.append + the once-a-second fold, vs hdrhistogram if installed."""
    import random

    from bench.runner.results.histogram import Histogram

    values = [int(random.lognormvariate(13, 0.5)) for _ in range(n)]
    samples: list[int] = []
    append = samples.append
    t0 = time.perf_counter()
    for v in values:
        append(v)
    t1 = time.perf_counter()
    Histogram.from_ns(samples)
    t2 = time.perf_counter()
    out = {"append_ns": (t1 - t0) / n * 1e9, "fold_ns": (t2 - t1) / n * 1e9}
    try:
        from hdrh.histogram import HdrHistogram
    except ImportError:
        return out
    hdr = HdrHistogram(1, 60_000_000, 3)
    record = hdr.record_value
    t3 = time.perf_counter()
    for v in values:
        record(v // 1000)
    out["hdrhistogram_ns"] = (time.perf_counter() - t3) / n * 1e9
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=float, default=10.0)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--server-cpu", type=int, default=0)
    parser.add_argument("--engine-cpu", type=int, default=1)
    parser.add_argument("--only", action="append", default=[], help="run only tools named so")
    args = parser.parse_args()
    for tool in ("nginx", "wrk", "taskset"):
        if shutil.which(tool) is None:
            print(f"{tool} is not installed (apt-get install nginx-light wrk util-linux)")
            return 2
    tools = {k: v for k, v in TOOLS.items() if not args.only or any(o in k for o in args.only)}
    samples: dict[str, list[Sample]] = {name: [] for name in tools}
    names = list(tools)
    load_before = os.getloadavg()[0]
    with tempfile.TemporaryDirectory(prefix="bench-ceiling-") as tmp:
        workdir = Path(tmp)
        os.chmod(workdir, 0o755)
        with nginx(workdir, args.server_cpu) as url:
            for rep in range(args.repeat):
                order = names[rep % len(names) :] + names[: rep % len(names)]
                for name in order:
                    sample = tools[name](
                        url, args.engine_cpu, args.connections, args.duration, workdir
                    )
                    samples[name].append(sample)
                    print(f"rep {rep + 1} {name}: {sample.rps:,.0f} req/s", file=sys.stderr)
    loads = (load_before, os.getloadavg()[0])
    print(render(samples, args, recording_microbench(), loads))
    return 0


def _median_cell(values: list[float | None], fmt: str) -> str:
    present = [v for v in values if v is not None]
    return fmt.format(statistics.median(present)) if present else "–"


def render(
    samples: dict[str, list[Sample]],
    args: argparse.Namespace,
    micro: dict[str, float],
    loads: tuple[float, float],
) -> str:
    """The markdown report."""
    med = {k: statistics.median(s.rps for s in v) for k, v in samples.items() if v}
    ceiling = {
        k: 1e6 / statistics.median(s.extra["cpu_us_per_request"] for s in v)
        for k, v in samples.items()
        if v and all("cpu_us_per_request" in s.extra for s in v)
    }
    wrk_ceiling = ceiling.get("wrk -t1")
    wrk = med.get("wrk -t1")
    locust = med.get("locust (FastHttpUser, 1 process)")
    lines = [
        f'nginx `return 200 "hello"` pinned to CPU {args.server_cpu}; load pinned to CPU '
        f"{args.engine_cpu}; {args.connections} connections; {args.duration:g} s × "
        f"{args.repeat} interleaved repetitions; 1-minute load average "
        f"{loads[0]:.1f} before, {loads[1]:.1f} after ({os.cpu_count()} CPUs).",
        "",
        "| load generator | req/s (median) | min–max | × wrk | × locust | CPU used | CPU µs/req | "
        "one-core ceiling | × wrk | p50 | p99 |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for name, runs in samples.items():
        if not runs:
            continue
        rps = [s.rps for s in runs]
        cells = [
            name,
            f"{med[name]:,.0f}",
            f"{min(rps):,.0f}–{max(rps):,.0f}",
            f"{med[name] / wrk:.2f}" if wrk else "–",
            f"{med[name] / locust:.1f}" if locust else "–",
            _median_cell([s.cpu for s in runs], "{:.0%}"),
            _median_cell([s.extra.get("cpu_us_per_request") for s in runs], "{:.2f}"),
            f"{ceiling[name]:,.0f}" if name in ceiling else "–",
            f"{ceiling[name] / wrk_ceiling:.2f}" if name in ceiling and wrk_ceiling else "–",
            _median_cell([s.p50_us for s in runs], "{:,.0f} µs"),
            _median_cell([s.p99_us for s in runs], "{:,.0f} µs"),
        ]
        lines.append("| " + " | ".join(cells) + " |")
    rec = samples.get("bench load (recording)")
    norec = samples.get("bench load --no-record")
    if rec and norec:
        a = statistics.median(s.extra["cpu_us_per_request"] for s in rec)
        b = statistics.median(s.extra["cpu_us_per_request"] for s in norec)
        lines += [
            "",
            f"Recording overhead, end to end: {a:.2f} vs {b:.2f} CPU µs per request "
            f"({(a - b) * 1000:+.0f} ns, {(a - b) / b:+.1%}).",
        ]
    lines += [
        "",
        textwrap.dedent(
            f"""\
            Recording, micro-benchmark: list.append {micro["append_ns"]:.0f} ns/sample + fold
            (numpy µs counts, every 100 ms) {micro["fold_ns"]:.0f} ns/sample"""
        ).replace("\n", " ")
        + (
            f"; hdrhistogram record_value {micro['hdrhistogram_ns']:.0f} ns/sample."
            if "hdrhistogram_ns" in micro
            else "."
        ),
    ]
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
