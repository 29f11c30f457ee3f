"""The WebSocket workload apps as plain callables (the real-server tests are under asgi/)."""

from __future__ import annotations

import asyncio
from typing import Any

from bench.servers.apps import load_app, ws_broadcast, ws_echo


def test_bundled_names_load_their_asgi_form():
    for name in ("ws_echo", "ws_broadcast"):
        app, kind = load_app(name)
        assert kind == "asgi" and callable(app)


def test_echo_chooses_the_first_offered_supported_subprotocol():
    assert ws_echo.choose_subprotocol(["x", "echo", "y"], ["y", "echo"]) == "echo"
    assert ws_echo.choose_subprotocol(["x"], ["echo"]) is None
    assert ws_echo.choose_subprotocol([], ["echo"]) is None


def test_echo_over_asgi_calls():
    incoming = [
        {"type": "websocket.connect"},
        {"type": "websocket.receive", "text": "hi"},
        {"type": "websocket.receive", "bytes": b"\x00"},
        {"type": "websocket.disconnect", "code": 1000},
    ]
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return incoming.pop(0)

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    scope = {"type": "websocket", "subprotocols": ["echo"], "path": "/"}
    asyncio.run(ws_echo.asgi(scope, receive, send))
    assert sent == [
        {"type": "websocket.accept", "subprotocol": "echo"},
        {"type": "websocket.send", "text": "hi"},
        {"type": "websocket.send", "bytes": b"\x00"},
    ]


def test_echo_wsgi_form_explains_that_websockets_need_asgi():
    seen: list[str] = []
    body = b"".join(ws_echo.wsgi({}, lambda status, headers: seen.append(status)))
    assert seen == ["501 Not Implemented"]
    assert b"WebSocket" in body


def test_rooms_publish_to_members_and_report_the_slow_ones():
    async def main() -> None:
        rooms = ws_broadcast.Rooms()
        fast: asyncio.Queue[dict[str, Any]] = asyncio.Queue(10)
        slow: asyncio.Queue[dict[str, Any]] = asyncio.Queue(1)
        other: asyncio.Queue[dict[str, Any]] = asyncio.Queue(10)
        rooms.join("/a", fast)
        rooms.join("/a", slow)
        rooms.join("/b", other)
        assert rooms.publish("/a", {"n": 1}) == []
        assert rooms.publish("/a", {"n": 2}) == [slow]
        assert fast.qsize() == 2 and slow.qsize() == 1 and other.empty()
        rooms.leave("/a", fast)
        rooms.leave("/a", slow)
        assert "/a" not in rooms.members

    asyncio.run(main())
