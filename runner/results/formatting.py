"""The one way a figure of the results is written as text: latency, rate, bytes.

The terminal (``bench run``'s lines and summary, ``bench load``), the dashboards and the
plan and compare reports all format through here, so a p99 reads the same everywhere.
A latency below what the engine can resolve is written as such: locust reports whole
milliseconds, so a 300 µs response is ``< 1 ms``, never a false ``0 µs``.
"""

from __future__ import annotations

import math

#: Shown for a missing value (no data, not applicable).
MISSING = "–"


def is_number(value: object) -> bool:
    """True for a finite int or float (not None, NaN, NA, bool or text)."""
    if value is None or isinstance(value, bool | str):
        return False
    try:
        return math.isfinite(float(value))  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return False


def format_latency(value_us: object, resolution_us: object = 1.0) -> str:
    """``"850 µs"``, ``"12.3 ms"``, ``"1.20 s"``; ``"< 1 ms"`` below a coarse resolution.

    ``resolution_us``: the smallest latency the engine reports (``latency_resolution_us``:
    1 for native and wrk, 1000 for locust). A value under it (an engine that rounds down
    to 0) is shown as ``< resolution``.
    """
    if not is_number(value_us):
        return MISSING
    v = float(value_us)  # type: ignore[arg-type]
    resolution = float(resolution_us) if is_number(resolution_us) else 1.0  # type: ignore[arg-type]
    if resolution > 1.0 and v < resolution:
        return f"< {format_latency(resolution)}"
    if v < 1000:
        return f"{v:.0f} µs"
    if v < 1_000_000:
        return f"{v / 1000:.3g} ms" if v < 100_000 else f"{v / 1000:.0f} ms"
    return f"{v / 1e6:.3g} s"


def format_rate(value: object, unit: str = "req/s") -> str:
    """``"12,345 req/s"``, ``"850 req/s"``, ``"3.5 req/s"``; ``"–"`` when missing."""
    if not is_number(value):
        return MISSING
    v = float(value)  # type: ignore[arg-type]
    text = f"{v:,.0f}" if v >= 100 else f"{v:.3g}"
    return f"{text} {unit}".rstrip()


def format_bytes(value: object) -> str:
    """``"84.2 MiB"``; ``"–"`` when missing."""
    if not is_number(value):
        return MISSING
    v = float(value)  # type: ignore[arg-type]
    for unit in ("B", "KiB", "MiB"):
        if v < 1024:
            return f"{v:.0f} B" if unit == "B" else f"{v:.3g} {unit}"
        v /= 1024
    return f"{v:.3g} GiB"
