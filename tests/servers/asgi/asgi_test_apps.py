"""Small real apps the eventloop server tests serve (imported by the server process).

Served as ``asgi_test_apps:<name>`` with this directory on PYTHONPATH.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
from collections.abc import AsyncIterator, Iterator
from typing import Any

from pydantic import BaseModel
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, StreamingResponse
from starlette.routing import Route


async def _read_body(receive: Any) -> tuple[bytes, int]:
    """Read the whole request body; return it and the number of http.request messages."""
    chunks: list[bytes] = []
    messages = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            break
        messages += 1
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            break
    return b"".join(chunks), messages


async def _respond(send: Any, status: int, body: bytes, ctype: bytes = b"text/plain") -> None:
    await send(
        {"type": "http.response.start", "status": status, "headers": [(b"content-type", ctype)]}
    )
    await send({"type": "http.response.body", "body": body})


async def raw(scope: dict[str, Any], receive: Any, send: Any) -> None:
    """A raw ASGI app whose behaviour is chosen by the path (see the branches)."""
    if scope["type"] == "lifespan":
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                scope["state"]["started"] = "yes"
                await send({"type": "lifespan.startup.complete"})
            else:
                await send({"type": "lifespan.shutdown.complete"})
                return
    path = scope["path"]
    if path == "/scope":
        body, _ = await _read_body(receive)
        info = {k: v for k, v in scope.items() if k not in ("headers", "raw_path", "state")}
        info["headers"] = [[n.decode(), v.decode()] for n, v in scope["headers"]]
        info["raw_path"] = scope["raw_path"].decode("latin-1")
        info["query_string"] = scope["query_string"].decode("latin-1")
        info["state"] = scope.get("state")
        await _respond(send, 200, json.dumps(info).encode(), b"application/json")
    elif path == "/echo":
        body, messages = await _read_body(receive)
        await send(
            {
                "type": "http.response.start",
                "status": 200,
                "headers": [(b"x-messages", str(messages).encode())],
            }
        )
        await send({"type": "http.response.body", "body": body})
    elif path == "/sleep":
        await asyncio.sleep(float(scope["query_string"] or b"0.5"))
        await _respond(send, 200, b"slept")
    elif path == "/hold":
        # Tell the test the request is in progress (a file), then take a while.
        with open(os.environ["BENCH_TEST_MARKER"] + ".hold", "w") as marker:
            marker.write("holding")
        await asyncio.sleep(float(scope["query_string"] or b"1"))
        await _respond(send, 200, b"held")
    elif path == "/stream":
        await send({"type": "http.response.start", "status": 200, "headers": []})
        for i in range(5):
            await send({"type": "http.response.body", "body": b"part%d;" % i, "more_body": True})
            await asyncio.sleep(0)
        await send({"type": "http.response.body", "body": b""})
    elif path == "/big":
        size = int(scope["query_string"] or b"1000000")
        await send({"type": "http.response.start", "status": 200, "headers": []})
        chunk = b"x" * 65536
        sent = 0
        while sent < size:
            piece = chunk[: size - sent]
            sent += len(piece)
            await send({"type": "http.response.body", "body": piece, "more_body": sent < size})
    elif path == "/error":
        raise ZeroDivisionError("boom")
    elif path == "/error-after-start":
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"partial", "more_body": True})
        raise ValueError("late failure")
    elif path == "/no-response":
        return
    elif path == "/bad-header":
        await send(
            {"type": "http.response.start", "status": 200, "headers": [(b"x-bad", b"a\r\nb")]}
        )
        await send({"type": "http.response.body", "body": b"never"})
    elif path == "/disconnect":
        await _read_body(receive)
        message = await receive()  # blocks until the client goes away
        with open(os.environ["BENCH_TEST_MARKER"], "w") as marker:
            marker.write(message["type"])
    else:
        await _respond(send, 200, b"raw:" + path.encode())


async def lifespan_fails(scope: dict[str, Any], receive: Any, send: Any) -> None:
    """An app whose lifespan startup fails."""
    if scope["type"] == "lifespan":
        await receive()
        await send({"type": "lifespan.startup.failed", "message": "database is unreachable"})
        return
    await _respond(send, 200, b"unreachable")


async def no_lifespan(scope: dict[str, Any], receive: Any, send: Any) -> None:
    """An app that does not support lifespan (raises for it, like many small apps)."""
    if scope["type"] != "http":
        raise RuntimeError(f"unsupported scope type {scope['type']}")
    await _respond(send, 200, b"fine")


# -- Starlette -------------------------------------------------------------------------


@contextlib.asynccontextmanager
async def _lifespan(app: Starlette) -> AsyncIterator[dict[str, Any]]:
    yield {"greeting": "hello from lifespan"}


async def _home(request: Request) -> PlainTextResponse:
    return PlainTextResponse(f"home {request.state.greeting}")


async def _item(request: Request) -> JSONResponse:
    item_id = int(request.path_params["item_id"])
    return JSONResponse({"id": item_id, "q": request.query_params.get("q")})


async def _upload(request: Request) -> JSONResponse:
    size = 0
    chunks = 0
    async for chunk in request.stream():
        size += len(chunk)
        chunks += 1 if chunk else 0
    return JSONResponse({"size": size, "chunks": chunks})


async def _numbers(request: Request) -> StreamingResponse:
    async def generate() -> AsyncIterator[bytes]:
        for i in range(10):
            yield f"{i}\n".encode()
            await asyncio.sleep(0)

    return StreamingResponse(generate(), media_type="text/plain")


starlette_app = Starlette(
    routes=[
        Route("/", _home),
        Route("/items/{item_id:int}", _item),
        Route("/upload", _upload, methods=["POST"]),
        Route("/numbers", _numbers),
    ],
    lifespan=_lifespan,
)


class Item(BaseModel):
    """The body of FastAPI's POST /items."""

    name: str
    price: float


