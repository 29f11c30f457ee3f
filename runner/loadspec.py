"""The contract between the runner and every load engine: what to drive, what came back.

A ``LoadSpec`` says what load to generate; an engine returns a ``LoadResult``. Engines
(native, locust, wrk) differ in what they can measure; a result says which engine
produced it and how precise its latencies are (``latency_resolution_us``), so nothing
downstream mistakes a locust number for a µs-exact one.

Latency values are microseconds. Percentiles are computed from the merged histogram of
every engine process; they are never averaged.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

Mode = Literal["closed", "open"]
Arrival = Literal["constant", "poisson"]

#: Error kinds every engine counts (an engine may add its own, e.g. "engine").
ERROR_KINDS: tuple[str, ...] = ("connect", "timeout", "reset", "status", "body", "protocol")

#: Percentiles reported everywhere, as fractions and as the keys they are stored under.
PERCENTILES: tuple[tuple[str, float], ...] = (
    ("p50", 50.0),
    ("p90", 90.0),
    ("p99", 99.0),
    ("p999", 99.9),
    ("p9999", 99.99),
)


@dataclass(frozen=True, slots=True)
class LoadSpec:
    """What load to generate against one server.

    Attributes:
        url: ``http://host:port/path`` or ``ws://host:port/path`` (loopback only in tests).
        mode: ``closed`` (``connections`` back-to-back) or ``open`` (``rate`` arrivals/s).
        connections: closed loop: the connection count; open loop: connections opened up
            front (more are opened, up to ``max_connections``, when the schedule needs them).
        rate: open loop target arrivals per second (requests, or WebSocket messages).
        arrival: open loop inter-arrival distribution.
        duration_s: the measured window.
        warmup_s: load applied before the measured window; its samples are discarded.
        method, headers, body: the HTTP request to send.
        timeout_s: a request with no complete response after this long counts as "timeout".
        processes: engine processes; histograms are merged.
        cpus: CPUs the engine processes are pinned to (``None``: not pinned).
        websocket: drive WebSocket echo round-trips instead of HTTP requests.
        ws_message_size: bytes per WebSocket message.
        ws_message_rate: messages/s per connection (``None``: back to back).
        expect_status: a response with another status counts as a "status" error.
        expect_body: if set, a response whose body differs counts as a "body" error.
        expect_length: if set, a response whose body length differs counts as "body".
        max_connections: open loop cap on connections.
        tls_verify: https/wss: verify the server's certificate and host name (the
            default); False encrypts without verifying (an explicit opt-out).
    """

    url: str
    mode: Mode = "closed"
    connections: int = 16
    rate: float | None = None
    arrival: Arrival = "constant"
    duration_s: float = 10.0
    warmup_s: float = 0.0
    method: str = "GET"
    headers: tuple[tuple[str, str], ...] = ()
    body: bytes = b""
    timeout_s: float = 10.0
    processes: int = 1
    cpus: tuple[int, ...] | None = None
    websocket: bool = False
    ws_message_size: int = 32
    ws_message_rate: float | None = None
    expect_status: int | None = 200
    expect_body: bytes | None = None
    expect_length: int | None = None
    max_connections: int = 4096
    tls_verify: bool = True


@dataclass(slots=True)
class LoadResult:
    """What one engine run measured over its measured window.

    Attributes:
        engine: "native", "locust" or "wrk".
        requests: valid responses (or WebSocket round-trips) completed inside the measured
            window: what was served. The same count in closed and open loop.
        errors: count by kind (see ``ERROR_KINDS``).
        duration_s: the measured window's real length.
        rps: ``requests / duration_s``: completed responses per second of window (never
            the rate sent or asked for).
        latency_us: percentiles (keys of ``PERCENTILES``) plus "mean", "min", "max".
        histogram: the merged latency histogram as (value_us, count) pairs, lossless at
            the engine's resolution, so runs can be merged again later.
        latency_resolution_us: the smallest latency difference the engine can report.
        timeseries: one dict per second: t (s from start of the measured window),
            requests, errors, p50_us, p99_us.
        target_rate / achieved_rate: open loop only: the rate asked for, and the rate the
            engine sent (requests started per second of window).
        drained: open loop: valid responses completed after the window's end, to requests
            scheduled inside it; their latencies are in the histogram (leaving them out
            would hide the slowest), not in ``requests`` or ``rps``.
        overload: open loop: did the server keep up (``bench.runner.overload.OverloadVerdict``
            as a dict: overloaded, reason, served_share, backlog_slope), else None.
        schedule_lag_us: open loop: how late sends started (percentiles), else empty.
        connect_us: connect time percentiles of the connections opened in the window
            (WebSocket: connect + handshake), else empty.
        connections_opened: connections opened in the window (a server that closes
            after each response makes one per request).
        engine_cpu: the engine's CPU use as a fraction of the CPUs it ran on (0..1).
        engine_bound: the engine, not the server, was the bottleneck.
        notes: human-readable remarks (precision limits, lowered rate, …).
    """

    engine: str
    requests: int
    errors: dict[str, int]
    duration_s: float
    rps: float
    latency_us: dict[str, float]
    histogram: list[tuple[int, int]] = field(default_factory=list)
    latency_resolution_us: float = 1.0
    timeseries: list[dict[str, float]] = field(default_factory=list)
    target_rate: float | None = None
    achieved_rate: float | None = None
    drained: int = 0
    overload: dict[str, Any] | None = None
    schedule_lag_us: dict[str, float] = field(default_factory=dict)
    connect_us: dict[str, float] = field(default_factory=dict)
    connections_opened: int = 0
    engine_cpu: float = 0.0
    engine_bound: bool = False
    notes: list[str] = field(default_factory=list)
    #: Native engine: each second's latency histogram (same order as ``timeseries``), for
    #: exact percentiles over any span of seconds (``bench.runner.results.events``); not in JSON.
    second_histograms: list[Any] = field(default_factory=list)

    @property
    def overloaded(self) -> bool:
        """Open loop: the server fell behind the asked rate (see ``overload``)."""
        return bool(self.overload and self.overload.get("overloaded"))

    @property
    def connects_per_request(self) -> float:
        """Connections opened per valid response (≈ 1: the server closes after each)."""
        return self.connections_opened / self.requests if self.requests else 0.0

    @property
    def error_count(self) -> int:
        """All errors, every kind."""
        return sum(self.errors.values())

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict (``bench load --json`` prints this)."""
        return {
            "engine": self.engine,
            "requests": self.requests,
            "errors": dict(self.errors),
            "error_count": self.error_count,
            "rps": self.rps,
            "duration_s": self.duration_s,
            "latency_us": dict(self.latency_us),
            "latency_resolution_us": self.latency_resolution_us,
            "target_rate": self.target_rate,
            "achieved_rate": self.achieved_rate,
            "drained": self.drained,
            "overload": None if self.overload is None else dict(self.overload),
            "schedule_lag_us": dict(self.schedule_lag_us),
            "connect_us": dict(self.connect_us),
            "connections_opened": self.connections_opened,
            "engine_cpu": self.engine_cpu,
            "engine_bound": self.engine_bound,
            "timeseries": list(self.timeseries),
            "notes": list(self.notes),
        }
