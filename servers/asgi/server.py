"""The eventloop server process: run_worker serves an app on already-bound sockets.

Theory of operation
-------------------
``run_worker`` creates the event loop (uvloop, or asyncio), runs the app's lifespan
startup, starts serving the sockets with one ``HttpProtocol`` per connection, calls
``ready()``, then waits on an ``asyncio.Event``. Signal handlers only record the
signal and set that event; the main coroutine then dispatches:

- SIGTERM, SIGINT: graceful. Stop accepting, close idle keep-alive connections, let
  in-flight requests finish (their responses carry ``Connection: close``) for up to
  ``timeout_graceful_shutdown`` seconds, then close what is left, cancel app tasks,
  run the lifespan shutdown and return 0. A second SIGTERM/SIGINT cuts the wait short.
  A connection accepted but still waiting for its first request is not closed: its
  client may be sending it right now (in a prefork reload, closing it would fail that
  request); it is served once, with ``Connection: close``, or closed at its header-read
  deadline (``HttpProtocol.shutdown`` has the rules).
- SIGQUIT: fast. The same without the wait.

One timer ticks once a second (``loop.call_later``, no polling loop): it closes
connections past their keep-alive or header-read deadline, and calls ``heartbeat()`` (the prefork master's liveness check).

Exit codes: 0 after a shutdown, 3 when the lifespan startup failed (so a supervisor
does not restart a worker that can never boot).
"""

from __future__ import annotations

import asyncio
import logging
import signal
import socket
from collections.abc import Callable
from typing import Any

from bench.servers.asgi.config import ServerConfig
from bench.servers.asgi.cycle import HttpCycle
from bench.servers.asgi.http import HttpProtocol, ProtocolContext
from bench.servers.asgi.lifespan import Lifespan
from bench.servers.asgi.state import TICK, ServerState
from bench.servers.asgi.wsgi import WSGIRuntime, wsgi_cycle_factory
from bench.servers.errors import LifespanError

__all__ = ["EXIT_BOOT_FAILED", "Server", "ServerConfig", "new_event_loop", "run_worker"]

logger = logging.getLogger("bench.eventloop")

#: Exit code of a worker whose application failed to start (lifespan startup).
EXIT_BOOT_FAILED = 3
_GRACEFUL_SIGNALS = (signal.SIGTERM, signal.SIGINT)
_FAST_SIGNALS = (signal.SIGQUIT,)
#: Seconds cancelled app tasks get to finish after the connections are closed.
_CANCEL_GRACE = 1.0


def new_event_loop(name: str) -> asyncio.AbstractEventLoop:
    """A new event loop: ``uvloop`` (falling back to asyncio if absent) or ``asyncio``."""
    if name == "uvloop":
        try:
            import uvloop
        except ImportError:
            logger.warning("uvloop is not installed; using the asyncio event loop")
        else:
            return uvloop.new_event_loop()
    return asyncio.new_event_loop()


