"""The thread worker: ``--threads T`` request threads per process, idle connections parked.

How this works
--------------
One ``epoll`` set holds the listening sockets and every *parked* connection, all
registered ``EPOLLONESHOT``: an event wakes exactly one of the T request threads
waiting in ``epoll.poll`` and disarms its descriptor until re-armed, so a connection
is never served by two threads, and there is no dispatcher thread to hand work over
(one thread wake-up per request instead of two). A thread woken by a listener accepts
what is waiting, re-arms it, parks the new connections but one, and serves that one.
A thread woken by a connection reads what is available without blocking
(``MSG_DONTWAIT``) and feeds the sans-IO core:

* request head incomplete → the connection is parked again (re-armed) and the thread
  goes back to waiting, so a slow client never holds a thread while it sends its head;
* a body announced with Content-Length up to ``BODY_BUFFER_LIMIT`` is gathered the
  same way before the app runs, so slow uploads do not hold threads either; bigger or
  ``Expect: 100-continue`` bodies are streamed to the app with blocking reads bounded
  by the socket timeout;
* a complete request runs the app (``bench.servers.wsgi.blocking``); afterwards an unread
  body is drained up to a cap (else the connection closes), and a keep-alive
  connection is parked until its next request or until ``--keep-alive`` seconds of
  idleness close it;
* a response body given whole (a list) is sent without blocking: what the client's
  socket cannot take now is parked with the connection (``EPOLLOUT``) and written by
  whichever thread is woken as the client reads, so a slow reader never holds a
  thread for the whole send timeout; it is closed after half ``--timeout`` without
  progress. (Streamed bodies are still written by their thread, blocking.)

Accepted sockets stay blocking with kernel timeouts (``SO_RCVTIMEO``/``SO_SNDTIMEO``
of half ``--timeout``, like the sync worker) for what the app reads and writes; parked
connections with a partial request are closed after that same time.

A lock guards the parked/busy state of connections and the listeners' state. The main
thread only beats the heartbeat, closes expired parked connections (every
``SCAN_INTERVAL``) and handles the stop. With ``--worker-connections`` open, a new
connection is still accepted while a keep-alive connection is parked idle: the one
idle the longest is closed to make room (as gunicorn's gthread does), so idle
connections cannot lock new clients out; with none idle, the listeners are held back
until one closes or idles. Graceful stop: the listeners leave the epoll
set, in-flight requests finish with ``Connection: close``, parked connections are
closed as they expire or after their next response (closing an idle one at once would
race with a request the client may be sending on it), and the worker exits when none
is left (or after ``--graceful-timeout``).
"""

from __future__ import annotations

import contextlib
import select
import socket
import threading
import time
import traceback
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
from bench.servers.prefork.workers.sync import limits_of
from bench.servers.protocol import (
    NEED_DATA,
    Connection,
    Data,
    EndOfMessage,
    RemoteProtocolError,
    Request,
    State,
)
from bench.servers.sockets import send_nowait
from bench.servers.wsgi.blocking import RECV_SIZE, WSGIHandler

#: Request bodies up to this size are gathered before the app runs (no thread waits).
BODY_BUFFER_LIMIT = 1024 * 1024
#: Seconds between scans for expired parked connections (and heartbeats).
SCAN_INTERVAL = 0.5
#: Longest epoll wait of a request thread (how soon it notices the worker stopping).
POLL_TIMEOUT = 0.5
_PARK_FLAGS = select.EPOLLIN | select.EPOLLONESHOT | select.EPOLLRDHUP
_WRITE_FLAGS = select.EPOLLOUT | select.EPOLLONESHOT
_LISTEN_FLAGS = select.EPOLLIN | select.EPOLLONESHOT
# Listener states: armed in epoll (or being accepted from by the thread it woke), held
# back because the worker has --worker-connections open, or off (stopping).
_ARMED, _FULL, _OFF = "armed", "full", "off"


