"""The eventloop server's WebSockets, end to end: a real server process, the websockets client.

Broken input that the websockets client will not produce is written on a raw socket
(frames from our codec); every answer is read back and checked.
"""

from __future__ import annotations

import asyncio
import signal
import socket
from collections.abc import Iterator

import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed, ConnectionClosedError, InvalidStatus
from ws_serverkit import Served, raw_upgrade, read_until_closed, served

from bench.servers.protocol import END_OF_MESSAGE, Connection, InformationalResponse, Response, Role
from bench.servers.protocol.events import Request
from bench.servers.protocol.websocket import (
    ClientHandshake,
    CloseConnection,
    Ping,
    TextMessage,
    WSConnection,
)
from bench.servers.protocol.websocket.frames import Opcode, serialize_frame

MASK = b"\x0f\x1e\x2d\x3c"


@pytest.fixture(scope="module")
def echo() -> Iterator[Served]:
    with served("ws_echo", "--ws-max-size", "65536") as server:
        yield server


@pytest.fixture(scope="module")
def apps() -> Iterator[Served]:
    with served("ws_test_apps:app", "--interface", "asgi") as server:
        yield server


def run(coro):
    return asyncio.run(asyncio.wait_for(coro, 20))


def close_frames(data: bytes) -> list[CloseConnection]:
    """Parse what the server wrote after the 101 as a client; return the Close events."""
    ws = WSConnection(Role.CLIENT, max_message_size=None)
    ws.receive_data(data)
    return [e for e in ws.events() if isinstance(e, CloseConnection)]


def test_echo_text_bytes_fragments_and_ping(echo: Served):
    async def main() -> None:
        async with connect(echo.url + "/any/path") as ws:
            await ws.send("héllo")
            assert await ws.recv() == "héllo"
            await ws.send(b"\x00\xff" * 10000)
            assert await ws.recv() == b"\x00\xff" * 10000
            await ws.send(["frag", "men", "ted"])
            assert await ws.recv() == "fragmented"
            await ws.send([b"a", b"b"])
            assert await ws.recv() == b"ab"
            latency = await (await ws.ping(b"are you there"))
            assert latency >= 0
            for i in range(100):
                await ws.send(str(i))
            assert [await ws.recv() for _ in range(100)] == [str(i) for i in range(100)]

    run(main())


def test_client_close_code_is_echoed(echo: Served):
    async def main() -> None:
        ws = await connect(echo.url)
        await ws.close(4000, "bye")
        assert ws.protocol.close_rcvd is not None and ws.protocol.close_rcvd.code == 4000

    run(main())


@pytest.mark.parametrize(
    ("offered", "chosen"), [(["nope", "echo"], "echo"), (["nope"], None), (None, None)]
)
def test_subprotocol_negotiation(echo: Served, offered, chosen):
    async def main() -> None:
        async with connect(echo.url, subprotocols=offered) as ws:
            assert ws.subprotocol == chosen

    run(main())


def test_permessage_deflate_is_negotiated_and_works(echo: Served):
    async def main() -> None:
        async with connect(echo.url) as ws:
            assert ws.response.headers["Sec-WebSocket-Extensions"].startswith("permessage-deflate")
            text = "compress me " * 2000
            await ws.send(text)
            assert await ws.recv() == text
        async with connect(echo.url, compression=None) as ws:
            assert "Sec-WebSocket-Extensions" not in ws.response.headers
            await ws.send("plain")
            assert await ws.recv() == "plain"

    run(main())


def test_deflate_can_be_turned_off():
    async def main(url: str) -> None:
        async with connect(url) as ws:
            assert "Sec-WebSocket-Extensions" not in ws.response.headers

    with served("ws_echo", "--ws-per-message-deflate", "false") as server:
        run(main(server.url))


def test_message_over_ws_max_size_closes_1009(echo: Served):
    async def main() -> None:
        async with connect(echo.url, max_size=None) as ws:
            await ws.send(b"x" * 65537)
            with pytest.raises(ConnectionClosedError) as info:
                await ws.recv()
            assert info.value.rcvd is not None and info.value.rcvd.code == 1009

    run(main())


@pytest.mark.parametrize(
    ("frame", "code"),
    [
        (serialize_frame(Opcode.TEXT, b"bad \xed\xa0\x80 utf-8", mask=MASK), 1007),
        (serialize_frame(Opcode.TEXT, b"unmasked"), 1002),
        (serialize_frame(0x5, b"reserved opcode", mask=MASK), 1002),
        (serialize_frame(Opcode.TEXT, b"rsv2", rsv2=True, mask=MASK), 1002),
        (serialize_frame(Opcode.PING, b"p" * 126, mask=MASK), 1002),
        (serialize_frame(Opcode.CONTINUATION, b"orphan", mask=MASK), 1002),
        (serialize_frame(Opcode.CLOSE, (1005).to_bytes(2, "big"), mask=MASK), 1002),
    ],
    ids=["utf8", "unmasked", "opcode", "rsv", "long-ping", "orphan", "close-1005"],
)
def test_bad_input_gets_its_close_code_and_others_are_unaffected(
    echo: Served, frame: bytes, code: int
):
    async def main() -> None:
        async with connect(echo.url) as bystander:
            await bystander.send("before")
            assert await bystander.recv() == "before"
            sock, head = await asyncio.to_thread(raw_upgrade, echo.host, echo.port)
            try:
                assert head.startswith(b"HTTP/1.1 101 ")
                sock.sendall(frame)
                rest = await asyncio.to_thread(read_until_closed, sock)
            finally:
                sock.close()
            [close] = close_frames(head.partition(b"\r\n\r\n")[2] + rest)
            assert close.code == code
            await bystander.send("after")
            assert await bystander.recv() == "after"
        async with connect(echo.url) as newcomer:
            await newcomer.send("new")
            assert await newcomer.recv() == "new"

    run(main())


