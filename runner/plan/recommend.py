"""Which configuration to run, and how many instances of it (pure).

An *instance* is one server configuration on a machine like the measured one (its
server CPU set). With headroom h (the share of capacity kept free for bursts, failover,
noisy neighbours), an instance is planned at ``capacity × (1 − h)``, so a target of R
req/s needs ``ceil(R / (capacity × (1 − h)))`` instances.

Ranking, with a target: fewest instances, then least server CPU per 1,000 req/s, then
the highest capacity. Without a target: the highest capacity, then the least CPU.
Configurations that met the SLO at no measured load cannot be planned and are listed
as excluded with the reason.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

from bench.runner.plan.capacity import Capacity


@dataclass(frozen=True, slots=True)
class Option:
    """One configuration as a candidate for the target."""

    capacity: Capacity
    planned_rps: float
    instances: int | None
    cpu_cores_total: float | None
    rss_total_bytes: float | None
    instances_range: tuple[int, int] | None = None

    @property
    def instances_text(self) -> str:
        """``"4"``, or ``"4 (3–16 over the repetitions)"`` when the spread changes it."""
        if self.instances is None:
            return "–"
        lo_hi = self.instances_range
        if lo_hi is None or lo_hi[0] == lo_hi[1]:
            return str(self.instances)
        return f"{self.instances} ({lo_hi[0]}–{lo_hi[1]} over the repetitions)"

    @property
    def config(self) -> str:
        """The configuration's label."""
        return self.capacity.config


@dataclass(frozen=True, slots=True)
class Recommendation:
    """The ranked options; ``recommended`` and ``runner_up`` are the first two."""

    target_rps: float | None
    headroom: float
    ranked: tuple[Option, ...]
    excluded: tuple[tuple[str, str], ...] = field(default=())

    @property
    def recommended(self) -> Option | None:
        """The best option (None: no configuration met the SLO)."""
        return self.ranked[0] if self.ranked else None

    @property
    def runner_up(self) -> Option | None:
        """The second-best option."""
        return self.ranked[1] if len(self.ranked) > 1 else None


def instances_needed(target_rps: float, capacity_rps: float, headroom: float) -> int:
    """``ceil(target / (capacity × (1 − headroom)))``, at least 1.

    Raises:
        ValueError: non-positive capacity, negative target, or headroom outside [0, 1).
    """
    if capacity_rps <= 0:
        raise ValueError("capacity must be positive")
    if target_rps < 0:
        raise ValueError("the target rate cannot be negative")
    if not 0.0 <= headroom < 1.0:
        raise ValueError("headroom must be in [0, 1)")
    planned = capacity_rps * (1.0 - headroom)
    # A hair of tolerance so that 2000 / (1000 × 0.5) is 4, not 5 from rounding.
    return max(1, math.ceil(target_rps / planned - 1e-9))


def _option(cap: Capacity, target_rps: float | None, headroom: float) -> Option:
    assert cap.capacity_rps is not None
    planned = cap.capacity_rps * (1.0 - headroom)
    instances = instances_needed(target_rps, cap.capacity_rps, headroom) if target_rps else None
    cores = cap.cpu_s_per_1k * target_rps / 1000.0 if cap.cpu_s_per_1k and target_rps else None
    rss = cap.rss_peak_bytes * instances if cap.rss_peak_bytes and instances else None
    spread = None
    if target_rps and cap.spread and cap.spread[0] > 0:
        lo, hi = cap.spread
        spread = (
            instances_needed(target_rps, hi, headroom),
            instances_needed(target_rps, lo, headroom),
        )
    return Option(cap, planned, instances, cores, rss, spread)


def _key(option: Option, with_target: bool) -> tuple[float, ...]:
    cpu = option.capacity.cpu_s_per_1k
    cpu_key = cpu if cpu is not None else math.inf
    capacity = option.capacity.capacity_rps or 0.0
    if with_target:
        return (float(option.instances or 0), cpu_key, -capacity)
    return (-capacity, cpu_key)


def recommend(
    caps: Sequence[Capacity], target_rps: float | None, headroom: float
) -> Recommendation:
    """Rank the configurations for ``target_rps`` (None: rank by capacity alone)."""
    if not 0.0 <= headroom < 1.0:
        raise ValueError("headroom must be in [0, 1)")
    options: list[Option] = []
    excluded: list[tuple[str, str]] = []
    for cap in caps:
        if cap.capacity_rps is None or cap.capacity_rps <= 0:
            lowest = cap.points[0] if cap.points else None
            why = "met the SLO at no measured load"
            if lowest is not None and lowest.reason:
                why += f" (lowest load {lowest.load_label}: {lowest.reason})"
            excluded.append((cap.config, why))
            continue
        options.append(_option(cap, target_rps, headroom))
    ranked = sorted(options, key=lambda o: _key(o, target_rps is not None))
    return Recommendation(target_rps, headroom, tuple(ranked), tuple(excluded))


def explain(rec: Recommendation, slo_text: str) -> str:
    """One paragraph: what to run, how many, and why it beats the runner-up."""
    best, second = rec.recommended, rec.runner_up
    if best is None:
        return f"No configuration met {slo_text} at any measured load: nothing can be planned."
    cap = best.capacity
    bound = " (a lower bound)" if cap.lower_bound else ""
    text = f"{best.config} sustains {cap.capacity_rps:,.0f} req/s within {slo_text}{bound}"
    if rec.target_rps:
        text += (
            f"; planned at {best.planned_rps:,.0f} req/s per instance "
            f"({rec.headroom:.0%} headroom), {rec.target_rps:,.0f} req/s needs "
            f"{best.instances} instance{'s' if best.instances != 1 else ''}"
        )
        if best.instances_range and best.instances_range[0] != best.instances_range[1]:
            lo, hi = best.instances_range
            text += f" ({lo}–{hi} at the repetitions' best and worst throughput)"
    text += "."
    if second is not None:
        text += f" Runner-up: {second.config} ({_why_second(best, second, rec.target_rps)})."
    return text


def _why_second(best: Option, second: Option, target_rps: float | None) -> str:
    """What the runner-up loses on, in ranking order."""
    cap, scap = best.capacity, second.capacity
    if target_rps and second.instances != best.instances:
        return f"{second.instances} instances"
    if not target_rps and scap.capacity_rps != cap.capacity_rps:
        return f"{scap.capacity_rps:,.0f} req/s"
    prefix = "the same number of instances" if target_rps else "the same capacity"
    cpu, scpu = cap.cpu_s_per_1k, scap.cpu_s_per_1k
    if scpu is not None and (cpu is None or scpu > cpu):
        return f"{prefix}, but more CPU per request"
    if target_rps and (scap.capacity_rps or 0.0) < (cap.capacity_rps or 0.0):
        return f"{prefix} and a lower capacity ({scap.capacity_rps:,.0f} req/s)"
    return f"{prefix}; a tie on CPU and capacity too"
