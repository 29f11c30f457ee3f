"""Received message heads: start lines, limits, and the framing and persistence they imply.

Pure functions of bytes and values, so each decision is testable alone; the connection
(``http11``) calls them and keeps the state. Where RFC 9112 leaves a choice, the safer
one is taken: a request with both Content-Length and Transfer-Encoding, or with more
than one Content-Length (even equal ones), is refused rather than repaired; chunked must
be the final transfer coding, once; Transfer-Encoding in HTTP/1.0 is refused.
"""

from __future__ import annotations

import ipaddress

from bench.servers.protocol import _abnf
from bench.servers.protocol._body import ChunkedReader, ContentLengthReader, EmptyReader, Reader
from bench.servers.protocol._fields import comma_tokens
from bench.servers.protocol.errors import RemoteProtocolError
from bench.servers.protocol.limits import Limits

_TCHAR = _abnf.TCHAR
_VERSIONS = {b"HTTP/1.1": b"1.1", b"HTTP/1.0": b"1.0"}
_CHUNKED = b"chunked"
_EMPTY = EmptyReader()
_COMMON_REQUEST_LINE = _abnf.COMMON_REQUEST_LINE.fullmatch
#: Statuses whose responses never have a body (RFC 9110 §6.4.1; 1xx have none either).
NO_BODY_STATUS = frozenset({204, 304})
_HOST = _abnf.HOST.fullmatch

#: Host values found valid before. Clients send the same Host on every request, so a
#: set lookup replaces the pattern match; bounded, cleared when full.
_VALID_HOSTS: set[bytes] = set()
_VALID_HOSTS_MAX = 256


def check_partial_head(buf: bytearray, limits: Limits, scanned: int) -> None:
    """Apply the head limits to an incomplete head, so an endless line cannot grow forever.

    ``scanned`` is how far an earlier call got (bytes before it are not rescanned for
    bare LFs). Counts exactly as the checks on a complete head do (a CR that may start
    a line's CRLF is not counted), so how the bytes are split never changes the status.
    """
    start = scanned - 1 if scanned else 0
    if buf.count(b"\n", scanned) != buf.count(b"\r\n", start):
        raise RemoteProtocolError("bare LF in the message head")
    size = len(buf)
    line_end = buf.find(b"\r\n")
    if line_end < 0:
        if size - (buf[-1] == 0x0D) > limits.max_request_line:
            raise RemoteProtocolError("request line too long", 414)
        return
    if line_end > limits.max_request_line:
        raise RemoteProtocolError("request line too long", 414)
    # The complete head will hold at least these bytes (the last 3 may start its end).
    if size - line_end - 3 > limits.max_header_bytes:
        raise RemoteProtocolError("header section too large", 431)
    last = buf.rfind(b"\r\n") + 2
    # The line will end with a CRLF, which the field-size limit counts.
    if size - last - (buf[-1] == 0x0D) + 2 > limits.max_header_field_size:
        raise RemoteProtocolError("header field too large", 431)


def parse_request_line(line: bytes) -> tuple[bytes, bytes, bytes]:
    """``method SP request-target SP HTTP-version`` → (method, target, ``b"1.1"``/``b"1.0"``).

    The line comes from ``split_lines`` (no control bytes). A higher HTTP/1 minor version
    is handled as 1.1 (RFC 9110 §2.5). Raises RemoteProtocolError: 505 for a major
    version other than 1, 400 for anything malformed, including a target form the
    method does not allow (``*`` is for OPTIONS, authority-form for CONNECT only).
    """
    match = _COMMON_REQUEST_LINE(line)
    if match is not None and match.group(1) != b"CONNECT":
        method, target, minor = match.groups()
        return method, target, b"1.1" if minor == b"1" else b"1.0"
    parts = line.split(b" ")
    if len(parts) != 3:
        raise RemoteProtocolError(f"invalid request line {line[:60]!r}")
    method, target, version_text = parts
    if not method or method.translate(None, _TCHAR) or not target or b"\t" in target:
        raise RemoteProtocolError(f"invalid request line {line[:60]!r}")
    version = _VERSIONS.get(version_text)
    if version is None:
        version = _other_version(version_text)
    if target[0] != 0x2F or method == b"CONNECT":
        if not _other_target_form(method, target):
            raise RemoteProtocolError(f"invalid request target for {method[:20].decode()}")
    elif _abnf.ORIGIN_FORM.fullmatch(target) is None:
        raise RemoteProtocolError(f"invalid request target {target[:60]!r}")
    return method, target, version


def _other_version(text: bytes) -> bytes:
    match = _abnf.VERSION.fullmatch(text)
    if match is None:
        raise RemoteProtocolError(f"invalid HTTP version {text[:20]!r}")
    if match.group(1) != b"1":
        raise RemoteProtocolError(f"HTTP/{match.group(1).decode()} is not supported", 505)
    return b"1.0" if match.group(2) == b"0" else b"1.1"


