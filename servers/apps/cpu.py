"""The ``cpu`` workload: a fixed amount of pure-Python work per request (it holds the GIL).

Parameters (``PARAMS``, from the environment): ``BENCH_APP_ITERATIONS`` — loop
iterations per request (default 20000, roughly 1–2 ms of one core). The work is integer arithmetic in a Python
loop: it never releases the GIL, so threads of one process cannot run it in parallel and
an event loop cannot serve anything else meanwhile — only more processes scale it.
The amount is a count of iterations, not a time, so a slower (contended) core takes
longer, as real work would.

The body is ``cpu <iterations> <checksum>\\n``; the checksum depends only on the
iteration count, so a load engine can verify every response.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from bench.servers.apps import Param, Params, answer_non_http, text_headers

PARAMS = Params(
    "cpu",
    Param(
        "iterations",
        int,
        20_000,
        "pure-Python loop iterations per request (20000: about 1–2 ms of one core)",
        minimum=0,
    ),
)
ITERATIONS: int = PARAMS.read()["iterations"]
_MASK = 0xFFFFFFFF


def burn(iterations: int) -> int:
    """Do ``iterations`` steps of integer arithmetic in Python; return a checksum."""
    acc = 0
    for i in range(iterations):
        acc = (acc * 31 + i) & _MASK
    return acc


def body(iterations: int = ITERATIONS) -> bytes:
    """The response body for ``iterations`` (computes the work)."""
    return f"cpu {iterations} {burn(iterations)}\n".encode()


async def asgi(scope: dict[str, Any], receive: Callable, send: Callable) -> None:
    """ASGI form: the work runs on the event loop (blocking it, as CPU work does)."""
    if await answer_non_http(scope, receive, send):
        return
    payload = body()
    await send(
        {"type": "http.response.start", "status": 200, "headers": text_headers(len(payload))}
    )
    await send({"type": "http.response.body", "body": payload})


def wsgi(environ: dict[str, Any], start_response: Callable) -> Iterable[bytes]:
    """WSGI form: the same work and response."""
    payload = body()
    start_response(
        "200 OK", [("Content-Type", "text/plain"), ("Content-Length", str(len(payload)))]
    )
    return [payload]
