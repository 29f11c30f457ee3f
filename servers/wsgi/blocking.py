"""One WSGI request/response cycle over a blocking socket, on top of the sans-IO core.

Theory of operation
-------------------
A worker loop (``bench.servers.prefork.workers.sync`` / ``thread``) reads bytes, feeds the
HTTP/1.1 ``Connection`` and, when a ``Request`` comes out, calls
``WSGIHandler.respond``. That method:

1. takes the body events already parsed: a body that arrived whole with the head is
   given to the app as a ``BytesIO``; otherwise ``wsgi.input`` streams it, pulling
   more bytes from the socket only when the app reads (sending ``100 Continue`` first if
   the client waits for it);
2. builds the environ (``bench.servers.wsgi.environ``); a WebSocket upgrade is answered 501
   (WSGI cannot hold a WebSocket; ``-k eventloop`` with an ASGI app can);
3. calls the app, and writes the
   response: the head goes out with the first non-empty body chunk (or at the end),
   a fully materialised body (a list) gets a Content-Length and goes out in one
   ``sendall``, a ``wsgi.file_wrapper`` over a regular file goes out with
   ``sendfile`` (its bytes accounted for by the core: ``send_passthrough``); the
   iterable's ``close()`` is always called;
4. finishes the request body the app did not read (up to ``drain_limit`` bytes), so
   the connection can be reused; otherwise the connection is closed.

A worker that can finish writes without a thread (the thread worker's epoll) passes
``unsent``: a body given whole (a list) is then sent without blocking, and what the
client's socket cannot take now is left in ``unsent`` for the worker to write as the
client reads, so a client that reads slowly (or never) does not hold the thread.

It returns the connection to continue with, or None when the connection must close.
Errors: an app exception before the head was sent becomes a 500 (a body error its own
status); after the head, the connection is just closed. Socket errors mean the client
went away: they propagate (``OSError``) for the worker loop to close quietly.
"""

from __future__ import annotations

import contextlib
import socket
import sys
import traceback
from collections.abc import Callable, Iterable
from http import HTTPStatus
from typing import Any, TextIO

from bench.servers.errors import ClientDisconnected
from bench.servers.protocol import (
    END_OF_MESSAGE,
    NEED_DATA,
    NO_BODY_STATUS,
    Connection,
    Data,
    EndOfMessage,
    InformationalResponse,
    Limits,
    LocalProtocolError,
    RemoteProtocolError,
    Request,
    Response,
    Role,
    State,
    error_response,
    whole_headers,
)
from bench.servers.protocol.websocket import is_websocket_upgrade
from bench.servers.sockets import send_nowait
from bench.servers.wsgi.environ import WSGIResponseError, build_environ
from bench.servers.wsgi.filewrapper import FileWrapper, sendfile_span
from bench.servers.wsgi.input import RequestBody, RequestBodyError, buffered_body
from bench.servers.wsgi.start_cache import CachedStartResponse, CheckedHead

WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]

#: Bytes asked of ``recv`` at once.
RECV_SIZE = 65536
#: Unread request body a server reads and discards to keep a connection (else closes).
DRAIN_LIMIT = 65536
#: Bodies up to this size go out joined with their head in one buffer (one send).
_JOIN_LIMIT = 65536

_PHRASES: dict[int, bytes] = {s.value: s.phrase.encode("ascii") for s in HTTPStatus}
_CONTENT_LENGTH = b"content-length"
_CLOSE = (b"connection", b"close")
_WEBSOCKET_REFUSAL = (
    "WebSocket is not available with the WSGI workers (-k sync / -k thread): "
    "serve an ASGI app with -k eventloop."
)


