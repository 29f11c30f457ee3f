"""Access logs: one line per response, written by the ``bench.access`` logger.

The format uses gunicorn's atoms (``%(h)s %(r)s %(s)s ...``), the same for both servers
and every worker class; the default is gunicorn's::

    %(h)s %(l)s %(u)s %(t)s "%(r)s" %(s)s %(b)s "%(f)s" "%(a)s"
    127.0.0.1 - - [07/Dec/2026:08:19:20 +0000] "GET /?x=1 HTTP/1.1" 200 13 "-" "curl/8.5"

Atoms: ``h`` client address, ``l`` ``-``, ``u`` user (``-``), ``t`` time of the request,
``r`` request line, ``m`` method, ``U`` path, ``q`` query string, ``H`` protocol,
``s`` status, ``B`` body bytes, ``b`` body bytes or ``-``, ``f`` referer, ``a`` user
agent, ``T`` seconds, ``M`` milliseconds, ``D`` microseconds, ``L`` seconds with
decimals, ``p`` pid, ``{name}i`` a request header, ``{name}o`` a response header.
An unknown atom is written as ``-``.

Cost: nothing when off. The servers wrap the app in ``AsgiAccessLog`` or
``WsgiAccessLog`` (``bench.servers.deploy``) only when the access log is on, so no
formatting or timing happens on the request path otherwise. The line is a log record
(``logger.info``), so ``--log-config`` can route, filter or silence it.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable, Iterable, Iterator
from typing import Any

#: gunicorn's default access-log format.
DEFAULT_FORMAT = '%(h)s %(l)s %(u)s %(t)s "%(r)s" %(s)s %(b)s "%(f)s" "%(a)s"'
#: The logger every access-log line goes through.
ACCESS_LOGGER = "bench.access"

logger = logging.getLogger(ACCESS_LOGGER)


class _Atoms(dict[str, str]):
    """The atoms of one response; ``{name}i`` / ``{name}o`` looked up on demand."""

    def __init__(
        self,
        values: dict[str, str],
        request_headers: Callable[[str], str | None],
        response_headers: Iterable[tuple[str, str]],
    ) -> None:
        super().__init__(values)
        self._request_headers = request_headers
        self._response_headers = response_headers

    def __missing__(self, key: str) -> str:
        name = key[1:-2].lower() if key.startswith("{") and len(key) > 3 else ""
        if key.endswith("}i") and name:
            return self._request_headers(name) or "-"
        if key.endswith("}o") and name:
            for header, value in self._response_headers:
                if header.lower() == name:
                    return value
        return "-"


def format_line(
    fmt: str,
    *,
    client: str | None,
    method: str,
    path: str,
    query: str,
    protocol: str,
    status: int,
    length: int,
    started: float,
    duration: float,
    request_header: Callable[[str], str | None],
    response_headers: Iterable[tuple[str, str]] = (),
) -> str:
    """One access-log line in ``fmt`` (gunicorn atoms; see the module docstring)."""
    target = f"{path}?{query}" if query else path
    values = {
        "h": client or "-",
        "l": "-",
        "u": "-",
        "t": time.strftime("[%d/%b/%Y:%H:%M:%S %z]", time.localtime(started)),
        "r": f"{method} {target} {protocol}",
        "m": method,
        "U": path,
        "q": query,
        "H": protocol,
        "s": str(status),
        "B": str(length),
        "b": str(length) if length else "-",
        "f": request_header("referer") or "-",
        "a": request_header("user-agent") or "-",
        "T": str(int(duration)),
        "M": str(int(duration * 1000)),
        "D": str(int(duration * 1_000_000)),
        "L": f"{duration:.6f}",
        "p": f"<{os.getpid()}>",
    }
    try:
        return fmt % _Atoms(values, request_header, response_headers)
    except (TypeError, ValueError) as exc:
        return f"(bad access-log format {fmt!r}: {exc})"


def check_format(fmt: str) -> str | None:
    """Why ``fmt`` is not a usable access-log format, or None."""
    line = format_line(
        fmt,
        client="127.0.0.1",
        method="GET",
        path="/",
        query="",
        protocol="HTTP/1.1",
        status=200,
        length=0,
        started=0.0,
        duration=0.0,
        request_header=lambda _name: None,
    )
    return line if line.startswith("(bad access-log format") else None


class AsgiAccessLog:
    """ASGI middleware: one access-log line per HTTP response (WebSocket passes through)."""

    def __init__(self, app: Callable[..., Any], fmt: str = DEFAULT_FORMAT) -> None:
        self.app = app
        self.fmt = fmt

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http" or not logger.isEnabledFor(logging.INFO):
            await self.app(scope, receive, send)
            return
        started = time.time()
        begin = time.perf_counter()
        status = 500
        length = 0
        headers: list[tuple[bytes, bytes]] = []
        done = False

        def emit() -> None:
            nonlocal done
            done = True
            self._log(scope, status, length, headers, started, time.perf_counter() - begin)

        async def logged_send(message: dict[str, Any]) -> None:
            nonlocal status, length, headers
            kind = message["type"]
            if kind == "http.response.start":
                status = int(message["status"])
                headers = list(message.get("headers") or ())
                await send(message)
                return
            if kind == "http.response.body":
                length += len(message.get("body") or b"")
                await send(message)
                if not message.get("more_body", False) and not done:
                    emit()
                return
            await send(message)

        try:
            await self.app(scope, receive, logged_send)
        finally:
            if not done:
                emit()

    def _log(
        self,
        scope: dict[str, Any],
        status: int,
        length: int,
        headers: list[tuple[bytes, bytes]],
        started: float,
        duration: float,
    ) -> None:
        request_headers = scope.get("headers") or ()

        def request_header(name: str) -> str | None:
            wanted = name.encode("latin-1")
            for key, value in request_headers:
                if key.lower() == wanted:
                    return value.decode("latin-1")
            return None

        client = scope.get("client")
        line = format_line(
            self.fmt,
            client=client[0] if client else None,
            method=scope.get("method", "-"),
            path=scope.get("path", "-"),
            query=(scope.get("query_string") or b"").decode("latin-1"),
            protocol="HTTP/" + scope.get("http_version", "1.1"),
            status=status,
            length=length,
            started=started,
            duration=duration,
            request_header=request_header,
            response_headers=[(k.decode("latin-1"), v.decode("latin-1")) for k, v in headers],
        )
        logger.info("%s", line)


class WsgiAccessLog:
    """WSGI middleware: one access-log line per response.

    A list or tuple body (the common case) is logged at once and returned as is, so the
    servers keep their one-write fast path; other bodies are logged when closed.
    """

    def __init__(self, app: Callable[..., Any], fmt: str = DEFAULT_FORMAT) -> None:
        self.app = app
        self.fmt = fmt

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        if not logger.isEnabledFor(logging.INFO):
            return self.app(environ, start_response)
        started = time.time()
        begin = time.perf_counter()
        response: list[Any] = [500, []]

        def logged_start_response(status: str, headers: list[Any], exc_info: Any = None) -> Any:
            response[0] = int(status.split(" ", 1)[0])
            response[1] = headers
            return start_response(status, headers, exc_info)

        try:
            result = self.app(environ, logged_start_response)
        except Exception:
            self._log(environ, 500, [], 0, started, begin)
            raise
        if type(result) in (list, tuple):
            length = sum(len(chunk) for chunk in result)
            self._log(environ, response[0], response[1], length, started, begin)
            return result
        return _LoggedBody(result, lambda n: self._log(environ, *response, n, started, begin))

    def _log(
        self,
        environ: dict[str, Any],
        status: int,
        headers: list[tuple[str, str]],
        length: int,
        started: float,
        begin: float,
    ) -> None:
        def request_header(name: str) -> str | None:
            key = name.upper().replace("-", "_")
            if key in ("CONTENT_TYPE", "CONTENT_LENGTH"):
                return environ.get(key)
            return environ.get("HTTP_" + key)

        duration = time.perf_counter() - begin
        line = format_line(
            self.fmt,
            client=environ.get("REMOTE_ADDR"),
            method=environ.get("REQUEST_METHOD", "-"),
            path=environ.get("SCRIPT_NAME", "") + environ.get("PATH_INFO", ""),
            query=environ.get("QUERY_STRING", ""),
            protocol=environ.get("SERVER_PROTOCOL", "HTTP/1.1"),
            status=status,
            length=length,
            started=started,
            duration=duration,
            request_header=request_header,
            response_headers=headers,
        )
        logger.info("%s", line)


class _LoggedBody:
    """A streamed WSGI body that counts its bytes and logs when closed."""

    def __init__(self, body: Any, log: Callable[[int], None]) -> None:
        self._body = body
        self._log = log
        self._length = 0
        self._logged = False

    def __iter__(self) -> Iterator[bytes]:
        for chunk in self._body:
            self._length += len(chunk)
            yield chunk

    def close(self) -> None:
        try:
            close = getattr(self._body, "close", None)
            if close is not None:
                close()
        finally:
            if not self._logged:
                self._logged = True
                self._log(self._length)
