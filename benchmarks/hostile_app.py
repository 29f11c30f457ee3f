"""The WSGI app of ``hostile.py``: ``/big`` answers a body of ``HOSTILE_BIG_MIB`` MiB given
whole (one bytes object in a list, as most frameworks return), any other path ``hello``.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from typing import Any

_BIG = b"x" * (int(os.environ.get("HOSTILE_BIG_MIB", "64")) * 1024 * 1024)


def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
    """``/big``: the big body; else ``hello``."""
    body = _BIG if environ.get("PATH_INFO") == "/big" else b"hello"
    start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", str(len(body)))])
    return [body]
