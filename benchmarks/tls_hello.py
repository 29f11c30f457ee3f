"""Hello world over plain HTTP and over TLS: bench's eventloop server vs uvicorn.

Usage (from the repository root)::

    python benchmarks/tls_hello.py [--duration 5] [--connections 64] [--repetitions 2]
        [--server-cpu 0] [--client-cpu 1]

Method: each server serves the bundled ASGI hello app (one worker, uvloop; uvicorn with
httptools), pinned to ``--server-cpu``, once over ``http://`` and once over ``https://``
with a throw-away certificate (made here with ``trustme``: TLS 1.2+, the same PEM files
for both servers). One server runs at a time on a free port of 127.0.0.1; a short
warm-up, then one measured run. The client is wrk pinned to ``--client-cpu``: bench's
own engine (``bench load``) speaks plain HTTP only, so TLS needs wrk (``https://`` URLs;
it does not verify the certificate, and keeps connections alive, so the figures measure
encrypted requests on established connections, not handshakes). A run with socket
errors or non-2xx answers is marked failed, never counted.

Output: a markdown table (requests/s, p99) per server and scheme, then the cost of TLS
(https / http throughput) for each server. This is a benchmark, not a test.
"""

from __future__ import annotations

import argparse
import shutil
import socket
import ssl
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from wrkbench import parse_wrk, run_wrk, start_pinned, stop

from bench.runner.launch import free_port

SERVERS = ("eventloop", "uvicorn")
SCHEMES = ("http", "https")


def make_certificate(folder: Path) -> tuple[str, str]:
    """A throw-away certificate for 127.0.0.1 and its key; return (certfile, keyfile)."""
    import trustme

    cert = trustme.CA().issue_cert("127.0.0.1", "localhost")
    certfile, keyfile = folder / "cert.pem", folder / "key.pem"
    cert.cert_chain_pems[0].write_to_path(str(certfile))
    cert.private_key_pem.write_to_path(str(keyfile))
    return str(certfile), str(keyfile)


def command(server: str, port: int, tls: tuple[str, str] | None) -> list[str]:
    """The command line of ``server`` on 127.0.0.1:``port``, with TLS when ``tls`` is given."""
    python = sys.executable
    if server == "eventloop":
        argv = [
            python, "-m", "bench.runner.cli", "serve", "eventloop", "hello",
            "-b", f"127.0.0.1:{port}", "--log-level", "warning",
        ]  # fmt: skip
        if tls:
            argv += ["--ssl-certfile", tls[0], "--ssl-keyfile", tls[1]]
        return argv
    argv = [
        python, "-m", "uvicorn", "bench.servers.apps.hello:asgi", "--host", "127.0.0.1",
        "--port", str(port), "--http", "httptools", "--loop", "uvloop",
        "--no-access-log", "--log-level", "warning",
    ]  # fmt: skip
    if tls:
        argv += ["--ssl-certfile", tls[0], "--ssl-keyfile", tls[1]]
    return argv


def wait_ready(port: int, process: subprocess.Popen[bytes], tls: bool, timeout: float) -> None:
    """Wait until a GET (over TLS if ``tls``; certificate not verified) answers 200."""
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    request = b"GET / HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n"
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server exited with {process.returncode} before it was ready")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=2) as raw:
                sock = context.wrap_socket(raw) if tls else raw
                sock.sendall(request)
                if sock.recv(64).startswith(b"HTTP/1.1 200"):
                    return
        except OSError:
            pass
        time.sleep(0.05)
    raise RuntimeError("server did not answer in time")


def measure(args: argparse.Namespace, server: str, scheme: str, tls: tuple[str, str]) -> dict:
    """One run: start, warm up, measure, stop; a dict with rps/p99 or failure."""
    port = free_port()
    process = start_pinned(
        command(server, port, tls if scheme == "https" else None), args.server_cpu
    )
    url = f"{scheme}://127.0.0.1:{port}/"
    row: dict = {"server": server, "scheme": scheme, "rps": None, "p99": None, "failure": None}
    try:
        wait_ready(port, process, scheme == "https", timeout=20)
        run_wrk(
            args.wrk,
            args.client_cpu,
            url,
            threads=1,
            connections=args.connections,
            seconds=args.warmup,
        )
        run = parse_wrk(
            run_wrk(
                args.wrk,
                args.client_cpu,
                url,
                threads=1,
                connections=args.connections,
                seconds=args.duration,
            )
        )
        if run.failure:
            row["failure"] = run.failure
        else:
            row["rps"], row["p99"] = run.rps, run.p99_ms
    except (RuntimeError, subprocess.TimeoutExpired) as exc:
        row["failure"] = str(exc)
    finally:
        tail = stop(process)
        if row["failure"] and tail:
            row["failure"] += " | " + tail
    return row


def report(rows: list[dict]) -> str:
    """Markdown: median requests/s and p99 per server and scheme, then the TLS cost."""
    lines = [
        "| server | scheme | runs ok | median requests/s | median p99 ms |",
        "|---|---|---:|---:|---:|",
    ]
    medians: dict[tuple[str, str], float] = {}
    for server in SERVERS:
        for scheme in SCHEMES:
            ok = [r for r in rows if r["server"] == server and r["scheme"] == scheme and r["rps"]]
            if not ok:
                lines.append(f"| {server} | {scheme} | 0 | failed | |")
                continue
            rps = statistics.median(r["rps"] for r in ok)
            medians[server, scheme] = rps
            p99 = statistics.median(r["p99"] for r in ok)
            lines.append(f"| {server} | {scheme} | {len(ok)} | {rps:,.0f} | {p99:.2f} |")
    lines.append("")
    for server in SERVERS:
        if (server, "http") in medians and (server, "https") in medians:
            share = medians[server, "https"] / medians[server, "http"]
            lines.append(f"{server}: https keeps {share:.0%} of the plain-HTTP throughput")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=float, default=5.0, help="measured seconds per run")
    parser.add_argument("--warmup", type=float, default=1.0, help="warm-up seconds per run")
    parser.add_argument("--connections", type=int, default=64, help="wrk connections")
    parser.add_argument("--repetitions", type=int, default=2, help="runs per server and scheme")
    parser.add_argument("--server-cpu", type=int, default=0, help="CPU the server is pinned to")
    parser.add_argument("--client-cpu", type=int, default=1, help="CPU wrk is pinned to")
    parser.add_argument("--wrk", default=shutil.which("wrk") or "wrk", help="wrk executable")
    args = parser.parse_args(argv)
    if shutil.which(args.wrk) is None:
        print("wrk is not installed (Debian/Ubuntu: apt-get install wrk)", file=sys.stderr)
        return 2
    rows: list[dict] = []
    with tempfile.TemporaryDirectory() as folder:
        tls = make_certificate(Path(folder))
        for repetition in range(1, args.repetitions + 1):
            for server in SERVERS if repetition % 2 else reversed(SERVERS):
                for scheme in SCHEMES:
                    row = measure(args, server, scheme, tls)
                    rows.append(row)
                    what = row["failure"] or f"{row['rps']:,.0f} req/s p99 {row['p99']:.2f} ms"
                    print(
                        f"rep {repetition} {server:9s} {scheme:5s} {what}",
                        file=sys.stderr,
                        flush=True,
                    )
    print(report(rows))
    return 0 if all(r["failure"] is None for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
