"""The ``io`` workload: each request waits on I/O — a sleep, or a real downstream HTTP call.

(The module is ``io_app`` so that it cannot shadow the standard ``io``; the bundled name
is ``io``.)

Parameters (``PARAMS``, from the environment):

- ``BENCH_APP_MS`` — the latency per request in milliseconds (default 50).
- ``BENCH_APP_MODE`` — ``sleep`` (default): wait ``ms`` without using CPU (``time.sleep``
  in WSGI, ``asyncio.sleep`` in ASGI); ``http``: call the bundled downstream service
  (``bench.servers.apps.downstream``), which waits ``ms`` before answering.
- ``BENCH_APP_DOWNSTREAM`` — the downstream service's URL (``http`` mode; ``bench run``
  sets it when the scenario says ``downstream: true``).
- ``BENCH_APP_POOL`` — most connections to the downstream service per process
  (default 100; the ASGI form queues calls beyond it, like an HTTP client's pool limit).

In ``http`` mode the WSGI form calls with a blocking client (``http.client``; one
keep-alive connection per thread, reused), the ASGI form with an asynchronous one on
the event loop (the protocol core's client role; a pool of keep-alive connections).
So the sync prefork server's throughput is bounded by workers × threads / latency, and
the event loop's by concurrency / latency.

The body is ``io <ms> ms\\n`` — the same in both modes, so a load engine can verify it.
"""

from __future__ import annotations

import asyncio
import http.client
import threading
import time
from collections.abc import Callable, Iterable
from typing import Any
from urllib.parse import urlsplit

from bench.servers.apps import AppLoadError, Param, Params, answer_non_http, text_headers
from bench.servers.protocol import (
    NEED_DATA,
    Connection,
    ConnectionClosed,
    Data,
    EndOfMessage,
    ProtocolError,
    Request,
    Response,
    Role,
)

PARAMS = Params(
    "io",
    Param("ms", float, 50.0, "the latency of each request, in milliseconds", minimum=0),
    Param(
        "mode",
        str,
        "sleep",
        "`sleep`: wait without CPU; `http`: call the downstream service (needs `downstream: true`)",
        choices=("sleep", "http"),
    ),
    Param(
        "downstream",
        str,
        "",
        "the downstream service's URL in `http` mode (`downstream: true` sets it)",
    ),
    Param("pool", int, 100, "most connections to the downstream service per process", minimum=1),
)
_VALUES = PARAMS.read()
MS: float = _VALUES["ms"]
MODE: str = _VALUES["mode"]
DOWNSTREAM: str = _VALUES["downstream"]
POOL: int = _VALUES["pool"]

if MODE == "http" and not DOWNSTREAM:
    raise AppLoadError("io in http mode needs BENCH_APP_DOWNSTREAM=http://HOST:PORT")

BODY = f"io {MS:g} ms\n".encode()
_TARGET = f"/?ms={MS:g}"
_READ_SIZE = 65536


class DownstreamError(Exception):
    """The downstream service failed or answered something other than 200."""


def _address(url: str) -> tuple[str, int]:
    parts = urlsplit(url)
    if parts.scheme != "http" or not parts.hostname:
        raise AppLoadError(f"BENCH_APP_DOWNSTREAM={url!r}: expected http://HOST:PORT")
    return parts.hostname, parts.port or 80


# ---------------------------------------------------------------- blocking client (WSGI)


class SyncClient:
    """One keep-alive ``http.client`` connection per thread, reconnected when it drops."""

    def __init__(self, url: str, timeout: float = 30.0) -> None:
        self.host, self.port = _address(url)
        self.timeout = timeout
        self._local = threading.local()

    def get(self, target: str) -> bytes:
        """GET ``target``; return the body (DownstreamError unless 200)."""
        for attempt in (0, 1):
            conn = getattr(self._local, "conn", None)
            fresh = conn is None
            if conn is None:
                conn = http.client.HTTPConnection(self.host, self.port, timeout=self.timeout)
                self._local.conn = conn
            try:
                conn.request("GET", target)
                response = conn.getresponse()
                data = response.read()
            except (OSError, http.client.HTTPException) as exc:
                conn.close()
                self._local.conn = None
                if fresh or attempt:
                    raise DownstreamError(f"downstream call failed: {exc}") from exc
                continue  # a kept-alive connection the service closed: retry once, fresh
            if response.will_close:
                conn.close()
                self._local.conn = None
            if response.status != 200:
                raise DownstreamError(f"downstream answered {response.status}")
            return data
        raise DownstreamError("downstream call failed")


