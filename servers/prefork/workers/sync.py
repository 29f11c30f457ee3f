"""The sync worker: one request at a time per process (gunicorn's ``sync`` semantics).

How this works
--------------
The loop is accept → read the head → app → sendall → close, as lean as it can be:

* The listening sockets are non-blocking and the loop first tries ``accept``; only
  when nothing is ready does it sleep in ``epoll`` (with ``EPOLLEXCLUSIVE`` on the
  listeners where available, so an idle pool of workers is not woken all at once for
  one connection) on the listeners, the connections still sending their heads and the
  signal wakeup pipe, for at most a second, to beat the heartbeat.
* Heads are read without blocking: an accepted connection whose request head is not
  complete yet is *pending*: it waits in the same ``epoll`` set (up to ``MAX_PENDING``
  of them, the oldest closed beyond; each at most half ``--timeout`` from its
  accept), and only a complete head is served. So a client that dribbles its head
  (slowloris) or connects and sends nothing never holds the only thread.
* Accepted sockets are blocking, with kernel send/receive timeouts (``SO_RCVTIMEO``,
  ``SO_SNDTIMEO``, inherited from the listener) of half ``--timeout``, for what the
  app reads (a body) and writes: a client that goes silent is dropped before the
  worker would miss its heartbeat, and no ``poll`` precedes each ``recv``/``send`` as
  Python socket timeouts would add.
* Bytes go through the sans-IO HTTP/1.1 core and the WSGI handler
  (``bench.servers.wsgi.blocking``); a complete small response leaves in one ``sendall``.

Keep-alive: off by default, as in gunicorn: the connection closes after each response
(``Connection: close``). A kept-alive client would hold the only thread of the
process while other clients wait in the backlog, so with more clients than workers
throughput collapses; closing gives every queued client its turn. ``--sync-keep-alive``
turns it on, for deployments behind a proxy that opens no more connections than
there are workers; an idle connection is then closed after ``--keep-alive`` seconds.
Pipelined requests already received are served in order before waiting for more.

Graceful stop (TERM): the request in progress finishes (``Connection: close``), then
the connections the kernel already accepted (the listen backlog) are taken and
served once each, with ``Connection: close``, so they are not reset when the
listeners close; pending heads get ``STOP_GRACE`` seconds to complete. Then the worker
exits.
"""

from __future__ import annotations

import contextlib
import select
import socket
import time
from collections.abc import Callable
from typing import Any

from bench.servers.prefork.config import PreforkConfig
from bench.servers.prefork.workers import (
    client_address,
    io_timeout,
    server_address,
    set_io_timeouts,
    tune_listener,
)
from bench.servers.prefork.workers.base import WorkerRuntime
from bench.servers.protocol import (
    NEED_DATA,
    Connection,
    Limits,
    RemoteProtocolError,
    Request,
    State,
)
from bench.servers.wsgi.blocking import RECV_SIZE, WSGIHandler

#: Longest sleep waiting for a connection (the heartbeat cadence of an idle worker).
IDLE_WAIT = 1.0
#: Unread request bytes read and dropped before closing, so the close does not reset
#: the connection (and destroy the response) while the client is still sending.
LINGER_LIMIT = 65536
#: Most connections waiting for their request head to complete; the oldest is closed
#: to admit a new one beyond this.
MAX_PENDING = 256
#: After a graceful stop, seconds a pending connection has left to complete its head.
STOP_GRACE = 1.0


def limits_of(config: PreforkConfig) -> Limits:
    """The protocol core's limits from gunicorn-named settings."""
    return Limits(
        max_request_line=config.limit_request_line,
        max_header_count=config.limit_request_fields,
        max_header_field_size=config.limit_request_field_size,
        max_body_size=config.limit_request_body,
    )


class _Pending:
    """An accepted connection whose request head is not complete yet."""

    __slots__ = ("client", "conn", "deadline", "server", "sock")

    def __init__(
        self,
        sock: socket.socket,
        conn: Connection,
        client: tuple[str, int] | None,
        server: tuple[str, int] | None,
        deadline: float,
    ) -> None:
        self.sock = sock
        self.conn = conn
        self.client = client
        self.server = server
        self.deadline = deadline


