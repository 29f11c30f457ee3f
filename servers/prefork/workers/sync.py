"""The sync worker: one request at a time per process (gunicorn's ``sync`` semantics).

How this works
--------------
The loop is accept → recv → parse → app → sendall → close, as lean as it can be:

* The listening sockets are non-blocking and the loop first tries ``accept``; only
  when no connection is waiting does it sleep in ``epoll`` (with ``EPOLLEXCLUSIVE``
  where available, so an idle pool of workers is not woken all at once for one
  connection) on the listeners and the signal wakeup pipe, for at most a second, to
  beat the heartbeat.
* Accepted sockets are blocking, with kernel send/receive timeouts (``SO_RCVTIMEO``,
  ``SO_SNDTIMEO``, inherited from the listener) of half ``--timeout``: a client that
  goes silent is dropped before the worker would miss its heartbeat, and no ``poll``
  precedes each ``recv``/``send`` as Python socket timeouts would add.
* Bytes go through the sans-IO HTTP/1.1 core and the WSGI handler
  (``servers.wsgi.blocking``); a complete small response leaves in one ``sendall``.

Keep-alive: off by default, as in gunicorn: the connection closes after each response
(``Connection: close``). A kept-alive client would hold the only thread of the
process while other clients wait in the backlog, so with more clients than workers
throughput collapses; closing gives every queued client its turn. ``--sync-keep-alive``
turns it on, for deployments behind a proxy that opens no more connections than
there are workers; an idle connection is then closed after ``--keep-alive`` seconds.
"""

from __future__ import annotations

import contextlib
import select
import socket
from collections.abc import Callable
from typing import Any

from servers.prefork.config import PreforkConfig
from servers.prefork.workers import (
    client_address,
    io_timeout,
    server_address,
    set_io_timeouts,
    tune_listener,
)
from servers.prefork.workers.base import WorkerRuntime
from servers.protocol import NEED_DATA, Limits, RemoteProtocolError, Request, State
from servers.wsgi.blocking import RECV_SIZE, WSGIHandler

#: Longest sleep waiting for a connection (the heartbeat cadence of an idle worker).
IDLE_WAIT = 1.0
#: Unread request bytes read and dropped before closing, so the close does not reset
#: the connection (and destroy the response) while the client is still sending.
LINGER_LIMIT = 65536


def limits_of(config: PreforkConfig) -> Limits:
    """The protocol core's limits from gunicorn-named settings."""
    return Limits(
        max_request_line=config.limit_request_line,
        max_header_count=config.limit_request_fields,
        max_header_field_size=config.limit_request_field_size,
        max_body_size=config.limit_request_body or None,
    )


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

    def run(self) -> int:
        """Serve until a graceful stop; return the exit code."""
        runtime = self.runtime
        waiter = _Waiter([s.fileno() for s in self.listeners], runtime.wake_r)
        slots = [
            (s.accept, server_address(s), s.family, s.family == socket.AF_UNIX)
            for s in self.listeners
        ]
        runtime.ready()
        try:
            while runtime.alive:
                served = False
                for accept, server, family, is_unix in slots:
                    try:
                        sock, address = accept()
                    except (BlockingIOError, InterruptedError, ConnectionAbortedError):
                        continue
                    if is_unix:
                        set_io_timeouts(sock, self.timeout)
                    self.serve(sock, client_address(family, address), server)
                    runtime.beat()
                    served = True
                    if not runtime.alive:
                        break
                if not served and runtime.alive:
                    runtime.beat()
                    waiter.wait(IDLE_WAIT)
                    runtime.drain_wakeups()
        finally:
            waiter.close()
        return 0

    def serve(
        self,
        sock: socket.socket,
        client: tuple[str, int] | None,
        server: tuple[str, int] | None,
    ) -> None:
        """Serve one connection to its end and close it."""
        handler = self.handler
        runtime = self.runtime
        conn = handler.new_connection()
        recv = sock.recv
        try:
            conn.receive_data(recv(RECV_SIZE))  # a new connection: nothing to parse yet
            while True:
                event = conn.next_event()
                if event is NEED_DATA:
                    conn.receive_data(recv(RECV_SIZE))
                    continue
                if type(event) is not Request:
                    return
                next_conn = handler.respond(conn, sock, event, client, server, not runtime.alive)
                runtime.count_request()
                if next_conn is None:
                    return
                conn = next_conn
                event = conn.next_event()  # a pipelined request may already be buffered
                if type(event) is Request:
                    pending = event
                    continue
                if not self._await_next_request(sock):
                    return
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
    """Sleep until a listener is readable or a signal arrived (epoll, else poll)."""

    def __init__(self, listener_fds: list[int], wake_fd: int) -> None:
        self._epoll: Any = None
        self._poll: Any = None
        exclusive = getattr(select, "EPOLLEXCLUSIVE", 0)
        if hasattr(select, "epoll"):
            self._epoll = select.epoll()
            for fd in listener_fds:
                self._epoll.register(fd, select.EPOLLIN | exclusive)
            self._epoll.register(wake_fd, select.EPOLLIN)
        else:  # pragma: no cover - non-Linux
            self._poll = select.poll()
            for fd in [*listener_fds, wake_fd]:
                self._poll.register(fd, select.POLLIN)

    def wait(self, timeout: float) -> None:
        if self._epoll is not None:
            self._epoll.poll(timeout)
        else:  # pragma: no cover - non-Linux
            self._poll.poll(timeout * 1000)

    def close(self) -> None:
        if self._epoll is not None:
            self._epoll.close()
