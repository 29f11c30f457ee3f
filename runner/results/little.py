"""Little's law as a consistency check of a closed-loop measurement.

In a closed loop every connection has one request in flight, so throughput × mean
latency ≈ connections. ``little_ratio`` = rps × mean latency / concurrency; a ratio off
1 by more than ``LITTLE_TOLERANCE`` means time went somewhere the latency does not show
(client stalls, connect time, a clock problem): the engine warns, the dashboard marks
the point and the plan notes it — all with this one tolerance.
"""

from __future__ import annotations

import math

#: Closed loop: |rps × mean latency / concurrency − 1| above this is shown as a warning.
LITTLE_TOLERANCE = 0.25


def little_suspect(ratio: float | None) -> bool:
    """True when a closed-loop Little's-law ratio is off 1 by more than the tolerance."""
    if ratio is None:
        return False
    ratio = float(ratio)
    return not math.isnan(ratio) and abs(ratio - 1.0) > LITTLE_TOLERANCE
