"""Hostile clients vs bench's servers and their peers: are normal requests still answered?

Usage (from the repository root)::

    python benchmarks/hostile.py [--duration 5] [--only NAME ...] [--code DIR]

Attacks (each against bench and against the peer with the same worker settings):

- ``slowloris``: 64 connections send a request head a line a second and never finish
  it; bench ``prefork -k sync -w 1`` vs gunicorn ``-k sync -w 1``;
- ``slow-readers``: 16 connections ask for a 64 MiB response and never read it; bench
  ``prefork -k thread --threads 4`` vs gunicorn ``-k gthread --threads 4``;
- ``pipeline-flood``: one connection pipelines GETs as fast as it can and never reads;
  bench ``eventloop`` vs uvicorn, the bundled ``hello`` app;
- ``ping-flood``: one WebSocket sends Pings as fast as it can and never reads the
  Pongs; bench ``eventloop`` vs uvicorn, the bundled ``ws_echo`` app.

While an attack runs for ``--duration`` seconds, one normal client sends plain GETs
one after the other (a new connection each, ``Connection: close``, 2 s patience each)
and the server's resident memory (its whole process tree) is sampled. Reported per
server: normal requests answered and failed, and RSS before the attack and at its
peak. ``--code DIR`` runs bench's servers from another checkout (e.g. an export of
the main branch, for before/after figures); the peers are those installed.

Everything runs on 127.0.0.1 with bounded load; each server is stopped (its process
group) when its attack ends. Unpinned: the figures are about starvation and memory,
not speed. This is a benchmark, not a test: it asserts nothing.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import psutil

HERE = Path(__file__).resolve().parent
REPO_ROOT = HERE.parent
GET = b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
#: How long the normal client waits for one answer.
PATIENCE = 2.0


@dataclass(frozen=True)
class Attack:
    """One attack, the server settings for ours and for the peer."""

    name: str
    ours: tuple[str, ...]
    peer: str
    peer_args: tuple[str, ...]
    run: Callable[[int, threading.Event], None]


@dataclass
class Outcome:
    """What the normal client and the memory sampler saw during one attack."""

    answered: int = 0
    failed: int = 0
    rss_before: int = 0
    rss_peak: int = 0
    note: str = ""


# -- the attacks: each runs until ``stop`` is set -----------------------------------


def _small_socket(port: int) -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 4096)
    sock.settimeout(5)
    sock.connect(("127.0.0.1", port))
    return sock


def slowloris(port: int, stop: threading.Event, count: int = 64) -> None:
    """Keep ``count`` connections sending an endless head, a line a second."""
    socks: list[socket.socket | None] = [None] * count
    try:
        while not stop.is_set():
            for i in range(count):
                try:
                    if socks[i] is None:
                        socks[i] = _small_socket(port)
                        socks[i].sendall(b"GET / HTTP/1.1\r\nHost: x\r\n")  # type: ignore[union-attr]
                    else:
                        socks[i].sendall(b"X-Slow: 1\r\n")  # type: ignore[union-attr]
                except OSError:
                    if socks[i] is not None:
                        socks[i].close()  # type: ignore[union-attr]
                    socks[i] = None  # reopened next round
            stop.wait(1.0)
    finally:
        for s in socks:
            if s is not None:
                s.close()


def slow_readers(port: int, stop: threading.Event, count: int = 16) -> None:
    """Keep ``count`` connections that ask for the big body and never read it."""
    socks: list[socket.socket] = []
    try:
        while not stop.is_set():
            while len(socks) < count and not stop.is_set():
                try:
                    s = _small_socket(port)
                    s.sendall(b"GET /big HTTP/1.1\r\nHost: x\r\n\r\n")
                    socks.append(s)
                except OSError:
                    break
            stop.wait(0.5)
    finally:
        for s in socks:
            s.close()


def _flood(sock: socket.socket, unit: bytes, stop: threading.Event) -> None:
    block = memoryview(unit * max(1, 65536 // len(unit)))
    sock.settimeout(0.5)
    sent = 0
    while not stop.is_set():
        try:
            sent += sock.send(block[sent % len(block) :])
        except TimeoutError:
            continue  # the server stopped reading: keep pushing
        except OSError:
            return


def pipeline_flood(port: int, stop: threading.Event) -> None:
    """Pipeline GETs without ever reading a response."""
    with _small_socket(port) as sock:
        _flood(sock, b"GET / HTTP/1.1\r\nHost: x\r\n\r\n", stop)


def ping_flood(port: int, stop: threading.Event) -> None:
    """Open a WebSocket, then send Pings without ever reading the Pongs."""
    with _small_socket(port) as sock:
        sock.sendall(
            b"GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
        )
        head = b""
        while b"\r\n\r\n" not in head:
            chunk = sock.recv(1)
            if not chunk:
                return
            head += chunk
        payload = b"p" * 125
        ping = bytes([0x89, 0x80 | len(payload)]) + b"\x00\x00\x00\x00" + payload
        _flood(sock, ping, stop)


ATTACKS: tuple[Attack, ...] = (
    Attack(
        "slowloris",
        ("prefork", "hostile_app:app", "-k", "sync", "-w", "1"),
        "gunicorn",
        ("hostile_app:app", "-k", "sync", "-w", "1"),
        slowloris,
    ),
    Attack(
        "slow-readers",
        ("prefork", "hostile_app:app", "-k", "thread", "--threads", "4", "-w", "1"),
        "gunicorn",
        ("hostile_app:app", "-k", "gthread", "--threads", "4", "-w", "1"),
        slow_readers,
    ),
    Attack(
        "pipeline-flood",
        ("eventloop", "hello"),
        "uvicorn",
        ("bench.servers.apps.hello:asgi", "--log-level", "warning"),
        pipeline_flood,
    ),
    Attack(
        "ping-flood",
        ("eventloop", "ws_echo"),
        "uvicorn",
        ("bench.servers.apps.ws_echo:asgi", "--log-level", "warning"),
        ping_flood,
    ),
)


# -- servers ------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _command(attack: Attack, server: str, port: int) -> list[str]:
    if server == "bench":
        return [
            sys.executable,
            "-m",
            "bench.runner.cli",
            "serve",
            *attack.ours,
            "-b",
            f"127.0.0.1:{port}",
        ]
    if server == "gunicorn":
        return [sys.executable, "-m", "gunicorn", *attack.peer_args, "-b", f"127.0.0.1:{port}"]
    return [sys.executable, "-m", "uvicorn", *attack.peer_args, "--port", str(port)]


@contextlib.contextmanager
def _server(command: list[str], code: Path, port: int) -> Iterator[subprocess.Popen[bytes]]:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(code), str(HERE)])}
    process = subprocess.Popen(
        command,
        cwd=code,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        _wait_ready(port, process)
        yield process
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(15)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def _wait_ready(port: int, process: subprocess.Popen[bytes], timeout: float = 30.0) -> None:
    """Poll until the server answers any HTTP status (bounded; raise if it dies)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server exited with {process.returncode} before it was ready")
        if _one_request(port):
            return
        time.sleep(0.05)
    raise RuntimeError("server did not answer in time")


