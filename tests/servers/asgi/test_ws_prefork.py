"""WebSockets under the prefork master: eventloop workers serve them, WSGI workers refuse."""

from __future__ import annotations

import asyncio
import http.client
import signal

import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed, InvalidStatus
from ws_serverkit import Served, served


@pytest.mark.parametrize(
    ("server", "args"),
    [("eventloop", ("-w", "2")), ("prefork", ("-k", "eventloop", "-w", "2"))],
    ids=["serve-eventloop-w2", "serve-prefork-k-eventloop"],
)
def test_eventloop_workers_under_the_master_serve_websockets(server: str, args: tuple[str, ...]):
    async def main(url: str) -> None:
        clients = [await connect(url) for _ in range(8)]
        try:
            for i, ws in enumerate(clients):
                await ws.send(f"message {i}")
            assert [await ws.recv() for ws in clients] == [f"message {i}" for i in range(8)]
        finally:
            for ws in clients:
                await ws.close()

    with served("ws_echo", *args, server=server) as running:
        asyncio.run(asyncio.wait_for(main(running.url), 20))


@pytest.mark.parametrize("worker_class", ["sync", "thread"])
def test_wsgi_workers_answer_an_upgrade_with_a_clear_http_error(worker_class: str):
    async def main(url: str) -> None:
        with pytest.raises(InvalidStatus) as info:
            async with connect(url):
                pass
        assert info.value.response.status_code >= 400
        assert b"WebSocket" in info.value.response.body

    with served("ws_echo", "-k", worker_class, "-w", "1", server="prefork") as server:
        asyncio.run(asyncio.wait_for(main(server.url), 20))
        conn = http.client.HTTPConnection(server.host, server.port, timeout=10)
        try:
            conn.request("GET", "/")
            response = conn.getresponse()
            assert response.status >= 400 and b"WebSocket" in response.read()
        finally:
            conn.close()


def test_sigterm_to_the_master_closes_worker_websockets_with_1012():
    async def main(running: Served) -> None:
        clients = [await connect(running.url) for _ in range(4)]
        for ws in clients:
            await ws.send("hi")
            assert await ws.recv() == "hi"
        running.proc.send_signal(signal.SIGTERM)
        for ws in clients:
            with pytest.raises(ConnectionClosed):
                await ws.recv()
            assert ws.protocol.close_rcvd is not None
            assert ws.protocol.close_rcvd.code == 1012

    with served("ws_echo", "-k", "eventloop", "-w", "2", server="prefork") as running:
        asyncio.run(asyncio.wait_for(main(running), 30))
        assert running.proc.wait(20) == 0
