"""The C hot path and the pure-Python reference give identical events, errors and bytes.

Every run is done twice, once per path (``http11.use_accelerator``), and compared:
each event ``next_event`` returns, each error (type, message and the HTTP status it
carries), and each byte ``send`` returns (the ``Date`` value masked, as the second may
turn between the runs). Inputs: the whole request corpus (valid, invalid and the
smuggling cases) in every split mode, hypothesis-generated request heads with
generated responses (server role), and generated response heads (client role).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bench.servers.protocol import (
    END_OF_MESSAGE,
    NEED_DATA,
    PAUSED,
    Connection,
    ConnectionClosed,
    Data,
    Limits,
    LocalProtocolError,
    RemoteProtocolError,
    Request,
    Response,
    Role,
    State,
    _accel,
    _fields,
    _heads,
    http11,
)
from tests.servers.protocol.test_http11_corpus import limits_of, load, pieces

if _accel.available():
    from bench.servers.protocol import _hot  # type: ignore[attr-defined]

pytestmark = pytest.mark.skipif(
    not _accel.available(),
    reason="the C accelerator (servers/protocol/_hot.c) is not built; only the pure path exists",
)

_DATE = re.compile(rb"date: [^\r]*")
Trace = list[Any]


@contextmanager
def path(fast: bool) -> Iterator[None]:
    http11.use_accelerator(fast)
    try:
        yield
    finally:
        http11.use_accelerator(None)


def both(run: Callable[..., Trace], *args: Any) -> Trace:
    """``run(*args)`` on the pure path and on the C path; asserts equal traces."""
    with path(False):
        pure = run(*args)
    with path(True):
        fast = run(*args)
    assert fast == pure
    return pure


def outcome(function: Callable[..., Any], *args: Any) -> Any:
    """A function's result, or its error as (type, message, status)."""
    try:
        return ("ok", function(*args))
    except (LocalProtocolError, RemoteProtocolError) as exc:
        return (type(exc).__name__, str(exc), exc.status_code)


def _send(conn: Connection, event: Any, trace: Trace) -> bool:
    try:
        trace.append(("sent", _DATE.sub(b"date: X", conn.send(event))))
    except (LocalProtocolError, TypeError, ValueError) as exc:  # a malformed pair: ValueError
        trace.append((type(exc).__name__, str(exc)))
        return False
    return True


def _answer(conn: Connection, headers: list[Any], status: int, trace: Trace) -> None:
    if not _send(conn, Response(status, headers), trace):
        _send(conn, Response(500, [(b"content-length", b"0")]), trace)
    elif conn.our_state is State.SEND_BODY:
        _send(conn, Data(b"hello"), trace)
    if conn.our_state is State.SEND_BODY:
        _send(conn, END_OF_MESSAGE, trace)


def server_trace(
    feeds: list[bytes], limits: Limits, answers: list[tuple[int, list[Any]]] | None = None
) -> Trace:
    """Drive a server Connection the way a worker does; record everything."""
    conn = Connection(Role.SERVER, limits=limits)
    trace: Trace = []
    answered = 0
    for piece in [*feeds, b""]:
        conn.receive_data(piece)
        while True:
            try:
                event = conn.next_event()
            except RemoteProtocolError as exc:
                trace.append(("error", str(exc), exc.status_code))
                _send(conn, Response(exc.status_code, [(b"content-length", b"0")]), trace)
                return trace
            trace.append(event)
            if event is NEED_DATA or isinstance(event, ConnectionClosed):
                break
            if event is PAUSED:
                if conn.their_state is not State.DONE or conn.our_state is not State.IDLE:
                    return trace  # switched protocols, or nothing left to answer
                status, headers = (200, [(b"content-length", b"0")])
                if answers:
                    status, headers = answers[answered % len(answers)]
                answered += 1
                _answer(conn, headers, status, trace)
                trace.append((conn.our_state, conn.their_state, conn.keep_alive))
        if isinstance(trace[-1], ConnectionClosed):
            break
    return trace


