"""Parsing of the WebSocket handshake's header values (RFC 6455 section 4, RFC 7230 lists).

``Connection``, ``Upgrade`` and ``Sec-WebSocket-Protocol`` are comma-separated token
lists; ``Sec-WebSocket-Extensions`` is a list of ``name; param; param=value`` items
whose values may be quoted strings. Names are compared case-insensitively; a header
repeated on several lines is one list (RFC 7230 section 3.2.2).
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from bench.servers.protocol.events import Headers
from bench.servers.protocol.websocket.errors import HandshakeError

#: One extension offer or answer: its name and its ``(param, value or None)`` pairs.
ExtensionItem = tuple[str, list[tuple[str, str | None]]]

_TOKEN = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
_QUOTED = re.compile(r'"((?:[^"\\]|\\.)*)"')
_UNESCAPE = re.compile(r"\\(.)")
_OWS = " \t"


def header_values(headers: Headers, name: bytes) -> list[bytes]:
    """Return every value of header ``name`` (lower-case bytes), in order."""
    return [value for key, value in headers if key.lower() == name]


def token_list(values: Iterable[bytes]) -> list[str]:
    """Split comma-separated header values into their non-empty, stripped elements."""
    out: list[str] = []
    for value in values:
        for item in value.decode("latin-1").split(","):
            item = item.strip(_OWS)
            if item:
                out.append(item)
    return out


def has_token(values: Iterable[bytes], token: str) -> bool:
    """Return True if the comma-separated ``values`` contain ``token`` (any case)."""
    wanted = token.lower()
    return any(item.lower() == wanted for item in token_list(values))


def parse_extensions(values: Iterable[bytes]) -> list[ExtensionItem]:
    """Parse ``Sec-WebSocket-Extensions`` values into ``(name, params)`` items.

    Raises HandshakeError (400) on a syntax error. Parameter names are lower-cased;
    quoted values are unquoted.
    """
    items: list[ExtensionItem] = []
    for raw in values:
        text = raw.decode("latin-1")
        pos = 0
        while True:
            pos = _skip(text, pos, _OWS + ",")
            if pos >= len(text):
                break
            name, pos = _token(text, pos)
            params: list[tuple[str, str | None]] = []
            pos = _skip(text, pos, _OWS)
            while pos < len(text) and text[pos] == ";":
                pos = _skip(text, pos + 1, _OWS)
                param, pos = _token(text, pos)
                value: str | None = None
                pos = _skip(text, pos, _OWS)
                if pos < len(text) and text[pos] == "=":
                    pos = _skip(text, pos + 1, _OWS)
                    quoted = _QUOTED.match(text, pos)
                    if quoted:
                        value = _UNESCAPE.sub(r"\1", quoted.group(1))
                        pos = quoted.end()
                    else:
                        value, pos = _token(text, pos)
                params.append((param.lower(), value))
                pos = _skip(text, pos, _OWS)
            if pos < len(text) and text[pos] != ",":
                raise HandshakeError(f"invalid Sec-WebSocket-Extensions header: {text!r}")
            items.append((name.lower(), params))
    return items


def format_extension(name: str, params: Iterable[tuple[str, str | None]]) -> bytes:
    """Serialize one extension item (values are tokens here, never quoted)."""
    parts = [name]
    for param, value in params:
        parts.append(param if value is None else f"{param}={value}")
    return "; ".join(parts).encode("latin-1")


def _skip(text: str, pos: int, chars: str) -> int:
    while pos < len(text) and text[pos] in chars:
        pos += 1
    return pos


def _token(text: str, pos: int) -> tuple[str, int]:
    match = _TOKEN.match(text, pos)
    if match is None:
        raise HandshakeError(f"invalid Sec-WebSocket-Extensions header: {text!r}")
    return match.group(0), match.end()
