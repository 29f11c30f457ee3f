"""What an event cost: steady-state and event windows, recovery time, failures and loss.

How this works (pure, on a cell's per-second series; all times are seconds from the
start of the measured window, to the engine's one-second resolution):

- the **steady state** before an event is the whole seconds that end by ``at`` and start
  no earlier than ``at - steady_s`` (nor before the previous event's window ended);
  its p99 is the baseline;
- the event is **recovered** at the first second, from the one holding ``at + for``
  (``pause``: the end of the stall) on, that has responses, no errors and a p99 within
  ``factor`` × the steady p99; ``recovery_s`` is that second's start minus ``at`` (0 when
  the second of the action itself was already normal), None when the window ended first;
- the **event window** runs from the second holding ``at`` through the recovered second
  (never into the next event's seconds)
  (whose responses include the ones the event delayed and that completed once it was
  over; just the action's second when that one was normal; to the window's end when it
  never recovered). Its requests,
  errors by kind and p99 / p99.9 / max (merged exact histograms, never averaged) are
  set against the steady state's;
- **lost** requests were sent and never answered: connection reset mid-request or no
  response within the timeout, inside the event window;
- **unsent** requests are the ones the steady rate says were due in the event window and
  never went out: a closed loop's coordinated omission (it waits for the server, so a
  stall sends nothing and measures nothing); in open loop, arrivals due but not sent.

``stall_seen`` is the coordinated-omission self-test of a ``pause``: did the cell's whole
window p99.9 show at least half the stall? An open loop must; a closed loop usually
does not, and its ``unsent`` says how much it missed.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from bench.runner.results.histogram import Histogram

#: Error kinds that mean a request was sent and never answered.
LOST_KINDS: tuple[str, ...] = ("reset", "timeout")
#: A second shorter than this is a sliver (the window's cut), not a steady second.
FULL_SECOND_S = 0.5
#: ``stall_seen``: the window's p99.9 shows at least this share of the stall.
STALL_SHARE = 0.5


@dataclass(frozen=True, slots=True)
class Second:
    """One second of a cell's measured window (drain seconds left out)."""

    t_s: float
    span_s: float
    requests: int
    errors: Mapping[str, int] = field(default_factory=dict)
    histogram: Histogram = field(default_factory=Histogram.empty)
    sent: int | None = None
    scheduled: int | None = None

    @property
    def error_count(self) -> int:
        """Errors of every kind in this second."""
        return sum(self.errors.values())

    @property
    def p99_us(self) -> float | None:
        """This second's p99, None without responses."""
        return self.histogram.percentile(99.0) if self.histogram.total else None


@dataclass(frozen=True, slots=True)
class EventCost:
    """What one event cost in one cell repetition (a row of the events table)."""

    steady_from_s: float | None
    steady_to_s: float | None
    window_from_s: float
    window_to_s: float
    recovered: bool
    recovery_s: float | None
    requests: int
    errors: dict[str, int]
    lost: int
    unsent: int
    p99_us: float | None
    p999_us: float | None
    max_us: float | None
    steady_p99_us: float | None
    steady_p999_us: float | None
    steady_max_us: float | None
    notes: tuple[str, ...] = ()

    @property
    def p99_ratio(self) -> float | None:
        """Event-window p99 ÷ steady p99 (None when either is unknown)."""
        if self.p99_us is None or not self.steady_p99_us:
            return None
        return self.p99_us / self.steady_p99_us

    def to_row(self) -> dict[str, Any]:
        """The events table's metric columns (``bench.runner.results.schema.EVENT_COLUMNS``)."""
        row: dict[str, Any] = {
            "steady_from_s": self.steady_from_s,
            "steady_to_s": self.steady_to_s,
            "window_from_s": self.window_from_s,
            "window_to_s": self.window_to_s,
            "recovered": self.recovered,
            "recovery_s": self.recovery_s,
            "requests": self.requests,
            "errors": sum(self.errors.values()),
            "lost": self.lost,
            "unsent": self.unsent,
            "p99_us": self.p99_us,
            "p999_us": self.p999_us,
            "max_us": self.max_us,
            "steady_p99_us": self.steady_p99_us,
            "steady_p999_us": self.steady_p999_us,
            "steady_max_us": self.steady_max_us,
            "p99_ratio": self.p99_ratio,
        }
        for kind, count in self.errors.items():
            row[f"errors_{kind}"] = count
        return row


def steady_range(
    seconds: Sequence[Second], at_s: float, steady_s: float, not_before_s: float = 0.0
) -> list[int]:
    """Indices of the whole seconds in ``[max(not_before, at - steady), at]``."""
    start = max(not_before_s, at_s - steady_s)
    return [
        i
        for i, s in enumerate(seconds)
        if s.span_s >= FULL_SECOND_S and s.t_s >= start - 1e-9 and s.t_s + s.span_s <= at_s + 1e-9
    ]


def second_at(seconds: Sequence[Second], t_s: float) -> int | None:
    """Index of the second holding time ``t_s`` (the last one when past the end), or None."""
    for i, s in enumerate(seconds):
        if s.t_s <= t_s + 1e-9 < s.t_s + max(s.span_s, 1e-9):
            return i
    if seconds and t_s >= seconds[-1].t_s:
        return len(seconds) - 1
    return None


def _merged(seconds: Sequence[Second], indices: Sequence[int]) -> Histogram:
    return Histogram.merge(seconds[i].histogram for i in indices)


def _latency(hist: Histogram) -> tuple[float | None, float | None, float | None]:
    if not hist.total:
        return None, None, None
    summary = hist.summary()
    return summary["p99"], summary["p999"], summary["max"]


