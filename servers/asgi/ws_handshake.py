"""Pure helpers of the WebSocket handshake in the eventloop server (no I/O).

``websocket_scope`` builds the ASGI ``websocket`` scope from the upgrade request;
``answering_connection`` gives the session an HTTP/1.1 core connection that has read
the upgrade request, so that every response the session sends before switching
protocols (101, 403, 426, 500, or the app's own denial response) is framed by the core.
"""

from __future__ import annotations

from typing import Any

from bench.servers.asgi.scope import ASGI_INFO, decode_path, split_request_target
from bench.servers.protocol import END_OF_MESSAGE, Connection, Request, Role
from bench.servers.protocol.websocket import Offer

_NO_BODY_HEADERS = (b"content-length", b"transfer-encoding")


def websocket_scope(request: Request, offer: Offer, scope_base: dict[str, Any]) -> dict[str, Any]:
    """Return the ASGI ``websocket`` scope of an upgrade ``request`` (spec 2.4)."""
    raw_path, query = split_request_target(request.target)
    path = decode_path(raw_path)
    root_path = scope_base.get("root_path", "")
    if root_path:
        path = root_path + path
        raw_path = root_path.encode("utf-8") + raw_path
    return {
        "type": "websocket",
        "asgi": ASGI_INFO,
        "http_version": "1.1",
        "scheme": scope_base.get("scheme", "ws"),
        "path": path,
        "raw_path": raw_path,
        "query_string": query,
        "root_path": root_path,
        "headers": request.headers,
        "client": scope_base.get("client"),
        "server": scope_base.get("server"),
        "subprotocols": list(offer.subprotocols),
        "state": scope_base.get("state", {}),
        "extensions": {"websocket.http.response": {}},
    }


def answering_connection(request: Request, server_header: bytes | None) -> Connection:
    """A server-role HTTP core connection that has read ``request``, ready to answer it.

    The HTTP protocol object keeps its own core connection; the session re-reads the
    request head into a fresh one so that every response it sends (101, 403, the app's
    denial response, 500) is framed by the core. The upgrade request has no body.
    """
    headers = [(name, value) for name, value in request.headers if name not in _NO_BODY_HEADERS]
    client = Connection(Role.CLIENT)
    raw = client.send(Request(request.method, request.target, headers, request.http_version))
    conn = Connection(Role.SERVER, server_header=server_header)
    conn.receive_data(raw + client.send(END_OF_MESSAGE))
    conn.next_event()  # the Request
    conn.next_event()  # its EndOfMessage
    return conn
