"""``wsgi.input`` over a pull function: sizes, lines, EOF, draining."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from bench.servers.wsgi.input import RequestBody, RequestBodyError


def puller(*pieces: bytes) -> tuple[Callable[[], bytes], list[int]]:
    """A pull over ``pieces``; the list counts calls made after the end was reported."""
    queue = list(pieces)
    after_end = [0]

    def pull() -> bytes:
        if not queue:
            after_end[0] += 1
            return b""
        return queue.pop(0)

    return pull, after_end


def test_read_with_a_size_returns_at_most_that_and_pulls_only_when_empty() -> None:
    pull, _ = puller(b"hello ", b"world")
    body = RequestBody(pull)
    assert body.read(3) == b"hel"
    assert body.read(10) == b"lo "
    assert body.read(10) == b"world"
    assert body.read(10) == b""
    assert body.consumed == 11


def test_read_all_and_eof_is_sticky() -> None:
    pull, after_end = puller(b"a", b"b", b"c")
    body = RequestBody(pull, prefix=b">")
    assert body.read() == b">abc"
    assert body.complete
    assert body.read() == b""
    assert body.read(5) == b""
    assert after_end == [1]  # the end is asked for once, never past it


def test_readline_spans_pieces_and_honours_a_size() -> None:
    pull, _ = puller(b"first", b" line\nsecond\nthi", b"rd")
    body = RequestBody(pull)
    assert body.readline() == b"first line\n"
    assert body.readline(3) == b"sec"
    assert body.readline() == b"ond\n"
    assert body.readline() == b"third"
    assert body.readline() == b""


def test_iteration_and_readlines() -> None:
    pull, _ = puller(b"a\nb\n", b"c")
    assert list(RequestBody(pull)) == [b"a\n", b"b\n", b"c"]
    pull, _ = puller(b"a\nbb\n", b"ccc\n")
    assert RequestBody(pull).readlines(3) == [b"a\n", b"bb\n"]


def test_readinto() -> None:
    pull, _ = puller(b"abcdef")
    buffer = bytearray(4)
    body = RequestBody(pull)
    assert body.readinto(buffer) == 4
    assert buffer == b"abcd"


def test_drain_discards_the_rest_within_a_limit() -> None:
    pull, _ = puller(b"x" * 10, b"y" * 10)
    body = RequestBody(pull)
    body.read(5)
    assert body.drain(limit=100)
    assert body.complete

    pull, _ = puller(b"x" * 10, b"y" * 10, b"z" * 10)
    assert not RequestBody(pull).drain(limit=15)


def test_pull_errors_reach_the_reader() -> None:
    def pull() -> bytes:
        raise RequestBodyError("connection closed with 5 bytes of body still expected")

    with pytest.raises(RequestBodyError) as info:
        RequestBody(pull).read()
    assert info.value.status_code == 400
    assert isinstance(info.value, OSError)
