"""Keepalive of one WebSocket: a Ping every interval, a deadline for its Pong.

How this works: one timer at a time. ``start`` arms it for ``interval`` seconds; when
it fires, ``send_ping(payload)`` is called with 4 random bytes and the timer is armed
for ``timeout`` seconds. A Pong carrying that payload (``pong``) re-arms the interval;
the timeout firing calls ``on_timeout()`` (the session then closes with 1011). Pongs
with another payload (unsolicited, or late answers to an older ping) are ignored. With
no timeout, pings go out every interval and nothing is awaited.
"""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import Callable


class Keepalive:
    """Ping/Pong keepalive timers for one connection (see the module docstring)."""

    __slots__ = ("_payload", "_timer", "interval", "loop", "on_timeout", "send_ping", "timeout")

    def __init__(
        self,
        loop: asyncio.AbstractEventLoop,
        interval: float | None,
        timeout: float | None,
        send_ping: Callable[[bytes], None],
        on_timeout: Callable[[], None],
    ) -> None:
        self.loop = loop
        self.interval = interval
        self.timeout = timeout
        self.send_ping = send_ping
        self.on_timeout = on_timeout
        self._timer: asyncio.TimerHandle | None = None
        self._payload: bytes | None = None

    def start(self) -> None:
        """Arm the next ping (no-op when the interval is None or 0)."""
        self.stop()
        if self.interval:
            self._timer = self.loop.call_later(self.interval, self._ping)

    def stop(self) -> None:
        """Cancel whatever is pending."""
        self._payload = None
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    def pong(self, payload: bytes) -> None:
        """A Pong arrived: if it answers our ping, wait for the next interval."""
        if self._payload is not None and payload == self._payload:
            self.start()

    def _ping(self) -> None:
        self._timer = None
        payload = secrets.token_bytes(4)
        self.send_ping(payload)
        if self.timeout:
            self._payload = payload
            self._timer = self.loop.call_later(self.timeout, self._expired)
        else:
            self.start()

    def _expired(self) -> None:
        self._timer = None
        self._payload = None
        self.on_timeout()