@pytest.mark.parametrize(("raw", "expected", "mode"), load("valid") + load("invalid"))
def test_corpus_same_on_both_paths(raw: bytes, expected: dict[str, Any], mode: str) -> None:
    trace = both(server_trace, pieces(raw, mode, expected["why"]), limits_of(expected))
    if "status" in expected:  # an invalid case: the reference's status, on both paths
        assert trace[-2][0] == "error" and trace[-2][2] == expected["status"]
    else:
        assert any(isinstance(event, Request) for event in trace)


# -- generated heads ---------------------------------------------------------------

_TOKENS = [b"GET", b"POST", b"HEAD", b"CONNECT", b"OPTIONS", b"get", b"G\x00T", b"", b"G T"]
_TARGETS = [b"/", b"/a?b=c", b"/%41", b"/%4", b"/%zz", b"/#f", b"*", b"http://h/x", b"h:80", b"/\xff", b"a", b""]  # fmt: skip
_VERSIONS = [b"HTTP/1.1", b"HTTP/1.0", b"HTTP/1.2", b"HTTP/2.0", b"http/1.1", b"HTTP/1.1 "]
_NAMES = [b"Host", b"host", b"Content-Length", b"Transfer-Encoding", b"Connection", b"Expect", b"Upgrade", b"X-A", b"x a", b" X", b"", b"X\x7f"]  # fmt: skip
_VALUES = [b"example.com", b"", b" 5 ", b"0", b"chunked", b"close", b"keep-alive", b"upgrade", b"100-continue", b"a\tb", b"x \t", b"\t", b"\xff", b"[::1]", b"a b"]  # fmt: skip
_SEPARATORS = [b": ", b":", b" : ", b":\t", b""]
_EOLS = [b"\r\n"] * 8 + [b"\n", b"\r", b"\r\r\n", b"\x00\r\n"]

