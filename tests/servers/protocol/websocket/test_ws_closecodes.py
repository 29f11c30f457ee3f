"""Close codes on the wire and the Close payload (RFC 6455 sections 5.5.1 and 7.4)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bench.servers.protocol.errors import LocalProtocolError
from bench.servers.protocol.websocket.closecodes import (
    MAX_CLOSE_REASON,
    build_close_payload,
    is_wire_code,
    parse_close_payload,
    truncate_reason,
)
from bench.servers.protocol.websocket.errors import InvalidPayload, WebSocketProtocolError

VALID = [
    1000,
    1001,
    1002,
    1003,
    1007,
    1008,
    1009,
    1010,
    1011,
    1012,
    1013,
    1014,
    3000,
    3999,
    4000,
    4999,
]
INVALID = [0, 999, 1004, 1005, 1006, 1015, 1016, 1100, 2000, 2999, 5000, 65535]


@pytest.mark.parametrize("code", VALID)
def test_codes_allowed_on_the_wire_round_trip(code: int):
    assert is_wire_code(code)
    assert parse_close_payload(build_close_payload(code, "bye")) == (code, "bye")


@pytest.mark.parametrize("code", INVALID)
def test_local_reserved_and_out_of_range_codes_are_refused_both_ways(code: int):
    assert not is_wire_code(code)
    with pytest.raises(WebSocketProtocolError) as info:
        parse_close_payload(code.to_bytes(2, "big"))
    assert info.value.close_code == 1002
    if code == 1005:  # "no status" is sent as an empty payload, never as the number
        assert build_close_payload(code) == b""
        return
    with pytest.raises(LocalProtocolError):
        build_close_payload(code)


def test_empty_payload_means_no_status():
    assert parse_close_payload(b"") == (1005, "")
    assert build_close_payload(None) == b""
    assert build_close_payload(1005) == b""
    with pytest.raises(LocalProtocolError):
        build_close_payload(None, "a reason without a code")


def test_one_byte_payload_is_a_protocol_error():
    with pytest.raises(WebSocketProtocolError):
        parse_close_payload(b"\x03")


def test_reason_must_be_utf8():
    with pytest.raises(InvalidPayload) as info:
        parse_close_payload(b"\x03\xe8\xff\xfe")
    assert info.value.close_code == 1007


def test_reason_length_limit():
    assert len(build_close_payload(1000, "r" * MAX_CLOSE_REASON)) == 125
    with pytest.raises(LocalProtocolError):
        build_close_payload(1000, "r" * (MAX_CLOSE_REASON + 1))


@given(st.text(max_size=200))
def test_truncated_reason_always_fits_and_is_a_prefix(reason: str):
    cut = truncate_reason(reason)
    assert reason.startswith(cut)
    assert len(cut.encode()) <= MAX_CLOSE_REASON
    build_close_payload(1000, cut)