class SyncWorker:
    """Serve connections one at a time until a stop (see the module docstring)."""

    def __init__(
        self,
        app: Callable[..., Any],
        config: PreforkConfig,
        sockets: list[socket.socket],
        runtime: WorkerRuntime,
    ) -> None:
        self.config = config
        self.runtime = runtime
        self.keep_alive = config.sync_keep_alive and config.keep_alive > 0
        self.handler = WSGIHandler(
            app,
            limits=limits_of(config),
            root_path=config.root_path,
            multithread=False,
            multiprocess=config.workers > 1,
            keep_alive=self.keep_alive,
            tick=runtime.beat,
        )
        self.timeout = io_timeout(config)
        self.listeners = sockets
        for sock in sockets:
            tune_listener(sock, self.timeout)
        #: Connections whose head is incomplete, by file descriptor, oldest first.
        self.pending: dict[int, _Pending] = {}
        self._waiter: _Waiter | None = None

    def run(self) -> int:
        """Serve until a graceful stop; return the exit code."""
        runtime = self.runtime
        waiter = self._waiter = _Waiter([s.fileno() for s in self.listeners], runtime.wake_r)
        slots = [
            (s.accept, server_address(s), s.family, s.family == socket.AF_UNIX)
            for s in self.listeners
        ]
        runtime.ready()
        try:
            while runtime.alive:
                served = self._serve_ready(waiter.ready)
                for accept, server, family, is_unix in slots:
                    if not runtime.alive:
                        break
                    try:
                        sock, address = accept()
                    except (BlockingIOError, InterruptedError, ConnectionAbortedError):
                        continue
                    if is_unix:
                        set_io_timeouts(sock, self.timeout)
                    self._admit(sock, client_address(family, address), server)
                    runtime.beat()
                    served = True
                if not served and runtime.alive:
                    runtime.beat()
                    self._expire(time.monotonic())
                    waiter.wait(self._wait_time())
                    runtime.drain_wakeups()
            self._finish(slots)
        finally:
            for p in list(self.pending.values()):
                self._discard(p)
            waiter.close()
        return 0

    def _finish(self, slots: list[Any]) -> None:
        """Graceful stop: serve the listen backlog and the pending heads, then return."""
        runtime = self.runtime
        waiter = self._waiter
        assert waiter is not None
        waiter.stop_listening()
        for accept, server, family, is_unix in slots:
            while True:
                try:
                    sock, address = accept()
                except OSError:  # nothing more waiting (or the listener is gone)
                    break
                if is_unix:
                    set_io_timeouts(sock, self.timeout)
                self._admit(sock, client_address(family, address), server)
                runtime.beat()
        grace = time.monotonic() + STOP_GRACE
        for p in self.pending.values():
            p.deadline = min(p.deadline, grace)
        while self.pending:
            self._serve_ready(waiter.ready)
            runtime.beat()
            self._expire(time.monotonic())
            if self.pending:
                waiter.wait(self._wait_time())
                runtime.drain_wakeups()

    def _wait_time(self) -> float:
        if not self.pending:
            return IDLE_WAIT
        first = next(iter(self.pending.values()))  # the oldest has the nearest deadline
        return max(0.0, min(IDLE_WAIT, first.deadline - time.monotonic()))

    def _expire(self, now: float) -> None:
        """Close pending connections past their deadline (oldest first)."""
        for p in list(self.pending.values()):
            if p.deadline > now:
                break
            self._discard(p)

    def _admit(
        self,
        sock: socket.socket,
        client: tuple[str, int] | None,
        server: tuple[str, int] | None,
    ) -> None:
        """A new connection: serve it if its head is here, else make it pending."""
        p = _Pending(
            sock, self.handler.new_connection(), client, server, time.monotonic() + self.timeout
        )
        if self._read_head(p):
            return
        if len(self.pending) >= MAX_PENDING:
            self._discard(next(iter(self.pending.values())))
        self.pending[sock.fileno()] = p
        assert self._waiter is not None
        self._waiter.add(sock.fileno())

    def _serve_ready(self, ready: list[int]) -> bool:
        """Read from the pending connections epoll found readable; serve complete heads."""
        served = False
        while ready:
            p = self.pending.get(ready.pop())
            if p is None:
                continue
            served = True
            self._read_head(p)
            self.runtime.beat()
        return served

    def _read_head(self, p: _Pending) -> bool:
        """Read what is there without blocking; serve a complete head.

        Returns True when the connection is done with (served, refused or closed),
        False while its head is still incomplete.
        """
        sock = p.sock
        conn = p.conn
        try:
            try:
                data = sock.recv(RECV_SIZE, socket.MSG_DONTWAIT)
            except (BlockingIOError, InterruptedError):
                return False
            conn.receive_data(data)
            event = conn.next_event()
            if event is NEED_DATA:
                return False
        except RemoteProtocolError as exc:
            self._unpend(p)
            self.handler.reject(conn, sock, exc)
            _close(sock, False)
            return True
        except OSError:
            self._unpend(p)
            sock.close()
            return True
        self._unpend(p)
        if type(event) is not Request:
            sock.close()
            return True
        self.serve(sock, p.client, p.server, conn, event)
        return True

    def _unpend(self, p: _Pending) -> None:
        fd = p.sock.fileno()
        if self.pending.pop(fd, None) is not None and self._waiter is not None:
            self._waiter.remove(fd)

    def _discard(self, p: _Pending) -> None:
        """Close a pending connection (expired, evicted, or the worker exits)."""
        self._unpend(p)
        p.sock.close()

    def serve(
        self,
        sock: socket.socket,
        client: tuple[str, int] | None,
        server: tuple[str, int] | None,
        conn: Connection | None = None,
        request: Request | None = None,
    ) -> None:
        """Serve one connection to its end and close it.

        ``conn`` and ``request``: the connection's core and its first request, when the
        head was already read; else the head is read here (blocking).
        """
        handler = self.handler
        runtime = self.runtime
        if conn is None:
            conn = handler.new_connection()
        recv = sock.recv
        waiting = False  # between requests: wait for the next within --keep-alive
        try:
            while True:
                if request is not None:
                    event: Any = request
                    request = None
                else:
                    event = conn.next_event()
                if event is NEED_DATA:
                    if waiting:
                        waiting = False
                        if not self._await_next_request(sock):
                            return
                    conn.receive_data(recv(RECV_SIZE))
                    continue
                if type(event) is not Request:
                    return
                next_conn = handler.respond(conn, sock, event, client, server, not runtime.alive)
                runtime.count_request()
                if next_conn is None:
                    return
                # Keep-alive: serve the pipelined requests already received, in order,
                # then wait for the next.
                conn = next_conn
                waiting = True
        except RemoteProtocolError as exc:
            handler.reject(conn, sock, exc)
        except OSError:
            pass  # the client went away or went silent: nothing to answer
        finally:
            _close(sock, conn.their_state is State.SEND_BODY)

    def _await_next_request(self, sock: socket.socket) -> bool:
        """Keep-alive: wait up to --keep-alive for the next request; False to close."""
        if not self.runtime.alive:
            return False
        poller = select.poll()
        poller.register(sock, select.POLLIN)
        return bool(poller.poll(self.config.keep_alive * 1000))


