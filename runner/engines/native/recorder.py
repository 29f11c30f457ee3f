"""What the hot path appends to, and how it is folded: 100 ms slices, then seconds.

Connections append raw nanosecond latencies to ``samples`` (and open-loop sends their
schedule lag to ``lag_samples``): plain lists, one C-level append per request. The
session calls ``fold_slice`` every 100 ms — a short numpy pass over ~10 % of a second's
samples, so the event loop is never held for long — and ``close_second`` once a second,
which merges the slices into one :class:`SecondStats` of the time series. Folding is
exact (``Histogram`` counts), so the run's histogram is the merge of its seconds.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from bench.runner.results.histogram import Histogram


@dataclass(slots=True)
class SecondStats:
    """One second (or the last, partial, second) of the measured window."""

    start_s: float
    span_s: float
    requests: int
    errors: int
    histogram: Histogram
    #: Open loop and WebSocket: requests (messages) sent in this second.
    sent: int = 0
    #: Open loop: arrivals that were due in this second.
    scheduled: int = 0
    #: Open loop: arrivals without a response (pending or in flight) at the second's end;
    #: -1 when the driver does not track it.
    backlog: int = -1
    #: The second falls after the window's end (an open loop draining): its responses
    #: give latencies (they were scheduled in the window) but are not throughput.
    drain: bool = False
    #: Errors of this second by kind (``ERROR_KINDS``); sums to ``errors``.
    error_kinds: dict[str, int] = field(default_factory=dict)


class Recorder:
    """Latency samples of one engine process, folded as the run goes.

    Without recording (the caller counts responses and passes the counts to
    ``fold_slice``), the time series still counts requests: that is how the cost of
    recording is measured.
    """

    def __init__(self) -> None:
        #: Raw latencies (ns) since the last fold; the list object never changes.
        self.samples: list[int] = []
        #: Open loop: raw schedule lags (ns) since the last fold.
        self.lag_samples: list[int] = []
        #: Every schedule lag folded so far.
        self.lag = Histogram.empty()
        #: The time series: one entry per closed second.
        self.seconds: list[SecondStats] = []
        #: Requests counted in all folds so far.
        self.requests_total = 0
        self._slices: list[Histogram] = []
        self._second_requests = 0
        self._errors_closed = 0
        self._kinds_closed: dict[str, int] = {}

    def discard(self) -> None:
        """Forget everything recorded so far (the warm-up is over)."""
        self.samples.clear()
        self.lag_samples.clear()
        self.lag = Histogram.empty()

    def fold_slice(self, unrecorded: int = 0) -> None:
        """Fold what was appended since the last fold into the current second.

        ``unrecorded``: responses counted (not recorded) since the last fold.
        """
        samples = self.samples
        count = unrecorded
        if samples:
            count += len(samples)
            chunk = samples[:]
            samples.clear()
            self._slices.append(Histogram.from_ns(chunk))
        self._second_requests += count
        self.requests_total += count
        self.fold_lag()

    def fold_lag(self) -> None:
        """Fold the schedule lags appended since the last fold."""
        if self.lag_samples:
            chunk = self.lag_samples[:]
            self.lag_samples.clear()
            self.lag = Histogram.merge([self.lag, Histogram.from_ns(chunk)])

    def has_unclosed(self, errors_total: int, unrecorded: int = 0) -> bool:
        """Was anything recorded since the last closed second?"""
        return bool(
            self.samples
            or unrecorded
            or self._second_requests
            or errors_total != self._errors_closed
        )

    def close_second(
        self,
        start_s: float,
        span_s: float,
        errors_total: int,
        unrecorded: int = 0,
        *,
        sent: int = 0,
        scheduled: int = 0,
        backlog: int = -1,
        drain: bool = False,
        kinds: Mapping[str, int] | None = None,
    ) -> SecondStats:
        """Fold, then close the current second of the time series and return it.

        ``sent`` and ``scheduled`` are this second's counts, ``backlog`` the outstanding
        arrivals at its end (see ``SecondStats``); ``kinds`` the window's error counts by
        kind so far (this second's are the difference from the last closed second).
        """
        self.fold_slice(unrecorded)
        kinds = dict(kinds or {})
        error_kinds = {k: v - self._kinds_closed.get(k, 0) for k, v in kinds.items()}
        second = SecondStats(
            start_s,
            span_s,
            self._second_requests,
            errors_total - self._errors_closed,
            Histogram.merge(self._slices),
            sent=sent,
            scheduled=scheduled,
            backlog=backlog,
            drain=drain,
            error_kinds={k: v for k, v in error_kinds.items() if v},
        )
        self.seconds.append(second)
        self._slices = []
        self._second_requests = 0
        self._errors_closed = errors_total
        self._kinds_closed = kinds
        return second
