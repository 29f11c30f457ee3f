"""Cost of one keep-alive request cycle in the HTTP/1.1 core, pure Python vs the C hot path.

    python benchmarks/core_cycle.py [--cycles 20000] [--repeat 5]
    python benchmarks/core_cycle.py --path pure --role server --cycles 20000   # one path
    valgrind --tool=callgrind --callgrind-out-file=/dev/null \\
        python benchmarks/core_cycle.py --path c --role server --cycles 20000 --once

A cycle is what a worker does per request on a kept-alive connection, with no I/O:

* server: ``receive_data`` (a browser-like GET, 7 fields), ``next_event`` × 2 (Request,
  EndOfMessage), ``send`` of a 200 with content-type and content-length, its body and
  its end, and the ``next_event`` that says NEED_DATA;
* client (the load engine's role): ``send`` of a GET and its end, ``receive_data`` of
  a typical response, ``next_event`` × 3 (Response, Data, EndOfMessage).

Without ``--path`` both paths run in one process, interleaved ``--repeat`` times (the
best time per path is kept: the box's noise only ever adds), and a markdown table gives
µs per cycle and the ratio. Wall-clock time on a shared machine is indicative; for a
repeatable figure run one path under callgrind with ``--once`` and divide the
instruction count (``Collected`` / ``summary``) by ``--cycles``, after subtracting a run
with ``--cycles 0`` (interpreter start-up and imports).
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable

from bench.servers.protocol import (
    END_OF_MESSAGE,
    NEED_DATA,
    Connection,
    Data,
    EndOfMessage,
    Request,
    Response,
    Role,
    _accel,
    http11,
)

REQUEST = (
    b"GET /hello?x=1 HTTP/1.1\r\nHost: 127.0.0.1:8000\r\nUser-Agent: bench/0.1\r\n"
    b"Accept: */*\r\nAccept-Encoding: gzip, deflate\r\nAccept-Language: en\r\n"
    b"Cookie: a=b\r\nConnection: keep-alive\r\n\r\n"
)
RESPONSE_HEADERS = [(b"content-type", b"text/plain"), (b"content-length", b"13")]
BODY = b"Hello, world!"
RESPONSE = (
    b"HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\ncontent-length: 13\r\n"
    b"date: Mon, 07 Dec 2026 12:00:00 GMT\r\nserver: bench\r\n\r\n" + BODY
)
CLIENT_REQUEST = Request(
    b"GET", b"/hello", [(b"host", b"127.0.0.1:8000"), (b"user-agent", b"bench")]
)


def server_cycles(n: int) -> None:
    """``n`` keep-alive cycles on one server connection."""
    conn = Connection(Role.SERVER)
    receive, next_event, send = conn.receive_data, conn.next_event, conn.send
    response = Response(200, RESPONSE_HEADERS)
    data = Data(BODY)
    for _ in range(n):
        receive(REQUEST)
        next_event()
        next_event()
        send(response)
        send(data)
        send(END_OF_MESSAGE)
        if next_event() is not NEED_DATA:
            raise AssertionError("the cycle did not end on a kept-alive connection")


def client_cycles(n: int) -> None:
    """``n`` keep-alive cycles on one client connection."""
    conn = Connection(Role.CLIENT)
    receive, next_event, send = conn.receive_data, conn.next_event, conn.send
    for _ in range(n):
        send(CLIENT_REQUEST)
        send(END_OF_MESSAGE)
        receive(RESPONSE)
        next_event()
        next_event()
        if type(next_event()) is not EndOfMessage:
            raise AssertionError("the response did not end")


ROLES: dict[str, Callable[[int], None]] = {"server": server_cycles, "client": client_cycles}


def best_us(run: Callable[[int], None], fast: bool, cycles: int) -> float:
    """µs per cycle of one timed run on one path."""
    http11.use_accelerator(fast)
    start = time.perf_counter()
    run(cycles)
    return (time.perf_counter() - start) / cycles * 1e6


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--cycles", type=int, default=20000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--path", choices=["pure", "c"], help="run one path only")
    parser.add_argument("--role", choices=sorted(ROLES), help="one role only")
    parser.add_argument("--once", action="store_true", help="one run, no timing (callgrind)")
    args = parser.parse_args(argv)
    if args.path != "pure" and not _accel.available():
        print("the C accelerator is not built (pip install -e . with a C compiler)")
        return 1
    roles = [args.role] if args.role else sorted(ROLES)
    paths = [args.path == "c"] if args.path else [False, True]
    if args.once:
        http11.use_accelerator(paths[0])
        for role in roles:
            ROLES[role](args.cycles)
        return 0
    for role in roles:
        ROLES[role](1000)  # warm the caches both paths share (Date, Host)
    best: dict[tuple[str, bool], float] = {}
    for _ in range(args.repeat):
        for role in roles:
            for fast in paths:
                us = best_us(ROLES[role], fast, args.cycles)
                key = (role, fast)
                best[key] = min(us, best.get(key, us))
    print("| role | pure Python µs/cycle | C hot path µs/cycle | ratio |")
    print("|---|---:|---:|---:|")
    for role in roles:
        pure, fast = best.get((role, False)), best.get((role, True))
        cells = [f"{v:.2f}" if v is not None else "–" for v in (pure, fast)]
        ratio = f"{pure / fast:.2f}×" if pure and fast else "–"
        print(f"| {role} | {cells[0]} | {cells[1]} | {ratio} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
