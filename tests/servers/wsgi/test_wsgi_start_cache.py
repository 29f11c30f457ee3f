"""CachedStartResponse: same results and errors as StartResponse, checks done once per head."""

from __future__ import annotations

import sys
from typing import Any

import pytest

from bench.servers.wsgi import start_cache
from bench.servers.wsgi.environ import StartResponse, WSGIResponseError
from bench.servers.wsgi.start_cache import CachedStartResponse

HEAD = ("200 OK", [("Content-Type", "text/plain"), ("Content-Length", "5")])


def recorded(sr: StartResponse) -> tuple[Any, ...]:
    return sr.status_code, sr.reason, sr.headers, sr.wants_close


def test_a_remembered_head_gives_the_same_result_as_a_checked_one() -> None:
    memo: dict[Any, Any] = {}
    first = CachedStartResponse(None, memo)
    first(HEAD[0], list(HEAD[1]))
    second = CachedStartResponse(None, memo)
    second(HEAD[0], list(HEAD[1]))
    plain = StartResponse(None)
    plain(HEAD[0], list(HEAD[1]))
    assert recorded(first) == recorded(second) == recorded(plain)
    assert len(memo) == 1
    # Each request gets its own header list (the server appends to it).
    second.headers.append((b"connection", b"close"))
    third = CachedStartResponse(None, memo)
    third(HEAD[0], list(HEAD[1]))
    assert third.headers == plain.headers


def test_connection_close_is_remembered_too() -> None:
    memo: dict[Any, Any] = {}
    for _ in range(2):
        sr = CachedStartResponse(None, memo)
        sr("200 OK", [("Connection", "close")])
        assert sr.wants_close and sr.headers == []


@pytest.mark.parametrize(
    ("status", "headers"),
    [
        ("200", []),
        (b"200 OK", []),
        ("200 OK", [("X", "a\r\nb")]),
        ("200 OK", [["X", "list, not tuple"]]),
        ("200 OK", [("X", 1)]),
        ("200 OK", ("not", "a list")),
    ],
)
def test_invalid_heads_fail_every_time(status: Any, headers: Any) -> None:
    memo: dict[Any, Any] = {}
    for _ in range(2):
        with pytest.raises(WSGIResponseError):
            CachedStartResponse(None, memo)(status, headers)
    assert memo == {}


def test_a_second_call_still_needs_exc_info() -> None:
    memo: dict[Any, Any] = {}
    CachedStartResponse(None, memo)(*HEAD)
    sr = CachedStartResponse(None, memo)
    sr(*HEAD)
    with pytest.raises(WSGIResponseError):
        sr(*HEAD)
    try:
        raise ValueError("late")
    except ValueError:
        sr("500 Internal Server Error", [], sys.exc_info())
    assert sr.status_code == 500


def test_the_memo_is_bounded() -> None:
    memo: dict[Any, Any] = {}
    for i in range(start_cache.MAX_HEADS + 10):
        CachedStartResponse(None, memo)("200 OK", [("X-N", str(i))])
    assert len(memo) <= start_cache.MAX_HEADS
