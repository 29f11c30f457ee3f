"""A deliberately slowed copy of the bundled ``cpu`` app: the candidate of the profile demo.

Each request does the ``cpu`` app's work (``bench.servers.apps.cpu.burn``) and then
``audit_checksum``: the same checksum computed again over half as many iterations — a
stand-in for a change that adds work to every request. ``bench compare`` of a
baseline run (``baseline.yaml``) with a candidate run (``candidate.yaml``), both profiled,
should name ``audit_checksum`` as the function whose share grew.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from bench.servers.apps.cpu import ITERATIONS, body


def audit_checksum(iterations: int) -> int:
    """The slowdown: more pure-Python arithmetic per request."""
    acc = 0
    for i in range(iterations):
        acc = (acc * 17 + i) & 0xFFFFFFFF
    return acc


def wsgi(environ: dict[str, Any], start_response: Callable) -> Iterable[bytes]:
    """The ``cpu`` app's response, after the extra work."""
    payload = body()
    audit_checksum(ITERATIONS // 2)
    start_response(
        "200 OK", [("Content-Type", "text/plain"), ("Content-Length", str(len(payload)))]
    )
    return [payload]
