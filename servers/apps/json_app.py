"""The ``json`` workload: a JSON document serialized per request (the body is real work).

- A request without a body gets ``{"message": "Hello, world!"}`` (plus, with
  ``BENCH_APP_ITEMS=N``, an ``items`` list of N small objects to make serialization
  heavier).
- A request with a body must carry JSON; the answer is ``{"echo": <the parsed body>}``,
  or 400 with ``{"error": ...}`` if it does not parse. The body is read in whatever
  chunks the server delivers.

The module is ``json_app`` so that it cannot shadow the standard ``json``; the bundled
name is ``json``.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from typing import Any

from bench.servers.apps import Param, Params, answer_non_http

PARAMS = Params(
    "json",
    Param("items", int, 0, "small objects added to the document, to make it heavier", minimum=0),
)
ITEMS: int = PARAMS.read()["items"]
_HEADERS = [(b"content-type", b"application/json")]


def document(body: bytes) -> tuple[int, bytes]:
    """Return (status, JSON bytes) for a request body (empty: the greeting)."""
    if not body:
        doc: dict[str, Any] = {"message": "Hello, world!"}
        if ITEMS:
            doc["items"] = [{"id": i, "name": f"item-{i}", "ok": True} for i in range(ITEMS)]
        return 200, json.dumps(doc).encode()
    try:
        parsed = json.loads(body)
    except ValueError as exc:
        return 400, json.dumps({"error": f"invalid JSON: {exc}"}).encode()
    return 200, json.dumps({"echo": parsed}).encode()


async def asgi(scope: dict[str, Any], receive: Callable, send: Callable) -> None:
    """ASGI form: read the body (if any), answer with ``document``."""
    if await answer_non_http(scope, receive, send):
        return
    chunks: list[bytes] = []
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            return
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            break
    status, payload = document(b"".join(chunks))
    headers = [*_HEADERS, (b"content-length", str(len(payload)).encode())]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": payload})


def wsgi(environ: dict[str, Any], start_response: Callable) -> Iterable[bytes]:
    """WSGI form: the same answers as ``asgi``."""
    length = environ.get("CONTENT_LENGTH") or ""
    stream = environ["wsgi.input"]
    if length.isdigit():
        body = stream.read(int(length))
    elif environ.get("wsgi.input_terminated"):
        body = stream.read()  # a chunked body: the server ends the stream
    else:
        body = b""
    status, payload = document(body)
    reason = "OK" if status == 200 else "Bad Request"
    start_response(
        f"{status} {reason}",
        [("Content-Type", "application/json"), ("Content-Length", str(len(payload)))],
    )
    return [payload]