# ---------------------------------------------------------------- async client (ASGI)


class _AsyncConn:
    """One keep-alive connection driven by the protocol core's client role."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, host: bytes):
        self.reader = reader
        self.writer = writer
        self.host = host
        self.http = Connection(Role.CLIENT)

    async def get(self, target: bytes) -> tuple[int, bytes]:
        """Send a GET, read the whole response."""
        out = self.http.send(Request(method=b"GET", target=target, headers=[(b"host", self.host)]))
        out += self.http.send(EndOfMessage())
        self.writer.write(out)
        status = 0
        chunks: list[bytes] = []
        while True:
            event = self.http.next_event()
            if event is NEED_DATA:
                self.http.receive_data(await self.reader.read(_READ_SIZE))
            elif isinstance(event, Response):
                status = event.status_code
            elif isinstance(event, Data):
                chunks.append(event.data)
            elif isinstance(event, EndOfMessage):
                return status, b"".join(chunks)
            elif isinstance(event, ConnectionClosed):
                raise ConnectionResetError("downstream closed the connection")

    @property
    def reusable(self) -> bool:
        """True when another request may go on this connection."""
        return self.http.keep_alive and not self.writer.is_closing()

    def close(self) -> None:
        """Close the socket."""
        self.writer.close()


class AsyncPool:
    """Keep-alive connections to the downstream service, at most ``size`` at once."""

    def __init__(self, url: str, size: int) -> None:
        self.host, self.port = _address(url)
        self._host_header = f"{self.host}:{self.port}".encode()
        self._idle: list[_AsyncConn] = []
        self._slots = asyncio.Semaphore(max(1, size))

    async def get(self, target: str) -> bytes:
        """GET ``target``; return the body (DownstreamError unless 200)."""
        async with self._slots:
            for attempt in (0, 1):
                conn = self._idle.pop() if self._idle else None
                fresh = conn is None
                try:
                    if conn is None:
                        reader, writer = await asyncio.open_connection(self.host, self.port)
                        conn = _AsyncConn(reader, writer, self._host_header)
                    status, data = await conn.get(target.encode())
                except (OSError, ProtocolError) as exc:
                    if conn is not None:
                        conn.close()
                    if fresh or attempt:
                        raise DownstreamError(f"downstream call failed: {exc}") from exc
                    continue
                if conn.reusable:
                    self._idle.append(conn)
                else:
                    conn.close()
                if status != 200:
                    raise DownstreamError(f"downstream answered {status}")
                return data
        raise DownstreamError("downstream call failed")


_sync_client: SyncClient | None = SyncClient(DOWNSTREAM) if MODE == "http" else None
#: One pool per event loop (a forked worker or a new loop gets its own).
_pools: dict[int, tuple[asyncio.AbstractEventLoop, AsyncPool]] = {}


def _pool() -> AsyncPool:
    loop = asyncio.get_running_loop()
    entry = _pools.get(id(loop))
    if entry is None or entry[0] is not loop:
        entry = _pools[id(loop)] = (loop, AsyncPool(DOWNSTREAM, POOL))
    return entry[1]


# ---------------------------------------------------------------- the apps


async def asgi(scope: dict[str, Any], receive: Callable, send: Callable) -> None:
    """ASGI form: ``asyncio.sleep`` or an async downstream call."""
    if await answer_non_http(scope, receive, send):
        return
    status, payload = 200, BODY
    if MODE == "http":
        try:
            await _pool().get(_TARGET)
        except DownstreamError as exc:
            status, payload = 502, f"{exc}\n".encode()
    else:
        await asyncio.sleep(MS / 1000.0)
    await send(
        {"type": "http.response.start", "status": status, "headers": text_headers(len(payload))}
    )
    await send({"type": "http.response.body", "body": payload})


def wsgi(environ: dict[str, Any], start_response: Callable) -> Iterable[bytes]:
    """WSGI form: ``time.sleep`` or a blocking downstream call."""
    status, payload = "200 OK", BODY
    if _sync_client is not None:
        try:
            _sync_client.get(_TARGET)
        except DownstreamError as exc:
            status, payload = "502 Bad Gateway", f"{exc}\n".encode()
    else:
        time.sleep(MS / 1000.0)
    start_response(status, [("Content-Type", "text/plain"), ("Content-Length", str(len(payload)))])
    return [payload]
