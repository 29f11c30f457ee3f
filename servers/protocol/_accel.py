"""Which implementation of the core's hot path runs: the C accelerator or pure Python.

How this works
--------------
The pure-Python functions (``_fields``, ``_heads``, ``_serialize``) are the reference.
The optional C module ``_hot`` (built from ``_hot.c`` when a compiler is there) only
*accepts*: for plainly valid input it returns the same result the reference would,
for anything else it returns ``None`` and the wrappers below call the reference on the
same input, which raises the exact error (message and status) or handles the rarer
form. So an error always comes from the reference code.

``implementation(fast)`` gives the set of functions for one path; ``http11.use_accelerator``
installs one. The C path is used when importable. The environment variable
``BENCH_PURE_PROTOCOL`` set to anything but ``""`` or ``"0"`` forces the pure path (for
tests and measurement); ``bench.servers`` reads it, since this package does no I/O.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NamedTuple

from bench.servers.protocol import _fields, _heads
from bench.servers.protocol.limits import Limits

try:
    from bench.servers.protocol import _hot  # type: ignore[attr-defined]
except ImportError:  # not compiled on this machine: the pure path serves
    _hot = None

#: The variable that forces the pure-Python path.
PURE_ENV = "BENCH_PURE_PROTOCOL"


class Implementation(NamedTuple):
    """The hot-path functions of one path (same signatures as the reference ones)."""

    fast: bool
    split_lines: Callable[[bytes], list[bytes]]
    parse_fields: Callable[[list[bytes], Limits], Any]
    parse_request_line: Callable[[bytes], tuple[bytes, bytes, bytes]]
    #: headers -> (lines, content-length, has date, has server) or None (use the loop)
    response_fields: Callable[[Any], tuple[bytes, bytes | None, bool, bool] | None] | None
    #: (buffer, head_limits(limits)) -> (consumed, method, target, version, headers,
    #: special) for a complete, plainly valid request head at the buffer's start, or
    #: None (the connection then cuts and parses the head with the functions above)
    request_head: Callable[[bytearray, tuple[int, int, int, int]], Any] | None
    #: (status line, headers, body, head tail) -> the whole response's bytes for a
    #: response with a body and plainly valid headers, or None (``Connection.send_whole``
    #: then builds it with ``send_complete``)
    whole_response: Callable[[bytes, Any, bytes, bytes], bytes | None] | None


def available() -> bool:
    """Whether the C accelerator was built and imports."""
    return _hot is not None


def head_limits(limits: Limits) -> tuple[int, int, int, int]:
    """The limits ``request_head`` checks, in its order (the field line without its CRLF)."""
    return (
        limits.max_request_line,
        limits.max_header_bytes,
        limits.max_header_count,
        limits.max_header_field_size - 2,
    )


PURE = Implementation(
    fast=False,
    split_lines=_fields.split_lines,
    parse_fields=_fields.parse_fields,
    parse_request_line=_heads.parse_request_line,
    response_fields=None,
    request_head=None,
    whole_response=None,
)


def _fast() -> Implementation:
    assert _hot is not None
    hot_split, hot_fields, hot_line = _hot.split_lines, _hot.parse_fields, _hot.request_line
    ref_split, ref_fields, ref_line = PURE.split_lines, PURE.parse_fields, PURE.parse_request_line

    def split_lines(block: bytes) -> list[bytes]:
        lines = hot_split(block)
        return ref_split(block) if lines is None else lines

    def parse_fields(lines: list[bytes], limits: Limits) -> Any:
        found = hot_fields(lines, limits.max_header_count, limits.max_header_field_size - 2)
        return ref_fields(lines, limits) if found is None else found

    def parse_request_line(line: bytes) -> tuple[bytes, bytes, bytes]:
        found = hot_line(line)
        return ref_line(line) if found is None else found

    return Implementation(
        True,
        split_lines,
        parse_fields,
        parse_request_line,
        _hot.response_fields,
        _hot.request_head,
        _hot.whole_response,
    )


def implementation(fast: bool) -> Implementation:
    """The C path (``fast``, which must be available) or the pure-Python reference."""
    if not fast:
        return PURE
    if _hot is None:
        raise RuntimeError("the C accelerator (servers/protocol/_hot.c) is not built")
    return _fast()
