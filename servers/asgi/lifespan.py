"""The ASGI lifespan protocol: startup before serving, shutdown after the last connection.

Modes (``--lifespan``):
- ``off``: never called.
- ``auto``: called; an app that raises before completing startup is taken not to
  support lifespan (one informational log line) and served anyway. An explicit
  ``lifespan.startup.failed`` is still a failure.
- ``on``: the app must complete startup; any failure stops the server.

Startup failure raises LifespanError with a one-line message; the server exits non-zero.
The ``state`` dict passed in the lifespan scope is what every request scope gets a
shallow copy of.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Any

from bench.servers.asgi.cycle import describe_exception
from bench.servers.errors import LifespanError

logger = logging.getLogger("bench.eventloop")

_STARTUP = {"type": "lifespan.startup"}
_SHUTDOWN = {"type": "lifespan.shutdown"}


class Lifespan:
    """Runs the app's lifespan task and exchanges its messages.

    Use: ``await startup()`` before accepting connections (raises LifespanError),
    ``await shutdown()`` after the last one.
    """

    def __init__(self, app: Callable[..., Any], mode: str, state: dict[str, Any]) -> None:
        self.app = app
        self.mode = mode
        self.state = state
        self._queue: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self._startup_done: asyncio.Future[str | None] | None = None
        self._shutdown_done: asyncio.Future[str | None] | None = None
        self._task: asyncio.Task[None] | None = None
        self._unsupported = False
        self._error: str | None = None

    @property
    def running(self) -> bool:
        """True while the app's lifespan task is alive (startup completed, no shutdown yet)."""
        return self._task is not None and not self._task.done()

    async def startup(self) -> None:
        """Send ``lifespan.startup`` and wait for the answer; raise LifespanError on failure."""
        if self.mode == "off":
            return
        loop = asyncio.get_running_loop()
        self._startup_done = loop.create_future()
        self._shutdown_done = loop.create_future()
        self._task = loop.create_task(self._main())
        await self._queue.put(_STARTUP)
        failure = await self._startup_done
        if failure is not None:
            raise LifespanError(f"application startup failed: {failure}")

    async def shutdown(self) -> None:
        """Send ``lifespan.shutdown`` and wait for the answer (failures are logged)."""
        if not self.running or self._shutdown_done is None:
            return
        await self._queue.put(_SHUTDOWN)
        failure = await self._shutdown_done
        if failure is not None:
            logger.error("application shutdown failed: %s", failure)

    async def _main(self) -> None:
        scope = {
            "type": "lifespan",
            "asgi": {"version": "3.0", "spec_version": "2.0"},
            "state": self.state,
        }
        try:
            await self.app(scope, self._receive, self._send)
        except Exception as exc:
            startup = self._startup_done
            if startup is not None and not startup.done():
                if self.mode == "auto":
                    self._unsupported = True
                    logger.info(
                        "lifespan not supported by the app (%s); serving without it",
                        describe_exception(exc),
                    )
                    startup.set_result(None)
                else:
                    startup.set_result(describe_exception(exc))
            else:
                self._resolve(self._shutdown_done, describe_exception(exc))
        else:
            startup = self._startup_done
            if startup is not None and not startup.done():
                if self.mode == "on":
                    startup.set_result("the app returned without completing startup")
                else:
                    startup.set_result(None)
            self._resolve(self._shutdown_done, None)

    @staticmethod
    def _resolve(future: asyncio.Future[str | None] | None, value: str | None) -> None:
        if future is not None and not future.done():
            future.set_result(value)

    async def _receive(self) -> dict[str, Any]:
        return await self._queue.get()

    async def _send(self, message: dict[str, Any]) -> None:
        kind = message.get("type")
        if kind == "lifespan.startup.complete":
            self._resolve(self._startup_done, None)
        elif kind == "lifespan.startup.failed":
            self._resolve(self._startup_done, _one_line(message, "lifespan.startup.failed"))
        elif kind == "lifespan.shutdown.complete":
            self._resolve(self._shutdown_done, None)
        elif kind == "lifespan.shutdown.failed":
            self._resolve(self._shutdown_done, _one_line(message, "lifespan.shutdown.failed"))
        else:
            raise RuntimeError(f"unexpected lifespan message {kind!r}")


def _one_line(message: dict[str, Any], default: str) -> str:
    """The last non-empty line of a failure message (frameworks send whole tracebacks)."""
    lines = [line.strip() for line in str(message.get("message") or "").splitlines()]
    lines = [line for line in lines if line]
    return lines[-1] if lines else default
