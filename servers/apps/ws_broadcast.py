"""The ``ws_broadcast`` workload: chat rooms; every message goes to every member.

A room is the connection's path (``/lobby``, ``/room/7``...); each text or binary
message a member sends is delivered to every member of its room, the sender
included. Rooms live in one server process (with several workers, each has its own).

Each member has an outgoing queue drained by its own writer, so a slow member never
stalls the others: when its queue holds ``BENCH_APP_QUEUE`` messages (default 256)
it is closed with 1008 ("slow consumer") instead. Plain HTTP requests get 426.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from typing import Any

from bench.servers.apps import Param, Params, lifespan_noop

PARAMS = Params(
    "ws_broadcast",
    Param(
        "queue",
        int,
        256,
        "messages a member may have waiting before it is closed as a slow consumer",
        minimum=1,
    ),
)
QUEUE: int = PARAMS.read()["queue"]
_HTTP_START: dict[str, Any] = {
    "type": "http.response.start",
    "status": 426,
    "headers": [(b"content-type", b"text/plain; charset=utf-8"), (b"upgrade", b"websocket")],
}
_HTTP_BODY: dict[str, Any] = {
    "type": "http.response.body",
    "body": b"ws_broadcast is a WebSocket endpoint: connect with a WebSocket client.\n",
}


class Rooms:
    """Members of each room: room name -> the outgoing queue of each member."""

    def __init__(self) -> None:
        self.members: dict[str, set[asyncio.Queue[dict[str, Any]]]] = {}

    def join(self, room: str, queue: asyncio.Queue[dict[str, Any]]) -> None:
        """Add a member's queue to ``room``."""
        self.members.setdefault(room, set()).add(queue)

    def leave(self, room: str, queue: asyncio.Queue[dict[str, Any]]) -> None:
        """Remove a member's queue; forget the room when it is empty."""
        members = self.members.get(room)
        if members is not None:
            members.discard(queue)
            if not members:
                del self.members[room]

    def publish(self, room: str, message: dict[str, Any]) -> list[asyncio.Queue[dict[str, Any]]]:
        """Queue ``message`` for every member; return the members too slow to take it."""
        slow = []
        for queue in self.members.get(room, ()):
            try:
                queue.put_nowait(message)
            except asyncio.QueueFull:
                slow.append(queue)
        return slow


ROOMS = Rooms()


async def _writer(queue: asyncio.Queue[dict[str, Any]], send: Callable) -> None:
    """Send a member's queued messages in order; stop after a close."""
    while True:
        message = await queue.get()
        await send(message)
        if message["type"] == "websocket.close":
            return


async def _member(scope: dict[str, Any], receive: Callable, send: Callable, rooms: Rooms) -> None:
    await receive()  # websocket.connect
    await send({"type": "websocket.accept"})
    room = scope["path"]
    queue: asyncio.Queue[dict[str, Any]] = asyncio.Queue(QUEUE)
    writer = asyncio.ensure_future(_writer(queue, send))
    rooms.join(room, queue)
    try:
        while True:
            message = await receive()
            if message["type"] != "websocket.receive":
                return
            text = message.get("text")
            out = (
                {"type": "websocket.send", "text": text}
                if text is not None
                else {"type": "websocket.send", "bytes": message.get("bytes") or b""}
            )
            for slow in rooms.publish(room, out):
                rooms.leave(room, slow)
                _close_slow(slow)
            if writer.done():
                return  # our own connection failed while sending
    finally:
        rooms.leave(room, queue)
        writer.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await writer


def _close_slow(queue: asyncio.Queue[dict[str, Any]]) -> None:
    """Replace a slow member's backlog by a close (its writer sends it next)."""
    while not queue.empty():
        queue.get_nowait()
    queue.put_nowait({"type": "websocket.close", "code": 1008, "reason": "slow consumer"})


async def asgi(scope: dict[str, Any], receive: Callable, send: Callable) -> None:
    """ASGI form: join the room named by the path and relay messages; 426 for plain HTTP."""
    kind = scope["type"]
    if kind == "websocket":
        await _member(scope, receive, send, ROOMS)
    elif kind == "http":
        await send(_HTTP_START)
        await send(_HTTP_BODY)
    elif kind == "lifespan":
        await lifespan_noop(receive, send)
