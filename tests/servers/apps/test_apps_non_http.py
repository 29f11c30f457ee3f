"""HTTP-only bundled apps answer lifespan and refuse WebSocket the same way."""

from __future__ import annotations

import asyncio
import importlib

import pytest

from bench.servers.apps import answer_non_http, text_headers


def _drive(app, scope: dict, incoming: list[dict]) -> list[dict]:
    sent: list[dict] = []
    queue = list(incoming)

    async def receive() -> dict:
        return queue.pop(0)

    async def send(message: dict) -> None:
        sent.append(message)

    asyncio.run(app(scope, receive, send))
    return sent


@pytest.mark.parametrize(
    "module", ["bench.servers.apps.cpu", "bench.servers.apps.io_app", "bench.servers.apps.json_app"]
)
def test_lifespan_and_websocket(module: str) -> None:
    app = importlib.import_module(module).asgi
    lifespan = _drive(
        app, {"type": "lifespan"}, [{"type": "lifespan.startup"}, {"type": "lifespan.shutdown"}]
    )
    assert [m["type"] for m in lifespan] == [
        "lifespan.startup.complete",
        "lifespan.shutdown.complete",
    ]
    refused = _drive(app, {"type": "websocket"}, [{"type": "websocket.connect"}])
    assert refused == [{"type": "websocket.close", "code": 1003}]


def test_http_scopes_are_left_to_the_app() -> None:
    async def never(*_: object) -> None:
        raise AssertionError("an HTTP scope must not be touched")

    assert asyncio.run(answer_non_http({"type": "http"}, never, never)) is False
    assert asyncio.run(answer_non_http({"type": "other"}, never, never)) is True


def test_text_headers() -> None:
    assert text_headers(12) == [(b"content-type", b"text/plain"), (b"content-length", b"12")]
