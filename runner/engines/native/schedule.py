"""Open-loop arrival schedules: when each request *should* be sent, independent of responses.

Pure: no clock is read here. Times are integer nanoseconds on the caller's clock.
Constant arrivals are computed from their index (``start + i / rate``), so rounding
never accumulates; Poisson arrivals add exponential gaps drawn from a seeded generator,
so a run can be repeated exactly.
"""

from __future__ import annotations

import random

from bench.runner.loadspec import Arrival

_NS = 1_000_000_000


class Schedule:
    """An endless sequence of arrival times.

    Args:
        rate: arrivals per second (> 0).
        arrival: ``constant`` or ``poisson``.
        start_ns: the time of the first arrival.
        seed: seeds the Poisson gaps (``None``: a fresh random seed).
    """

    __slots__ = ("_index", "_interval_ns", "_poisson", "_random", "_rate", "_start_ns", "next_ns")

    def __init__(
        self, rate: float, arrival: Arrival, start_ns: int, seed: int | None = None
    ) -> None:
        if not rate > 0:
            raise ValueError(f"rate must be > 0, not {rate!r}")
        if arrival not in ("constant", "poisson"):
            raise ValueError(f"unknown arrival distribution {arrival!r}")
        self._rate = float(rate)
        self._interval_ns = _NS / self._rate
        self._poisson = arrival == "poisson"
        self._random = random.Random(seed)
        self._start_ns = start_ns
        self._index = 0
        #: The time of the next arrival not yet taken.
        self.next_ns = start_ns

    def take_due(self, now_ns: int) -> list[int]:
        """Remove and return every arrival time ``<= now_ns``, in order."""
        due: list[int] = []
        while self.next_ns <= now_ns:
            due.append(self.next_ns)
            self._advance()
        return due

    def _advance(self) -> None:
        self._index += 1
        if self._poisson:
            self.next_ns += max(1, round(self._random.expovariate(self._rate) * _NS))
        else:
            self.next_ns = self._start_ns + round(self._index * self._interval_ns)
