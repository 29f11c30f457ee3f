"""Client and server roles against each other, wired through memory (property-based).

The client role serializes arbitrary valid requests (methods, targets, header sets,
bodies with Content-Length or chunked, trailers) and the server role, fed the bytes in
random pieces, must parse back exactly those events; then the server serializes an
arbitrary response and the client must parse it back. Several cycles run on one
connection pair, so keep-alive and cycle restarts are exercised in both directions.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from http import HTTPStatus

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bench.servers.protocol import (
    NEED_DATA,
    PAUSED,
    Connection,
    ConnectionClosed,
    Data,
    EndOfMessage,
    InformationalResponse,
    Request,
    Response,
    Role,
    State,
)

TCHAR = "!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
#: Names whose meaning the connection itself decides; generated separately.
INTERPRETED = {
    b"host",
    b"content-length",
    b"transfer-encoding",
    b"connection",
    b"upgrade",
    b"expect",
    b"date",
    b"server",
    b"te",
    b"trailer",
}

tokens = st.text(TCHAR, min_size=1, max_size=12).map(str.encode)
field_names = tokens.filter(lambda n: n.lower() not in INTERPRETED)
# field-value: visible bytes and obs-text, inner SP/HTAB, no leading/trailing whitespace.
_vchar = st.sampled_from([bytes([b]) for b in [*range(0x21, 0x7F), *range(0x80, 0x100)]])
_inner = st.lists(st.one_of(_vchar, st.sampled_from([b" ", b"\t"])), max_size=20).map(b"".join)
field_values = st.one_of(
    st.just(b""),
    _vchar,
    st.builds(lambda first, inner, last: first + inner + last, _vchar, _inner, _vchar),
)
field_lists = st.lists(st.tuples(field_names, field_values), max_size=6)
# CONNECT needs authority-form and opens a tunnel: not a round trip of HTTP messages.
methods = st.one_of(
    st.sampled_from([b"GET", b"HEAD", b"POST", b"PUT", b"DELETE", b"PATCH"]), tokens
).filter(lambda m: m != b"CONNECT")
_pchar = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._~!$&'()*+,;=:@/"
# "%" only as pct-encoded (RFC 3986 §2.1): a bare "%" is refused.
_pct = st.integers(0, 255).map(lambda n: f"%{n:02X}")


def _uri_text(chars: str, max_size: int) -> st.SearchStrategy[bytes]:
    pieces = st.lists(st.one_of(st.sampled_from(chars), _pct), max_size=max_size)
    return pieces.map(lambda parts: "".join(parts).encode())


targets = st.builds(
    lambda path, query: b"/" + path + (b"?" + query if query is not None else b""),
    _uri_text(_pchar, 30),
    st.one_of(st.none(), _uri_text(_pchar + "?", 20)),
)
bodies = st.lists(st.binary(min_size=1, max_size=40), max_size=4)
framings = st.sampled_from(["none", "length", "chunked"])


@dataclass
class Message:
    """One generated message: head, body pieces, trailers, and how it is framed."""

    head: Request | Response
    body: list[bytes]
    trailers: list[tuple[bytes, bytes]]


@st.composite
def requests(draw: st.DrawFn) -> Message:
    framing = draw(framings)
    body = draw(bodies) if framing != "none" else []
    headers = [(b"Host", b"example.com"), *draw(field_lists)]
    trailers: list[tuple[bytes, bytes]] = []
    if framing == "length":
        headers.append((b"Content-Length", b"%d" % sum(map(len, body))))
    elif framing == "chunked":
        headers.append((b"Transfer-Encoding", b"chunked"))
        trailers = draw(field_lists)
    order = draw(st.permutations(range(len(headers))))
    head = Request(draw(methods), draw(targets), [headers[i] for i in order])
    return Message(head, body, trailers)


@st.composite
def responses(draw: st.DrawFn, method: bytes) -> Message:
    status = draw(st.sampled_from([200, 201, 204, 301, 304, 404, 500, 599]))
    framing = draw(st.sampled_from(["length", "chunked"]))
    no_body = status in (204, 304) or method == b"HEAD"
    body = [] if no_body else draw(bodies)
    headers = draw(field_lists)
    trailers: list[tuple[bytes, bytes]] = []
    if framing == "length" and status != 204:
        headers.append((b"Content-Length", b"%d" % sum(map(len, body))))
    elif framing == "chunked" and not no_body:
        trailers = draw(field_lists)
    reason = draw(st.sampled_from([b"", b"Fine", b"Not Quite Right"]))
    return Message(Response(status, headers, reason=reason), body, trailers)


def lower(headers: list[tuple[bytes, bytes]]) -> list[tuple[bytes, bytes]]:
    return [(n.lower(), v) for n, v in headers]


class Pair:
    """A client and a server Connection connected through memory."""

    def __init__(self) -> None:
        self.client = Connection(Role.CLIENT)
        self.server = Connection(Role.SERVER, server_header=None)

    def send(self, sender: Connection, message: Message) -> bytes:
        out = sender.send(message.head)
        for piece in message.body:
            out += sender.send(Data(piece))
        return out + sender.send(EndOfMessage(headers=message.trailers))

    @staticmethod
    def deliver(receiver: Connection, data: bytes, cuts: list[int]) -> list[object]:
        """Feed ``data`` cut at ``cuts``; the events, Data pieces merged into one."""
        events: list[object] = []
        body = b""
        points = sorted({c % (len(data) + 1) for c in cuts} | {0, len(data)})
        for start, end in itertools.pairwise(points):
            receiver.receive_data(data[start:end])
            while True:
                event = receiver.next_event()
                if event is NEED_DATA or event is PAUSED:
                    break
                if isinstance(event, Data):
                    body += event.data
                    continue
                if isinstance(event, EndOfMessage) and body:
                    events.append(Data(body))
                events.append(event)
        return events


def body_events(message: Message) -> list[object]:
    """What a receiver sees after the head: the body (merged) and the end with trailers."""
    body = b"".join(message.body)
    return [*([Data(body)] if body else []), EndOfMessage(headers=lower(message.trailers))]


def as_parsed(request: Request) -> Request:
    return Request(request.method, request.target, lower(request.headers), b"1.1")


def plain(headers: list[tuple[bytes, bytes]]) -> list[tuple[bytes, bytes]]:
    """The fields the framing does not decide about, lower-cased, in order."""
    return [h for h in lower(headers) if h[0] not in INTERPRETED]


def phrase(status: int) -> bytes:
    try:
        return HTTPStatus(status).phrase.encode()
    except ValueError:
        return b""


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    cycles=st.lists(
        st.tuples(requests(), st.data(), st.lists(st.integers(0, 10_000), max_size=6)),
        min_size=1,
        max_size=3,
    )
)
def test_requests_and_responses_survive_a_round_trip(
    cycles: list[tuple[Message, st.DataObject, list[int]]],
) -> None:
    pair = Pair()
    for request, data, cuts in cycles:
        wire = pair.send(pair.client, request)
        got = pair.deliver(pair.server, wire, cuts)
        assert isinstance(request.head, Request)
        assert got == [as_parsed(request.head), *body_events(request)]
        assert pair.server.their_state is State.DONE

        response = data.draw(responses(request.head.method))
        head = response.head
        assert isinstance(head, Response)
        wire = pair.send(pair.server, response)
        got = pair.deliver(pair.client, wire, cuts)
        parsed = got[0]
        assert isinstance(parsed, Response)
        assert parsed.status_code == head.status_code
        assert parsed.reason == (head.reason or phrase(head.status_code))
        assert plain(parsed.headers) == plain(head.headers)
        assert got[1:] == body_events(response)
        assert (pair.client.our_state, pair.client.their_state) == (State.IDLE, State.IDLE)
        assert (pair.server.our_state, pair.server.their_state) == (State.IDLE, State.IDLE)
    pair.client.send(ConnectionClosed())
    pair.server.receive_data(b"")
    assert isinstance(pair.server.next_event(), ConnectionClosed)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    request=requests(),
    frames=st.binary(max_size=40),
    cuts=st.lists(st.integers(0, 10_000), max_size=4),
)
def test_upgrade_hands_the_same_bytes_to_both_sides(
    request: Message, frames: bytes, cuts: list[int]
) -> None:
    pair = Pair()
    head = request.head
    assert isinstance(head, Request)
    upgrade = Message(
        Request(
            b"GET",
            head.target,
            [*head.headers, (b"Connection", b"Upgrade"), (b"Upgrade", b"websocket")],
        ),
        request.body,
        request.trailers,
    )
    wire = pair.send(pair.client, upgrade)
    got = pair.deliver(pair.server, wire + frames, cuts)
    assert got == [as_parsed(upgrade.head), *body_events(upgrade)]  # type: ignore[arg-type]
    switch = pair.server.send(InformationalResponse(101, [(b"upgrade", b"websocket")]))
    assert pair.server.trailing_data == (frames, False)
    got = pair.deliver(pair.client, switch + frames[::-1], cuts)
    assert got == [
        InformationalResponse(101, [(b"upgrade", b"websocket")], b"1.1", b"Switching Protocols")
    ]
    assert pair.client.our_state is State.SWITCHED_PROTOCOL
    assert pair.client.trailing_data == (frames[::-1], False)