class WSGIHandler:
    """Runs a WSGI app for requests parsed by a worker loop (see the module docstring).

    Args:
        app: the PEP 3333 application.
        limits: request size limits given to each new ``Connection``.
        root_path: ``SCRIPT_NAME``.
        multithread: ``wsgi.multithread``.
        multiprocess: ``wsgi.multiprocess``.
        keep_alive: whether connections may serve more than one request.
        tick: called while a request makes progress (each ``recv`` of body, each body
            chunk sent), e.g. a worker heartbeat; ``None`` for none.
        server_header: the ``Server`` header value (``None``: none).
        drain_limit: unread body bytes discarded to keep a connection.
        errors: ``wsgi.errors``, where app tracebacks go.
    """

    __slots__ = (
        "app",
        "drain_limit",
        "errors",
        "heads",
        "keep_alive",
        "limits",
        "multiprocess",
        "multithread",
        "root_path",
        "server_header",
        "tick",
    )

    def __init__(
        self,
        app: WSGIApp,
        *,
        limits: Limits | None = None,
        root_path: str = "",
        multithread: bool = False,
        multiprocess: bool = False,
        keep_alive: bool = True,
        tick: Callable[[], None] | None = None,
        server_header: bytes | None = b"bench",
        drain_limit: int = DRAIN_LIMIT,
        errors: TextIO | None = None,
    ) -> None:
        self.app = app
        self.limits = limits if limits is not None else Limits()
        self.root_path = root_path
        self.multithread = multithread
        self.multiprocess = multiprocess
        self.keep_alive = keep_alive
        self.tick = tick
        self.server_header = server_header
        self.drain_limit = drain_limit
        self.errors = errors if errors is not None else sys.stderr
        #: Response heads already checked (see ``CachedStartResponse``).
        self.heads: dict[Any, CheckedHead] = {}

    def new_connection(self) -> Connection:
        """A fresh server-role protocol connection with this handler's limits."""
        return Connection(Role.SERVER, self.limits, self.server_header)

    def reject(self, conn: Connection, sock: socket.socket, exc: RemoteProtocolError) -> None:
        """Answer a request the core refused (400, 413, 414, 431, 501, 505) if still possible.

        Best effort: a client that already went away is not an error.
        """
        if conn.our_state is State.IDLE:
            with contextlib.suppress(OSError):
                sock.sendall(error_response(conn, exc.status_code, str(exc)))

    def respond(
        self,
        conn: Connection,
        sock: socket.socket,
        request: Request,
        client: tuple[str, int] | None,
        server: tuple[str, int] | None,
        close: bool = False,
        taken: list[bytes] | None = None,
        taken_all: bool = False,
        unsent: list[memoryview] | None = None,
    ) -> Connection | None:
        """Serve ``request``; return the connection to read the next request from, or None.

        ``close`` forces ``Connection: close`` on this response (e.g. a stopping worker).
        ``taken``: body chunks the caller already took from ``conn`` (``taken_all``: the
        whole body, EndOfMessage included). The rest of a body already buffered in the
        core is taken here; what has not arrived yet is streamed to the app.
        ``unsent``: given, the pieces of a whole-body response the socket could not take
        without blocking are appended to it, in order (the caller writes them, then
        carries on with the connection returned).
        Raises OSError when the socket fails (the client went away).
        """
        chunks = taken if taken is not None else []
        stream: RequestBody | None = None
        if not taken_all:
            while True:
                event = conn.next_event()
                if type(event) is Data:
                    chunks.append(event.data)
                    continue
                break
            if event is NEED_DATA:
                stream = RequestBody(_Puller(self, conn, sock), b"".join(chunks))
            elif type(event) is not EndOfMessage:  # pragma: no cover - the core's contract
                raise LocalProtocolError(f"unexpected event {event!r} in a request body")
        if stream is not None:
            body: Any = stream
        elif not chunks:
            body = buffered_body(b"")
        else:
            body = buffered_body(chunks[0] if len(chunks) == 1 else b"".join(chunks))

        environ = build_environ(
            request,
            server=server,
            client=client,
            scheme="http",
            root_path=self.root_path,
            body=body,
            multithread=self.multithread,
            multiprocess=self.multiprocess,
            errors=self.errors,
        )
        if conn.upgrade_requested and is_websocket_upgrade(request):
            sock.sendall(error_response(conn, 501, _WEBSOCKET_REFUSAL))
            return None
        environ["wsgi.file_wrapper"] = FileWrapper
        environ["SERVER_SOFTWARE"] = "bench"
        out = _Output(conn, sock, close or not self.keep_alive, self.tick, self.heads, unsent)
        if not out.run(self.app, environ, self.errors):
            return None
        if conn.their_state is State.SEND_BODY and not (
            conn.keep_alive and stream is not None and stream.drain(self.drain_limit)
        ):
            return None
        if conn.our_state is not State.IDLE:
            return None
        return conn


