"""Open loop: requests sent on a schedule, latency measured from the *scheduled* time.

How this works
--------------
A ``Schedule`` says when each request should start. A timer wakes at the next arrival
time (the event loop's timers have about 1 ms resolution) and dispatches every arrival
that is due: to an idle connection at once, or else to a FIFO of pending arrivals.
When arrivals are pending and the pool is below ``max_connections``, more connections
are opened; a connection that becomes idle takes the oldest pending arrival first.

Each latency runs from the arrival's scheduled time to the end of its response, so a
server stall shows up in every request scheduled during it (no coordinated
omission). Schedule lag — how late a send started after its scheduled time — is
recorded separately; so is the achieved rate (sends started per second of window), the
time each new connection took to connect, and, once a second, the backlog (arrivals
pending or in flight) that ``bench.runner.overload`` reads to tell whether the server kept up.
When the target cannot be kept the result says why (connection cap, engine CPU); the
rate is never lowered silently.

At the window's end scheduling stops and the loop drains: outstanding and pending
requests still complete and count (they were scheduled inside the window), until none
is left or the timeout has passed. Requests older than ``timeout_s`` since their
scheduled time count as "timeout", pending or in flight.
"""

from __future__ import annotations

import asyncio
from collections import deque

from bench.runner.engines.native.http_conn import HttpConn, HttpShared, clock
from bench.runner.engines.native.schedule import Schedule
from bench.runner.engines.native.target import Target
from bench.runner.engines.native.timeline import Session
from bench.runner.loadspec import LoadSpec
from bench.servers.protocol import RemoteProtocolError

#: How often pending and outstanding requests are checked for a timeout, at most.
SWEEP_INTERVAL_S = 0.1
#: Wait before retrying a failed connect.
RECONNECT_BACKOFF_S = 0.02


class OpenConn(HttpConn):
    """A connection that sends when the schedule (through the driver) says so."""

    __slots__ = ("_lag",)

    def __init__(self, driver: OpenLoop, session: Session, shared: HttpShared) -> None:
        super().__init__(driver, session, shared)
        self._lag = session.lag_samples.append

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        super().connection_made(transport)
        self._driver.on_idle(self, clock())  # type: ignore[attr-defined]

    def send(self, scheduled_ns: int, now_ns: int) -> None:
        """Send one request whose latency clock started at ``scheduled_ns``."""
        self.busy = True
        self.sent_ns = scheduled_ns
        self._session.sent += 1
        self._lag(now_ns - scheduled_ns)
        self._write(self._request)

    def data_received(self, data: bytes) -> None:
        try:
            if not self._reader.feed(data):
                return
        except RemoteProtocolError:
            self.abort("protocol")
            return
        now = clock()
        self.busy = False
        self._judge(now)
        if not self._reader.keep_alive:
            self._retire()
            return
        self._driver.on_idle(self, now)  # type: ignore[attr-defined]