_wild_line = st.builds(
    lambda n, s, v, e: n + s + v + e,
    st.sampled_from(_NAMES) | st.binary(max_size=6),
    st.sampled_from(_SEPARATORS),
    st.sampled_from(_VALUES) | st.binary(max_size=8),
    st.sampled_from(_EOLS),
)
_good_line = st.builds(
    lambda n, s, v: n + s + v + b"\r\n",
    st.sampled_from([b"X-A", b"x-b", b"Accept", b"User-Agent", *_NAMES[2:7]]),
    st.sampled_from([b": ", b":", b":\t"]),
    st.sampled_from(_VALUES),
)
#: Well-formed lines with at most one wild one among them, so that most heads get
#: far enough for every later check (and the answers) to be compared too.
_lines = st.builds(
    lambda good, wild, at: [*good[:at], *([wild] if wild else []), *good[at:]],
    st.lists(_good_line, max_size=5),
    st.none() | _wild_line,
    st.integers(0, 5),
)
_line = _wild_line
_start_line = st.builds(
    lambda m, t, v, e: m + b" " + t + b" " + v + e,
    st.sampled_from(_TOKENS),
    st.sampled_from(_TARGETS) | st.binary(max_size=10).map(lambda b: b"/" + b),
    st.sampled_from(_VERSIONS),
    st.sampled_from(_EOLS),
)
#: Half the heads start validly with a Host, so generated fields and answers are reached.
_request_head = st.builds(
    lambda start, host, lines, body: start + host + b"".join(lines) + b"\r\n" + body,
    st.sampled_from([b"GET / HTTP/1.1\r\n", b"POST /a?b HTTP/1.1\r\n", b"HEAD / HTTP/1.0\r\n"])
    | st.sampled_from([b"GET /%41/b HTTP/1.1\r\n", b"OPTIONS * HTTP/1.1\r\n"])
    | _start_line,
    st.sampled_from([b"Host: h\r\n", b"host:example.com\r\n", b"Host: h\r\n", b""]),
    _lines,
    st.sampled_from([b"", b"hello", b"5\r\nhello\r\n0\r\n\r\n", b"GET / HTTP/1.1\r\n\r\n"]),
)
_OUT_NAMES = [b"content-length", b"Content-Length", b"date", b"Server", b"connection", b"Transfer-Encoding", b"x-a", b"bad name", b"", b"X\x00", b"x:y"]  # fmt: skip
_OUT_VALUES = [b"0", b"5", b"007", b"-1", b"abc", b"close", b"chunked", b"gzip, chunked", b"a\r\nb", b"a\nb", b"a\rb", b"a\x00", b"", b" x ", b"\xff"]  # fmt: skip
_pair = st.tuples(st.sampled_from(_OUT_NAMES), st.sampled_from(_OUT_VALUES))
_odd_pair = st.sampled_from([[b"x-a", b"1"], (b"x-a",), (b"x-a", "str"), ("x-a", b"1")])
_answer_strategy = st.tuples(
    st.sampled_from([200, 201, 204, 304, 404, 999]),
    st.lists(_pair | _odd_pair, max_size=5) | st.lists(_pair, max_size=5).map(tuple),
)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    head=_request_head,
    answers=st.lists(_answer_strategy, min_size=1, max_size=3),
    limit=st.sampled_from([None, 2, 20]),
)
def test_generated_requests_same_on_both_paths(
    head: bytes, answers: list[tuple[int, Any]], limit: int | None
) -> None:
    limits = Limits()
    if limit is not None:  # small limits, so generated heads reach them too
        limits = Limits(max_header_count=limit // 2 + 1, max_header_field_size=limit)
    both(server_trace, [head], limits, answers)
    both(server_trace, [head[i : i + 1] for i in range(len(head))], limits, answers[:1])


def client_trace(raw: bytes, method: bytes) -> Trace:
    """Send one request from a client Connection, then feed ``raw`` as the answer."""
    conn = Connection(Role.CLIENT)
    trace: Trace = []
    _send(conn, Request(method, b"/", [(b"host", b"h")]), trace)
    _send(conn, END_OF_MESSAGE, trace)
    for piece in (raw, b""):
        conn.receive_data(piece)
        while True:
            try:
                event = conn.next_event()
            except RemoteProtocolError as exc:
                trace.append(("error", str(exc), exc.status_code))
                return trace
            trace.append(event)
            if event is NEED_DATA or event is PAUSED or isinstance(event, ConnectionClosed):
                break
    trace.append((conn.our_state, conn.their_state, conn.keep_alive))
    return trace


_STATUS_LINES = [b"HTTP/1.1 200 OK", b"HTTP/1.0 200 OK", b"HTTP/1.1 204 ", b"HTTP/1.1 100 Continue", b"HTTP/1.1 101 x", b"HTTP/2.0 200 OK", b"HTTP/1.1 99 x", b"HTTP/1.1 200"]  # fmt: skip
_status_line = st.sampled_from(_STATUS_LINES)
_response_head = st.builds(
    lambda s, e, lines, body: s + e + b"".join(lines) + b"\r\n" + body,
    _status_line,
    st.sampled_from(_EOLS),
    st.lists(_line, max_size=6),
    st.sampled_from([b"", b"hello", b"5\r\nhello\r\n0\r\n\r\n"]),
)


@settings(max_examples=300, deadline=None)
@given(raw=_response_head, method=st.sampled_from([b"GET", b"HEAD"]))
def test_generated_responses_same_on_both_paths(raw: bytes, method: bytes) -> None:
    both(client_trace, raw, method)


# -- the functions one by one, on arbitrary bytes -----------------------------------------


def _functions(raw: bytes, lines: list[bytes]) -> Trace:
    return [
        outcome(http11._split_lines, raw),
        outcome(http11._parse_request_line, raw),
        outcome(http11._parse_fields, lines, Limits(max_header_count=3, max_header_field_size=12)),
    ]


@settings(max_examples=500, deadline=None)
@given(
    raw=st.binary(max_size=40) | _request_head,
    lines=st.lists(
        st.builds(lambda n, v: n + b":" + v, st.sampled_from(_NAMES), st.binary(max_size=6)),
        max_size=4,
    )
    | st.lists(st.binary(max_size=12), max_size=4),
)
def test_functions_same_on_both_paths(raw: bytes, lines: list[bytes]) -> None:
    both(_functions, raw, lines)


def reference_head(raw: bytes, limits: Limits) -> Any:
    """What the pure path's head cutting and parsing give ``raw``: the C request_head's shape."""
    with path(False):
        conn = Connection(Role.SERVER, limits=limits)
        conn.receive_data(raw)
        lines = conn._take_head()
        if lines is None:
            return None
        method, target, version = _heads.parse_request_line(lines[0])
        headers, special = _fields.parse_fields(lines[1:], limits)
        return (len(raw) - conn.buffered, method, target, version, headers, special)


_TINY = Limits(
    max_request_line=24, max_header_count=3, max_header_field_size=16, max_header_bytes=40
)


@settings(max_examples=800, deadline=None)
@given(
    raw=_request_head
    | st.binary(max_size=60)
    | st.sampled_from([b"\r\n", b"\r\n\r\n"]).flatmap(
        lambda lead: _request_head.map(lambda head: lead + head)
    ),
    limits=st.sampled_from([Limits(), _TINY]),
)
def test_request_head_accepts_only_what_the_reference_parses_alike(
    raw: bytes, limits: Limits
) -> None:
    """C request_head: None, or exactly the reference's result (which must not raise)."""
    fast = _hot.request_head(bytearray(raw), _accel.head_limits(limits))
    if fast is not None:
        assert outcome(reference_head, raw, limits) == ("ok", fast)


def test_request_head_takes_the_common_head_and_leaves_the_rest() -> None:
    raw = b"GET /a?b=1 HTTP/1.1\r\nHost: h\r\nUser-Agent:  x \r\nConnection: close\r\n\r\nGET"
    buf = bytearray(raw)
    found = _hot.request_head(buf, _accel.head_limits(Limits()))
    assert found is not None and found == reference_head(raw, Limits())
    consumed, method, target, version, headers, special = found
    assert raw[consumed:] == b"GET" and bytes(buf) == raw  # the caller cuts the buffer
    assert (method, target, version) == (b"GET", b"/a?b=1", b"1.1")
    assert headers == [(b"host", b"h"), (b"user-agent", b"x"), (b"connection", b"close")]
    assert special == {b"host": [b"h"], b"connection": [b"close"]}
    # what it leaves to the reference: incomplete, leading CRLF, over a limit, odd forms
    for refused in (
        b"GET / HTTP/1.1\r\nHost: h\r\n",
        b"\r\nGET / HTTP/1.1\r\n\r\n",
        b"OPTIONS * HTTP/1.1\r\nHost: h\r\n\r\n",
        b"GET / HTTP/1.1\r\n x\r\n\r\n",
    ):
        assert _hot.request_head(bytearray(refused), _accel.head_limits(Limits())) is None
    long_line = b"GET /" + b"a" * 30 + b" HTTP/1.1\r\nHost: h\r\n\r\n"
    assert _hot.request_head(bytearray(long_line), _accel.head_limits(_TINY)) is None


def response_trace(status: int, headers: Any, version: bytes) -> Trace:
    """One response head (and a body) sent for a well-formed request."""
    conn = Connection(Role.SERVER)
    conn.receive_data(b"GET / HTTP/%b\r\nHost: h\r\n\r\n" % version)
    trace: Trace = [conn.next_event(), conn.next_event()]
    _answer(conn, headers, status, trace)
    trace.append((conn.our_state, conn.keep_alive))
    return trace


@settings(max_examples=500, deadline=None)
@given(answer=_answer_strategy, version=st.sampled_from([b"1.1", b"1.0"]))
def test_generated_response_heads_same_on_both_paths(
    answer: tuple[int, Any], version: bytes
) -> None:
    both(response_trace, *answer, version)


def test_the_paths_are_really_different_code() -> None:
    """The comparison above compares two implementations, not one with itself."""
    with path(True):
        assert http11._split_lines is not _fields.split_lines
        assert http11._parse_request_line is not _heads.parse_request_line
        assert http11._request_head is not None
    with path(False):
        assert http11._request_head is None
        assert http11._split_lines is _fields.split_lines
        assert http11._parse_fields is _fields.parse_fields
