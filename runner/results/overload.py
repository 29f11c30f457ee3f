"""Did the server fall behind? The open-loop overload verdict, from plain values.

How this works
--------------
In open loop the engine sends on a clock, whatever the server does. A server below its
capacity answers each second about as many requests as were due in it; a server above
it answers at its capacity while the backlog (arrivals pending or in flight) grows.
Two signs, read from the per-second counts of the measured window:

1. **served share**: valid responses completed ÷ arrivals due, summed over the *steady*
   seconds (every second but the first when there are three or more: the first second
   fills the pipeline, rate × latency requests that complete later). Summing over seconds
   cancels the per-second jitter of completions, and a latency that is merely high (but
   constant) shifts completions without losing them.
2. **backlog slope**: least-squares slope of the backlog at each steady second's end, in
   arrivals per second (needs three or more points). A steady server's backlog is flat.

The cell is ``overloaded`` when the served share is below ``1 − OVERLOAD_TOLERANCE``, or
when the backlog grows faster than ``BACKLOG_TOLERANCE × asked rate`` through the window
by more than its own noise (a steady queue of n requests varies by about √n): a server
at 95 % of the rate serves within the share's tolerance, but its queue — and so its
latency — grows for as long as the window lasts. Arrivals due are counted whatever the engine managed to send, so
an engine that cannot keep the schedule also reads as overloaded: the caller gives
``engine-bound`` precedence (the reason names the engine when it sent too little).
Error responses are not served: a server that sheds load with 503s falls behind too
(its error rate is judged on its own).

Pure functions of plain values; ``tests/runner/results/test_results_overload.py`` checks them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

#: Share of the asked rate a server may fall short by (served share, backlog growth per
#: second) and still count as keeping up. 10 %: well above the jitter of a steady server
#: over whole seconds, well below what a server past its capacity loses.
OVERLOAD_TOLERANCE = 0.10
#: Backlog growth per second, as a share of the asked rate, from which the queue is said
#: to grow through the window (a tighter test than the served share, over more seconds).
BACKLOG_TOLERANCE = 0.03
#: Seconds of the window at which the first one is left out as the pipeline's fill.
STEADY_FROM_SECONDS = 3
#: Points needed for a backlog slope.
SLOPE_POINTS = 3


@dataclass(frozen=True, slots=True)
class SecondCounts:
    """One second of an open-loop window.

    Attributes:
        t: seconds from the window start to this second's start.
        scheduled: arrivals due in this second.
        completed: valid responses completed in this second.
        backlog: arrivals without a response at the second's end (-1: not tracked).
        span_s: the second's real length (the last one may be shorter).
    """

    t: float
    scheduled: int
    completed: int
    backlog: int = -1
    span_s: float = 1.0


@dataclass(frozen=True, slots=True)
class OverloadVerdict:
    """Whether the server kept up with the asked rate, and why (one line)."""

    overloaded: bool
    reason: str
    served_share: float | None = None
    backlog_slope: float | None = None

    def to_dict(self) -> dict[str, object]:
        """A JSON-ready dict."""
        return {
            "overloaded": self.overloaded,
            "reason": self.reason,
            "served_share": self.served_share,
            "backlog_slope": self.backlog_slope,
        }


def steady_seconds(seconds: Sequence[SecondCounts]) -> list[SecondCounts]:
    """The seconds the verdict reads: all but the first when there are three or more."""
    usable = [s for s in seconds if s.span_s > 0]
    return usable[1:] if len(usable) >= STEADY_FROM_SECONDS else usable


def least_squares_slope(xs: Sequence[float], ys: Sequence[float]) -> float:
    """The least-squares slope of ``ys`` over ``xs`` (0 when ``xs`` do not vary)."""
    n = len(xs)
    if n < 2:
        return 0.0
    mx = sum(xs) / n
    my = sum(ys) / n
    sxx = sum((x - mx) ** 2 for x in xs)
    if sxx == 0:
        return 0.0
    return sum((x - mx) * (y - my) for x, y in zip(xs, ys, strict=True)) / sxx


def judge_overload(
    *,
    asked_rate: float,
    sent_rate: float,
    seconds: Sequence[SecondCounts],
    tolerance: float = OVERLOAD_TOLERANCE,
) -> OverloadVerdict:
    """Did the server fall behind ``asked_rate``? (See the module docstring for the rule.)

    Args:
        asked_rate: the arrival rate asked for, per second.
        sent_rate: requests the engine sent per second of window (named in the reason
            when below the asked rate: then the engine, not only the server, fell short).
        seconds: the window's seconds (drain excluded), in order.
        tolerance: the allowed shortfall, as a share of the asked rate.
    """
    steady = steady_seconds(seconds)
    scheduled = sum(s.scheduled for s in steady)
    if asked_rate <= 0 or scheduled == 0:
        return OverloadVerdict(False, "not judged: no arrivals were due in the window")
    completed = sum(s.completed for s in steady)
    share = completed / scheduled
    tracked = [s for s in steady if s.backlog >= 0]
    slope: float | None = None
    if len(tracked) >= SLOPE_POINTS:
        slope = least_squares_slope([s.t + s.span_s for s in tracked], [s.backlog for s in tracked])
    span = sum(s.span_s for s in steady) or 1.0
    served_rate = completed / span
    engine_short = sent_rate < asked_rate * (1 - tolerance)
    engine = f"; the engine sent only {sent_rate:,.0f}/s" if engine_short else ""
    growing = False
    if slope is not None:
        first, last = tracked[0].backlog, tracked[-1].backlog
        mean = sum(s.backlog for s in tracked) / len(tracked)
        growing = slope > BACKLOG_TOLERANCE * asked_rate and last - first > 3 * mean**0.5 + 1
    if share < 1 - tolerance:
        return OverloadVerdict(
            True,
            f"fell behind: served {served_rate:,.0f}/s of {asked_rate:,.0f}/s asked "
            f"({share:.0%}){engine}",
            share,
            slope,
        )
    if growing:
        assert slope is not None
        return OverloadVerdict(
            True,
            f"fell behind: the backlog grew by {slope:,.0f} requests/s "
            f"to {tracked[-1].backlog:,}{engine}",
            share,
            slope,
        )
    return OverloadVerdict(
        False, f"kept up: served {share:.0%} of the arrivals due at {asked_rate:,.0f}/s", share, slope
    )
