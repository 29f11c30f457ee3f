"""WSGICycle: serve a WSGI app on the eventloop server's connections, inline or pooled.

Theory of operation
-------------------
The protocol drives a ``WSGICycle`` exactly like an ASGI cycle (``feed``,
``body_complete``, ``start``, ``lost``). The request body is buffered on the loop
(bounded by the core's ``max_body_size``); then the app is called with a PEP 3333
environ built from the Request event (``bench.servers.wsgi.environ``) either on the
loop's own thread or in the server's thread pool, as ``WSGIRuntime.policy`` decides
(``bench.servers.wsgi.inline``: inline while the app does not wait, ``--wsgi-inline``).
Inline, a fast app costs one call and no thread hand-off: on hello at 64 keep-alive
connections, one core, that took the WSGI interface from 23k to the ASGI path's rate
and its p99 from ~12 ms (GIL hand-offs between the loop and the pool) to ~2 ms.

The common case stays cheap either way: when the app returns a list (or tuple) of
bytes, the body is joined and the loop writes head and body in one ``transport.write``
with a Content-Length; heads the app repeats are checked once (``CachedStartResponse``).
Any other iterable streams from a pool thread, also when the app was called inline
(the iteration may block, and only a thread can wait for a slow client): the thread
hands each chunk to the loop with ``run_coroutine_threadsafe`` and waits for it to be
written — and for the transport to drain if the client is slow — so the thread feels
the client's back-pressure and memory stays bounded. The legacy ``write()`` called
during an inline call writes straight to the transport (PEP 3333 allows buffering).

Error handling: an exception (or a PEP 3333 violation) before the head went out
becomes a 500; after it, the connection is closed. One log line either way. If the
client goes away, the thread's next write raises ClientDisconnected, which ends the
iteration quietly (``close()`` of the iterable is always called).
"""

from __future__ import annotations

import asyncio
import io
import logging
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any

from bench.servers.asgi.cycle import BaseCycle, describe_exception
from bench.servers.errors import ClientDisconnected
from bench.servers.protocol import END_OF_MESSAGE, Data, LocalProtocolError, Request
from bench.servers.wsgi.environ import WSGIResponseError, environ_base, request_environ
from bench.servers.wsgi.inline import InlinePolicy
from bench.servers.wsgi.start_cache import CachedStartResponse, CheckedHead

if TYPE_CHECKING:
    from bench.servers.asgi.http import HttpProtocol

logger = logging.getLogger("bench.eventloop")
_CLOSE_HEADER = (b"connection", b"close")


class WSGIRuntime:
    """What the WSGI cycles of one server share: the pool, the inline policy, checked heads."""

    __slots__ = ("executor", "heads", "policy")

    def __init__(self, threads: int, inline: str = "auto") -> None:
        self.executor = ThreadPoolExecutor(threads, thread_name_prefix="bench-wsgi")
        self.policy = InlinePolicy(inline)
        #: Response heads already checked (``CachedStartResponse``); loop and pool share it.
        self.heads: dict[Any, CheckedHead] = {}


#: What a pool call hands back to the loop: (whole body or None, wall s, thread CPU s).
_Outcome = tuple[bytes | None, float, float]