def _other_target_form(method: bytes, target: bytes) -> bool:
    """Asterisk-form (OPTIONS only), authority-form (CONNECT only) or absolute-form.

    The authority of the last two must be a valid, non-empty uri-host (RFC 3986 §3.2.2,
    RFC 9110 §4.2.1) with a port of digits; userinfo is refused (RFC 9110 §4.2.4).
    """
    if method == b"CONNECT":
        return _abnf.AUTHORITY_FORM.fullmatch(target) is not None and valid_host(target)
    if target == b"*":
        return method == b"OPTIONS"
    match = _abnf.ABSOLUTE_FORM.fullmatch(target)
    if match is None:
        return False
    authority = match.group(1)
    return bool(authority) and authority[0] != 0x3A and valid_host(authority)


def valid_host(value: bytes) -> bool:
    """Whether ``value`` is ``uri-host [ ":" port ]`` (RFC 3986 §3.2.2–3.2.3).

    A reg-name may only hold unreserved and sub-delims bytes and well-formed
    pct-encodings; an IP-literal must hold a valid IPv6 address (or IPvFuture); the
    port is digits only. An empty value is valid (RFC 9112 §3.2 allows an empty Host).
    """
    match = _HOST(value)
    if match is None:
        return False
    literal = match.group(1)
    if literal is None or literal[1:2] in (b"v", b"V"):
        return True
    try:
        ipaddress.IPv6Address(literal[1:-1].decode("ascii"))
    except ValueError:
        return False
    return True


def parse_status_line(line: bytes) -> tuple[bytes, int, bytes]:
    """``HTTP-version SP status-code SP [reason]`` → (version, status, reason).

    Raises RemoteProtocolError: 505 for a major version other than 1, 400 otherwise.
    """
    match = _abnf.STATUS_LINE.fullmatch(line)
    if match is None:
        raise RemoteProtocolError(f"invalid status line {line[:60]!r}")
    major, minor, status_text, reason = match.groups()
    if major != b"1":
        raise RemoteProtocolError(f"HTTP/{major.decode()} is not supported", 505)
    status = int(status_text)
    if status < 100:
        raise RemoteProtocolError(f"invalid status code {status}")
    return (b"1.0" if minor == b"0" else b"1.1"), status, reason or b""


def check_hosts(version: bytes, hosts: list[bytes] | None) -> None:
    """RFC 9112 §3.2: one Host in HTTP/1.1 (at most one in 1.0), with a valid value."""
    if hosts is None:
        if version == b"1.1":
            raise RemoteProtocolError("HTTP/1.1 requests need a Host header")
        return
    if len(hosts) != 1:
        raise RemoteProtocolError("more than one Host header")
    host = hosts[0]
    if host in _VALID_HOSTS:
        return
    if not valid_host(host):
        raise RemoteProtocolError(f"invalid Host header {host[:60]!r}")
    if len(host) <= 255:
        if len(_VALID_HOSTS) >= _VALID_HOSTS_MAX:
            _VALID_HOSTS.clear()
        _VALID_HOSTS.add(host)


def keeps_alive(version: bytes, connection: list[bytes] | None) -> bool:
    """Persistence (RFC 9112 §9.3): 1.1 unless ``close``; 1.0 only with ``keep-alive``."""
    if connection is None:
        return version == b"1.1"
    tokens = comma_tokens(connection)
    if b"close" in tokens:
        return False
    return version == b"1.1" or b"keep-alive" in tokens


def wants_upgrade(version: bytes, connection: list[bytes] | None, upgrade: object) -> bool:
    """An HTTP/1.1 request with ``Connection: upgrade`` and an Upgrade field (RFC 9110 §7.8)."""
    return (
        connection is not None
        and upgrade is not None
        and version == b"1.1"
        and b"upgrade" in comma_tokens(connection)
    )


def request_reader(
    version: bytes, te: list[bytes] | None, cl: list[bytes] | None, limits: Limits
) -> Reader:
    """The body framing of a request (RFC 9112 §6.3); refuses every ambiguous case."""
    if te is not None:
        if version == b"1.0":
            raise RemoteProtocolError("Transfer-Encoding is not allowed in HTTP/1.0")
        if cl is not None:
            raise RemoteProtocolError("both Content-Length and Transfer-Encoding")
        return chunked_reader(te, limits)
    if cl is None:
        return _EMPTY
    length = content_length(cl)
    limit = limits.max_body_size
    if limit is not None and length > limit:
        raise RemoteProtocolError("request body larger than the limit", 413)
    return ContentLengthReader(length) if length else _EMPTY


def chunked_reader(te: list[bytes], limits: Limits) -> ChunkedReader:
    """``chunked`` as the final coding, once; any other coding before it is 501."""
    codings = comma_tokens(te)
    if not codings or codings[-1] != _CHUNKED or codings.count(_CHUNKED) > 1:
        raise RemoteProtocolError("chunked must be the final transfer coding, once")
    if len(codings) > 1:
        raise RemoteProtocolError(f"unsupported transfer coding {codings[0][:20]!r}", 501)
    return ChunkedReader(limits)


def content_length(values: list[bytes]) -> int:
    """The one valid Content-Length, or RemoteProtocolError (no lists, signs or duplicates)."""
    if len(values) != 1:
        raise RemoteProtocolError("more than one Content-Length")
    value = values[0]
    if _abnf.CONTENT_LENGTH.fullmatch(value) is None:
        raise RemoteProtocolError(f"invalid Content-Length {value[:30]!r}")
    return int(value)
