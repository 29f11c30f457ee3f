"""Header fields: strict parsing of a header block, and validated serialization."""

from __future__ import annotations

from servers.protocol import _abnf
from servers.protocol.errors import LocalProtocolError, RemoteProtocolError
from servers.protocol.events import Headers
from servers.protocol.limits import Limits

_FIELD_LINE = _abnf.FIELD_LINE.fullmatch
_FIELD_NAME = _abnf.FIELD_NAME.fullmatch
_FORBIDDEN = _abnf.FIELD_VALUE_FORBIDDEN.search

#: Fields the connection itself interprets (framing, persistence, upgrade, host).
SPECIAL = frozenset(
    {b"content-length", b"transfer-encoding", b"connection", b"host", b"expect", b"upgrade"}
)


def parse_fields(lines: list[bytes], limits: Limits) -> tuple[Headers, dict[bytes, list[bytes]]]:
    """Parse header lines (CRLF already removed) into lower-cased pairs.

    Returns the headers in wire order and, for the names in ``SPECIAL``, their values.
    Raises RemoteProtocolError: 431 for too many or too long fields, 400 for anything
    that is not a valid field line (whitespace before the colon, obs-fold, bare CR/LF,
    NUL or other control characters, invalid name characters).
    """
    if len(lines) > limits.max_header_count:
        raise RemoteProtocolError(f"more than {limits.max_header_count} header fields", 431)
    max_size = limits.max_header_field_size
    headers: Headers = []
    special: dict[bytes, list[bytes]] = {}
    append = headers.append
    for line in lines:
        if len(line) > max_size:
            raise RemoteProtocolError("header field too large", 431)
        match = _FIELD_LINE(line)
        if match is None:
            if line[:1] in (b" ", b"\t"):
                raise RemoteProtocolError("obsolete line folding is not accepted")
            raise RemoteProtocolError(f"invalid header line {line[:60]!r}")
        name = match.group(1).lower()
        value = match.group(2)
        append((name, value))
        if name in SPECIAL:
            special.setdefault(name, []).append(value)
    return headers, special


def comma_tokens(values: list[bytes]) -> list[bytes]:
    """Split list-valued fields (``Connection``, ``Transfer-Encoding``) into lower-cased tokens."""
    return [
        token
        for value in values
        for token in (part.strip(b" \t").lower() for part in value.split(b","))
        if token
    ]


def check_field(name: bytes, value: bytes) -> None:
    """Refuse a header we were asked to send that would corrupt the message."""
    if not isinstance(name, bytes) or not isinstance(value, bytes):
        raise LocalProtocolError(f"header names and values must be bytes, got {name!r}: {value!r}")
    if _FIELD_NAME(name) is None:
        raise LocalProtocolError(f"invalid header name {name!r}")
    if _FORBIDDEN(value) is not None:
        raise LocalProtocolError(f"header value with CR, LF or NUL refused: {name!r}")


def serialize_fields(headers: Headers) -> bytes:
    """``name: value\\r\\n`` for each field, validated."""
    out = []
    for name, value in headers:
        check_field(name, value)
        out.append(b"%b: %b\r\n" % (name, value))
    return b"".join(out)
