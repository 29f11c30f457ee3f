"""PEP 3333 glue that does no I/O: the environ built from a Request, and start_response.

Both servers use it: the eventloop server's WSGI-in-threadpool adapter and the prefork
workers. The caller owns the I/O: it passes the request body as a readable binary file
(``wsgi.input``) and, to ``StartResponse``, a ``write`` callable for the legacy
``write()`` API. ``StartResponse`` records the status and headers, checks them the way
PEP 3333 asks (native strings, latin-1, no CR/LF, the ``exc_info`` rules) and converts
them to what the protocol core sends: an ``int`` status, a reason and a list of
``(bytes, bytes)`` header pairs. Hop-by-hop fields are dropped (the server owns framing
and persistence); ``Connection: close`` from the app sets ``wants_close``.

Choices beyond the PEP:
- Request header names with an underscore are dropped (``X_Forwarded_For`` would
  otherwise collide with ``X-Forwarded-For`` as ``HTTP_X_FORWARDED_FOR``): the same
  anti-spoofing rule nginx and gunicorn apply.
- Repeated request headers are joined with ``", "`` (``"; "`` for Cookie), as RFC 9110
  allows.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterable
from types import TracebackType
from typing import Any, BinaryIO
from urllib.parse import unquote_to_bytes

from bench.servers.errors import ServerError
from bench.servers.protocol import Request

ExcInfo = tuple[type[BaseException], BaseException, TracebackType | None]
WriteCallable = Callable[[bytes], None]

#: Hop-by-hop fields an application must not set (PEP 3333, "Other HTTP Features").
HOP_BY_HOP: frozenset[str] = frozenset(
    {
        "connection",
        "keep-alive",
        "proxy-authenticate",
        "proxy-authorization",
        "te",
        "trailers",
        "transfer-encoding",
        "upgrade",
    }
)

_WSGI_VERSION = (1, 0)

#: Lower-cased header name -> its environ key (None: dropped). Clients send the same
#: few names on every request; the lookup replaces decode/upper/replace per field.
#: With the cached constant part below, a 7-field request's environ went from ~66,700
#: to ~33,300 instructions (callgrind). Bounded: cleared when full.
_KEYS: dict[bytes, str | None] = {}
_KEYS_MAX = 512

#: A header name not in ``_KEYS`` yet (None there means "dropped").
_UNKNOWN: Any = object()
#: REQUEST_METHOD and SERVER_PROTOCOL of the usual start lines, without decoding.
_METHODS = {m.encode(): m for m in ("GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS")}
_PROTOCOLS = {b"1.1": "HTTP/1.1", b"1.0": "HTTP/1.0"}

#: (scheme, multithread, multiprocess, errors) -> the environ's constant entries, copied
#: per request instead of built item by item.
_CONSTANT: dict[tuple[str, bool, bool, int], dict[str, Any]] = {}


class WSGIResponseError(ServerError):
    """The application broke a PEP 3333 rule in start_response (the server answers 500)."""


def _header_key(name: bytes) -> str | None:
    """Return the environ key of a lower-cased header name, or None to drop the field."""
    if b"_" in name:
        return None
    if name == b"content-type":
        return "CONTENT_TYPE"
    if name == b"content-length":
        return "CONTENT_LENGTH"
    return "HTTP_" + name.decode("latin-1").upper().replace("-", "_")


def split_target(target: bytes) -> tuple[bytes, bytes]:
    """Split a request-target into (raw path, raw query); absolute-form loses its authority.

    ``b"*"`` (OPTIONS) is returned as the path ``b"*"``.
    """
    if target[:1] != b"/" and b"://" in target[:16]:
        rest = target.split(b"://", 1)[1]
        slash = rest.find(b"/")
        query_mark = rest.find(b"?")
        if slash == -1 or (query_mark != -1 and query_mark < slash):
            target = b"/" + (rest[query_mark:] if query_mark != -1 else b"")
        else:
            target = rest[slash:]
    path, _, query = target.partition(b"?")
    hash_at = query.find(b"#")
    if hash_at != -1:
        query = query[:hash_at]
    return path, query


def environ_base(
    *,
    server: tuple[str, int] | None,
    client: tuple[str, int] | None,
    scheme: str,
    root_path: str,
    multithread: bool,
    multiprocess: bool,
    errors: Any = None,
) -> dict[str, Any]:
    """The entries of an environ that every request of one connection shares.

    ``server`` and ``client`` are (host, port) pairs (None for a unix socket peer);
    ``root_path`` becomes SCRIPT_NAME; ``errors`` (``wsgi.errors``) defaults to
    ``sys.stderr``. Give it to ``request_environ``, which copies it per request: built
    once per connection, it saves the address formatting of every keep-alive request.
    """
    if errors is None:
        errors = sys.stderr
    constant_key = (scheme, multithread, multiprocess, id(errors))
    constant = _CONSTANT.get(constant_key)
    if constant is None or constant["wsgi.errors"] is not errors:
        constant = {
            "wsgi.version": _WSGI_VERSION,
            "wsgi.url_scheme": scheme,
            "wsgi.errors": errors,
            "wsgi.multithread": multithread,
            "wsgi.multiprocess": multiprocess,
            "wsgi.run_once": False,
            "wsgi.input_terminated": True,
        }
        if len(_CONSTANT) >= 16:
            _CONSTANT.clear()
        _CONSTANT[constant_key] = constant
    base = constant.copy()
    base["SCRIPT_NAME"] = root_path.rstrip("/")
    if server is not None:
        base["SERVER_NAME"], base["SERVER_PORT"] = server[0], str(server[1])
    if client is not None:
        base["REMOTE_ADDR"], base["REMOTE_PORT"] = client[0], str(client[1])
    return base


def reference_environ(request: Request, base: dict[str, Any], body: BinaryIO) -> dict[str, Any]:
    """Return the PEP 3333 environ of ``request`` on a connection with ``base`` entries.

    The SCRIPT_NAME of ``base`` (its root path) is stripped from PATH_INFO when the path
    starts with it. Without a server address in ``base``, SERVER_NAME and SERVER_PORT
    come from the Host header. ``body`` is the already de-framed request body
    (``wsgi.input``). The pure-Python reference; servers call ``request_environ``.
    """
    # Runs once per request on the server's thread; 1.6 -> 1.1 µs for a 3-field GET:
    # origin-form targets skip split_target, the start line's texts come from memos,
    # and the Host lookup is left to the (unix socket) case that needs it.
    target = request.target
    if target[:1] == b"/" and b"#" not in target:
        raw_path, _, query = target.partition(b"?")
    else:
        raw_path, query = split_target(target)
    path = (
        unquote_to_bytes(raw_path).decode("latin-1")
        if b"%" in raw_path
        else raw_path.decode("latin-1")
    )
    root = base["SCRIPT_NAME"]
    if root and (path == root or path.startswith(root + "/")):
        path = path[len(root) :]
    environ: dict[str, Any] = base.copy()
    method = request.method
    environ["REQUEST_METHOD"] = _METHODS.get(method) or method.decode("latin-1")
    environ["PATH_INFO"] = path
    environ["QUERY_STRING"] = query.decode("latin-1") if query else ""
    version = request.http_version
    environ["SERVER_PROTOCOL"] = _PROTOCOLS.get(version) or "HTTP/" + version.decode("latin-1")
    environ["wsgi.input"] = body
    keys = _KEYS
    for name, value in request.headers:
        key = keys.get(name, _UNKNOWN)
        if key is _UNKNOWN:
            key = _header_key(name)
            if len(keys) >= _KEYS_MAX:
                keys.clear()
            keys[name] = key
        if key is None:
            continue
        if key in environ:
            sep = "; " if key == "HTTP_COOKIE" else ", "
            environ[key] = environ[key] + sep + value.decode("latin-1")
        else:
            environ[key] = value.decode("latin-1")
    if "SERVER_NAME" not in base:  # no server address (a unix socket): from Host
        host_header = next((v for n, v in request.headers if n == b"host"), None)
        if host_header is not None:
            host, _, port = host_header.decode("latin-1").rpartition(":")
            if not host or "]" in port:
                host, port = host_header.decode("latin-1"), ""
            environ["SERVER_NAME"] = host
            scheme = base["wsgi.url_scheme"]
            environ["SERVER_PORT"] = port or ("443" if scheme == "https" else "80")
        else:
            environ["SERVER_NAME"], environ["SERVER_PORT"] = "localhost", "80"
    return environ


RequestEnviron = Callable[[Request, dict[str, Any], BinaryIO], dict[str, Any]]


# The optional C path (servers/wsgi/_environ.c): the environ of a plain request in one
# call, the reference above for anything else. Inline WSGI hello on the event loop,
# per cycle (benchmarks/shell_cycle.py under callgrind): see docs/protocol-accelerator.md.
try:
    from bench.servers.wsgi import _environ as _c_environ  # type: ignore[attr-defined]
except ImportError:  # not compiled on this machine: the reference serves
    _c_environ = None

#: ``request_environ(request, base, body)``: what ``reference_environ`` returns; the C
#: function when built (it calls the reference for what it does not take).
request_environ: RequestEnviron = reference_environ
if _c_environ is not None:
    _c_environ.configure(_KEYS, _METHODS, _PROTOCOLS, reference_environ)
    request_environ = _c_environ.request_environ


def use_accelerator(fast: bool | None = None) -> bool:
    """Try the C environ first (``True``), or only the reference (``False``); ``None``: C when built.

    ``BENCH_PURE_PROTOCOL`` is applied by ``bench.servers``, as for the protocol core.
    Returns whether C is now in use; raises RuntimeError for ``True`` when it is not built.
    """
    if _c_environ is None:
        if fast:
            raise RuntimeError("the C environ (servers/wsgi/_environ.c) is not built")
        return False
    on = True if fast is None else fast
    _c_environ.set_enabled(on)
    return on


def build_environ(
    request: Request,
    *,
    server: tuple[str, int] | None,
    client: tuple[str, int] | None,
    scheme: str,
    root_path: str,
    body: BinaryIO,
    multithread: bool,
    multiprocess: bool,
    errors: Any = None,
) -> dict[str, Any]:
    """Return the PEP 3333 environ of ``request`` (``environ_base`` + ``request_environ``).

    ``server`` and ``client`` are (host, port) pairs (None for a unix socket peer).
    ``root_path`` becomes SCRIPT_NAME and is stripped from PATH_INFO when the path starts
    with it. ``body`` is the already de-framed request body (``wsgi.input``).
    ``errors`` defaults to ``sys.stderr``.
    """
    base = environ_base(
        server=server,
        client=client,
        scheme=scheme,
        root_path=root_path,
        multithread=multithread,
        multiprocess=multiprocess,
        errors=errors,
    )
    return request_environ(request, base, body)


def _check_text(what: str, value: object) -> bytes:
    """Return ``value`` as latin-1 bytes after PEP 3333's type and character checks."""
    if type(value) is not str:
        raise WSGIResponseError(f"{what} must be a str, not {type(value).__name__}")
    try:
        raw = value.encode("latin-1")
    except UnicodeEncodeError:
        raise WSGIResponseError(f"{what} is not latin-1: {value!r}") from None
    if b"\r" in raw or b"\n" in raw or b"\0" in raw:
        raise WSGIResponseError(f"{what} contains CR, LF or NUL: {value!r}")
    return raw


