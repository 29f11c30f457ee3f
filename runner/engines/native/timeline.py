"""One engine process's run: the timeline (warm-up, measured window, drain) and results.

How this works
--------------
A ``Session`` is shared by every connection of one engine process. Connections append
raw latencies to ``session.samples`` (the list object never changes, so they keep its
bound ``append``) and count errors with ``session.error(kind)``; the lists belong to
the session's ``Recorder``.

Times are ``time.perf_counter_ns()`` (CLOCK_MONOTONIC on Linux: the same clock in every
process, so the processes of one run share one window). A timer fires every 100 ms,
re-armed from absolute times so it does not drift:

* in the warm-up it throws samples away (and reports progress each second); at the
  window start it discards everything recorded so far, errors included;
* in the window it folds the last 100 ms of samples, closes a point of the time series
  every ``point_seconds(duration)`` (1 s; 0.5 s or 0.2 s when the window is short, so a
  2 s window still draws 10 points), reports progress at each whole second, and at the
  end of the window calls the driver's ``on_window_end``;
* the driver stops sending, drains if it must (open loop) and calls ``finish()``.

Throughput counts what was *served in the window*: ``served`` is the responses completed
before the window's end, so ``served / window_s`` is the same figure in closed and open
loop. Responses completed while an open loop drains still give latencies (they were
scheduled in the window) but are not throughput. Each second of the time series also
carries what was sent and scheduled in it and, when the driver tracks it (open loop),
the backlog at its end: the input of ``bench.runner.overload``.

A stop request (``should_stop``, polled every 100 ms) ends the run early, keeping what
was measured. ``cpu_s`` is the CPU time of the engine's thread over the window,
``wait_s`` the time it waited for a CPU (see ``cpu``).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from bench.runner.engines.native.cpu import thread_sched_ns
from bench.runner.engines.native.recorder import Recorder, SecondStats
from bench.runner.loadspec import ERROR_KINDS
from bench.runner.results.histogram import Histogram

_clock = time.perf_counter_ns
_NS = 1_000_000_000
#: How often samples are folded (and a stop request is looked for).
FOLD_INTERVAL_NS = 100_000_000
STOP_POLL_S = 0.1
#: Time-series steps, longest first; each a whole number of fold intervals.
POINT_STEPS_S: tuple[float, ...] = (1.0, 0.5, 0.2)
#: Points a window should have at least, when a step down to 0.2 s allows it.
MIN_POINTS = 10


def point_seconds(duration_s: float) -> float:
    """The time series' step for a window of ``duration_s``: the longest of
    ``POINT_STEPS_S`` giving ``MIN_POINTS`` points (1 s from 10 s, 0.5 s from 5 s, else
    0.2 s)."""
    for step in POINT_STEPS_S:
        if duration_s >= MIN_POINTS * step:
            return step
    return POINT_STEPS_S[-1]


Progress = Callable[[dict[str, float | str]], None]

__all__ = ["Progress", "SecondStats", "Session", "ShardResult"]


@dataclass(slots=True)
class ShardResult:
    """What one engine process measured; shards of one run merge into a LoadResult.

    Attributes:
        seconds: the time series, aligned on the shared window start.
        errors: error counts by kind over the window.
        window_s: the window's real length (shorter when stopped early).
        cpu_s: CPU seconds the engine's thread used during the window.
        wait_s: seconds the engine's thread waited for a CPU during the window (Linux).
        sent: open loop and WebSocket: requests (messages) sent during the window.
        scheduled: open loop: arrivals scheduled in the window.
        lag: open loop: schedule lag (send time − scheduled time), µs.
        connect: connect times (WebSocket: connect + handshake) of the connections
            opened during the window, µs; ``connect.total`` is how many were opened.
        served: valid responses completed inside the window (drain excluded).
        in_flight_at_end: requests without a response when the run ended.
        connections_peak: most connections open at once.
        connections_opened: connections successfully opened, in total.
        notes: remarks for the user.
        stopped_early: the run was stopped before the window ended.
    """

    seconds: list[SecondStats] = field(default_factory=list)
    errors: dict[str, int] = field(default_factory=dict)
    window_s: float = 0.0
    cpu_s: float = 0.0
    wait_s: float = 0.0
    sent: int = 0
    scheduled: int = 0
    lag: Histogram = field(default_factory=Histogram.empty)
    connect: Histogram = field(default_factory=Histogram.empty)
    served: int = 0
    in_flight_at_end: int = 0
    connections_peak: int = 0
    connections_opened: int = 0
    notes: list[str] = field(default_factory=list)
    stopped_early: bool = False


class Session:
    """The shared state and timeline of one engine process's run.

    Args:
        loop: the event loop the run uses.
        warmup_s, duration_s: phase lengths.
        start_ns: when the warm-up begins (``perf_counter_ns`` time; ``None``: now).
        progress: called about once a second with a progress dict.
        should_stop: polled every 100 ms; True ends the run early.
        record: record latencies (False: count responses only, to measure recording).
    """

    def __init__(
        self,
        loop: asyncio.AbstractEventLoop,
        *,
        warmup_s: float,
        duration_s: float,
        start_ns: int | None = None,
        progress: Progress | None = None,
        should_stop: Callable[[], bool] | None = None,
        record: bool = True,
    ) -> None:
        self.loop = loop
        self.recorder = Recorder()
        self.record = record
        #: Responses counted when not recording latencies (``record=False``).
        self.unrecorded = 0
        #: Raw latencies (ns) since the last fold; connections append here.
        self.samples = self.recorder.samples
        #: Open loop: raw schedule lags (ns); connections append here.
        self.lag_samples = self.recorder.lag_samples
        self.errors: dict[str, int] = dict.fromkeys(ERROR_KINDS, 0)
        #: Connections may send (cleared when the window ends or a stop is requested).
        self.running = True
        #: The measured window has begun.
        self.measuring = False
        self.sent = 0
        self.scheduled = 0
        #: Connect (+ handshake) times, ns, of connections opened during the window.
        self.connect_samples: list[int] = []
        #: Open loop: arrivals without a response right now (set by the driver).
        self.outstanding: Callable[[], int] | None = None
        self.notes: list[str] = []
        self.connections_open = 0
        self.connections_peak = 0
        self.connections_opened = 0
        self.in_flight_at_end = 0
        self.on_window_end: Callable[[], None] = self.finish
        self._start_ns = start_ns if start_ns is not None else _clock()
        self.window_start_ns = self._start_ns + int(warmup_s * _NS)
        self.window_end_ns = self.window_start_ns + int(duration_s * _NS)
        self._progress = progress
        self._should_stop = should_stop
        self._tick_ns = self._start_ns
        self._second_from_ns = self.window_start_ns
        #: Length of a time-series point (a whole number of fold intervals).
        self.point_ns = round(point_seconds(duration_s) * _NS)
        self._cpu_start = 0.0
        self._sched_start: tuple[int, int] | None = None
        self._cpu_end: float | None = None
        self._sched_end: tuple[int, int] | None = None
        self._ended_ns: int | None = None
        self._sent_in_window: int | None = None
        self._served_in_window: int | None = None
        self._sent_closed = 0
        self._scheduled_closed = 0
        self._stopped_early = False
        self._done: asyncio.Future[None] = loop.create_future()
        self._timers: list[asyncio.TimerHandle] = []

    # -- called by connections ----------------------------------------------------------

    def error(self, kind: str) -> None:
        """Count one error of ``kind`` (one of ``ERROR_KINDS``)."""
        self.errors[kind] = self.errors.get(kind, 0) + 1

    def connection_opened(self) -> None:
        """Account for a connection that is now established."""
        self.connections_opened += 1
        self.connections_open += 1
        if self.connections_open > self.connections_peak:
            self.connections_peak = self.connections_open

    def connection_closed(self) -> None:
        """Account for an established connection that is gone."""
        self.connections_open -= 1

    # -- timeline -----------------------------------------------------------------------

    def start(self) -> None:
        """Begin the run now (at ``start_ns``): arm the ticks and the stop poll."""
        if self.window_start_ns == self._start_ns:
            self.begin_window()
        self._arm_tick()
        if self._should_stop is not None:
            self._poll_stop()

    async def wait(self) -> None:
        """Wait until ``finish()`` was called."""
        await self._done

    @property
    def finished(self) -> bool:
        """``finish()`` was called."""
        return self._done.done()

    def _arm_tick(self) -> None:
        base = self.window_start_ns if self.measuring else self._start_ns
        when = base + ((self._tick_ns - base) // FOLD_INTERVAL_NS + 1) * FOLD_INTERVAL_NS
        if not self.measuring:
            when = min(when, self.window_start_ns)
        elif self.running:
            when = min(when, self.window_end_ns)
        self._tick_ns = when
        delay = max(0.0, (when - _clock()) / _NS)
        self._timers.append(self.loop.call_later(delay, self._tick, when))

    def begin_window(self) -> None:
        """Start the measured window: discard warm-up samples and errors."""
        if self.measuring:
            return
        self.measuring = True
        self.recorder.discard()
        self.unrecorded = 0
        self.errors = dict.fromkeys(ERROR_KINDS, 0)
        self.sent = 0
        self.scheduled = 0
        self._sent_closed = 0
        self._scheduled_closed = 0
        self.connect_samples.clear()
        self._tick_ns = self.window_start_ns
        self._cpu_start = time.thread_time()
        self._sched_start = thread_sched_ns()

    def _tick(self, when_ns: int) -> None:
        if self._done.done():
            return
        if not self.measuring:
            if when_ns >= self.window_start_ns:
                self.begin_window()
                self._report("measure")
            else:
                self.recorder.discard()
                self.unrecorded = 0
                if (when_ns - self._start_ns) % _NS == 0:
                    self._report("warmup")
        else:
            self.recorder.fold_slice(self._take_unrecorded())
            at_end = self.running and when_ns >= self.window_end_ns
            into = when_ns - self.window_start_ns
            if at_end or into % self.point_ns == 0:
                self._close_second(when_ns)
            if at_end or into % _NS == 0:
                self._report("measure" if self.running else "drain")
            if at_end:
                self.end_window()
        if not self._done.done():
            self._arm_tick()

    def end_window(self) -> None:
        """The window is over: stop sending; the driver drains and calls ``finish()``."""
        if not self.running:
            return
        self.running = False
        self._mark_end()
        self._sent_in_window = self.sent
        self._served_in_window = self.recorder.requests_total
        self.on_window_end()

    def _mark_end(self) -> None:
        if self._ended_ns is None:
            self._ended_ns = _clock()
            self._cpu_end = time.thread_time()
            self._sched_end = thread_sched_ns()

    def _poll_stop(self) -> None:
        if self._done.done():
            return
        assert self._should_stop is not None
        if self._should_stop():
            self._stopped_early = True
            if not self.measuring:
                self.notes.append("stopped during warm-up: nothing was measured")
            self.running = False
            self.finish()
            return
        self._timers.append(self.loop.call_later(STOP_POLL_S, self._poll_stop))

    def finish(self) -> None:
        """End the run (called by the driver once it has drained, or on stop)."""
        if self._done.done():
            return
        self.running = False
        self._mark_end()
        if self.measuring and self.recorder.has_unclosed(
            sum(self.errors.values()), self.unrecorded
        ):
            self._close_second(_clock())
        if self._served_in_window is None:  # stopped early: the window ended now
            self._served_in_window = self.recorder.requests_total if self.measuring else 0
        for timer in self._timers:
            timer.cancel()
        self._done.set_result(None)

    # -- folding and reporting ----------------------------------------------------------

    def _take_unrecorded(self) -> int:
        count, self.unrecorded = self.unrecorded, 0
        return count

    def _close_second(self, until_ns: int) -> None:
        start = (self._second_from_ns - self.window_start_ns) / _NS
        span = max(0.0, (until_ns - self._second_from_ns) / _NS)
        errors = sum(self.errors.values())
        self.recorder.close_second(
            start,
            span,
            errors,
            self._take_unrecorded(),
            sent=self.sent - self._sent_closed,
            scheduled=self.scheduled - self._scheduled_closed,
            backlog=self.outstanding() if self.outstanding is not None else -1,
            drain=self._served_in_window is not None,
            kinds=self.errors,
        )
        self._sent_closed = self.sent
        self._scheduled_closed = self.scheduled
        self._second_from_ns = until_ns

    def _report(self, phase: str) -> None:
        if self._progress is None:
            return
        rps = _last_second_rate(self.recorder.seconds) if self.measuring else 0.0
        self._progress(
            {
                "phase": phase,
                "elapsed_s": max(0.0, (_clock() - self.window_start_ns) / _NS),
                "requests": self.recorder.requests_total,
                "errors": sum(self.errors.values()) if self.measuring else 0,
                "rps": rps,
            }
        )

    def result(self) -> ShardResult:
        """The run's results (after ``wait()`` returned)."""
        measured = self.measuring
        end = self._ended_ns if self._ended_ns is not None else _clock()
        cpu_end = self._cpu_end if self._cpu_end is not None else time.thread_time()
        wait_s = 0.0
        if measured and self._sched_start is not None and self._sched_end is not None:
            wait_s = (self._sched_end[1] - self._sched_start[1]) / _NS
        self.recorder.fold_lag()  # lags recorded while draining
        return ShardResult(
            seconds=self.recorder.seconds,
            errors=dict(self.errors) if measured else {},
            window_s=max(0.0, (end - self.window_start_ns) / _NS) if measured else 0.0,
            cpu_s=(cpu_end - self._cpu_start) if measured else 0.0,
            wait_s=wait_s,
            sent=self.sent if self._sent_in_window is None else self._sent_in_window,
            scheduled=self.scheduled,
            lag=self.recorder.lag,
            connect=Histogram.from_ns(self.connect_samples),
            served=self._served_in_window or 0,
            in_flight_at_end=self.in_flight_at_end,
            connections_peak=self.connections_peak,
            connections_opened=self.connections_opened,
            notes=list(self.notes),
            stopped_early=self._stopped_early,
        )


def _last_second_rate(points: list[SecondStats]) -> float:
    """Responses per second over the trailing points that make up the last second."""
    requests, span = 0, 0.0
    for point in reversed(points):
        if span >= 1.0 - 1e-9:
            break
        requests += point.requests
        span += point.span_s
    return requests / span if span > 0 else 0.0
