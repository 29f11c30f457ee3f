"""Cost of one keep-alive request through the eventloop server's protocol, with no sockets.

    python benchmarks/shell_cycle.py [--cycles 20000] [--repeat 5]
    python benchmarks/shell_cycle.py --interface wsgi --cycles 20000           # one interface
    valgrind --tool=callgrind --callgrind-out-file=/dev/null \\
        python benchmarks/shell_cycle.py --interface wsgi --cycles 20000 --once

The layer above ``core_cycle.py``: a GET goes into ``HttpProtocol.data_received`` on a
transport that only collects bytes, the loop's callbacks run (the app's start, its
response), and the next request follows on the same connection. The app is the bundled
``hello``: its ASGI form, or its WSGI form run inline on the loop's thread
(``--wsgi-inline always``, so a slow call under callgrind does not move it to the pool).
What is left out: the event loop's own work and the kernel's (``epoll``, ``recv``,
``send``), which the end-to-end benchmarks measure.

Without ``--interface`` both run, interleaved ``--repeat`` times (the best time per
interface is kept), and a table gives µs per cycle. For a repeatable figure run one
interface under callgrind with ``--once`` and divide the instruction count by
``--cycles``, after subtracting a run with ``--cycles 0`` (start-up, imports, warm-up).
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from collections.abc import Callable
from typing import Any

from bench.servers.apps import hello
from bench.servers.asgi.config import ServerConfig
from bench.servers.asgi.cycle import HttpCycle
from bench.servers.asgi.http import HttpProtocol, ProtocolContext
from bench.servers.asgi.state import ServerState
from bench.servers.asgi.wsgi import WSGIRuntime, wsgi_cycle_factory

REQUEST = b"GET / HTTP/1.1\r\nHost: 127.0.0.1:8000\r\nUser-Agent: bench\r\nAccept: */*\r\n\r\n"
WARM_UP = 200


class _Transport(asyncio.Transport):
    """Keeps the last write; answers what the protocol asks of a TCP transport."""

    def __init__(self) -> None:
        super().__init__()
        self.last = b""
        self.writes = 0

    def write(self, data: Any) -> None:
        self.last = data
        self.writes += 1

    def writelines(self, chunks: Any) -> None:
        self.last = b"".join(chunks)
        self.writes += 1

    def is_closing(self) -> bool:
        return False

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        return {"sockname": ("127.0.0.1", 8000), "peername": ("127.0.0.1", 50000)}.get(
            name, default
        )

    def pause_reading(self) -> None:
        pass

    def resume_reading(self) -> None:
        pass

    def close(self) -> None:
        pass


class _Loop:
    """The two loop methods the protocol calls per request, run synchronously."""

    def __init__(self) -> None:
        self.pending: list[tuple[Callable[..., Any], tuple[Any, ...]]] = []

    def call_soon(self, callback: Callable[..., Any], *args: Any, context: Any = None) -> None:
        self.pending.append((callback, args))

    def run_ready(self) -> None:
        pending = self.pending
        while pending:
            callback, args = pending.pop()
            callback(*args)


def connection(interface: str) -> Callable[[], None]:
    """One kept-alive connection of ``interface``; return the function that runs a cycle."""
    loop = _Loop()
    config = ServerConfig(interface=interface)
    if interface == "wsgi":
        ctx = ProtocolContext(
            hello.wsgi, "wsgi", config, ServerState(), loop,  # type: ignore[arg-type]
            wsgi_cycle_factory, WSGIRuntime(1, "always"),
        )  # fmt: skip
    else:
        ctx = ProtocolContext(hello.asgi, "asgi", config, ServerState(), loop, HttpCycle)  # type: ignore[arg-type]
    protocol = HttpProtocol(ctx)
    transport = _Transport()
    protocol.connection_made(transport)

    def cycle() -> None:
        protocol.data_received(REQUEST)
        loop.run_ready()

    for _ in range(WARM_UP):
        cycle()
    if not (transport.writes == WARM_UP and bytes(transport.last).endswith(hello.BODY)):
        raise RuntimeError(f"{interface}: the cycle did not answer hello")
    return cycle


def timed(cycle: Callable[[], None], cycles: int) -> float:
    """µs per cycle over ``cycles`` runs."""
    start = time.perf_counter()
    for _ in range(cycles):
        cycle()
    return (time.perf_counter() - start) / max(cycles, 1) * 1e6


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cycles", type=int, default=20000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--interface", choices=["asgi", "wsgi"], help="one interface only")
    parser.add_argument("--once", action="store_true", help="one run, no timing (callgrind)")
    args = parser.parse_args(argv)
    interfaces = [args.interface] if args.interface else ["asgi", "wsgi"]
    cycles = {name: connection(name) for name in interfaces}
    if args.once:
        for cycle in cycles.values():
            for _ in range(args.cycles):
                cycle()
        return 0
    best = {name: float("inf") for name in interfaces}
    for _ in range(args.repeat):
        for name, cycle in cycles.items():
            best[name] = min(best[name], timed(cycle, args.cycles))
    print(f"| interface | µs per keep-alive cycle (best of {args.repeat} × {args.cycles}) |")
    print("|---|---:|")
    for name in interfaces:
        print(f"| {name} | {best[name]:.2f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
