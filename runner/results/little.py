"""Little's law as a consistency check of a closed-loop measurement.

In a closed loop every connection has one request in flight, so throughput × the time
each request holds its connection ≈ connections. That time is the latency, plus — when
the server closes after each response (prefork sync, like gunicorn's sync worker) — the
reconnect the next request waits for, which no latency includes. ``little_ratio`` counts
both: rps × (mean latency + reconnects per request × mean connect time) / concurrency.
A ratio off 1 by more than ``LITTLE_TOLERANCE`` then means time went somewhere neither
shows (client stalls, errors, a clock problem): the engine warns, the dashboard marks the
point and the plan notes it — all with this one rule and tolerance.
"""

from __future__ import annotations

import math

#: Closed loop: |little_ratio − 1| above this is shown as a warning.
LITTLE_TOLERANCE = 0.25
#: Reconnects per request from which a cell is said to reconnect for every request.
RECONNECTING = 0.5


def little_ratio(
    rps: float,
    mean_latency_us: float,
    concurrency: int | None,
    *,
    connect_mean_us: float = 0.0,
    connects_per_request: float = 0.0,
) -> float | None:
    """rps × (mean latency + reconnect time per request) / concurrency (None: no data)."""
    if not concurrency or concurrency <= 0 or rps <= 0 or mean_latency_us <= 0:
        return None
    held_us = mean_latency_us + max(0.0, connects_per_request) * max(0.0, connect_mean_us)
    return rps * held_us / 1e6 / concurrency


def little_suspect(ratio: float | None) -> bool:
    """True when a closed-loop Little's-law ratio is off 1 by more than the tolerance."""
    if ratio is None:
        return False
    ratio = float(ratio)
    return not math.isnan(ratio) and abs(ratio - 1.0) > LITTLE_TOLERANCE


def little_note(
    ratio: float | None,
    *,
    latency_only: float | None,
    connect_mean_us: float = 0.0,
    connects_per_request: float = 0.0,
) -> str | None:
    """The one line a closed-loop cell carries about Little's law, or None when all is well.

    ``ratio`` counts reconnect time (``little_ratio``); ``latency_only`` is the same ratio
    without it. A cell that reconnects for each request is explained (its latency does not
    include the connect), and flagged only when even the reconnect does not account for it.
    """
    reconnecting = connects_per_request >= RECONNECTING
    if ratio is None:
        return None
    if little_suspect(ratio):
        return (
            f"Little's law off: throughput × (mean latency + reconnect) = {ratio:.2f} × "
            "connections (errors, client stalls or a clock problem)"
        )
    if reconnecting and latency_only is not None and little_suspect(latency_only):
        return (
            f"the server closed after each response: every request also waited a reconnect "
            f"(mean {connect_mean_us / 1000:.2f} ms, not in its latency); throughput × mean "
            f"latency = {latency_only:.2f} × connections, {ratio:.2f} with the reconnects"
        )
    return None
