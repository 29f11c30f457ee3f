"""Close codes (RFC 6455 section 7.4 and the IANA registry) and the Close frame payload.

A Close payload is empty (no status: reported as 1005) or a 2-byte code followed by a
UTF-8 reason. Codes 1005, 1006 and 1015 describe what happened locally and are never
sent on the wire; 1004 and 1016-2999 are reserved, below 1000 is unused, and 5000+ is
out of range. 3000-3999 (registered) and 4000-4999 (private) are free for applications.
"""

from __future__ import annotations

import enum

from bench.servers.protocol.errors import LocalProtocolError
from bench.servers.protocol.websocket.errors import InvalidPayload, WebSocketProtocolError

#: Largest payload of any control frame, Close included (RFC 6455 section 5.5).
MAX_CONTROL_PAYLOAD = 125
#: Largest reason (in UTF-8 bytes) that fits a Close frame next to its 2-byte code.
MAX_CLOSE_REASON = MAX_CONTROL_PAYLOAD - 2


class CloseCode(enum.IntEnum):
    """Close codes with a defined meaning."""

    NORMAL_CLOSURE = 1000
    GOING_AWAY = 1001
    PROTOCOL_ERROR = 1002
    UNSUPPORTED_DATA = 1003
    #: Local only: the Close frame carried no code.
    NO_STATUS_RCVD = 1005
    #: Local only: the connection ended without a Close frame.
    ABNORMAL_CLOSURE = 1006
    INVALID_DATA = 1007
    POLICY_VIOLATION = 1008
    MESSAGE_TOO_BIG = 1009
    MANDATORY_EXTENSION = 1010
    INTERNAL_ERROR = 1011
    SERVICE_RESTART = 1012
    TRY_AGAIN_LATER = 1013
    BAD_GATEWAY = 1014
    #: Local only: the TLS handshake failed.
    TLS_HANDSHAKE = 1015


#: Codes below 3000 that may appear in a Close frame.
_WIRE_CODES_BELOW_3000 = frozenset(
    {1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 1012, 1013, 1014}
)


def is_wire_code(code: int) -> bool:
    """Return True if ``code`` may be carried by a Close frame (sent or received)."""
    return code in _WIRE_CODES_BELOW_3000 or 3000 <= code <= 4999


def parse_close_payload(payload: bytes) -> tuple[int, str]:
    """Return ``(code, reason)`` from a received Close payload (empty: ``(1005, "")``).

    Raises WebSocketProtocolError (1002) for a 1-byte payload or a code that may not
    be on the wire, and InvalidPayload (1007) for a reason that is not UTF-8.
    """
    if not payload:
        return CloseCode.NO_STATUS_RCVD, ""
    if len(payload) == 1:
        raise WebSocketProtocolError("close frame payload of 1 byte")
    code = int.from_bytes(payload[:2], "big")
    if not is_wire_code(code):
        raise WebSocketProtocolError(f"invalid close code {code}")
    try:
        reason = payload[2:].decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InvalidPayload("close reason is not valid UTF-8") from exc
    return code, reason


def build_close_payload(code: int | None, reason: str = "") -> bytes:
    """Return the payload of a Close frame we send.

    ``code`` None or 1005 means "no status" (an empty payload, no reason allowed).
    Raises LocalProtocolError for a code that may not be sent or a reason over
    123 UTF-8 bytes.
    """
    if code is None or code == CloseCode.NO_STATUS_RCVD:
        if reason:
            raise LocalProtocolError("a close reason needs a close code")
        return b""
    if not is_wire_code(code):
        raise LocalProtocolError(f"close code {code} may not be sent")
    encoded = reason.encode("utf-8")
    if len(encoded) > MAX_CLOSE_REASON:
        raise LocalProtocolError(f"close reason longer than {MAX_CLOSE_REASON} bytes")
    return code.to_bytes(2, "big") + encoded


def truncate_reason(reason: str) -> str:
    """Cut ``reason`` so that its UTF-8 form fits a Close frame (never splitting a character)."""
    encoded = reason.encode("utf-8")
    if len(encoded) <= MAX_CLOSE_REASON:
        return reason
    return encoded[:MAX_CLOSE_REASON].decode("utf-8", errors="ignore")