def _close(sock: socket.socket, unread_body: bool) -> None:
    """Close ``sock``; with request bytes still unread, half-close and drain them first."""
    if unread_body:
        with contextlib.suppress(OSError):
            sock.shutdown(socket.SHUT_WR)
            sock.settimeout(0.5)
            drained = 0
            while drained < LINGER_LIMIT:
                data = sock.recv(RECV_SIZE)
                if not data:
                    break
                drained += len(data)
    sock.close()


class _Waiter:
    """Sleep until a listener or a pending connection is readable, or a signal arrived.

    ``ready`` holds the pending connections' descriptors the last ``wait`` found readable.
    """

    def __init__(self, listener_fds: list[int], wake_fd: int) -> None:
        self._epoll = select.epoll()
        self._listeners = listener_fds
        self._wake_fd = wake_fd
        exclusive = getattr(select, "EPOLLEXCLUSIVE", 0)
        for fd in listener_fds:
            self._epoll.register(fd, select.EPOLLIN | exclusive)
        self._epoll.register(wake_fd, select.EPOLLIN)
        self.ready: list[int] = []

    def add(self, fd: int) -> None:
        """Watch a pending connection."""
        self._epoll.register(fd, select.EPOLLIN | select.EPOLLRDHUP)

    def remove(self, fd: int) -> None:
        """Stop watching a pending connection (before it is served or closed)."""
        with contextlib.suppress(OSError, ValueError):
            self._epoll.unregister(fd)

    def stop_listening(self) -> None:
        """Stop waking for new connections (graceful stop)."""
        for fd in self._listeners:
            with contextlib.suppress(OSError, ValueError):
                self._epoll.unregister(fd)

    def wait(self, timeout: float) -> None:
        """Wait up to ``timeout`` seconds; record the readable pending connections."""
        skip = {self._wake_fd, *self._listeners}
        self.ready = [fd for fd, _mask in self._epoll.poll(timeout) if fd not in skip]

    def close(self) -> None:
        """Release the epoll descriptor."""
        self._epoll.close()
