"""WebSocket load: N connections sending messages, echo round-trip latency.

How this works
--------------
Each connection does the opening handshake through the protocol core (an HTTP/1.1
client-role ``Connection`` carries ``ClientHandshake``'s request and parses the 101;
``Accepted.connection`` gives the ``WSConnection``). The time from starting the TCP
connect to a validated 101 is the connect latency (``connect_us``), kept apart from the
message round-trips.

Then each connection sends binary messages of ``ws_message_size`` bytes:

* back to back (no rate): the next message goes out when the previous echo is in;
* at a rate (``ws_message_rate`` per connection, or ``rate`` spread over the
  connections in open mode): on a per-connection schedule, whether or not echoes have
  come back. Outstanding messages are matched to echoes in order (an echo server
  answers in order), and each round-trip runs from the message's *scheduled* time —
  no coordinated omission; the schedule lag is recorded as for HTTP.

An echo that differs from the message sent is a "body" error; a frame the core refuses
is "protocol"; a handshake answered with another status is "status"; a connection
closed with messages outstanding is "reset". Lost connections are replaced while the
window lasts.
"""

from __future__ import annotations

import asyncio
from collections import deque

from bench.runner.engines.native.http_conn import clock
from bench.runner.engines.native.schedule import Schedule
from bench.runner.engines.native.target import Target
from bench.runner.engines.native.timeline import Session
from bench.runner.loadspec import LoadSpec
from bench.servers.protocol import (
    END_OF_MESSAGE,
    NEED_DATA,
    Connection,
    InformationalResponse,
    RemoteProtocolError,
    Response,
    Role,
)
from bench.servers.protocol.websocket import (
    BytesMessage,
    ClientHandshake,
    CloseConnection,
    HandshakeError,
    TextMessage,
    WSConnection,
)

RECONNECT_BACKOFF_S = 0.02
SWEEP_INTERVAL_S = 0.1


class WsConn(asyncio.Protocol):
    """One WebSocket client connection (handshake, then message round-trips)."""

    def __init__(self, driver: WebSocketLoop, started_ns: int) -> None:
        self._driver = driver
        self._session = driver.session
        self._started_ns = started_ns
        self._http = Connection(Role.CLIENT)
        self._handshake = ClientHandshake.start(driver.target.authority.decode(), driver.path)
        self._ws: WSConnection | None = None
        self._transport: asyncio.Transport | None = None
        self._outstanding: deque[int] = deque()
        self._schedule: Schedule | None = None
        self._timer: asyncio.TimerHandle | None = None
        self.closed = False

    # -- handshake ----------------------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self._transport = transport  # type: ignore[assignment]
        self._session.connection_opened()
        http = self._http
        transport.write(http.send(self._handshake.request) + http.send(END_OF_MESSAGE))  # type: ignore[attr-defined]

    def data_received(self, data: bytes) -> None:
        if self._ws is None:
            self._handshake_data(data)
        else:
            self._ws_data(data)

    def _handshake_data(self, data: bytes) -> None:
        http = self._http
        http.receive_data(data)
        try:
            event = http.next_event()
        except RemoteProtocolError:
            self.abort("protocol")
            return
        if event is NEED_DATA:
            return
        if not isinstance(event, InformationalResponse | Response):
            self.abort("protocol")
            return
        try:
            accepted = self._handshake.validate(event)
        except HandshakeError:
            self.abort("status" if event.status_code != 101 else "protocol")
            return
        self._ws = accepted.connection(Role.CLIENT)
        self._session.connect_samples.append(clock() - self._started_ns)
        self._driver.on_open(self)
        rate = self._driver.per_connection_rate
        if rate:
            self._schedule = Schedule(rate, self._driver.arrival, clock())
            self._tick()
        else:
            self._send(clock(), clock())
        trailing, _ = http.trailing_data
        if trailing:
            self._ws_data(trailing)

    # -- messages -----------------------------------------------------------------------

    def _send(self, scheduled_ns: int, now_ns: int) -> None:
        ws = self._ws
        transport = self._transport
        if ws is None or transport is None or self.closed:
            return
        self._outstanding.append(scheduled_ns)
        session = self._session
        session.sent += 1
        if self._schedule is not None:
            session.lag_samples.append(now_ns - scheduled_ns)
        transport.write(ws.send(BytesMessage(self._driver.payload)))

    def _tick(self) -> None:
        self._timer = None
        schedule = self._schedule
        if schedule is None or self.closed or not self._session.running:
            return
        now = clock()
        due = schedule.take_due(now)
        self._session.scheduled += len(due)
        for scheduled in due:
            self._send(scheduled, now)
        delay = max(0.0, (schedule.next_ns - clock()) / 1e9)
        self._timer = self._session.loop.call_later(delay, self._tick)

    def _ws_data(self, data: bytes) -> None:
        ws = self._ws
        assert ws is not None
        ws.receive_data(data)
        session = self._session
        for event in ws.events():
            kind = type(event)
            if kind is BytesMessage or kind is TextMessage:
                now = clock()
                if not self._outstanding:
                    self.abort("protocol")  # an echo of nothing we sent
                    return
                scheduled = self._outstanding.popleft()
                payload = event.data  # type: ignore[union-attr]
                if kind is TextMessage or payload != self._driver.payload:
                    session.error("body")
                elif session.record:
                    session.samples.append(now - scheduled)
                else:
                    session.unrecorded += 1
                if self._schedule is None and session.running:
                    self._send(now, now)
            elif kind is CloseConnection:
                failed = ws.failure is not None
                self.abort("protocol" if failed else ("reset" if self._outstanding else None))
                return
        pending = ws.data_to_send()
        if pending and self._transport is not None:
            self._transport.write(pending)

    # -- ending -------------------------------------------------------------------------

    @property
    def oldest_ns(self) -> int | None:
        """Scheduled time of the oldest message without an echo."""
        return self._outstanding[0] if self._outstanding else None

    @property
    def handshaking(self) -> bool:
        """The opening handshake has not completed yet."""
        return self._ws is None

    @property
    def started_ns(self) -> int:
        """When the TCP connect began."""
        return self._started_ns

    @property
    def in_flight(self) -> int:
        """Messages sent without an echo yet."""
        return len(self._outstanding)

    def eof_received(self) -> bool | None:
        if self._ws is None:
            self.abort("reset")
        else:
            self.abort("reset" if self._outstanding else None)
        return None

    def connection_lost(self, exc: Exception | None) -> None:
        if not self.closed:
            self.abort("reset" if (self._outstanding or self._ws is None) else None)

    def abort(self, kind: str | None) -> None:
        """Count an error (if any), drop the connection and tell the driver."""
        if self.closed:
            return
        if kind is not None:
            self._session.error(kind)
        self.close()
        self._driver.on_lost(self)

    def close(self) -> None:
        """Drop the connection without counting anything."""
        if self.closed:
            return
        self.closed = True
        self._outstanding.clear()
        if self._timer is not None:
            self._timer.cancel()
        if self._transport is not None:
            self._transport.abort()
            self._session.connection_closed()


