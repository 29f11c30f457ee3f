"""The cpu, io and downstream workload apps: both forms, both io modes, real servers."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest

from bench.servers.apps import cpu, downstream, load_app
from bench.servers.apps import io_app as io
from bench.servers.apps.io_app import AsyncPool, DownstreamError, SyncClient


async def call_asgi(app: Any, query: bytes = b"") -> tuple[int, bytes]:
    scope = {"type": "http", "method": "GET", "path": "/", "query_string": query, "headers": []}
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    await app(scope, receive, send)
    return sent[0]["status"], b"".join(m.get("body", b"") for m in sent[1:])


def call_wsgi(app: Any, query: str = "") -> tuple[str, bytes]:
    status: list[str] = []
    body = b"".join(
        app({"REQUEST_METHOD": "GET", "QUERY_STRING": query}, lambda s, h: status.append(s))
    )
    return status[0], body


def test_cpu_work_is_deterministic_and_both_forms_agree() -> None:
    assert cpu.burn(1000) == cpu.burn(1000)
    assert cpu.burn(1000) != cpu.burn(1001)
    assert call_wsgi(cpu.wsgi) == ("200 OK", cpu.body())
    assert asyncio.run(call_asgi(cpu.asgi)) == (200, cpu.body())
    assert cpu.body(10) == f"cpu 10 {cpu.burn(10)}\n".encode()


def test_bundled_names_resolve() -> None:
    for name in ("cpu", "io", "downstream"):
        app, kind = load_app(name)
        assert kind == "asgi" and callable(app)
        assert load_app(name, interface="wsgi")[1] == "wsgi"


def test_io_sleep_mode_both_forms() -> None:
    assert io.MODE == "sleep"
    assert call_wsgi(io.wsgi) == ("200 OK", b"io 50 ms\n")
    assert asyncio.run(call_asgi(io.asgi)) == (200, b"io 50 ms\n")


def test_downstream_delay_from_query_or_default() -> None:
    assert downstream.delay_ms(b"ms=25") == 25.0
    assert downstream.delay_ms("ms=oops") == downstream.DEFAULT_MS
    assert downstream.delay_ms(b"") == downstream.DEFAULT_MS
    assert downstream.delay_ms(b"ms=1e9") == downstream.MAX_MS
    assert asyncio.run(call_asgi(downstream.asgi, b"ms=1")) == (200, b"downstream 1 ms\n")
    assert call_wsgi(downstream.wsgi, "ms=1") == ("200 OK", b"downstream 1 ms\n")


@pytest.mark.slow
def test_pooled_clients_reuse_connections(serve) -> None:  # type: ignore[no-untyped-def]
    with serve("eventloop", "bench.servers.apps.downstream:asgi") as url:
        client = SyncClient(url)
        assert [client.get("/?ms=1") for _ in range(3)] == [b"downstream 1 ms\n"] * 3

        async def many() -> list[bytes]:
            pool = AsyncPool(url, size=4)
            first = await asyncio.gather(*(pool.get("/?ms=2") for _ in range(8)))
            idle = len(pool._idle)
            second = await asyncio.gather(*(pool.get("/?ms=2") for _ in range(8)))
            assert len(pool._idle) == idle <= 4  # connections came back and were reused
            return [*first, *second]

        assert asyncio.run(many()) == [b"downstream 2 ms\n"] * 16


def test_a_dead_downstream_is_a_downstream_error() -> None:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # bound, not listening: connections are refused
        with pytest.raises(DownstreamError):
            SyncClient(f"http://127.0.0.1:{port}").get("/")
        with pytest.raises(DownstreamError):
            asyncio.run(AsyncPool(f"http://127.0.0.1:{port}", 2).get("/"))


@pytest.mark.slow
@pytest.mark.parametrize(
    "server",
    [("eventloop", "io"), ("prefork", "io", "-k", "thread", "--threads", "4")],
    ids=["eventloop-asgi", "prefork-wsgi"],
)
def test_io_http_mode_through_real_servers(serve, server: tuple[str, ...]) -> None:  # type: ignore[no-untyped-def]
    with serve("eventloop", "bench.servers.apps.downstream:asgi") as down:
        env = {"BENCH_APP_MS": "5", "BENCH_APP_MODE": "http", "BENCH_APP_DOWNSTREAM": str(down)}
        with serve(*server, env=env) as url, httpx.Client() as client:
            for _ in range(3):
                response = client.get(url + "/")
                assert response.status_code == 200
                assert response.content == b"io 5 ms\n"
