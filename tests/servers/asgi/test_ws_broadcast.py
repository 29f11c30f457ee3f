"""The ws_broadcast workload app on the real server: rooms fan messages out to every member."""

from __future__ import annotations

import asyncio
import http.client
from collections.abc import Iterator

import pytest
from websockets.asyncio.client import connect
from ws_serverkit import Served, raw_upgrade, served

from bench.servers.protocol import Role
from bench.servers.protocol.websocket import CloseConnection, WSConnection


@pytest.fixture(scope="module")
def broadcast() -> Iterator[Served]:
    with served("ws_broadcast") as server:
        yield server


def test_each_message_reaches_every_member_of_its_room_only(broadcast: Served):
    async def main() -> None:
        room = broadcast.url + "/room/1"
        async with (
            connect(room) as a,
            connect(room) as b,
            connect(room) as c,
            connect(broadcast.url + "/room/2") as outsider,
        ):
            # Joining is asynchronous: wait until every member sees a probe from c.
            await c.send("probe")
            for member in (a, b, c):
                assert await member.recv() == "probe"
            await a.send("from a")
            await b.send(b"from b")
            for member in (a, b, c):
                assert [await member.recv() for _ in range(2)] == ["from a", b"from b"]
            await outsider.send("alone")
            assert await outsider.recv() == "alone"  # fanned out by now
            await b.send("marker")
            assert await a.recv() == "marker"  # nothing from room 2 came before it

    asyncio.run(asyncio.wait_for(main(), 20))


def test_a_member_leaving_does_not_disturb_the_room(broadcast: Served):
    async def main() -> None:
        room = broadcast.url + "/lobby"
        async with connect(room) as stay:
            async with connect(room) as leave:
                await leave.send("hi")
                assert await stay.recv() == "hi"
                assert await leave.recv() == "hi"
            await stay.send("still here")
            assert await stay.recv() == "still here"

    asyncio.run(asyncio.wait_for(main(), 20))


def test_plain_http_gets_426(broadcast: Served):
    conn = http.client.HTTPConnection(broadcast.host, broadcast.port, timeout=10)
    try:
        conn.request("GET", "/")
        assert conn.getresponse().status == 426
    finally:
        conn.close()


def test_a_member_that_stops_reading_is_closed_1008_and_the_room_goes_on():
    async def flood(url: str) -> None:
        async with connect(url, max_size=None) as sender:
            for i in range(1500):
                await sender.send(b"%05d" % i + b"x" * 16384)
                assert (await sender.recv())[:5] == b"%05d" % i  # the sender keeps up

    with served("ws_broadcast", "--param", "queue=4") as server:
        sock, head = raw_upgrade(server.host, server.port, "/busy")
        try:
            assert head.startswith(b"HTTP/1.1 101 ")
            asyncio.run(asyncio.wait_for(flood(server.url + "/busy"), 60))
            ws = WSConnection(Role.CLIENT, max_message_size=None)
            leftover = head.partition(b"\r\n\r\n")[2]
            if leftover:  # b"" would mean end of stream
                ws.receive_data(leftover)
            closes: list[CloseConnection] = []
            while not closes:
                chunk = sock.recv(1 << 20)
                assert chunk, "connection ended without a Close frame"
                ws.receive_data(chunk)
                closes = [e for e in ws.events() if isinstance(e, CloseConnection)]
        finally:
            sock.close()
    assert closes[0] == CloseConnection(1008, "slow consumer")