class StartResponse:
    """The ``start_response`` callable of one request, and the response head it recorded.

    After the application called it, ``status_code``, ``reason`` and ``headers`` hold the
    head in the protocol core's types. The server calls ``mark_sent()`` once it has
    written the head; from then on a call with ``exc_info`` re-raises the exception, as
    PEP 3333 requires, and a call without it is an error.
    """

    __slots__ = ("_write", "headers", "headers_sent", "reason", "status_code", "wants_close")

    def __init__(self, write: WriteCallable | None = None) -> None:
        """``write`` is returned to the app as PEP 3333's legacy ``write(data)`` callable."""
        self._write = write
        self.status_code: int | None = None
        self.reason: bytes = b""
        self.headers: list[tuple[bytes, bytes]] = []
        self.headers_sent = False
        #: The app sent ``Connection: close``: close the connection after this response.
        self.wants_close = False

    @property
    def called(self) -> bool:
        """True once the application has called start_response."""
        return self.status_code is not None

    def mark_sent(self) -> None:
        """Record that the response head has gone to the client."""
        self.headers_sent = True

    def __call__(
        self,
        status: str,
        response_headers: Iterable[tuple[str, str]],
        exc_info: ExcInfo | None = None,
    ) -> WriteCallable:
        """Record the response head (PEP 3333 ``start_response``); return ``write``.

        Raises WSGIResponseError for a malformed status or header, or for a second call
        without ``exc_info``; re-raises ``exc_info`` if the head was already sent.
        """
        if exc_info is not None:
            try:
                if self.headers_sent:
                    raise exc_info[1].with_traceback(exc_info[2])
            finally:
                exc_info = None  # break the traceback cycle (PEP 3333)
        elif self.status_code is not None:
            raise WSGIResponseError("start_response called twice without exc_info")
        raw_status = _check_text("status", status)
        code, _, reason = raw_status.partition(b" ")
        if len(code) != 3 or not code.isdigit() or not reason.strip():
            raise WSGIResponseError(f"status must look like '200 OK', got {status!r}")
        if type(response_headers) is not list:
            raise WSGIResponseError("response headers must be a list")
        headers: list[tuple[bytes, bytes]] = []
        wants_close = False
        for item in response_headers:
            if type(item) is not tuple or len(item) != 2:
                raise WSGIResponseError(
                    f"a response header must be a (name, value) tuple: {item!r}"
                )
            name = _check_text("header name", item[0])
            if not name or b":" in name or b" " in name:
                raise WSGIResponseError(f"bad header name {item[0]!r}")
            value = _check_text("header value", item[1])
            if item[0].lower() in HOP_BY_HOP:
                # The server owns framing and connection management: drop the field,
                # but honour an application's wish to close the connection.
                if name.lower() == b"connection" and b"close" in value.lower():
                    wants_close = True
                continue
            headers.append((name, value))
        self.status_code = int(code)
        self.reason = reason
        self.headers = headers
        self.wants_close = wants_close
        return self.write

    def write(self, data: bytes) -> None:
        """PEP 3333's legacy write(): forward ``data`` to the server's writer."""
        if self.status_code is None:
            raise WSGIResponseError("write() called before start_response")
        if self._write is None:
            raise WSGIResponseError("this server does not support write()")
        self._write(data)
