"""Closed loop: N keep-alive connections, each sending its next request on a response.

How this works: ``ClosedLoop`` opens ``connections`` connections at the start and keeps
that many alive: a connection that is lost (error, timeout, ``Connection: close``) is
replaced at once, a connect that fails is retried after a short back-off (each failed
attempt counts one "connect" error). Each connection writes its first request on
connect and the next one as soon as a response is complete, reusing the clock reading
that ended the previous request as the start of the next (one clock read per request).

Latencies are service times under N connections: a server stall makes every
connection wait, so few samples carry it (coordinated omission) — use the open loop
for latency under a given arrival rate. Little's law holds: throughput × mean latency ≈
connections.

Each connect is timed apart from the requests (``connect_us``): against a server that
closes after every response, each request pays a reconnect that its latency does not
include, which is why throughput × mean latency then falls short of the connections.

At the end of the window every connection is closed; requests still outstanding are
counted in ``in_flight_at_end`` and not in the latencies.
"""

from __future__ import annotations

import asyncio

from bench.runner.engines.native.http_conn import HttpConn, HttpShared, clock
from bench.runner.engines.native.target import Target
from bench.runner.engines.native.timeline import Session
from bench.servers.protocol import RemoteProtocolError

#: Wait before retrying a failed connect (a refused port would otherwise spin).
RECONNECT_BACKOFF_S = 0.02
#: How often outstanding requests are checked for a timeout, at most.
SWEEP_INTERVAL_S = 0.1


class ClosedConn(HttpConn):
    """A connection that sends its next request as soon as a response is complete."""

    __slots__ = ()

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        super().connection_made(transport)
        if self._session.running:
            self.busy = True
            self.sent_ns = clock()
            self._write(self._request)

    def data_received(self, data: bytes) -> None:
        try:
            if not self._reader.feed(data):
                return
        except RemoteProtocolError:
            self.abort("protocol")
            return
        now = clock()
        reader = self._reader
        session = self._session
        expected = self._expect_status
        if expected and reader.status != expected:
            session.error("status")
        elif self._verify_body and not self._body_ok():
            session.error("body")
        elif self._recording:
            self._record(now - self.sent_ns)
        else:
            session.unrecorded += 1
        if not reader.keep_alive:
            self.busy = False
            self._retire()
        elif session.running:
            self.sent_ns = now
            self._write(self._request)
        else:
            self.busy = False


class ClosedLoop:
    """Keeps ``connections`` connections busy until the window ends.

    Args:
        session: the run's session (timeline and recording).
        target: where to connect.
        shared: the request and response checks.
        connections: how many connections to keep open.
        timeout_s: connect timeout, and response timeout per request.
    """

    def __init__(
        self,
        session: Session,
        target: Target,
        shared: HttpShared,
        connections: int,
        timeout_s: float,
    ) -> None:
        self._session = session
        self._target = target
        self._shared = shared
        self._connections = connections
        self._timeout_s = timeout_s
        self._timeout_ns = int(timeout_s * 1e9)
        self._conns: set[ClosedConn] = set()
        self._tasks: set[asyncio.Task[None]] = set()
        self._sweeper: asyncio.TimerHandle | None = None

    def start(self) -> None:
        """Open the connections and start the timeout sweeper."""
        for _ in range(self._connections):
            self._spawn(0.0)
        self._arm_sweep()

    def _spawn(self, delay: float) -> None:
        task = self._session.loop.create_task(self._connect(delay))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _connect(self, delay: float) -> None:
        session = self._session
        loop = session.loop
        while session.running:
            if delay:
                await asyncio.sleep(delay)
                if not session.running:
                    return
            conn = ClosedConn(self, session, self._shared)
            started = clock()
            try:
                await asyncio.wait_for(
                    self._target.connect(loop, lambda c=conn: c, session.notes),
                    self._timeout_s,
                )
            except TimeoutError:
                session.error("timeout")
            except OSError:
                session.error("connect")
            else:
                if session.measuring:
                    session.connect_samples.append(clock() - started)
                if conn.closed or not session.running:
                    conn.close()
                    return
                self._conns.add(conn)
                return
            delay = RECONNECT_BACKOFF_S

    def on_lost(self, conn: HttpConn) -> None:
        """A connection is gone: replace it while the window lasts."""
        self._conns.discard(conn)  # type: ignore[arg-type]
        if self._session.running:
            self._spawn(0.0)

    def _arm_sweep(self) -> None:
        interval = min(SWEEP_INTERVAL_S, self._timeout_s / 4)
        self._sweeper = self._session.loop.call_later(interval, self._sweep)

    def _sweep(self) -> None:
        deadline = clock() - self._timeout_ns
        for conn in [c for c in self._conns if c.busy and c.sent_ns < deadline]:
            conn.abort("timeout")
        if self._session.running:
            self._arm_sweep()

    def on_window_end(self) -> None:
        """Stop: close every connection, count what was outstanding, finish the session."""
        if self._sweeper is not None:
            self._sweeper.cancel()
        self._session.in_flight_at_end = sum(1 for c in self._conns if c.busy)
        self.close()
        self._session.finish()

    def close(self) -> None:
        """Close all connections and cancel pending connects (idempotent)."""
        for conn in list(self._conns):
            conn.close()
        self._conns.clear()
        for task in list(self._tasks):
            task.cancel()
