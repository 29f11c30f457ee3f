"""The ``downstream`` service: a stand-in for a slow backend that the ``io`` app calls.

Every request waits ``ms`` milliseconds without using CPU, then answers 200 with
``downstream <ms> ms\\n``. ``ms`` comes from the query string (``/?ms=50``), else from
``BENCH_APP_MS`` (default 0). ``bench run`` starts it on the engine's CPUs when a
scenario says ``workload: {downstream: true}`` and points the ``io`` app at it with
``BENCH_APP_DOWNSTREAM``; by hand::

    bench serve eventloop servers.apps.downstream:asgi -b 127.0.0.1:8100

The ASGI form is the one to serve (one process waits on thousands of requests at
once); the WSGI form exists for completeness.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterable
from typing import Any
from urllib.parse import parse_qs

from bench.servers.apps import Param, Params, lifespan_noop, text_headers

PARAMS = Params(
    "downstream",
    Param("ms", float, 0.0, "delay of a request without `?ms=` in its query", minimum=0),
)
DEFAULT_MS: float = PARAMS.read()["ms"]
#: Longest wait a request may ask for (a typo must not hang a benchmark).
MAX_MS = 60_000.0


def delay_ms(query: bytes | str) -> float:
    """The delay a request asks for: ``ms`` from the query string, else the default."""
    text = query.decode("latin-1") if isinstance(query, bytes) else query
    values = parse_qs(text).get("ms")
    if not values:
        return DEFAULT_MS
    try:
        value = float(values[0])
    except ValueError:
        return DEFAULT_MS
    return min(max(value, 0.0), MAX_MS)


def body(ms: float) -> bytes:
    """The response body for a delay of ``ms``."""
    return f"downstream {ms:g} ms\n".encode()


async def asgi(scope: dict[str, Any], receive: Callable, send: Callable) -> None:
    """ASGI form: sleep on the event loop, then answer."""
    kind = scope["type"]
    if kind == "lifespan":
        await lifespan_noop(receive, send)
        return
    if kind != "http":
        return
    ms = delay_ms(scope.get("query_string", b""))
    if ms > 0:
        await asyncio.sleep(ms / 1000.0)
    payload = body(ms)
    headers = text_headers(len(payload))
    await send({"type": "http.response.start", "status": 200, "headers": headers})
    await send({"type": "http.response.body", "body": payload})


def wsgi(environ: dict[str, Any], start_response: Callable) -> Iterable[bytes]:
    """WSGI form: sleep in the worker, then answer."""
    ms = delay_ms(environ.get("QUERY_STRING", ""))
    if ms > 0:
        time.sleep(ms / 1000.0)
    payload = body(ms)
    start_response(
        "200 OK", [("Content-Type", "text/plain"), ("Content-Length", str(len(payload)))]
    )
    return [payload]