class OpenLoop:
    """Sends ``spec.rate`` requests per second on a schedule, growing the pool as needed.

    Args:
        session: the run's session.
        target: where to connect.
        shared: the request and response checks.
        spec: rate, arrival, connections (opened up front), max_connections, timeout_s.
        seed: seeds Poisson arrivals.
    """

    def __init__(
        self,
        session: Session,
        target: Target,
        shared: HttpShared,
        spec: LoadSpec,
        seed: int | None = None,
    ) -> None:
        assert spec.rate is not None
        self._session = session
        self._target = target
        self._shared = shared
        self._rate = spec.rate
        self._arrival = spec.arrival
        self._seed = seed
        self._cap = max(1, spec.max_connections)
        self._initial = max(1, min(spec.connections, self._cap))
        self._timeout_s = spec.timeout_s
        self._timeout_ns = int(spec.timeout_s * 1e9)
        self._conns: set[OpenConn] = set()
        self._idle: list[OpenConn] = []
        self._pending: deque[int] = deque()
        self._connecting = 0
        self._tasks: set[asyncio.Task[None]] = set()
        self._timer: asyncio.TimerHandle | None = None
        self._sweeper: asyncio.TimerHandle | None = None
        self._schedule: Schedule | None = None
        self._draining = False
        self._drain_deadline_ns = 0
        self._cap_hit = False
        session.outstanding = self._outstanding

    # -- lifecycle --------------------------------------------------------------------

    def start(self) -> None:
        """Open the initial connections and start the schedule now."""
        for _ in range(self._initial):
            self._spawn(0.0)
        self._schedule = Schedule(self._rate, self._arrival, clock(), self._seed)
        self._tick()
        self._arm_sweep()

    def on_window_end(self) -> None:
        """Stop scheduling; drain what was scheduled (bounded by the timeout)."""
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        self._draining = True
        self._drain_deadline_ns = clock() + self._timeout_ns
        if self._cap_hit:
            self._session.notes.append(
                f"connection cap reached ({self._cap}): arrivals waited for a free connection"
            )
        self._maybe_finish()

    def close(self) -> None:
        """Close every connection and cancel timers and connects (idempotent)."""
        for handle in (self._timer, self._sweeper):
            if handle is not None:
                handle.cancel()
        for conn in list(self._conns):
            conn.close()
        self._conns.clear()
        self._idle.clear()
        for task in list(self._tasks):
            task.cancel()

    def _outstanding(self) -> int:
        return len(self._pending) + sum(1 for c in self._conns if c.busy)

    def _maybe_finish(self) -> None:
        if not self._draining:
            return
        outstanding = self._outstanding()
        if outstanding == 0 or clock() >= self._drain_deadline_ns:
            self._session.in_flight_at_end = outstanding
            self._session.finish()

    # -- schedule ---------------------------------------------------------------------

    def _tick(self) -> None:
        self._timer = None
        session = self._session
        schedule = self._schedule
        assert schedule is not None
        if not session.running:
            return
        now = clock()
        due = schedule.take_due(now)
        if due:
            session.scheduled += len(due)
            idle = self._idle
            pending = self._pending
            for scheduled in due:
                if idle:
                    idle.pop().send(scheduled, now)
                else:
                    pending.append(scheduled)
            if pending:
                self._grow()
        delay = max(0.0, (schedule.next_ns - clock()) / 1e9)
        self._timer = session.loop.call_later(delay, self._tick)

    def on_idle(self, conn: OpenConn, now: int) -> None:
        """``conn`` can send: give it the oldest pending arrival, or park it."""
        if conn.closed:
            return
        if self._pending:
            conn.send(self._pending.popleft(), now)
        elif self._draining:
            self._maybe_finish()
        else:
            self._idle.append(conn)

    # -- the pool ---------------------------------------------------------------------

    def _grow(self) -> None:
        wanted = len(self._pending) - self._connecting
        room = self._cap - len(self._conns) - self._connecting
        if wanted > room:
            self._cap_hit = True
        for _ in range(min(wanted, room)):
            self._spawn(0.0)

    def _spawn(self, delay: float) -> None:
        self._connecting += 1
        task = self._session.loop.create_task(self._connect(delay))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _connect(self, delay: float) -> None:
        session = self._session
        try:
            while session.running or (self._draining and self._pending):
                if delay:
                    await asyncio.sleep(delay)
                conn = OpenConn(self, session, self._shared)
                self._conns.add(conn)
                started = clock()
                try:
                    await asyncio.wait_for(
                        self._target.connect(session.loop, lambda c=conn: c, session.notes),
                        self._timeout_s,
                    )
                except (TimeoutError, OSError) as exc:
                    self._conns.discard(conn)
                    session.error("timeout" if isinstance(exc, TimeoutError) else "connect")
                    delay = RECONNECT_BACKOFF_S
                    continue
                if session.measuring:
                    session.connect_samples.append(clock() - started)
                return
        finally:
            self._connecting -= 1

    def on_lost(self, conn: HttpConn) -> None:
        """A connection is gone: forget it; open another if arrivals are waiting."""
        self._conns.discard(conn)  # type: ignore[arg-type]
        if conn in self._idle:
            self._idle.remove(conn)  # type: ignore[arg-type]
        if self._pending and (self._session.running or self._draining):
            self._grow()
        self._maybe_finish()

    # -- timeouts ---------------------------------------------------------------------

    def _arm_sweep(self) -> None:
        interval = min(SWEEP_INTERVAL_S, self._timeout_s / 4)
        self._sweeper = self._session.loop.call_later(interval, self._sweep)

    def _sweep(self) -> None:
        deadline = clock() - self._timeout_ns
        pending = self._pending
        while pending and pending[0] < deadline:
            pending.popleft()
            self._session.error("timeout")
        for conn in [c for c in self._conns if c.busy and c.sent_ns < deadline]:
            conn.abort("timeout")
        self._maybe_finish()
        if not self._session.finished:
            self._arm_sweep()