def _is_normal(second: Second, threshold_us: float) -> bool:
    p99 = second.p99_us
    return (
        second.requests > 0 and second.error_count == 0 and p99 is not None and p99 <= threshold_us
    )


def event_cost(
    seconds: Sequence[Second],
    at_s: float,
    hold_s: float = 0.0,
    *,
    steady_s: float = 3.0,
    factor: float = 2.0,
    not_before_s: float = 0.0,
    until_s: float | None = None,
) -> EventCost:
    """What an event at ``at_s`` (lasting ``hold_s``) cost, against the steady state before it.

    ``until_s`` (the next event's time) ends the event window: what happens from the next
    event's second on is that event's cost, not this one's.
    """
    notes: list[str] = []
    if until_s is not None and until_s > at_s:
        # the second holding the next event is that event's first: keep what ends by it
        cut = [s for s in seconds if s.t_s + s.span_s <= until_s + 1e-9 or s.t_s <= at_s]
        if len(cut) < len(seconds):
            seconds = cut
            notes.append(f"the window stops at the next event ({until_s:g}s)")
    steady = steady_range(seconds, at_s, steady_s, not_before_s)
    first = second_at(seconds, at_s)
    if first is None:
        raise ValueError(f"no second of the series holds the event at {at_s:g}s")
    steady_hist = _merged(seconds, steady)
    steady_p99, steady_p999, steady_max = _latency(steady_hist)
    if steady_p99 is None:
        notes.append("no steady state before the event: recovery not judged")
    recovered_at: int | None = None
    if steady_p99 is not None:
        threshold = factor * steady_p99
        ends = at_s + hold_s
        beyond = ends > seconds[-1].t_s + seconds[-1].span_s + 1e-9
        begin = len(seconds) if beyond else max(second_at(seconds, ends) or first, first)
        for k in range(begin, len(seconds)):
            if _is_normal(seconds[k], threshold):
                recovered_at = k
                break
    if recovered_at is None:
        window = list(range(first, len(seconds)))
        recovery_s = None
        if steady_p99 is not None:
            notes.append(f"not back within {factor:g}x steady p99 before the window ended")
    else:
        window = list(range(first, recovered_at + 1))
        recovery_s = 0.0 if recovered_at == first else max(0.0, seconds[recovered_at].t_s - at_s)
    errors: dict[str, int] = {}
    for i in window:
        for kind, count in seconds[i].errors.items():
            errors[kind] = errors.get(kind, 0) + int(count)
    p99, p999, top = _latency(_merged(seconds, window))
    last = seconds[window[-1]]
    return EventCost(
        steady_from_s=seconds[steady[0]].t_s if steady else None,
        steady_to_s=seconds[steady[-1]].t_s + seconds[steady[-1]].span_s if steady else None,
        window_from_s=seconds[first].t_s,
        window_to_s=last.t_s + last.span_s,
        recovered=recovered_at is not None,
        recovery_s=recovery_s,
        requests=sum(seconds[i].requests for i in window),
        errors=errors,
        lost=sum(errors.get(kind, 0) for kind in LOST_KINDS),
        unsent=_unsent(seconds, steady, window),
        p99_us=p99,
        p999_us=p999,
        max_us=top,
        steady_p99_us=steady_p99,
        steady_p999_us=steady_p999,
        steady_max_us=steady_max,
        notes=tuple(notes),
    )


def _unsent(seconds: Sequence[Second], steady: Sequence[int], window: Sequence[int]) -> int:
    """Requests due in the event window that never went out (see the module docstring)."""
    if all(seconds[i].scheduled is not None and seconds[i].sent is not None for i in window):
        due = sum(int(seconds[i].scheduled or 0) for i in window)
        sent = sum(int(seconds[i].sent or 0) for i in window)
        if due:  # open loop: the schedule says what was due
            return max(0, due - sent)
    span = sum(seconds[i].span_s for i in steady)
    if span <= 0:
        return 0
    rate = sum(seconds[i].requests + seconds[i].error_count for i in steady) / span
    done = sum(seconds[i].requests + seconds[i].error_count for i in window)
    due = rate * sum(seconds[i].span_s for i in window)
    return max(0, round(due - done))


def stall_seen(window_p999_us: float | None, hold_s: float) -> bool | None:
    """A pause's self-test: the cell's window p99.9 shows at least half the stall."""
    if hold_s <= 0 or window_p999_us is None:
        return None
    return window_p999_us >= STALL_SHARE * hold_s * 1e6


def seconds_from_series(
    points: Sequence[Mapping[str, Any]], histograms: Sequence[Histogram] | None = None
) -> list[Second]:
    """``Second``s from per-second dicts (``LoadResult.timeseries``: ``t``, ``span_s``,
    ``requests``, ``errors_<kind>``, ``sent``, ``scheduled``, ``drain``) and their
    histograms (same order); drain seconds are dropped."""
    out: list[Second] = []
    for i, point in enumerate(points):
        if point.get("drain"):
            continue
        kinds = {
            k.removeprefix("errors_"): int(v)
            for k, v in point.items()
            if k.startswith("errors_") and v is not None
        }
        if not kinds and point.get("errors"):
            kinds = {"unknown": int(point["errors"])}
        sent = point.get("sent")
        scheduled = point.get("scheduled")
        out.append(
            Second(
                t_s=float(point.get("t", point.get("t_s", 0.0))),
                span_s=float(point.get("span_s") or 1.0),
                requests=int(point.get("requests") or 0),
                errors=kinds,
                histogram=histograms[i] if histograms is not None else Histogram.empty(),
                sent=None if sent is None else int(sent),
                scheduled=None if scheduled is None else int(scheduled),
            )
        )
    return out
