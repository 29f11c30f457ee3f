"""The C environ (servers/wsgi/_environ.c) and the pure-Python reference give equal environs.

``request_environ`` (C first, the reference for what C refuses) is compared with
``reference_environ`` on hypothesis-generated requests and connection bases: every key,
value and the keys' order. ``try_environ`` (the C path alone) must either refuse
(None) or give exactly the reference's environ; plain requests must be taken by C, and
every documented refusal must refuse.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bench.servers.protocol import Request
from bench.servers.wsgi import environ
from bench.servers.wsgi.environ import environ_base, reference_environ, request_environ

pytestmark = pytest.mark.skipif(
    environ._c_environ is None,
    reason="the C environ (servers/wsgi/_environ.c) is not built; only the reference exists",
)

_BODY = io.BytesIO(b"")


def _base(*, server: bool = True, root: str = "", scheme: str = "http") -> dict[str, Any]:
    return environ_base(
        server=("127.0.0.1", 8000) if server else None,
        client=("10.0.0.1", 51000),
        scheme=scheme,
        root_path=root,
        multithread=True,
        multiprocess=False,
    )


def _request(
    target: bytes,
    headers: list[tuple[bytes, bytes]],
    method: bytes = b"GET",
    version: bytes = b"1.1",
) -> Request:
    return Request(method=method, target=target, http_version=version, headers=headers)


def _items(env: dict[str, Any]) -> list[tuple[str, Any]]:
    return list(env.items())


def _same(request: Request, base: dict[str, Any]) -> None:
    """Both entry points agree with the reference (C may refuse, never differ)."""
    want = _items(reference_environ(request, base, _BODY))
    assert _items(request_environ(request, base, _BODY)) == want
    fast = environ._c_environ.try_environ(request, base, _BODY)
    if fast is not None:
        assert _items(fast) == want


_NAMES = st.sampled_from(
    [
        b"host",
        b"user-agent",
        b"accept",
        b"cookie",
        b"content-type",
        b"content-length",
        b"x-forwarded-for",
        b"x_forwarded_for",
        b"accept-encoding",
        b"x-a",
        b"a_b",
    ]
) | st.binary(min_size=1, max_size=12).map(lambda b: b.lower())
_VALUES = st.binary(max_size=24)
_TARGET_BYTES = st.sampled_from(
    [b"/", b"a", b"%", b"2", b"0", b"?", b"#", b"=", b"&", b"\xe9", b":"]
)
_TARGETS = st.lists(_TARGET_BYTES, max_size=12).map(
    lambda parts: b"/" + b"".join(parts)
) | st.sampled_from([b"*", b"http://example.com/x?y=1", b"http://h?q", b"", b"x/y"])
_METHODS = st.sampled_from([b"GET", b"POST", b"HEAD", b"PURGE", b"get", b"M\xe9"])
_VERSIONS = st.sampled_from([b"1.1", b"1.0", b"2", b"9.9"])


@settings(max_examples=400, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(
    target=_TARGETS,
    headers=st.lists(st.tuples(_NAMES, _VALUES), max_size=8),
    method=_METHODS,
    version=_VERSIONS,
    server=st.booleans(),
    root=st.sampled_from(["", "/app", "/"]),
    scheme=st.sampled_from(["http", "https"]),
)
def test_generated_requests_give_the_references_environ(
    target: bytes,
    headers: list[tuple[bytes, bytes]],
    method: bytes,
    version: bytes,
    server: bool,
    root: str,
    scheme: str,
) -> None:
    request = _request(target, headers, method, version)
    base = _base(server=server, root=root, scheme=scheme)
    _same(request, base)
    _same(request, base)  # again, with every header name in the memo now


def test_a_plain_request_is_taken_by_the_c_path() -> None:
    request = _request(
        b"/search?q=a+b&page=2",
        [
            (b"host", b"example.com"),
            (b"user-agent", b"curl/8"),
            (b"x_spoof", b"1"),
            (b"content-type", b"text/plain"),
            (b"content-length", b"0"),
        ],
    )
    base = _base()
    reference_environ(request, base, _BODY)  # the header names are in the memo now
    fast = environ._c_environ.try_environ(request, base, _BODY)
    assert fast is not None
    assert fast == reference_environ(request, base, _BODY)
    assert fast["PATH_INFO"] == "/search" and fast["QUERY_STRING"] == "q=a+b&page=2"
    assert fast["CONTENT_TYPE"] == "text/plain" and "HTTP_X_SPOOF" not in fast
    assert fast["wsgi.input"] is _BODY and fast["SERVER_PROTOCOL"] == "HTTP/1.1"


@pytest.mark.parametrize(
    ("why", "target", "headers", "base"),
    [
        ("percent in the path", b"/a%20b", [], {}),
        ("a fragment", b"/a#top", [], {}),
        ("absolute-form", b"http://h/a", [], {}),
        ("asterisk-form", b"*", [], {}),
        ("a repeated header", b"/", [(b"accept", b"a"), (b"accept", b"b")], {}),
        ("a root path", b"/app/x", [], {"root": "/app"}),
        ("no server address", b"/", [(b"host", b"h:81")], {"server": False}),
    ],
)
def test_the_c_path_refuses_what_the_reference_handles(
    why: str, target: bytes, headers: list[tuple[bytes, bytes]], base: dict[str, Any]
) -> None:
    request = _request(target, headers)
    entries = _base(**base)
    reference_environ(request, entries, _BODY)
    assert environ._c_environ.try_environ(request, entries, _BODY) is None, why
    _same(request, entries)


def test_a_header_name_not_in_the_memo_goes_to_the_reference_which_learns_it() -> None:
    name = b"x-never-seen-before-by-this-test"
    environ._KEYS.pop(name, None)
    request = _request(b"/", [(name, b"v")])
    base = _base()
    assert environ._c_environ.try_environ(request, base, _BODY) is None
    assert request_environ(request, base, _BODY)["HTTP_X_NEVER_SEEN_BEFORE_BY_THIS_TEST"] == "v"
    assert environ._c_environ.try_environ(request, base, _BODY) is not None


def test_a_request_of_another_shape_is_refused_not_misread() -> None:
    request = _request(b"/", ((b"host", b"h"),))  # type: ignore[arg-type]  # a tuple, not a list
    assert environ._c_environ.try_environ(request, _base(), _BODY) is None
    _same(request, _base())


@contextmanager
def _spied() -> Iterator[list[Request]]:
    calls: list[Request] = []

    def spy(request: Request, base: dict[str, Any], body: Any) -> dict[str, Any]:
        calls.append(request)
        return reference_environ(request, base, body)

    c = environ._c_environ
    c.configure(environ._KEYS, environ._METHODS, environ._PROTOCOLS, spy)
    was_on = c.set_enabled(True)  # also under BENCH_PURE_PROTOCOL=1
    try:
        yield calls
    finally:
        c.configure(environ._KEYS, environ._METHODS, environ._PROTOCOLS, reference_environ)
        c.set_enabled(was_on)


def test_the_switch_to_the_reference_sends_every_request_there() -> None:
    request = _request(b"/", [(b"host", b"h")])
    base = _base()
    reference_environ(request, base, _BODY)
    with _spied() as calls:
        request_environ(request, base, _BODY)
        assert calls == []  # taken by C
        assert environ.use_accelerator(False) is False
        request_environ(request, base, _BODY)
        assert calls == [request]
        assert environ.use_accelerator(None) is True
        request_environ(request, base, _BODY)
        assert calls == [request]
