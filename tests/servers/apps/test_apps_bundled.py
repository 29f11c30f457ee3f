"""The bundled hello and json apps, called directly in both forms (WSGI checked by wsgiref)."""

from __future__ import annotations

import asyncio
import io
import json
from typing import Any
from wsgiref.util import setup_testing_defaults
from wsgiref.validate import validator

import pytest

from bench.servers.apps import hello, json_app


def run_asgi(
    app: Any, method: str = "GET", body_chunks: list[bytes] | None = None
) -> tuple[int, dict[bytes, bytes], bytes]:
    """Call an ASGI app with real receive/send coroutines; return status, headers, body."""
    chunks = list(body_chunks or [b""])
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        if chunks:
            body = chunks.pop(0)
            return {"type": "http.request", "body": body, "more_body": bool(chunks)}
        return {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    scope = {
        "type": "http",
        "method": method,
        "path": "/any/path",
        "headers": [],
        "query_string": b"",
    }
    asyncio.run(app(scope, receive, send))
    start, *bodies = sent
    assert start["type"] == "http.response.start"
    assert all(m["type"] == "http.response.body" for m in bodies)
    assert not bodies[-1].get("more_body", False)
    return start["status"], dict(start["headers"]), b"".join(m.get("body", b"") for m in bodies)


def run_wsgi(app: Any, method: str = "GET", body: bytes = b"") -> tuple[str, dict[str, str], bytes]:
    """Call a WSGI app through wsgiref's PEP 3333 validator."""
    environ: dict[str, Any] = {
        "REQUEST_METHOD": method,
        "SCRIPT_NAME": "",
        "PATH_INFO": "/any/path",
        "QUERY_STRING": "",
    }
    setup_testing_defaults(environ)
    environ["wsgi.input"] = io.BytesIO(body)
    if body:
        environ["CONTENT_LENGTH"] = str(len(body))
    seen: dict[str, Any] = {}

    def start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
        seen["status"], seen["headers"] = status, dict(headers)
        return lambda data: None

    result = validator(app)(environ, start_response)
    try:
        payload = b"".join(result)
    finally:
        result.close()
    return seen["status"], seen["headers"], payload


@pytest.mark.parametrize("method", ["GET", "POST", "DELETE", "HEAD"])
def test_hello_answers_every_method(method: str) -> None:
    status, headers, body = run_asgi(hello.asgi, method)
    assert status == 200
    assert body == b"Hello, world!"
    assert headers[b"content-length"] == b"13"
    wsgi_status, wsgi_headers, wsgi_body = run_wsgi(hello.wsgi, method)
    assert wsgi_status == "200 OK"
    assert wsgi_body == body
    assert wsgi_headers["Content-Length"] == "13"


def test_json_greets_without_body() -> None:
    status, headers, body = run_asgi(json_app.asgi)
    assert status == 200
    assert headers[b"content-type"] == b"application/json"
    assert json.loads(body) == {"message": "Hello, world!"}
    assert run_wsgi(json_app.wsgi)[2] == body


def test_json_echoes_a_chunked_body() -> None:
    status, _, body = run_asgi(json_app.asgi, "POST", [b'{"a": [1,', b" 2]}"])
    assert status == 200
    assert json.loads(body) == {"echo": {"a": [1, 2]}}
    wsgi_status, _, wsgi_body = run_wsgi(json_app.wsgi, "POST", b'{"a": [1, 2]}')
    assert wsgi_status == "200 OK"
    assert json.loads(wsgi_body) == {"echo": {"a": [1, 2]}}


def test_json_refuses_invalid_json() -> None:
    status, _, body = run_asgi(json_app.asgi, "POST", [b"{not json"])
    assert status == 400
    assert "invalid JSON" in json.loads(body)["error"]
    assert run_wsgi(json_app.wsgi, "POST", b"{not json")[0] == "400 Bad Request"


def test_hello_body_size_parameter() -> None:
    assert len(hello._body(100)) == 100
    assert hello._body(5) == b"Hello"


def _lifespan_messages(app: Any) -> list[str]:
    """Run an app's lifespan (startup, then shutdown); return the types it sent."""
    messages = [{"type": "lifespan.startup"}, {"type": "lifespan.shutdown"}]
    sent: list[str] = []

    async def receive() -> dict[str, str]:
        return messages.pop(0)

    async def send(message: dict[str, str]) -> None:
        sent.append(message["type"])

    asyncio.run(app({"type": "lifespan", "state": {}}, receive, send))
    return sent


@pytest.mark.parametrize("app", [hello.asgi, json_app.asgi])
def test_bundled_asgi_apps_answer_lifespan(app: Any) -> None:
    assert _lifespan_messages(app) == ["lifespan.startup.complete", "lifespan.shutdown.complete"]
