"""The ``hello`` workload: 200 and a short plain-text body for every method and path.

Parameters (``PARAMS``, from the environment): ``BENCH_APP_SIZE`` — body size in bytes (default: the 13
bytes of ``Hello, world!``; larger sizes repeat that text). The request body, if any,
is not read. The ASGI and WSGI forms send the same bytes and headers.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from bench.servers.apps import Param, Params, lifespan_noop

_TEXT = b"Hello, world!"


def _body(size: int) -> bytes:
    """Return ``size`` bytes of repeated hello text."""
    return (_TEXT * (size // len(_TEXT) + 1))[:size]


PARAMS = Params(
    "hello",
    Param("size", int, len(_TEXT), "body size in bytes (repeats `Hello, world!`)", minimum=0),
)
BODY: bytes = _body(PARAMS.read()["size"])
_LENGTH = str(len(BODY))

# Messages are never mutated by a server, so one instance of each serves every request.
_START: dict[str, Any] = {
    "type": "http.response.start",
    "status": 200,
    "headers": [(b"content-type", b"text/plain"), (b"content-length", _LENGTH.encode())],
}
_BODY_MESSAGE: dict[str, Any] = {"type": "http.response.body", "body": BODY}
_WSGI_HEADERS = [("Content-Type", "text/plain"), ("Content-Length", _LENGTH)]


async def asgi(scope: dict[str, Any], receive: Callable, send: Callable) -> None:
    """ASGI form: answer every HTTP request with the hello body."""
    kind = scope["type"]
    if kind == "http":
        await send(_START)
        await send(_BODY_MESSAGE)
    elif kind == "lifespan":
        await lifespan_noop(receive, send)
    elif kind == "websocket":
        await send({"type": "websocket.close", "code": 1003})


def wsgi(environ: dict[str, Any], start_response: Callable) -> Iterable[bytes]:
    """WSGI form: the same response as ``asgi``."""
    start_response("200 OK", list(_WSGI_HEADERS))
    return [BODY]
