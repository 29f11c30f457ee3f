"""The HTTP/1.1 client connection shared by the closed and open loops.

How this works: one ``asyncio.Protocol`` per TCP connection, one request outstanding at
a time (no pipelining, like wrk). Responses are parsed by the protocol core's client
fast path (``bench.servers.protocol.client_fast``): ``feed`` returns True when a whole
response is in. A subclass decides what happens after a response (send at once, or
wait for the schedule) in ``data_received``, the hot path, written out in each
subclass so that it costs no extra call.

Error kinds (``bench.runner.loadspec.ERROR_KINDS``): a response the core refuses is
"protocol"; a peer that closes or resets the connection while a request is outstanding
is "reset" (a response cut short by the close is "protocol"); a status other than the
expected one is "status"; a body or length other than the expected one is "body".
Timeouts are found by the driver's sweeper, which calls ``abort("timeout")``.

Resource handling: a connection that failed is aborted at once (RST-free close of the
transport), reported to the driver with ``on_lost`` exactly once, and never reused.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

from bench.runner.engines.native.timeline import Session
from bench.runner.loadspec import LoadSpec
from bench.servers.protocol import RemoteProtocolError
from bench.servers.protocol.client_fast import HeadCache, ResponseReader

if TYPE_CHECKING:
    from collections.abc import Callable

clock = time.perf_counter_ns


class Driver(Protocol):
    """What a connection needs from the loop that owns it."""

    def on_lost(self, conn: HttpConn) -> None:
        """``conn`` is closed for good (after an error, a timeout or ``Connection: close``)."""


@dataclass(frozen=True, slots=True)
class HttpShared:
    """What every connection of a run shares: the request and how to verify responses."""

    request: bytes
    heads: HeadCache
    expect_status: int
    expect_body: bytes | None
    expect_length: int | None

    @classmethod
    def from_spec(cls, spec: LoadSpec, request: bytes) -> HttpShared:
        """Build from a LoadSpec and the request bytes (see ``target.build_request``)."""
        return cls(
            request=request,
            heads=HeadCache(spec.method.upper().encode("ascii")),
            expect_status=spec.expect_status or 0,
            expect_body=spec.expect_body,
            expect_length=spec.expect_length,
        )

    @property
    def verify_body(self) -> bool:
        """Whether response bodies are checked."""
        return self.expect_body is not None or self.expect_length is not None


class HttpConn(asyncio.Protocol):
    """Base class: connection bookkeeping, verification and error paths.

    Attributes:
        busy: a request is outstanding.
        sent_ns: when the outstanding request's latency clock started (send time in
            closed loop, scheduled time in open loop).
    """

    __slots__ = (
        "_driver",
        "_expect_body",
        "_expect_length",
        "_expect_status",
        "_reader",
        "_record",
        "_recording",
        "_request",
        "_session",
        "_verify_body",
        "_write",
        "busy",
        "closed",
        "sent_ns",
        "transport",
    )

    def __init__(self, driver: Driver, session: Session, shared: HttpShared) -> None:
        self._driver = driver
        self._session = session
        self._reader = ResponseReader(shared.heads, keep_body=shared.expect_body is not None)
        self._request = shared.request
        self._record: Callable[[int], None] = session.samples.append
        self._recording = session.record
        self._expect_status = shared.expect_status
        self._expect_body = shared.expect_body
        self._expect_length = shared.expect_length
        self._verify_body = shared.verify_body
        self._write: Callable[[bytes], None] = _unconnected
        self.transport: asyncio.Transport | None = None
        self.busy = False
        self.closed = False
        self.sent_ns = 0

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]
        self._write = transport.write
        self._session.connection_opened()

    def _judge(self, now: int) -> None:
        """Verify the response just completed and record it (or count its error)."""
        reader = self._reader
        expected = self._expect_status
        if expected and reader.status != expected:
            self._session.error("status")
        elif self._verify_body and not self._body_ok():
            self._session.error("body")
        elif self._recording:
            self._record(now - self.sent_ns)
        else:
            self._session.unrecorded += 1

    def _body_ok(self) -> bool:
        reader = self._reader
        if self._expect_length is not None and reader.body_length != self._expect_length:
            return False
        return self._expect_body is None or reader.body == self._expect_body

    def eof_received(self) -> bool | None:
        if self.busy and not self.closed:
            try:
                complete = self._reader.feed_eof()
            except RemoteProtocolError:
                self.abort("protocol")
                return None
            if complete:
                self.busy = False
                self._judge(clock())
            else:
                self.abort("reset")
                return None
        self._retire()
        return None

    def connection_lost(self, exc: Exception | None) -> None:
        if self.closed:
            return
        if self.busy:
            self._session.error("reset")
            self.busy = False
        self._retire()

    def abort(self, kind: str | None) -> None:
        """Count an error of ``kind`` (if any) and drop the connection at once."""
        if self.closed:
            return
        if kind is not None:
            self._session.error(kind)
        self.busy = False
        self._retire()

    def _retire(self) -> None:
        if self.closed:
            return
        self.closed = True
        self._write = _unconnected
        if self.transport is not None:
            self.transport.abort()
            self._session.connection_closed()
        self._driver.on_lost(self)

    def close(self) -> None:
        """Close without counting an error (the run is over)."""
        if self.closed:
            return
        self.closed = True
        if self.transport is not None:
            self.transport.abort()
            self._session.connection_closed()


def _unconnected(data: bytes) -> None:
    raise RuntimeError("write on a connection that is not open")