class _Puller:
    """The ``pull`` of a streamed ``wsgi.input``: next body bytes from the socket."""

    __slots__ = ("conn", "handler", "sock")

    def __init__(self, handler: WSGIHandler, conn: Connection, sock: socket.socket) -> None:
        self.handler = handler
        self.conn = conn
        self.sock = sock

    def __call__(self) -> bytes:
        conn = self.conn
        while True:
            try:
                event = conn.next_event()
            except RemoteProtocolError as exc:
                raise RequestBodyError(str(exc), exc.status_code) from None
            if type(event) is Data:
                return event.data
            if type(event) is EndOfMessage:
                return b""
            if event is not NEED_DATA:
                return b""
            if conn.they_are_waiting_for_100_continue:
                self.sock.sendall(conn.send(InformationalResponse(100)))
            try:
                data = self.sock.recv(RECV_SIZE)
            except OSError as exc:
                raise RequestBodyError(f"reading the request body failed: {exc}") from None
            conn.receive_data(data)
            tick = self.handler.tick
            if tick is not None:
                tick()


class _Output:
    """The response side of one cycle: start_response, head timing, body framing."""

    __slots__ = ("close", "conn", "head_sent", "sock", "sr", "tick", "unsent")

    def __init__(
        self,
        conn: Connection,
        sock: socket.socket,
        close: bool,
        tick: Callable[[], None] | None,
        heads: dict[Any, CheckedHead],
        unsent: list[memoryview] | None = None,
    ) -> None:
        self.conn = conn
        self.sock = sock
        self.close = close
        self.tick = tick
        self.unsent = unsent
        self.sr = CachedStartResponse(self.write, heads)
        self.head_sent = False

    def run(self, app: WSGIApp, environ: dict[str, Any], errors: TextIO) -> bool:
        """Call the app and send its response; False if the connection must close."""
        result: Any = None
        try:
            result = app(environ, self.sr)
            self._send_result(result)
            return True
        except ClientDisconnected:
            return False
        except RequestBodyError as exc:
            if not self.head_sent:
                self._send_error(exc.status_code, str(exc))
            return False
        except Exception as exc:
            if isinstance(exc, WSGIResponseError | LocalProtocolError):
                print(f"bench: invalid WSGI response: {exc}", file=errors, flush=True)
            else:
                self._log_error(environ, errors)
            if not self.head_sent:
                self._send_error(500)
            return False
        finally:
            close = getattr(result, "close", None)
            if close is not None:
                try:
                    close()
                except Exception:
                    self._log_error(environ, errors)

    def _sendall(self, data: bytes) -> None:
        try:
            self.sock.sendall(data)
        except OSError as exc:
            raise ClientDisconnected(str(exc)) from None

    def _send_last(self, head: bytes, body: bytes, tail: bytes) -> None:
        """Send the rest of the response: at once, or leave what would block in ``unsent``.

        A big body is not copied into one buffer with its head: what is left unsent
        refers to the app's own bytes.
        """
        unsent = self.unsent
        if unsent is None or len(body) <= _JOIN_LIMIT:
            data = head + body + tail
            if unsent is None:
                self._sendall(data)
                return
            parts = [memoryview(data)]
        else:
            parts = [memoryview(p) for p in (head, body, tail) if p]
        try:
            if not send_nowait(self.sock, parts):
                unsent.extend(parts)
        except OSError as exc:
            raise ClientDisconnected(str(exc)) from None

    @staticmethod
    def _log_error(environ: dict[str, Any], errors: TextIO) -> None:
        where = f"{environ.get('REQUEST_METHOD')} {environ.get('PATH_INFO')}"
        print(f"bench: error in the application ({where}):", file=errors)
        traceback.print_exc(file=errors)
        errors.flush()

    def _send_error(self, status: int, detail: str = "") -> None:
        try:
            self.sock.sendall(error_response(self.conn, status, detail))
        except OSError:
            pass

    def _head_fields(self) -> tuple[int, list[tuple[bytes, bytes]], bytes]:
        """The recorded head: status, headers (with ``connection: close`` if due), reason."""
        sr = self.sr
        if not sr.called:
            raise WSGIResponseError("the app sent a body before calling start_response")
        status = sr.status_code
        assert status is not None
        headers = sr.headers
        if self.close or sr.wants_close:
            headers = [*headers, _CLOSE]
        reason = sr.reason
        return status, headers, b"" if _PHRASES.get(status) == reason else reason

    def _response(self, length: int | None) -> Response:
        """The recorded head as an event; Content-Length added when the whole body is known."""
        status, headers, reason = self._head_fields()
        if length is not None:
            headers = whole_headers(status, self.conn.request_method, headers, length)
        return Response(status, headers, reason=reason)

    def _head(self, length: int | None) -> bytes:
        """Serialize the recorded head (see ``_response``)."""
        head = self.conn.send(self._response(length))
        self.head_sent = True
        self.sr.mark_sent()
        return head

    def write(self, data: bytes) -> None:
        """PEP 3333's legacy ``write()``: send the head if needed, then ``data`` at once."""
        if type(data) is not bytes:
            data = _as_bytes(data)
        if self.head_sent:
            self._sendall(self.conn.send(Data(data)))
        else:
            head = self._head(None)
            self._sendall(head + self.conn.send(Data(data)))

    def _send_result(self, result: Any) -> None:
        conn = self.conn
        kind = type(result)
        if kind is list or kind is tuple:
            body = result[0] if len(result) == 1 else b"".join(result)
            if type(body) is not bytes:
                body = _as_bytes(body)
            if self.head_sent:
                self._send_last(b"", conn.send(Data(body)), conn.send(END_OF_MESSAGE))
            elif len(body) <= _JOIN_LIMIT:  # the whole response in one core call
                status, headers, reason = self._head_fields()
                out = conn.send_whole(status, headers, body, reason)
                self.head_sent = True
                self.sr.mark_sent()
                self._send_last(out, b"", b"")
            else:
                head = self._head(len(body))
                self._send_last(head, conn.send(Data(body)), conn.send(END_OF_MESSAGE))
            return
        if kind is FileWrapper and not self.head_sent and self._sendfile(result):
            return
        sendall = self._sendall
        tick = self.tick
        for chunk in result:
            if type(chunk) is not bytes:
                chunk = _as_bytes(chunk)
            if not chunk:
                continue
            if self.head_sent:
                sendall(conn.send(Data(chunk)))
            else:
                head = self._head(None)
                sendall(head + conn.send(Data(chunk)))
            if tick is not None:
                tick()
        tail = conn.send(END_OF_MESSAGE) if self.head_sent else None
        if tail is None:
            tail = self._head(0) + conn.send(END_OF_MESSAGE)
        if tail:
            sendall(tail)

    def _sendfile(self, wrapper: FileWrapper) -> bool:
        """Send a regular file with sendfile; False to fall back to iteration."""
        span = sendfile_span(wrapper)
        sr = self.sr
        if span is None or not sr.called:
            return False
        _fd, offset, count = span
        conn = self.conn
        if count == 0 or conn.request_method == b"HEAD" or sr.status_code in NO_BODY_STATUS:
            return False
        for name, value in sr.headers:
            if name.lower() == _CONTENT_LENGTH and value != b"%d" % count:
                return False  # let the core report the mismatch while iterating
        head = self._head(count)
        before, after = conn.send_passthrough(count)  # the core counts the file's bytes
        self._sendall(head + before)
        try:
            self.sock.sendfile(wrapper.filelike, offset, count)
        except OSError as exc:
            raise ClientDisconnected(str(exc)) from None
        # A file shorter than its span leaves the body short: END_OF_MESSAGE refuses.
        tail = after + conn.send(END_OF_MESSAGE)
        if tail:
            self._sendall(tail)
        return True


def _as_bytes(data: object) -> bytes:
    """Body chunks must be bytes (PEP 3333); bytearray and memoryview are accepted too."""
    if isinstance(data, bytearray | memoryview):
        return bytes(data)
    raise WSGIResponseError(f"the app yielded {type(data).__name__}, not bytes")