class _Client:
    """One accepted connection and where it is in its request cycle."""

    __slots__ = (
        "client",
        "close_after",
        "conn",
        "deadline",
        "fd",
        "idle_since",
        "out",
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
        #: While parked between requests after a response: since when (0: otherwise).
        self.idle_since = 0.0
        #: The unsent pieces of a response, written as the client reads (epoll, no thread).
        self.out: list[memoryview] | None = None
        #: Close once ``out`` is written (the response ended the connection).
        self.close_after = False
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
        #: Each listener's state (``_ARMED``, ``_FULL``, ``_OFF``), under ``lock``.
        self._listener_state: dict[int, str] = {}
        self.threads = [
            threading.Thread(target=self._work, name=f"bench-wsgi-{i}", daemon=True)
            for i in range(config.threads)
        ]
        self._stopping = False

    # -- the main thread: heartbeat, expiry, stop ------------------------------------

    def run(self) -> int:
        """Serve until a graceful stop completes; return the exit code."""
        runtime = self.runtime
        with self.lock:
            for fd in self.listeners:
                self.epoll.register(fd, _LISTEN_FLAGS)
                self._listener_state[fd] = _ARMED
        for t in self.threads:
            t.start()
        runtime.ready()
        try:
            while True:
                select.select([runtime.wake_r], [], [], SCAN_INTERVAL)
                runtime.drain_wakeups()
                now = time.monotonic()
                runtime.beat()
                self._expire(now)
                if not runtime.alive:
                    with self.lock:
                        self._stop_accepting_locked()
                        if not self.clients:
                            break
                    stopped = runtime.stop_requested_at or now
                    if now - stopped >= self.config.graceful_timeout:
                        break
        finally:
            self._stopping = True
            for t in self.threads:
                t.join(POLL_TIMEOUT + 0.5)
            if not any(t.is_alive() for t in self.threads):
                self.epoll.close()
        return 0

    def _expire(self, now: float) -> None:
        with self.lock:
            expired = [c for c in self.clients.values() if c.parked and c.deadline <= now]
            for c in expired:
                self._drop_locked(c)

    def _stop_accepting_locked(self) -> None:
        for fd, state in self._listener_state.items():
            if state != _OFF:
                with contextlib.suppress(OSError):
                    self.epoll.unregister(fd)
                self._listener_state[fd] = _OFF

    # -- request threads: wait in epoll, accept or serve --------------------------------

    def _work(self) -> None:
        poll = self.epoll.poll
        while not self._stopping:
            for fd, _mask in poll(POLL_TIMEOUT, 1):
                listener = self.listeners.get(fd)
                if listener is not None:
                    self._accept(fd, *listener)
                    continue
                client = self._claim(fd)
                if client is None:
                    continue
                try:
                    self._serve(client)
                except Exception:
                    traceback.print_exc()
                    self._drop(client)

    def _claim(self, fd: int) -> _Client | None:
        """The parked client behind an epoll event, now busy (None for a stale event)."""
        with self.lock:
            client = self.clients.get(fd)
            if client is None or not client.parked:
                return None
            client.parked = False
            return client

    def _accept(self, fd: int, listener: socket.socket, server: tuple[str, int] | None) -> None:
        """Accept what is waiting (one thread at a time per listener: EPOLLONESHOT)."""
        is_unix = listener.family == socket.AF_UNIX
        accepted: list[_Client] = []
        while self.runtime.alive:
            full = len(self.clients) >= self.max_connections
            if full and not self._has_idle():
                break
            try:
                sock, address = listener.accept()
            except (BlockingIOError, InterruptedError, ConnectionAbortedError):
                break
            if full:  # at --worker-connections: the oldest idle keep-alive one gives way
                with self.lock:
                    self._evict_idle_locked()
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
            accepted.append(client)
        with self.lock:
            if not self.runtime.alive:
                with contextlib.suppress(OSError):
                    self.epoll.unregister(fd)
                self._listener_state[fd] = _OFF
            elif len(self.clients) >= self.max_connections and not self._has_idle_locked():
                self._listener_state[fd] = _FULL
            else:
                self.epoll.modify(fd, _LISTEN_FLAGS)
                self._listener_state[fd] = _ARMED
        # Other threads pick up the others as soon as their requests arrive.
        for client in accepted[1:]:
            self._park(client)
        if accepted:
            try:
                self._serve(accepted[0])
            except Exception:
                traceback.print_exc()
                self._drop(accepted[0])

    def _has_idle(self) -> bool:
        with self.lock:
            return self._has_idle_locked()

    def _has_idle_locked(self) -> bool:
        """Whether a keep-alive connection is parked idle (it may give way)."""
        return any(c.parked and c.idle_since for c in self.clients.values())

    def _evict_idle_locked(self) -> None:
        """Close the parked keep-alive connection idle the longest (gunicorn gthread's rule)."""
        oldest: _Client | None = None
        for c in self.clients.values():
            if c.parked and c.idle_since and (oldest is None or c.idle_since < oldest.idle_since):
                oldest = c
        if oldest is not None:
            self._drop_locked(oldest)

    def _serve(self, client: _Client) -> None:
        """Advance ``client`` as far as possible without waiting for the network."""
        handler = self.handler
        runtime = self.runtime
        sock = client.sock
        conn = client.conn
        responded = False
        try:
            if client.out is not None:
                if not self._write_out(client):
                    return self._park(client, writing=True)
                if client.close_after:
                    return self._drop(client)
                responded = True
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
                            return self._park(client, idle=responded)
                        continue
                    if type(event) is not Request:
                        return self._drop(client)
                    request, taken = event, []
                    complete = self._gather(client, taken)
                    if not complete and self._may_wait_for_body(conn, request):
                        client.pending = (request, taken)
                        return self._park(client)
                unsent: list[memoryview] = []
                next_conn = handler.respond(
                    conn,
                    sock,
                    request,
                    client.client,
                    client.server,
                    not runtime.alive,
                    taken,
                    complete,
                    unsent,
                )
                runtime.count_request()
                if unsent:  # the client reads slowly: finish writing without this thread
                    client.out = unsent
                    client.close_after = next_conn is None
                    if next_conn is not None:
                        client.conn = next_conn
                    client.started = 0.0
                    return self._park(client, writing=True)
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

    @staticmethod
    def _write_out(client: _Client) -> bool:
        """Write what the socket takes now of ``client.out``; True once all is written.

        Raises OSError when the client went away.
        """
        out = client.out
        assert out is not None
        if not send_nowait(client.sock, out):
            return False
        client.out = None
        return True

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

    def _park(self, client: _Client, idle: bool = False, writing: bool = False) -> None:
        """Wait in epoll for more bytes, with the deadline that applies now.

        ``idle``: between requests right after a response (a keep-alive connection that
        may give way at ``--worker-connections``). ``writing``: wait until the socket
        takes more of ``client.out`` instead, closed after the I/O timeout without progress.
        """
        now = time.monotonic()
        # A partial request: the I/O timeout from its first byte; else the keep-alive.
        deadline = client.started + self.timeout if client.started else now + self.keep_alive
        if writing:
            deadline = now + self.timeout
            idle = False
        with self.lock:
            if client.fd not in self.clients:
                return
            client.deadline = deadline
            client.parked = True
            client.idle_since = now if idle and not client.started else 0.0
            if client.idle_since:
                self._arm_full_listeners_locked()
            flags = _WRITE_FLAGS if writing else _PARK_FLAGS
            if client.registered:
                self.epoll.modify(client.fd, flags)
            else:
                self.epoll.register(client.fd, flags)
                client.registered = True

    def _arm_full_listeners_locked(self) -> None:
        """Listeners held back at the cap may accept again (a connection closed or idles)."""
        if not self.runtime.alive:
            return
        for fd, state in self._listener_state.items():
            if state == _FULL:
                self.epoll.modify(fd, _LISTEN_FLAGS)
                self._listener_state[fd] = _ARMED

    def _drop(self, client: _Client) -> None:
        with self.lock:
            self._drop_locked(client)

    def _drop_locked(self, client: _Client) -> None:
        if self.clients.get(client.fd) is not client:
            return
        del self.clients[client.fd]
        self._arm_full_listeners_locked()
        client.parked = False
        if client.registered:
            with contextlib.suppress(OSError, ValueError):
                self.epoll.unregister(client.fd)
        unread = client.conn.their_state is State.SEND_BODY
        with contextlib.suppress(OSError):
            if unread:
                client.sock.shutdown(socket.SHUT_WR)
        client.sock.close()
