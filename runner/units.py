"""Parsing of the human units a scenario is written in: durations, percentages, CPU lists.

Pure functions, used as pydantic "before" validators by ``bench.runner.scenario`` and by the CLI.
Each raises ``ValueError`` with a message that says what was expected, so the scenario
loader can show it next to the YAML path.
"""

from __future__ import annotations

import argparse
import re

_DURATION = re.compile(r"^\s*(\d+(?:\.\d*)?|\.\d+)\s*(us|µs|ms|s|m|min|h)?\s*$")
_DURATION_UNITS: dict[str, float] = {
    "us": 1e-6,
    "µs": 1e-6,
    "ms": 1e-3,
    "s": 1.0,
    "m": 60.0,
    "min": 60.0,
    "h": 3600.0,
}


def parse_duration(value: object) -> float:
    """Return seconds from ``2s``, ``500ms``, ``1.5m``, ``250us`` or a bare number of seconds."""
    if isinstance(value, bool):
        raise ValueError(f"expected a duration like 2s, 500ms, 1m; got {value!r}")
    if isinstance(value, int | float):
        seconds = float(value)
    elif isinstance(value, str) and (m := _DURATION.match(value)):
        seconds = float(m.group(1)) * _DURATION_UNITS[m.group(2) or "s"]
    else:
        raise ValueError(f"expected a duration like 2s, 500ms, 1m; got {value!r}")
    if seconds < 0:
        raise ValueError(f"a duration cannot be negative; got {value!r}")
    return seconds


def parse_fraction(value: object) -> float:
    """Return a fraction from ``0.1%`` or a bare number in 0..1 (``0.001``)."""
    if isinstance(value, bool):
        raise ValueError(f"expected a percentage like 0.1% or a fraction like 0.001; got {value!r}")
    if isinstance(value, str):
        text = value.strip()
        try:
            fraction = float(text[:-1]) / 100.0 if text.endswith("%") else float(text)
        except ValueError:
            raise ValueError(
                f"expected a percentage like 0.1% or a fraction like 0.001; got {value!r}"
            ) from None
    elif isinstance(value, int | float):
        fraction = float(value)
    else:
        raise ValueError(f"expected a percentage like 0.1% or a fraction like 0.001; got {value!r}")
    if not 0.0 <= fraction <= 1.0:
        raise ValueError(f"a fraction must be between 0 and 1 (0% and 100%); got {value!r}")
    return fraction


def parse_cpus(value: object) -> tuple[int, ...]:
    """Return sorted CPU ids from ``"0-3,6"``, ``[0, 1]`` or ``2``."""
    if isinstance(value, bool):
        raise ValueError(f"expected CPU ids like '0-3,6' or [0, 1]; got {value!r}")
    ids: set[int] = set()
    if isinstance(value, int):
        ids.add(value)
    elif isinstance(value, list | tuple):
        for item in value:
            ids.update(parse_cpus(item))
    elif isinstance(value, str) and value.strip():
        for part in value.split(","):
            part = part.strip()
            lo, sep, hi = part.partition("-")
            if not lo.isdigit() or (sep and not hi.isdigit()):
                raise ValueError(f"expected CPU ids like '0-3,6' or [0, 1]; got {value!r}")
            first, last = int(lo), int(hi) if sep else int(lo)
            if last < first:
                raise ValueError(f"CPU range {part!r} goes backwards")
            ids.update(range(first, last + 1))
    else:
        raise ValueError(f"expected CPU ids like '0-3,6' or [0, 1]; got {value!r}")
    if any(i < 0 for i in ids):
        raise ValueError(f"CPU ids cannot be negative; got {value!r}")
    return tuple(sorted(ids))


def format_cpus(cpus: tuple[int, ...] | None) -> str:
    """Return ``"0-3,6"`` for (0, 1, 2, 3, 6); ``""`` for None or empty."""
    if not cpus:
        return ""
    parts: list[str] = []
    ordered = sorted(set(cpus))
    start = prev = ordered[0]
    for cpu in [*ordered[1:], None]:
        if cpu is not None and cpu == prev + 1:
            prev = cpu
            continue
        parts.append(str(start) if start == prev else f"{start}-{prev}")
        if cpu is not None:
            start = prev = cpu
    return ",".join(parts)


def format_duration(seconds: float) -> str:
    """Return a short human duration: ``2s``, ``500ms``, ``1m30s``."""
    if seconds < 1:
        return f"{seconds * 1000:.0f}ms"
    if seconds < 60:
        return f"{seconds:.0f}s"
    minutes, rest = divmod(round(seconds), 60)
    return f"{minutes}m{rest:02d}s" if rest else f"{minutes}m"


def fraction_arg(text: str) -> float:
    """argparse type of a percentage or fraction option (``--max-regression 5%``)."""
    try:
        return parse_fraction(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
