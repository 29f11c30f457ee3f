"""Where a WSGI request runs on an event loop: on the loop's own thread, or in the pool.

How this works
--------------
A WSGI app is a blocking call. Run in a thread pool (as uvicorn and gunicorn's gthread
do), every request crosses threads twice: the loop hands it over, the pool thread takes
the GIL, the loop takes it back to write. With a fast app those hand-offs cost more
than the app itself, and a waiting thread gets the GIL only after the holder's switch
interval (5 ms): a p99 of about twice that at 64 keep-alive connections (thread worker,
hello, measured). Run on the loop's thread, a fast app costs one plain call and no
thread ever waits for the GIL; but an app that *waits* (a database, a sleep, a lock)
then stalls every connection of the worker for as long as it waits.

``InlinePolicy`` decides per request, from what the app did on earlier ones: a call
that *waited* — its wall time minus the CPU time of its thread — more than
``wait_budget`` and more than a quarter of its wall time (``WAIT_SHARE``: a CPU-bound
call preempted for a moment by the OS did not wait) sends the app to the pool, where
other requests run while it waits.
Three states:

* ``FAST`` (the start): inline, timed with the wall clock only (tens of nanoseconds).
  A call longer than the budget, for whatever reason, moves the app to ``POOL``.
* ``POOL``: in the thread pool, each call timed with wall and thread CPU clocks. After
  ``settle`` calls in a row that did not wait past the budget, the app comes back
  inline, to ``MEASURED``.
* ``MEASURED``: inline, timed with both clocks (a thread-CPU read costs about half a
  microsecond, spent only here and in the pool). A call that waited past the budget
  goes back to ``POOL``; ``settle`` calls in a row shorter than the budget go back to
  ``FAST``. So an app that burns CPU for long calls stays inline (threads would only
  make it fight for the GIL) and an app that waits stays in the pool.

The worst case of ``auto`` is the first waiting call: it runs inline and holds the
loop for as long as it waits (once, until it is seen); ``settle`` calls later the
policy tries inline again, with the thread CPU clock on, so an app that waits only now
and then pays one stalled request per ``settle`` of its waiting ones. ``always`` and
``never`` fix the choice. The policy is plain state on the loop's thread: the pool's
threads report their timings back to the loop, which calls ``observe``.
"""

from __future__ import annotations

import enum
from typing import Literal

InlineMode = Literal["auto", "always", "never"]

#: The modes ``--wsgi-inline`` takes.
INLINE_MODES: tuple[str, ...] = ("auto", "always", "never")

#: Default seconds a call may wait (wall minus CPU) before the app is sent to the pool.
#: About ten GIL hand-offs of the pool path: a shorter wait is cheaper served inline.
WAIT_BUDGET = 0.0002

#: A call waited only if its wait is also this share of its wall time: a long CPU-bound
#: call the OS preempted for a moment (a busy machine) did not wait on anything.
WAIT_SHARE = 0.25

#: Default calls in a row, each within the budget, before the policy moves back inline.
SETTLE = 64


class Placement(enum.Enum):
    """Where the next request of the app runs, and which clocks time it."""

    FAST = "inline"  #: on the loop thread, wall clock only
    MEASURED = "inline, measured"  #: on the loop thread, wall and thread CPU clocks
    POOL = "pool"  #: in the thread pool, wall and thread CPU clocks


class InlinePolicy:
    """Decide inline or pool per request from the waits of earlier calls (module docstring).

    Args:
        mode: ``auto`` (decide), ``always`` (inline) or ``never`` (the pool).
        wait_budget: seconds of waiting a call may show before the app goes to the pool.
        settle: calls in a row within the budget before moving back inline.
    """

    __slots__ = (
        "_calm",
        "inline",
        "measures_cpu",
        "mode",
        "placement",
        "settle",
        "switches",
        "wait_budget",
    )

    def __init__(
        self, mode: str = "auto", wait_budget: float = WAIT_BUDGET, settle: int = SETTLE
    ) -> None:
        if mode not in INLINE_MODES:
            raise ValueError(f"unknown inline mode {mode!r} (auto, always or never)")
        if wait_budget < 0 or settle < 1:
            raise ValueError("wait_budget must be >= 0 and settle >= 1")
        self.mode = mode
        self.wait_budget = wait_budget
        self.settle = settle
        #: Where the next request runs; ``inline`` and ``measures_cpu`` follow from it
        #: (plain attributes: read on every request).
        pool = mode == "never"
        self.placement = Placement.POOL if pool else Placement.FAST
        #: Whether the next request runs on the loop's thread.
        self.inline = not pool
        #: Whether the next call must also be timed with the thread CPU clock.
        self.measures_cpu = pool
        #: Calls in a row within the budget, in the current placement.
        self._calm = 0
        #: How many times the placement changed (for logs and tests).
        self.switches = 0

    def observe(self, wall: float, cpu: float | None) -> None:
        """Record one finished call: ``wall`` seconds, ``cpu`` of its thread (None: not read).

        Calls that ran in one placement but are reported after a switch (a pool call
        still finishing) are judged as they come; the rule only needs their timings.
        """
        if self.mode != "auto":
            return
        budget = self.wait_budget
        placement = self.placement
        if placement is Placement.FAST:
            if wall > budget:
                self._move(Placement.POOL)
            return
        # cpu is None for a call timed in FAST but reported late: only its wall is known.
        waited = wall if cpu is None else wall - cpu
        if waited > budget and waited > wall * WAIT_SHARE:
            if placement is Placement.MEASURED:
                self._move(Placement.POOL)
            else:
                self._calm = 0
            return
        if placement is Placement.MEASURED and wall > budget:
            self._calm = 0  # long but busy: stays inline, measured
            return
        self._calm += 1
        if self._calm >= self.settle:
            self._move(Placement.MEASURED if placement is Placement.POOL else Placement.FAST)

    def _move(self, placement: Placement) -> None:
        self.placement = placement
        self.inline = placement is not Placement.POOL
        self.measures_cpu = placement is not Placement.FAST
        self._calm = 0
        self.switches += 1
