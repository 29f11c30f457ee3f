"""WSGICycle: serve a WSGI app from a thread pool on the eventloop server's connections.

Theory of operation
-------------------
The protocol drives a ``WSGICycle`` exactly like an ASGI cycle (``feed``,
``body_complete``, ``start``, ``lost``). The request body is buffered on the loop
(bounded by the core's ``max_body_size``) and the app is called in a worker thread
with a PEP 3333 environ built from the Request event (``bench.servers.wsgi.environ``).

The common case stays cheap: when the app returns a list (or tuple) of bytes, the
thread only joins it, and the loop writes head and body in one ``transport.write``
with a Content-Length. Any other iterable (and the legacy ``write()``) streams: the
thread hands each chunk to the loop with ``run_coroutine_threadsafe`` and waits for it
to be written — and for the transport to drain if the client is slow — so the thread
feels the client's back-pressure and memory stays bounded.

Error handling: an exception (or a PEP 3333 violation) before the head went out
becomes a 500; after it, the connection is closed. One log line either way. If the
client goes away, the thread's next write raises ClientDisconnected, which ends the
iteration quietly (``close()`` of the iterable is always called, in the thread).
"""

from __future__ import annotations

import asyncio
import io
import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from bench.servers.asgi.cycle import BaseCycle, describe_exception
from bench.servers.errors import ClientDisconnected
from bench.servers.protocol import END_OF_MESSAGE, Data, LocalProtocolError, Request
from bench.servers.wsgi.environ import StartResponse, WSGIResponseError, build_environ

if TYPE_CHECKING:
    from bench.servers.asgi.http import HttpProtocol

logger = logging.getLogger("bench.eventloop")
_CLOSE_HEADER = (b"connection", b"close")


class WSGICycle(BaseCycle):
    """One request of a WSGI app, run in the server's thread pool."""

    __slots__ = ("_start_response", "_submitted", "_wants_start")

    def __init__(self, protocol: HttpProtocol, request: Request) -> None:
        super().__init__(protocol, request)
        self._wants_start = False
        self._submitted = False
        self._start_response: StartResponse | None = None

    def start(self) -> None:
        """Run the app once the whole body is here."""
        self._wants_start = True
        if not self._more_body:
            self._submit()

    def _body_arrived(self) -> None:
        if self._wants_start and not self._more_body and not self._submitted:
            self._submit()

    def _submit(self) -> None:
        if self._submitted or self.disconnected:
            return
        self._submitted = True
        protocol = self.protocol
        body = self._take_body()
        future = protocol.loop.run_in_executor(protocol.ctx.executor, self._run, body)
        future.add_done_callback(self._done)

    # -- in the worker thread -------------------------------------------------------

    def _run(self, body: bytes) -> bytes | None:
        """Call the app; return the whole body for a list result, else None (streamed)."""
        protocol = self.protocol
        ctx = protocol.ctx
        config = ctx.config
        environ = build_environ(
            self.request,
            server=protocol.server if protocol.server and protocol.server[1] is not None else None,
            client=protocol.client,
            scheme=protocol.scope_template["scheme"],
            root_path=config.root_path,
            body=io.BytesIO(body),
            multithread=True,
            multiprocess=config.workers > 1,
        )
        start_response = StartResponse(write=self._write_from_thread)
        self._start_response = start_response
        result = ctx.app(environ, start_response)
        try:
            if type(result) in (list, tuple) and start_response.called and not self._head_written:
                return b"".join(result)
            for chunk in result:
                if chunk:
                    self._write_from_thread(chunk)
            if not start_response.called:
                raise WSGIResponseError("app returned without calling start_response")
            return None
        finally:
            close = getattr(result, "close", None)
            if close is not None:
                close()

    def _write_from_thread(self, chunk: bytes) -> None:
        """Write one body chunk via the loop and wait until it is written (back-pressure)."""
        start_response = self._start_response
        if start_response is None or not start_response.called:
            raise WSGIResponseError("body data before start_response was called")
        if not isinstance(chunk, bytes):
            raise WSGIResponseError(f"WSGI body chunks must be bytes, not {type(chunk).__name__}")
        future = asyncio.run_coroutine_threadsafe(self._write(chunk), self.protocol.loop)
        future.result()

    # -- on the loop ----------------------------------------------------------------

    async def _write(self, chunk: bytes) -> None:
        protocol = self.protocol
        if self.disconnected:
            raise ClientDisconnected("the client closed the connection")
        conn = protocol.conn
        try:
            if not self._head_written:
                out = self._head_bytes_from(self._start_response, chunk, more=True)
            else:
                out = conn.send(Data(chunk))
        except LocalProtocolError as exc:
            raise WSGIResponseError(f"invalid response: {exc}") from None
        if out:
            protocol.transport.write(out)
        if protocol.write_paused:
            await protocol.drain()

    def _head_bytes_from(self, start_response: Any, body: bytes, *, more: bool) -> bytes:
        self.response_started = True
        start_response.mark_sent()
        headers = start_response.headers
        if start_response.wants_close:
            headers = [*headers, _CLOSE_HEADER]
        return self._head_bytes(start_response.status_code, headers, body, more)

    def _done(self, future: asyncio.Future[bytes | None]) -> None:
        # Retrieve the outcome first, also when the client is gone: an exception never
        # retrieved is logged with a traceback when the future is collected.
        exc = None if future.cancelled() else future.exception()
        if self.disconnected or self.response_complete or future.cancelled():
            return
        if exc is None:
            try:
                whole = future.result()
                if not self._head_written:
                    out = self._head_bytes_from(self._start_response, whole or b"", more=False)
                else:
                    out = self.protocol.conn.send(END_OF_MESSAGE)
            except LocalProtocolError as error:
                exc = WSGIResponseError(f"invalid response: {error}")
            else:
                if out:
                    self.protocol.transport.write(out)
                self._complete()
                return
        if isinstance(exc, ClientDisconnected):
            return
        method = self.request.method.decode("latin-1")
        target = self.request.target.decode("latin-1")
        logger.error("%s %s: app error: %s", method, target, describe_exception(exc))
        self._fail()


def wsgi_cycle_factory(protocol: HttpProtocol, request: Request) -> WSGICycle:
    """The ``cycle_factory`` of the WSGI interface."""
    return WSGICycle(protocol, request)


CycleFactory = Callable[["HttpProtocol", Request], Any]
