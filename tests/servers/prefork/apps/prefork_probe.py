"""A WSGI probe app for the prefork tests: each path is one behaviour.

- ``/pid``: the serving worker's pid (tests tell workers apart by it).
- ``/sleep?ms=N``: sleep N ms, then answer the pid. With ``PREFORK_PROBE_DIR`` set, a
  file is created there when the request starts, so a test can wait until requests
  are in flight instead of sleeping.
- ``/spin``: never returns (a stuck worker for the --timeout test).
- ``/grow?mib=N``: keep N more MiB alive in the worker (for --max-worker-rss).
- ``/big?mib=N``: a body of N MiB, given whole (a list of one bytes object).
"""

from __future__ import annotations

import os
import tempfile
import time
from collections.abc import Callable, Iterable
from typing import Any
from urllib.parse import parse_qs

_HOARD: list[bytearray] = []


def _param(environ: dict[str, Any], name: str, default: int) -> int:
    values = parse_qs(environ.get("QUERY_STRING", "")).get(name)
    return int(values[0]) if values else default


def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
    path = environ["PATH_INFO"]
    if path == "/sleep":
        marker_dir = os.environ.get("PREFORK_PROBE_DIR")
        if marker_dir:
            fd, _ = tempfile.mkstemp(dir=marker_dir, prefix=f"{os.getpid()}-")
            os.close(fd)
        time.sleep(_param(environ, "ms", 100) / 1000)
    elif path == "/spin":
        while True:
            pass
    elif path == "/grow":
        for _ in range(_param(environ, "mib", 1)):
            _HOARD.append(bytearray(b"x" * (1024 * 1024)))
    elif path == "/big":
        big = b"x" * (_param(environ, "mib", 1) * 1024 * 1024)
        start_response("200 OK", [("Content-Type", "application/octet-stream")])
        return [big]
    body = str(os.getpid()).encode()
    start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", str(len(body)))])
    return [body]