class Server:
    """One server process's serving loop (see the module docstring)."""

    def __init__(
        self,
        app: Callable[..., Any],
        interface: str,
        config: ServerConfig,
        sockets: list[socket.socket],
        *,
        heartbeat: Callable[[], None] | None = None,
        ready: Callable[[], None] | None = None,
        on_request: Callable[[], None] | None = None,
    ) -> None:
        self.app = app
        self.interface = interface
        self.config = config
        self.sockets = sockets
        self.heartbeat = heartbeat
        self.ready = ready
        self.state = ServerState(self._counter(on_request, config.limit_max_requests))
        self._stop: asyncio.Event | None = None
        self._force: asyncio.Event | None = None
        self._fast = False
        self._loop: asyncio.AbstractEventLoop | None = None
        self._tick_handle: asyncio.TimerHandle | None = None

    def _counter(
        self, on_request: Callable[[], None] | None, limit: int | None
    ) -> Callable[[], None] | None:
        """``on_request``, plus a graceful stop after ``limit`` responses (if set)."""
        if limit is None:
            return on_request
        served = 0

        def count() -> None:
            nonlocal served
            served += 1
            if on_request is not None:
                on_request()
            if served == limit:
                logger.info("stopping after %d requests (--limit-max-requests)", served)
                self.request_shutdown()

        return count

    # -- signals --------------------------------------------------------------------

    def request_shutdown(self, *, fast: bool = False) -> None:
        """Ask the server to stop (from the loop's thread): graceful unless ``fast``.

        A second request while a graceful shutdown is waiting makes it fast.
        """
        if self._stop is None or self._force is None:
            return
        if fast or self._stop.is_set():
            self._fast = True
            self._force.set()
        self._stop.set()

    def _on_signal(self, signum: int) -> None:
        self.request_shutdown(fast=signum in _FAST_SIGNALS)

    def _install_signal_handlers(self, loop: asyncio.AbstractEventLoop) -> None:
        for signum in (*_GRACEFUL_SIGNALS, *_FAST_SIGNALS):
            loop.add_signal_handler(signum, self._on_signal, signum)

    # -- the timer ------------------------------------------------------------------

    def _tick(self) -> None:
        self.state.expire()
        if self.heartbeat is not None:
            try:
                self.heartbeat()
            except Exception as exc:  # a broken heartbeat must not kill the server
                logger.error("heartbeat failed: %s: %s", type(exc).__name__, exc)
        assert self._loop is not None
        self._tick_handle = self._loop.call_later(TICK, self._tick)

    # -- serving --------------------------------------------------------------------

    async def serve(self, *, install_signal_handlers: bool = True) -> int:
        """Serve until asked to stop; return the exit code."""
        loop = self._loop = asyncio.get_running_loop()
        self._stop = asyncio.Event()
        self._force = asyncio.Event()
        config = self.config
        if install_signal_handlers:
            self._install_signal_handlers(loop)
        lifespan = Lifespan(
            self.app,
            config.lifespan if self.interface == "asgi" else "off",
            self.state.app_state,
        )
        try:
            await lifespan.startup()
        except LifespanError as exc:
            logger.error("%s", exc)
            return EXIT_BOOT_FAILED
        wsgi: WSGIRuntime | None = None
        if self.interface == "wsgi":
            wsgi = WSGIRuntime(config.wsgi_threads, config.wsgi_inline)
            factory: Callable[..., Any] = wsgi_cycle_factory
        else:
            factory = HttpCycle
        ctx = ProtocolContext(self.app, self.interface, config, self.state, loop, factory, wsgi)
        tls = config.tls_settings()
        ssl_context = None
        if tls is not None:
            from bench.servers.tls import server_context

            ssl_context = server_context(tls)
        servers = []
        try:
            for sock in self.sockets:
                servers.append(
                    await loop.create_server(
                        lambda: HttpProtocol(ctx),
                        sock=sock,
                        backlog=config.backlog,
                        ssl=ssl_context,
                    )
                )
            self._tick_handle = loop.call_later(TICK, self._tick)
            if self.ready is not None and not self._stop.is_set():
                self.ready()
            await self._stop.wait()
            await self._shutdown(servers)
        finally:
            if self._tick_handle is not None:
                self._tick_handle.cancel()
            for server in servers:
                server.close()
            await lifespan.shutdown()
            if wsgi is not None:
                wsgi.executor.shutdown(wait=True, cancel_futures=True)
        return 0

    async def _shutdown(self, servers: list[asyncio.AbstractServer]) -> None:
        """Stop accepting, finish or close connections, cancel leftover app tasks."""
        state = self.state
        for server in servers:
            server.close()
        state.shutting_down = True
        timeout = self.config.timeout_graceful_shutdown
        if not self._fast and timeout != 0:
            for connection in list(state.connections):
                connection.shutdown()
            drained = asyncio.ensure_future(self._drained())
            forced = asyncio.ensure_future(self._force.wait())  # type: ignore[union-attr]
            await asyncio.wait({drained, forced}, timeout=timeout, return_when="FIRST_COMPLETED")
            for waiter in (drained, forced):
                waiter.cancel()
        for connection in list(state.connections):
            connection.abort()
        tasks = list(state.tasks)
        for task in tasks:
            task.cancel()
        if tasks:
            await asyncio.wait(tasks, timeout=_CANCEL_GRACE)

    async def _drained(self) -> None:
        """Return when no connection is open and no app task is running."""
        state = self.state
        await state.wait_drained()
        while state.tasks:
            await asyncio.wait(list(state.tasks))


def run_worker(
    app: Callable[..., Any],
    interface: str,
    config: ServerConfig,
    sockets: list[socket.socket],
    *,
    heartbeat: Callable[[], None] | None = None,
    install_signal_handlers: bool = True,
    ready: Callable[[], None] | None = None,
    on_request: Callable[[], None] | None = None,
) -> int:
    """Serve ``app`` ("asgi" or "wsgi") on listening ``sockets`` until a signal; return the exit code.

    ``ready()`` is called once the sockets accept connections; ``heartbeat()`` about
    once a second; ``on_request()`` after every completed response (the prefork worker
    counts requests with it and asks to be retired after ``--max-requests``; retirement
    then arrives as a SIGTERM). Without signal handlers, stop it through
    ``Server.request_shutdown``.
    """
    from bench.servers.deploy import wrap

    loop = new_event_loop(config.loop)
    asyncio.set_event_loop(loop)
    app = wrap(app, interface, config.deploy_options())
    server = Server(
        app, interface, config, sockets, heartbeat=heartbeat, ready=ready, on_request=on_request
    )
    try:
        return loop.run_until_complete(
            server.serve(install_signal_handlers=install_signal_handlers)
        )
    finally:
        try:
            loop.run_until_complete(loop.shutdown_asyncgens())
        finally:
            asyncio.set_event_loop(None)
            loop.close()