def _one_request(port: int) -> bool:
    """One normal GET; True if an HTTP response came back within ``PATIENCE``."""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=PATIENCE) as sock:
            sock.sendall(GET)
            return sock.recv(64).startswith(b"HTTP/1.1 ")
    except OSError:
        return False


def _tree_rss(pid: int) -> int:
    try:
        root = psutil.Process(pid)
        processes = [root, *root.children(recursive=True)]
    except psutil.NoSuchProcess:
        return 0
    total = 0
    for process in processes:
        with contextlib.suppress(psutil.NoSuchProcess):
            total += process.memory_info().rss
    return total


def measure(attack: Attack, server: str, code: Path, duration: float) -> Outcome:
    """Run ``attack`` against ``server`` for ``duration`` seconds."""
    port = _free_port()
    outcome = Outcome()
    try:
        with _server(_command(attack, server, port), code, port) as process:
            outcome.rss_before = outcome.rss_peak = _tree_rss(process.pid)
            stop = threading.Event()
            attacker = threading.Thread(target=attack.run, args=(port, stop), daemon=True)
            attacker.start()
            end = time.monotonic() + duration
            try:
                while time.monotonic() < end:
                    if _one_request(port):
                        outcome.answered += 1
                    else:
                        outcome.failed += 1
                    outcome.rss_peak = max(outcome.rss_peak, _tree_rss(process.pid))
            finally:
                stop.set()
                attacker.join(10)
    except RuntimeError as exc:
        outcome.note = str(exc)
    return outcome


def main(argv: list[str] | None = None) -> int:
    """Run the attacks and print one markdown table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=float, default=5.0, help="seconds per attack")
    parser.add_argument("--only", nargs="*", choices=[a.name for a in ATTACKS])
    parser.add_argument("--code", type=Path, default=REPO_ROOT, help="bench checkout to run")
    parser.add_argument("--no-peers", action="store_true", help="measure bench only")
    args = parser.parse_args(argv)
    code = args.code.resolve()
    print(f"bench code: {code}; {args.duration:g} s per attack; answered = normal GETs")
    print()
    print("| attack | server | answered | failed | RSS before MiB | RSS peak MiB |")
    print("|---|---|---:|---:|---:|---:|")
    for attack in ATTACKS:
        if args.only and attack.name not in args.only:
            continue
        servers = ["bench"] if args.no_peers else ["bench", attack.peer]
        for server in servers:
            o = measure(attack, server, code, args.duration)
            row = (
                f"| {attack.name} | {server} | {o.answered} | {o.failed} | "
                f"{o.rss_before / 2**20:.0f} | {o.rss_peak / 2**20:.0f} |"
            )
            print(row + (f" {o.note}" if o.note else ""), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
