"""The thread worker: ``--threads T`` request threads per process, idle connections parked.

How this works
--------------
The main thread owns an ``epoll`` set with the listening sockets, the signal wakeup
pipe and every *parked* connection (registered ``EPOLLONESHOT``). It accepts new
connections and hands them, and parked connections that became readable, to a queue
served by T threads. A thread reads what is available without blocking
(``MSG_DONTWAIT``) and feeds the sans-IO core:

* request head incomplete → the connection is parked again (re-armed in epoll) and
  the thread moves on, so a slow client never holds a thread while it sends its head;
* a body announced with Content-Length up to ``BODY_BUFFER_LIMIT`` is gathered the
  same way before the app runs, so slow uploads do not hold threads either; bigger or
  ``Expect: 100-continue`` bodies are streamed to the app with blocking reads bounded
  by the socket timeout;
* a complete request runs the app (``servers.wsgi.blocking``); afterwards an unread
  body is drained up to a cap (else the connection closes), and a keep-alive
  connection is parked until its next request or until ``--keep-alive`` seconds of
  idleness close it.

Accepted sockets stay blocking with kernel timeouts (``SO_RCVTIMEO``/``SO_SNDTIMEO``
of half ``--timeout``, like the sync worker) for what the app reads and writes; parked
connections with a partial request are closed after that same time.

A lock guards the parked/busy state of connections, so an event for a connection is
never handed to two threads. The main thread beats the heartbeat at least once a
second. Graceful stop: the listeners leave the epoll set, in-flight requests finish
with ``Connection: close``, parked connections are closed as they expire or after
their next response (closing an idle one at once would race with a request the
client may be sending on it), and the worker exits when none is left (or after
``--graceful-timeout``).
"""

from __future__ import annotations

import contextlib
import queue
import select
import socket
import threading
import time
import traceback
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
from servers.prefork.workers.sync import limits_of
from servers.protocol import (
    NEED_DATA,
    Connection,
    Data,
    EndOfMessage,
    RemoteProtocolError,
    Request,
    State,
)
from servers.wsgi.blocking import RECV_SIZE, WSGIHandler

#: Request bodies up to this size are gathered before the app runs (no thread waits).
BODY_BUFFER_LIMIT = 1024 * 1024
#: Seconds between scans for expired parked connections (and the longest epoll wait).
SCAN_INTERVAL = 0.5
_PARK_FLAGS = select.EPOLLIN | select.EPOLLONESHOT | select.EPOLLRDHUP


class _Client:
    """One accepted connection and where it is in its request cycle."""

    __slots__ = (
        "client",
        "conn",
        "deadline",
        "fd",
        "parked",
        "pending",
        "registered",
        "server",
        "sock",
        "started",
    )

    def __init__(
        self,
        sock: socket.socket,
        conn: Connection,
        client: tuple[str, int] | None,
        server: tuple[str, int] | None,
    ) -> None:
        self.sock = sock
        self.fd = sock.fileno()
        self.conn = conn
        self.client = client
        self.server = server
        self.parked = False
        self.registered = False
        #: Monotonic deadline while parked (keep-alive or partial-request timeout).
        self.deadline = 0.0
        #: When the first byte of the current request arrived (0: none yet).
        self.started = 0.0
        #: A request whose body is being gathered: (request, body chunks so far).
        self.pending: tuple[Request, list[bytes]] | None = None


