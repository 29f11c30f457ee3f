"""Pure helpers: the ASGI HTTP connection scope of a Request event, and addresses.

No I/O here, so the scope rules (path decoding, root_path, absolute-form targets,
unix sockets) are tested with plain values.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import unquote_to_bytes

from bench.servers.protocol import Request
from bench.servers.wsgi.environ import split_target

#: ASGI version and the HTTP spec version we implement (2.4: send() after a disconnect
#: raises an OSError subclass).
ASGI_INFO: dict[str, str] = {"version": "3.0", "spec_version": "2.4"}

#: Decoded names of the common methods (saves a decode per request).
_METHODS: dict[bytes, str] = {
    m.encode(): m for m in ("GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS")
}

Address = tuple[str, int] | None
ServerAddress = tuple[str, int | None] | None


def decode_path(raw_path: bytes) -> str:
    """Percent-decode ``raw_path`` and decode it as UTF-8 (invalid bytes: U+FFFD)."""
    if b"%" in raw_path:
        raw_path = unquote_to_bytes(raw_path)
    try:
        return raw_path.decode("ascii")
    except UnicodeDecodeError:
        return raw_path.decode("utf-8", "replace")


def split_request_target(target: bytes) -> tuple[bytes, bytes]:
    """Return (raw path, query string) of a request-target; fast for origin-form."""
    if target[:1] == b"/":
        path, _, query = target.partition(b"?")
        return path, query
    return split_target(target)


def scope_template(
    server: ServerAddress, client: Address, scheme: str, root_path: str
) -> dict[str, Any]:
    """The parts of an ``http`` scope that are the same for every request of a connection."""
    return {
        "type": "http",
        "asgi": ASGI_INFO,
        "http_version": "1.1",
        "method": "GET",
        "scheme": scheme,
        "path": "/",
        "raw_path": b"/",
        "query_string": b"",
        "root_path": root_path,
        "headers": [],
        "client": client,
        "server": server,
        "state": None,
    }


def scope_from_template(
    template: dict[str, Any], request: Request, state: dict[str, Any]
) -> dict[str, Any]:
    """Return the ``http`` scope of ``request`` from a connection's ``scope_template``.

    ``path`` and ``raw_path`` include ``root_path`` (the path the client asked for, as
    uvicorn does); ``state`` is shallow-copied from the lifespan namespace. (A dict
    copy and a few stores cost a third of building the 13-key literal per request.)
    """
    target = request.target
    if target[:1] == b"/":
        raw_path, _mark, query = target.partition(b"?")
    else:
        raw_path, query = split_target(target)
    if b"%" in raw_path:
        path = decode_path(raw_path)
    else:
        try:
            path = raw_path.decode("ascii")
        except UnicodeDecodeError:
            path = raw_path.decode("utf-8", "replace")
    scope = template.copy()
    root_path = scope["root_path"]
    if root_path:
        path = root_path + path
        raw_path = root_path.encode("utf-8") + raw_path
    method = request.method
    scope["method"] = _METHODS.get(method) or method.decode("ascii")
    if request.http_version != b"1.1":
        scope["http_version"] = "1.0"
    scope["path"] = path
    scope["raw_path"] = raw_path
    scope["query_string"] = query
    scope["headers"] = request.headers
    scope["state"] = state.copy()
    return scope


def http_scope(
    request: Request,
    server: ServerAddress,
    client: Address,
    scheme: str,
    root_path: str,
    state: dict[str, Any],
) -> dict[str, Any]:
    """Return the ASGI ``http`` scope of ``request`` (spec 2.4); see ``scope_from_template``."""
    return scope_from_template(scope_template(server, client, scheme, root_path), request, state)


def socket_addresses(sockname: Any, peername: Any) -> tuple[ServerAddress, Address]:
    """Return the scope's (server, client) from a transport's sockname and peername.

    TCP: ``(host, port)`` pairs; a Unix socket: ``(path, None)`` and no client.
    """
    if isinstance(sockname, tuple):
        server: ServerAddress = (str(sockname[0]), int(sockname[1]))
    elif sockname:
        server = (sockname.decode() if isinstance(sockname, bytes) else str(sockname), None)
    else:
        server = None
    client: Address = None
    if isinstance(peername, tuple) and len(peername) >= 2:
        client = (str(peername[0]), int(peername[1]))
    return server, client