def test_unsupported_version_gets_426_with_the_version_header(echo: Served):
    sock = socket.create_connection((echo.host, echo.port), timeout=10)
    try:
        sock.sendall(
            b"GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 8\r\n\r\n"
        )
        data = read_until_closed(sock)
    finally:
        sock.close()
    assert data.startswith(b"HTTP/1.1 426 ")
    assert b"Sec-WebSocket-Version: 13\r\n" in data


def test_plain_http_to_the_echo_app_gets_426(echo: Served):
    http = Connection(Role.CLIENT)
    sock = socket.create_connection((echo.host, echo.port), timeout=10)
    try:
        sock.sendall(http.send(Request(b"GET", b"/", [(b"host", b"x"), (b"connection", b"close")])))
        http.receive_data(read_until_closed(sock))
    finally:
        sock.close()
    response = http.next_event()
    assert isinstance(response, Response) and response.status_code == 426


@pytest.mark.parametrize(("path", "status"), [("/reject", 403), ("/crash", 500), ("/deny", 401)])
def test_refusals_before_accept_are_http_responses(apps: Served, path: str, status: int):
    async def main() -> None:
        with pytest.raises(InvalidStatus) as info:
            async with connect(apps.url + path):
                pass
        assert info.value.response.status_code == status
        if status == 401:
            assert info.value.response.body == b"who are you?"

    run(main())


def test_accept_headers_subprotocol_and_server_close(apps: Served):
    async def main() -> None:
        async with connect(apps.url + "/headers", subprotocols=["v1", "v2"]) as ws:
            assert ws.subprotocol == "v2"
            assert ws.response.headers["x-bench"] == "yes"
        ws = await connect(apps.url + "/close")
        with pytest.raises(ConnectionClosed):
            await ws.recv()
        assert ws.protocol.close_rcvd is not None
        assert (ws.protocol.close_rcvd.code, ws.protocol.close_rcvd.reason) == (4001, "bye")
        ws = await connect(apps.url + "/crash-after")
        await ws.send("trigger")
        with pytest.raises(ConnectionClosedError):
            await ws.recv()
        assert ws.protocol.close_rcvd is not None and ws.protocol.close_rcvd.code == 1011

    run(main())


def test_keepalive_closes_a_peer_that_never_answers_pings():
    with served("ws_echo", "--ws-ping-interval", "0.2", "--ws-ping-timeout", "0.2") as server:
        sock, head = raw_upgrade(server.host, server.port)
        try:
            assert head.startswith(b"HTTP/1.1 101 ")
            data = head.partition(b"\r\n\r\n")[2] + read_until_closed(sock)
        finally:
            sock.close()
    ws = WSConnection(Role.CLIENT)
    ws.receive_data(data)
    events = list(ws.events())
    assert isinstance(events[0], Ping)
    assert events[-1] == CloseConnection(1011, "keepalive ping timeout")


def test_graceful_shutdown_closes_websockets_with_1012():
    async def main(server: Served) -> None:
        async with connect(server.url) as ws:
            await ws.send("hello")
            assert await ws.recv() == "hello"
            server.proc.send_signal(signal.SIGTERM)
            with pytest.raises(ConnectionClosed):
                await ws.recv()
            assert ws.protocol.close_rcvd is not None and ws.protocol.close_rcvd.code == 1012

    with served("ws_echo", "--graceful-timeout", "10") as server:
        run(main(server))
        assert server.proc.wait(15) == 0


def test_our_client_handshake_against_the_server(echo: Served):
    http = Connection(Role.CLIENT)
    hs = ClientHandshake.start(f"{echo.host}:{echo.port}", "/", subprotocols=("echo",))
    sock = socket.create_connection((echo.host, echo.port), timeout=10)
    try:
        sock.sendall(http.send(hs.request) + http.send(END_OF_MESSAGE))
        while not isinstance(event := http.next_event(), InformationalResponse | Response):
            http.receive_data(sock.recv(4096))
        ws = hs.validate(event).connection(Role.CLIENT)
        assert ws.subprotocol == "echo"
        sock.sendall(ws.send(TextMessage("ours")))
        got = []
        while not got:
            ws.receive_data(sock.recv(4096))
            got = list(ws.events())
        assert got == [TextMessage("ours")]
    finally:
        sock.close()