class WSGICycle(BaseCycle):
    """One request of a WSGI app, run inline or in the server's thread pool."""

    __slots__ = ("_inline_now", "_start_response", "_submitted", "_wants_start")

    def __init__(self, protocol: HttpProtocol, request: Request) -> None:
        super().__init__(protocol, request)
        self._wants_start = False
        self._submitted = False
        self._inline_now = False
        self._start_response: CachedStartResponse | None = None

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
        runtime = protocol.ctx.wsgi
        body = self._take_body()
        if runtime.policy.inline:
            self._run_inline(runtime, body)
            return
        future = protocol.loop.run_in_executor(runtime.executor, self._run, body)
        future.add_done_callback(self._done)

    def _call_app(self, body: bytes) -> Any:
        """Build the environ, call the app; return what it returned."""
        protocol = self.protocol
        ctx = protocol.ctx
        base = protocol.wsgi_environ
        if base is None:  # the connection's first WSGI request
            config = ctx.config
            server = protocol.server
            base = protocol.wsgi_environ = environ_base(
                server=server if server and server[1] is not None else None,
                client=protocol.client,
                scheme=protocol.scope_template["scheme"],
                root_path=config.root_path,
                multithread=True,
                multiprocess=config.workers > 1,
            )
        environ = request_environ(self.request, base, io.BytesIO(body))
        start_response = CachedStartResponse(self._write_any, ctx.wsgi.heads)
        self._start_response = start_response
        return ctx.app(environ, start_response)

    def _whole(self, result: Any) -> bytes | None:
        """The body of a list (or tuple) result, joined; None when it must stream."""
        start_response = self._start_response
        if (
            type(result) in (list, tuple)
            and start_response is not None
            and start_response.called
            and not self._head_written
        ):
            return b"".join(result)
        return None

    # -- on the loop's thread -------------------------------------------------------

    def _run_inline(self, runtime: WSGIRuntime, body: bytes) -> None:
        policy = runtime.policy
        cpu0 = time.thread_time() if policy.measures_cpu else None
        wall0 = time.perf_counter()
        self._inline_now = True
        error: BaseException | None = None
        try:
            result = self._call_app(body)
            whole = self._whole(result)
        except BaseException as exc:  # the app's error: a 500, as from the pool
            error = exc
        self._inline_now = False
        wall = time.perf_counter() - wall0
        policy.observe(wall, None if cpu0 is None else time.thread_time() - cpu0)
        if error is not None:
            self._finish(None, error)
        elif whole is None:  # an iterable to stream: the iteration may wait, so a thread does it
            future = self.protocol.loop.run_in_executor(runtime.executor, self._stream, result)
            future.add_done_callback(self._done)
        else:
            self._finish(whole, None)

    def _done(self, future: asyncio.Future[_Outcome]) -> None:
        # Retrieve the outcome first, also when the client is gone: an exception never
        # retrieved is logged with a traceback when the future is collected.
        exc = None if future.cancelled() else future.exception()
        whole = None
        if exc is None and not future.cancelled():
            whole, wall, cpu = future.result()
            self.protocol.ctx.wsgi.policy.observe(wall, cpu)
        if self.disconnected or self.response_complete or future.cancelled():
            return
        self._finish(whole, exc)

    def _finish(self, whole: bytes | None, exc: BaseException | None) -> None:
        """Write what is left of the response (or answer the error); complete the cycle."""
        start_response = self._start_response
        # Drop the start_response -> write() -> cycle reference cycle now, so the cycle
        # dies by reference counting: left to the garbage collector, one cycle per
        # request made full collections pause the loop for milliseconds (p99 6-9 ms
        # instead of 2 ms, hello at 64 connections).
        self._start_response = None
        if self.disconnected or self.response_complete:
            return
        if exc is None:
            try:
                if not self._head_written:
                    out = self._head_bytes_from(start_response, whole or b"", more=False)
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

    def _write_inline(self, chunk: bytes) -> None:
        """write() during an inline call: straight to the transport (no waiting on the loop)."""
        out = self._body_bytes(chunk)
        if out:
            self.protocol.transport.write(out)

    def _body_bytes(self, chunk: bytes) -> bytes:
        if self.disconnected:
            raise ClientDisconnected("the client closed the connection")
        try:
            if not self._head_written:
                return self._head_bytes_from(self._start_response, chunk, more=True)
            return self.protocol.conn.send(Data(chunk))
        except LocalProtocolError as exc:
            raise WSGIResponseError(f"invalid response: {exc}") from None

    async def _write(self, chunk: bytes) -> None:
        out = self._body_bytes(chunk)
        protocol = self.protocol
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

    # -- in a pool thread -------------------------------------------------------------

    def _run(self, body: bytes) -> _Outcome:
        """Call the app and take its response, timed (wall and thread CPU)."""
        return _timed(self._call_and_take, body)

    def _call_and_take(self, body: bytes) -> bytes | None:
        """Call the app; return its whole body for a list result, else stream it (None)."""
        result = self._call_app(body)
        whole = self._whole(result)
        if whole is None:
            self._iterate(result)
        return whole

    def _stream(self, result: Any) -> _Outcome:
        """Stream the iterable an inline call returned, timed."""
        return _timed(self._iterate, result)

    def _iterate(self, result: Any) -> None:
        try:
            for chunk in result:
                if chunk:
                    self._write_from_thread(chunk)
            start_response = self._start_response
            if start_response is None or not start_response.called:
                raise WSGIResponseError("app returned without calling start_response")
        finally:
            close = getattr(result, "close", None)
            if close is not None:
                close()

    def _write_any(self, chunk: bytes) -> None:
        """The app's write(): inline during an inline call, else through the loop."""
        if self._inline_now:
            self._check_chunk(chunk)
            self._write_inline(chunk)
        else:
            self._write_from_thread(chunk)

    def _check_chunk(self, chunk: object) -> None:
        start_response = self._start_response
        if start_response is None or not start_response.called:
            raise WSGIResponseError("body data before start_response was called")
        if not isinstance(chunk, bytes):
            raise WSGIResponseError(f"WSGI body chunks must be bytes, not {type(chunk).__name__}")

    def _write_from_thread(self, chunk: bytes) -> None:
        """Write one body chunk via the loop and wait until it is written (back-pressure)."""
        self._check_chunk(chunk)
        future = asyncio.run_coroutine_threadsafe(self._write(chunk), self.protocol.loop)
        future.result()


def _timed(work: Callable[[Any], bytes | None], arg: Any) -> _Outcome:
    """``work(arg)``, with the wall and thread CPU seconds it took (run in a pool thread)."""
    cpu0 = time.thread_time()
    wall0 = time.perf_counter()
    whole = work(arg)
    return whole, time.perf_counter() - wall0, time.thread_time() - cpu0


#: The ``cycle_factory`` of the WSGI interface (the class itself: no wrapper call per request).
wsgi_cycle_factory: Callable[[HttpProtocol, Request], WSGICycle] = WSGICycle


CycleFactory = Callable[["HttpProtocol", Request], Any]
