"""Header fields: strict parsing of a header block, and validated serialization.

A received block (a head, or a chunked body's trailer section) is first checked as a
whole: it may hold only HTAB, SP, VCHAR and obs-text, plus the CRLFs that separate its
lines, so a control byte or a bare CR or LF anywhere refuses it (``split_lines``). Each
line is then ``name ":" OWS value OWS`` with a token name and nothing before the colon
(``parse_fields``); whitespace at the start of a line is obs-fold and refused.
"""

from __future__ import annotations

from bench.servers.protocol import _abnf
from bench.servers.protocol.errors import LocalProtocolError, RemoteProtocolError
from bench.servers.protocol.events import Headers
from bench.servers.protocol.limits import Limits

_TCHAR = _abnf.TCHAR
_TEXT = _abnf.TEXT
_FIELD_NAME = _abnf.FIELD_NAME.fullmatch
_FORBIDDEN = _abnf.FIELD_VALUE_FORBIDDEN.search

#: Fields the connection itself interprets (framing, persistence, upgrade, host).
SPECIAL = frozenset(
    {b"content-length", b"transfer-encoding", b"connection", b"host", b"expect", b"upgrade"}
)

#: Field lines parsed before (valid ones only) → their (name, value) pair. Clients send
#: the same few lines on every request, so a dict lookup replaces the split, checks,
#: lower-casing and stripping. Bounded in entries and line length; cleared when full.
_PARSED: dict[bytes, tuple[bytes, bytes]] = {}
_PARSED_MAX = 1024
_PARSED_LINE_MAX = 200


def split_lines(block: bytes) -> list[bytes]:
    """The CRLF-separated lines of a received head or trailer block.

    Raises RemoteProtocolError (400) for a control byte (NUL, DEL, …) or a CR or LF
    that is not part of a CRLF pair.
    """
    lines = block.split(b"\r\n")
    if block.translate(None, _TEXT) != b"\r\n" * (len(lines) - 1):
        raise RemoteProtocolError("control character or bare CR/LF in the message head")
    return lines


def parse_fields(lines: list[bytes], limits: Limits) -> tuple[Headers, dict[bytes, list[bytes]]]:
    """Parse field lines (from ``split_lines``) into lower-cased pairs, wire order kept.

    Returns the headers and, for the names in ``SPECIAL``, their values in order.
    Raises RemoteProtocolError: 431 for too many fields or a line that, with its CRLF,
    is longer than ``max_header_field_size`` (gunicorn's count), 400 for a line
    that is not ``token ":" OWS value OWS`` (whitespace before the colon, obs-fold,
    an empty or invalid name, no colon).
    """
    if len(lines) > limits.max_header_count:
        raise RemoteProtocolError(f"more than {limits.max_header_count} header fields", 431)
    max_size = limits.max_header_field_size - 2  # the limit counts the line's CRLF
    headers: Headers = []
    special: dict[bytes, list[bytes]] = {}
    append = headers.append
    cached = _PARSED.get
    for line in lines:
        if len(line) > max_size:
            raise RemoteProtocolError("header field too large", 431)
        pair = cached(line)
        if pair is None:
            name, colon, value = line.partition(b":")
            if not colon or not name or name.translate(None, _TCHAR):
                if line[:1] in (b" ", b"\t"):
                    raise RemoteProtocolError("obsolete line folding is not accepted")
                raise RemoteProtocolError(f"invalid header line {line[:60]!r}")
            pair = (name.lower(), value.strip(b" \t"))
            if len(line) <= _PARSED_LINE_MAX:
                if len(_PARSED) >= _PARSED_MAX:
                    _PARSED.clear()
                _PARSED[line] = pair
        append(pair)
        name = pair[0]
        if name in SPECIAL:
            found = special.get(name)
            if found is None:
                special[name] = [pair[1]]
            else:
                found.append(pair[1])
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
    """Refuse a header we were asked to send that would corrupt the message.

    Raises LocalProtocolError for a name that is not a token, a value holding CR, LF
    or NUL, or anything that is not bytes.
    """
    if (
        type(name) is bytes
        and type(value) is bytes
        and _FIELD_NAME(name) is not None
        and _FORBIDDEN(value) is None
    ):
        return
    raise LocalProtocolError(f"invalid header {name!r}: {value!r}")


def serialize_fields(headers: Headers) -> bytes:
    """``name: value\\r\\n`` for each field, validated."""
    out = []
    for name, value in headers:
        check_field(name, value)
        out.append(b"%b: %b\r\n" % (name, value))
    return b"".join(out)
