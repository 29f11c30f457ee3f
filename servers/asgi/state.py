"""ServerState: what every connection of one server process shares.

Connections keep a ``deadline`` (``time.monotonic()`` seconds, or None); the server's
once-a-second tick calls ``expire``, which closes those whose deadline has passed. No
timer handle per connection or request: one sweep per second.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from typing import Any, Protocol

logger = logging.getLogger("bench.eventloop")

#: Seconds between two ticks of the server's timer (deadlines, heartbeat).
TICK = 1.0


class Connection(Protocol):
    """What the server needs from a connection object (HTTP protocol)."""

    deadline: float | None

    def on_timeout(self) -> None:
        """The connection's deadline passed: close it."""

    def shutdown(self) -> None:
        """Graceful shutdown: close now if idle, else after the current response."""

    def abort(self) -> None:
        """Fast shutdown: close now."""


class ServerState:
    """Mutable state shared by the connections of one server process.

    Attributes:
        connections: open connections (protocol objects).
        tasks: application tasks that suspended (eagerly finished apps never become tasks).
        in_flight: requests whose response is not complete yet.
        total_requests: responses completed since start.
        shutting_down: graceful shutdown started: no new keep-alive cycles.
        app_state: the lifespan ``state`` namespace; every request gets a shallow copy.
        on_request: called after each completed response (a prefork worker counts
            requests with it for ``--max-requests``), or None.
    """

    __slots__ = (
        "_drained",
        "app_state",
        "connections",
        "in_flight",
        "on_request",
        "shutting_down",
        "tasks",
        "total_requests",
    )

    def __init__(self, on_request: Callable[[], None] | None = None) -> None:
        self.on_request = on_request
        self.connections: set[Connection] = set()
        self.tasks: set[asyncio.Task[Any]] = set()
        self.in_flight = 0
        self.total_requests = 0
        self.shutting_down = False
        self.app_state: dict[str, Any] = {}
        self._drained: asyncio.Event | None = None

    def request_done(self) -> None:
        """Count a completed response and call ``on_request`` (its errors are logged)."""
        self.total_requests += 1
        on_request = self.on_request
        if on_request is not None:
            try:
                on_request()
            except Exception as exc:  # a broken hook must not break the response path
                logger.error("on_request failed: %s: %s", type(exc).__name__, exc)

    def remove_connection(self, connection: Connection) -> None:
        """Forget a closed connection; wake a graceful shutdown waiting for the last one."""
        self.connections.discard(connection)
        if self._drained is not None and not self.connections:
            self._drained.set()

    async def wait_drained(self) -> None:
        """Return once no connection is open (used during graceful shutdown)."""
        if not self.connections:
            return
        self._drained = asyncio.Event()
        await self._drained.wait()

    def expire(self) -> None:
        """Time out the connections whose deadline has passed (at most one tick late)."""
        now = time.monotonic()
        expired = [c for c in self.connections if c.deadline is not None and c.deadline <= now]
        for connection in expired:
            connection.on_timeout()
