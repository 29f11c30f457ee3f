"""The ``ws_echo`` workload: a WebSocket endpoint that sends every message back.

Text comes back as text, bytes as bytes, on any path. Parameters (environment):
``BENCH_APP_SUBPROTOCOLS`` — comma-separated subprotocols the app speaks (default
``echo``); it accepts the first one the client offers that is in this list, or none.
Plain HTTP requests get ``426 Upgrade Required``. The WSGI form exists so that a WSGI
server answers an upgrade request with that same clear error: WSGI cannot serve
WebSockets.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from bench.servers.apps import Param, Params, lifespan_noop

PARAMS = Params(
    "ws_echo",
    Param("subprotocols", str, "echo", "comma-separated WebSocket subprotocols the app accepts"),
)
SUBPROTOCOLS: tuple[str, ...] = tuple(
    name.strip() for name in PARAMS.read()["subprotocols"].split(",") if name.strip()
)
_HINT = b"ws_echo is a WebSocket endpoint: connect with a WebSocket client.\n"
_HTTP_START: dict[str, Any] = {
    "type": "http.response.start",
    "status": 426,
    "headers": [
        (b"content-type", b"text/plain; charset=utf-8"),
        (b"upgrade", b"websocket"),
        (b"connection", b"upgrade"),
    ],
}
_HTTP_BODY: dict[str, Any] = {"type": "http.response.body", "body": _HINT}
_WSGI_NO_WEBSOCKET = b"WebSocket needs an ASGI server: run ws_echo with `bench serve eventloop`.\n"


def choose_subprotocol(
    offered: Iterable[str], supported: Iterable[str] = SUBPROTOCOLS
) -> str | None:
    """Return the first offered subprotocol that is supported, or None."""
    known = set(supported)
    return next((name for name in offered if name in known), None)


async def asgi(scope: dict[str, Any], receive: Callable, send: Callable) -> None:
    """ASGI form: echo every WebSocket message; 426 for plain HTTP."""
    kind = scope["type"]
    if kind == "websocket":
        await receive()  # websocket.connect
        await send(
            {
                "type": "websocket.accept",
                "subprotocol": choose_subprotocol(scope.get("subprotocols", ())),
            }
        )
        while True:
            message = await receive()
            if message["type"] != "websocket.receive":
                return  # websocket.disconnect
            text = message.get("text")
            if text is not None:
                await send({"type": "websocket.send", "text": text})
            else:
                await send({"type": "websocket.send", "bytes": message.get("bytes") or b""})
    elif kind == "http":
        await send(_HTTP_START)
        await send(_HTTP_BODY)
    elif kind == "lifespan":
        await lifespan_noop(receive, send)


def wsgi(environ: dict[str, Any], start_response: Callable) -> Iterable[bytes]:
    """WSGI form: WebSockets cannot be served over WSGI, so say so (501)."""
    start_response(
        "501 Not Implemented",
        [
            ("Content-Type", "text/plain; charset=utf-8"),
            ("Content-Length", str(len(_WSGI_NO_WEBSOCKET))),
        ],
    )
    return [_WSGI_NO_WEBSOCKET]
