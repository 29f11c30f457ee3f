"""The standard library's ``wsgiref.validate`` around probe apps: no assertion, no warning.

The validator checks both sides of PEP 3333: the environ and ``wsgi.input`` /
``wsgi.errors`` the server provides, how ``start_response`` and ``write`` behave, and
that the server calls ``close()`` on the iterable (its wrapper asserts that when it
is garbage collected).
"""

from __future__ import annotations

import gc
import sys
import warnings
from collections.abc import Callable, Iterator
from typing import Any
from wsgiref.validate import WSGIWarning, validator

import pytest
from wsgi_harness import exchange, parse_replies, request_bytes


def hello(environ: dict[str, Any], start_response: Callable[..., Any]) -> list[bytes]:
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [b"hello"]


def reader(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterator[bytes]:
    stream = environ["wsgi.input"]
    first = stream.read(2)
    line = stream.readline()
    rest = stream.readlines()
    start_response("200 OK", [("Content-Type", "text/plain")])
    yield first
    yield line
    yield from rest


def writer(environ: dict[str, Any], start_response: Callable[..., Any]) -> list[bytes]:
    write = start_response("200 OK", [("Content-Type", "text/plain")])
    write(b"by write, ")
    return [b"then by return"]


def files(environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
    start_response("200 OK", [("Content-Type", "text/plain")])
    return environ["wsgi.file_wrapper"](open(__file__, "rb"), 1024)


def failing(environ: dict[str, Any], start_response: Callable[..., Any]) -> list[bytes]:
    start_response("200 OK", [("Content-Type", "text/plain")])
    try:
        raise ValueError("the app noticed a problem before any body")
    except ValueError:
        start_response("503 Service Unavailable", [("Content-Type", "text/plain")], sys.exc_info())
    return [b"try later"]


def empty(environ: dict[str, Any], start_response: Callable[..., Any]) -> list[bytes]:
    start_response("204 No Content", [])
    return []


CASES = [
    (hello, request_bytes(), 200, b"hello"),
    (hello, request_bytes("HEAD"), 200, b""),
    (
        reader,
        request_bytes("POST", "/", body=b"abcdef\nline 2\nline 3"),
        200,
        b"abcdef\nline 2\nline 3",
    ),
    (
        reader,
        request_bytes("PUT", "/", [("Transfer-Encoding", "chunked")])
        + b"3\r\nab\n\r\n2\r\ncd\r\n0\r\n\r\n",
        200,
        b"ab\ncd",
    ),
    (writer, request_bytes(), 200, b"by write, then by return"),
    (files, request_bytes(), 200, open(__file__, "rb").read()),
    (failing, request_bytes(), 503, b"try later"),
    (empty, request_bytes("DELETE", "/x?y=1"), 204, b""),
]


@pytest.mark.parametrize(
    ("app", "raw", "status", "body"), CASES, ids=lambda c: getattr(c, "__name__", None)
)
def test_validator_finds_nothing_to_complain_about(
    app, raw: bytes, status: int, body: bytes
) -> None:
    gc.collect()  # garbage of earlier tests must not be blamed on this one
    unraisable: list[str] = []
    previous_hook = sys.unraisablehook

    def hook(info: Any) -> None:
        if isinstance(info.exc_value, AssertionError):  # the validator's own complaints
            unraisable.append(f"{info.exc_value} ({info.object!r})")
        else:
            previous_hook(info)

    sys.unraisablehook = hook
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", WSGIWarning)
            data, log = exchange(validator(app), raw, raw)
            gc.collect()
    finally:
        sys.unraisablehook = previous_hook
    assert log == ""
    assert unraisable == []
    method = raw.split(b" ", 1)[0].decode()
    for reply in parse_replies(data, [method, method]):
        assert reply.status == status
        assert reply.body == body