def fastapi_factory() -> Any:
    """A FastAPI app (a factory, to test ``module:factory()``)."""
    from fastapi import FastAPI

    app = FastAPI()

    @app.get("/items/{item_id}")
    async def read_item(item_id: int, q: str | None = None) -> dict[str, Any]:
        return {"item_id": item_id, "q": q}

    @app.post("/items")
    async def create_item(item: Item) -> dict[str, Any]:
        return {"name": item.name, "price_with_tax": round(item.price * 1.2, 2)}

    return app


# -- WSGI ------------------------------------------------------------------------------


def wsgi_app(environ: dict[str, Any], start_response: Any) -> Iterator[bytes] | list[bytes]:
    """A WSGI app: /environ (JSON of CGI keys), /stream (a generator), /error, /write."""
    path = environ["PATH_INFO"]
    if path == "/environ":
        body = environ["wsgi.input"].read()
        keys = {k: v for k, v in environ.items() if isinstance(v, str)}
        keys["body"] = body.decode("latin-1")
        keys["multithread"] = environ["wsgi.multithread"]
        payload = json.dumps(keys).encode()
        start_response("200 OK", [("Content-Type", "application/json")])
        return [payload]
    if path == "/stream":
        start_response("200 OK", [("Content-Type", "text/plain")])
        return (b"chunk%d;" % i for i in range(5))
    if path == "/error":
        raise KeyError("wsgi boom")
    if path == "/write":
        write = start_response("200 OK", [("Content-Type", "text/plain")])
        write(b"written;")
        return [b"returned"]
    start_response("404 Not Found", [("Content-Type", "text/plain")])
    return [b"not found"]


def flask_app() -> Any:
    """A Flask app (factory)."""
    from flask import Flask, jsonify, request

    app = Flask("bench_flask_test")

    @app.get("/hello/<name>")
    def hello(name: str) -> Any:
        return jsonify(greeting=f"hello {name}")

    @app.post("/sum")
    def total() -> Any:
        numbers = request.get_json()
        return jsonify(total=sum(numbers))

    return app


def wsgi_where_app(environ: dict[str, Any], start_response: Any) -> Any:
    """Where a WSGI request runs: /where (the thread's name), /sleep?ms=N (then the name),
    /big (a generator of 64 chunks of 64 KiB), /write-big (write() of 4 MiB)."""
    import threading
    import time

    path = environ["PATH_INFO"]
    if path == "/sleep":
        time.sleep(int(environ["QUERY_STRING"].partition("=")[2]) / 1000)
    if path in ("/where", "/sleep"):
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [threading.current_thread().name.encode()]
    if path == "/big":
        start_response("200 OK", [("Content-Type", "application/octet-stream")])
        return (bytes([i]) * 65536 for i in range(64))
    if path == "/write-big":
        write = start_response("200 OK", [("Content-Type", "application/octet-stream")])
        for i in range(64):
            write(bytes([i]) * 65536)
        return []
    start_response("404 Not Found", [("Content-Type", "text/plain")])
    return [b"not found"]
