"""ASGI apps for the WebSocket tests (imported by the server process and by unit tests).

Served as ``ws_test_apps:app`` with this directory on PYTHONPATH; the path picks the
behaviour (see ``app``).
"""

from __future__ import annotations

import asyncio
from typing import Any


async def _echo(receive: Any, send: Any) -> None:
    while True:
        message = await receive()
        if message["type"] != "websocket.receive":
            return
        if message.get("text") is not None:
            await send({"type": "websocket.send", "text": message["text"]})
        else:
            await send({"type": "websocket.send", "bytes": message["bytes"]})


async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    """Paths: /reject (close before accept), /deny (401 denial response), /crash (error
    before accept), /crash-after (error on the first message), /close (accept, then
    close 4001 "bye"), /headers (accept with a header and subprotocol "v2"), /hold
    (accept and never read), /scope (send the scope's main fields), anything else: echo.
    """
    if scope["type"] == "lifespan":
        while True:
            message = await receive()
            await send({"type": message["type"] + ".complete"})
            if message["type"] == "lifespan.shutdown":
                return
    if scope["type"] != "websocket":
        return
    path = scope["path"]
    assert (await receive())["type"] == "websocket.connect"
    if path == "/reject":
        await send({"type": "websocket.close"})
    elif path == "/deny":
        await send(
            {
                "type": "websocket.http.response.start",
                "status": 401,
                "headers": [(b"content-type", b"text/plain")],
            }
        )
        await send({"type": "websocket.http.response.body", "body": b"who ", "more_body": True})
        await send({"type": "websocket.http.response.body", "body": b"are you?"})
    elif path == "/crash":
        raise RuntimeError("boom before accept")
    elif path == "/crash-after":
        await send({"type": "websocket.accept"})
        await receive()
        raise RuntimeError("boom after accept")
    elif path == "/close":
        await send({"type": "websocket.accept"})
        await send({"type": "websocket.close", "code": 4001, "reason": "bye"})
        while (await receive())["type"] != "websocket.disconnect":
            pass
    elif path == "/headers":
        await send(
            {"type": "websocket.accept", "subprotocol": "v2", "headers": [(b"x-bench", b"yes")]}
        )
        await _echo(receive, send)
    elif path == "/hold":
        await send({"type": "websocket.accept"})
        await send({"type": "websocket.send", "text": "holding"})
        while True:  # never reads: messages pile up, reading must pause
            await asyncio.sleep(3600)
    elif path == "/scope":
        await send({"type": "websocket.accept"})
        fields = {k: scope[k] for k in ("path", "query_string", "scheme", "subprotocols")}
        await send({"type": "websocket.send", "text": repr(fields)})
        await _echo(receive, send)
    else:
        await send({"type": "websocket.accept"})
        await _echo(receive, send)