class ThreadWorker:
    """Serve with a thread pool and an epoll loop until a stop (see the module docstring)."""

    def __init__(
        self,
        app: Callable[..., Any],
        config: PreforkConfig,
        sockets: list[socket.socket],
        runtime: WorkerRuntime,
    ) -> None:
        self.config = config
        self.runtime = runtime
        self.keep_alive = config.keep_alive
        self.handler = WSGIHandler(
            app,
            limits=limits_of(config),
            root_path=config.root_path,
            multithread=True,
            multiprocess=config.workers > 1,
            keep_alive=config.keep_alive > 0,
        )
        self.timeout = io_timeout(config)
        self.max_connections = config.worker_connections
        self.epoll = select.epoll()
        self.listeners: dict[int, tuple[socket.socket, tuple[str, int] | None]] = {}
        for sock in sockets:
            tune_listener(sock, self.timeout)
            self.listeners[sock.fileno()] = (sock, server_address(sock))
        self.clients: dict[int, _Client] = {}
        self.lock = threading.Lock()
        self.jobs: queue.SimpleQueue[_Client | None] = queue.SimpleQueue()
        self.threads = [
            threading.Thread(target=self._work, name=f"bench-wsgi-{i}", daemon=True)
            for i in range(config.threads)
        ]
        self._accepting = False

    # -- the main thread --------------------------------------------------------------

    def run(self) -> int:
        """Serve until a graceful stop completes; return the exit code."""
        runtime = self.runtime
        for t in self.threads:
            t.start()
        self.epoll.register(runtime.wake_r, select.EPOLLIN)
        self._set_accepting(True)
        runtime.ready()
        next_scan = time.monotonic() + SCAN_INTERVAL
        try:
            while True:
                events = self.epoll.poll(SCAN_INTERVAL)
                for fd, _mask in events:
                    if fd in self.listeners:
                        self._accept(fd)
                    elif fd == runtime.wake_r:
                        runtime.drain_wakeups()
                    else:
                        self._wake(fd)
                now = time.monotonic()
                runtime.beat()
                if now >= next_scan:
                    next_scan = now + SCAN_INTERVAL
                    self._expire(now)
                if not runtime.alive:
                    if self._accepting:
                        self._set_accepting(False)
                    if not self.clients:
                        break
                    stopped = runtime.stop_requested_at or now
                    if now - stopped >= self.config.graceful_timeout:
                        break
                elif self._accepting != (len(self.clients) < self.max_connections):
                    self._set_accepting(not self._accepting)
        finally:
            for _ in self.threads:
                self.jobs.put(None)
            self.epoll.close()
        return 0

    def _set_accepting(self, on: bool) -> None:
        self._accepting = on
        exclusive = getattr(select, "EPOLLEXCLUSIVE", 0)
        for fd in self.listeners:
            if on:
                self.epoll.register(fd, select.EPOLLIN | exclusive)
            else:
                self.epoll.unregister(fd)

    def _accept(self, fd: int) -> None:
        listener, server = self.listeners[fd]
        is_unix = listener.family == socket.AF_UNIX
        while len(self.clients) < self.max_connections and self.runtime.alive:
            try:
                sock, address = listener.accept()
            except (BlockingIOError, InterruptedError, ConnectionAbortedError):
                return
            if is_unix:
                set_io_timeouts(sock, self.timeout)
            client = _Client(
                sock,
                self.handler.new_connection(),
                client_address(listener.family, address),
                server,
            )
            with self.lock:
                self.clients[client.fd] = client
            self.jobs.put(client)

    def _wake(self, fd: int) -> None:
        with self.lock:
            client = self.clients.get(fd)
            if client is None or not client.parked:
                return  # a stale event for a connection already busy or closed
            client.parked = False
        self.jobs.put(client)

    def _expire(self, now: float) -> None:
        with self.lock:
            expired = [c for c in self.clients.values() if c.parked and c.deadline <= now]
            for c in expired:
                self._drop_locked(c)

    # -- request threads ----------------------------------------------------------------

    def _work(self) -> None:
        while True:
            client = self.jobs.get()
            if client is None:
                return
            try:
                self._serve(client)
            except Exception:
                traceback.print_exc()
                self._drop(client)

    def _serve(self, client: _Client) -> None:
        """Advance ``client`` as far as possible without waiting for the network."""
        handler = self.handler
        runtime = self.runtime
        sock = client.sock
        conn = client.conn
        responded = False
        try:
            while True:
                if client.pending is not None:
                    request, taken = client.pending
                    if not self._gather(client, taken):
                        return self._park(client)
                    client.pending = None
                    complete = True
                else:
                    event = conn.next_event()
                    if event is NEED_DATA:
                        # Right after a response the next request is rarely there yet:
                        # wait in epoll rather than try a read that would fail.
                        if responded or not self._receive(client):
                            return self._park(client)
                        continue
                    if type(event) is not Request:
                        return self._drop(client)
                    request, taken = event, []
                    complete = self._gather(client, taken)
                    if not complete and self._may_wait_for_body(conn, request):
                        client.pending = (request, taken)
                        return self._park(client)
                next_conn = handler.respond(
                    conn,
                    sock,
                    request,
                    client.client,
                    client.server,
                    not runtime.alive,
                    taken,
                    complete,
                )
                runtime.count_request()
                if next_conn is None:
                    return self._drop(client)
                client.conn = conn = next_conn
                client.started = 0.0
                responded = True
        except RemoteProtocolError as exc:
            with contextlib.suppress(OSError):
                handler.reject(conn, sock, exc)
            self._drop(client)
        except OSError:
            self._drop(client)

    def _receive(self, client: _Client) -> bool:
        """Read what is available now into the core; False if nothing is (park)."""
        try:
            data = client.sock.recv(RECV_SIZE, socket.MSG_DONTWAIT)
        except BlockingIOError:
            return False
        if data and not client.started:
            client.started = time.monotonic()
        client.conn.receive_data(data)
        return True

    @staticmethod
    def _may_wait_for_body(conn: Connection, request: Request) -> bool:
        """Gather the rest of the body before the app runs: a known, small size, and a
        client that is sending it (not one waiting for ``100 Continue``)."""
        if conn.they_are_waiting_for_100_continue:
            return False
        for name, value in request.headers:
            if name == b"content-length":
                return value.isdigit() and int(value) <= BODY_BUFFER_LIMIT
        return False

    def _gather(self, client: _Client, chunks: list[bytes]) -> bool:
        """Collect the body events available now into ``chunks``; True once complete.

        Stops (False) past ``BODY_BUFFER_LIMIT`` bytes: a bigger body is streamed.
        """
        conn = client.conn
        size = sum(map(len, chunks))
        while True:
            event = conn.next_event()
            if type(event) is Data:
                chunks.append(event.data)
                size += len(event.data)
                if size > BODY_BUFFER_LIMIT:
                    return False
            elif type(event) is EndOfMessage:
                return True
            elif event is NEED_DATA:
                if not self._receive(client):
                    return False
            else:
                return True

    def _park(self, client: _Client) -> None:
        """Wait in epoll for more bytes, with the deadline that applies now."""
        if client.started:  # a partial request: the I/O timeout from its first byte
            deadline = client.started + self.timeout
        else:  # idle between requests
            deadline = time.monotonic() + self.keep_alive
        with self.lock:
            if client.fd not in self.clients:
                return
            client.deadline = deadline
            client.parked = True
            if client.registered:
                self.epoll.modify(client.fd, _PARK_FLAGS)
            else:
                self.epoll.register(client.fd, _PARK_FLAGS)
                client.registered = True

    def _drop(self, client: _Client) -> None:
        with self.lock:
            self._drop_locked(client)

    def _drop_locked(self, client: _Client) -> None:
        if self.clients.get(client.fd) is not client:
            return
        del self.clients[client.fd]
        client.parked = False
        if client.registered:
            with contextlib.suppress(OSError, ValueError):
                self.epoll.unregister(client.fd)
        unread = client.conn.their_state is State.SEND_BODY
        with contextlib.suppress(OSError):
            if unread:
                client.sock.shutdown(socket.SHUT_WR)
        client.sock.close()
