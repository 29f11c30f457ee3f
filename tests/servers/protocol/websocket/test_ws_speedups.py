"""The C masking agrees with the pure-Python one on every length and alignment."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bench.servers.protocol.websocket.frames import apply_mask_python

speedups = pytest.importorskip(
    "bench.servers.protocol.websocket._speedups", reason="C extension not built on this machine"
)


@settings(max_examples=300, deadline=None)
@given(data=st.binary(max_size=5000), mask=st.binary(min_size=4, max_size=4))
def test_c_and_python_masking_agree(data: bytes, mask: bytes) -> None:
    assert speedups.apply_mask(data, mask) == apply_mask_python(data, mask)


def test_masking_accepts_any_buffer() -> None:
    data = bytes(range(256)) * 9
    mask = b"\x01\x02\x03\x04"
    expected = apply_mask_python(data, mask)
    assert speedups.apply_mask(bytearray(data), mask) == expected
    assert speedups.apply_mask(memoryview(data)[3:], mask) == apply_mask_python(data[3:], mask)


def test_mask_must_be_four_bytes() -> None:
    with pytest.raises(ValueError):
        speedups.apply_mask(b"abc", b"\x00\x01")