class WebSocketLoop:
    """Keeps ``spec.connections`` WebSocket connections exchanging messages."""

    def __init__(self, session: Session, target: Target, spec: LoadSpec) -> None:
        self.session = session
        self.target = target
        self.path = target.path.decode("ascii")
        self.payload = bytes(i % 251 for i in range(spec.ws_message_size))
        self.arrival = spec.arrival
        self._spec = spec
        rate = spec.ws_message_rate
        if rate is None and spec.mode == "open" and spec.rate:
            rate = spec.rate / max(1, spec.connections)
        #: Messages per second per connection (``None``: back to back).
        self.per_connection_rate = rate
        self._timeout_ns = int(spec.timeout_s * 1e9)
        self._conns: set[WsConn] = set()
        self._tasks: set[asyncio.Task[None]] = set()
        self._sweeper: asyncio.TimerHandle | None = None

    def start(self) -> None:
        """Open the connections and start the timeout sweeper."""
        for _ in range(self._spec.connections):
            self._spawn(0.0)
        self._arm_sweep()

    def _spawn(self, delay: float) -> None:
        task = self.session.loop.create_task(self._connect(delay))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _connect(self, delay: float) -> None:
        session = self.session
        while session.running:
            if delay:
                await asyncio.sleep(delay)
                if not session.running:
                    return
            conn = WsConn(self, clock())
            self._conns.add(conn)
            try:
                await asyncio.wait_for(
                    self.target.connect(session.loop, lambda c=conn: c, session.notes),
                    self._spec.timeout_s,
                )
            except (TimeoutError, OSError) as exc:
                self._conns.discard(conn)
                session.error("timeout" if isinstance(exc, TimeoutError) else "connect")
                delay = RECONNECT_BACKOFF_S
                continue
            return

    def on_open(self, conn: WsConn) -> None:
        """The handshake of ``conn`` succeeded."""

    def on_lost(self, conn: WsConn) -> None:
        """Replace a lost connection while the window lasts."""
        self._conns.discard(conn)
        if self.session.running:
            self._spawn(RECONNECT_BACKOFF_S)

    def _arm_sweep(self) -> None:
        interval = min(SWEEP_INTERVAL_S, self._spec.timeout_s / 4)
        self._sweeper = self.session.loop.call_later(interval, self._sweep)

    def _sweep(self) -> None:
        deadline = clock() - self._timeout_ns
        for conn in list(self._conns):
            oldest = conn.oldest_ns
            if oldest is not None and oldest < deadline:
                conn.abort("timeout")
            elif conn.handshaking and conn.started_ns < deadline:
                conn.abort("timeout")  # handshake never answered
        if self.session.running:
            self._arm_sweep()

    def on_window_end(self) -> None:
        """Stop: close everything, count what was outstanding, finish the session."""
        if self._sweeper is not None:
            self._sweeper.cancel()
        self.session.in_flight_at_end = sum(c.in_flight for c in self._conns)
        self.close()
        self.session.finish()

    def close(self) -> None:
        """Close all connections and cancel pending connects (idempotent)."""
        for conn in list(self._conns):
            conn.close()
        self._conns.clear()
        for task in list(self._tasks):
            task.cancel()
