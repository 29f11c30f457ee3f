"""ServerConfig: every setting of the eventloop server, with uvicorn's names where they exist.

One frozen dataclass, validated on construction; the CLI (``runner/commands/serve.py``)
maps flags to fields and the prefork master passes the same object to its workers.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from servers.asgi.errors import ConfigError
from servers.protocol import Limits

LoopName = Literal["uvloop", "asyncio"]
LifespanMode = Literal["auto", "on", "off"]
InterfaceName = Literal["asgi", "wsgi", "auto"]

#: The ``Server`` header our responses carry when ``server_header`` is on.
SERVER_HEADER = b"bench"


@dataclass(frozen=True, slots=True)
class ServerConfig:
    """Settings of one eventloop server process (the same for every worker).

    Attributes:
        loop: event loop implementation; ``uvloop`` falls back to ``asyncio`` (with a
            warning) where uvloop is not installed.
        interface: ``asgi``, ``wsgi`` or ``auto`` (decided when the app is loaded).
        limit_concurrency: requests in progress (or open connections) beyond which new
            requests get 503; ``None``: unlimited.
        timeout_keep_alive: seconds an idle keep-alive connection stays open.
        timeout_header_read: seconds a client has, from its first byte (or from
            connecting), to send a complete request head; slower clients are closed.
        timeout_graceful_shutdown: seconds in-flight requests get after SIGTERM before
            connections are closed and tasks cancelled; ``None``: wait for ever.
        lifespan: ``auto`` (run it; an app that does not support it is fine), ``on``
            (the app must complete startup), ``off``.
        limits: request size limits of the HTTP/1.1 core (line, fields, body).
        root_path: ASGI ``root_path`` / WSGI ``SCRIPT_NAME``.
        server_header: send ``Server: bench``.
        wsgi_threads: threads of the pool that runs a WSGI app.
        workers: worker processes serving the same sockets (WSGI ``multiprocess``).
        backlog: listen backlog for sockets this server binds itself.
        ws_max_size, ws_max_queue, ws_ping_interval, ws_ping_timeout,
        ws_per_message_deflate: WebSocket settings (used by ``servers.asgi.websocket``).
    """

    loop: LoopName = "uvloop"
    interface: InterfaceName = "auto"
    limit_concurrency: int | None = None
    timeout_keep_alive: float = 5.0
    timeout_header_read: float = 10.0
    timeout_graceful_shutdown: float | None = 30.0
    lifespan: LifespanMode = "auto"
    limits: Limits = field(default_factory=Limits)
    root_path: str = ""
    server_header: bool = True
    wsgi_threads: int = 10
    workers: int = 1
    backlog: int = 2048
    ws_max_size: int = 16 * 1024 * 1024
    ws_max_queue: int = 32
    ws_ping_interval: float | None = 20.0
    ws_ping_timeout: float | None = 20.0
    ws_per_message_deflate: bool = True

    def __post_init__(self) -> None:
        if self.loop not in ("uvloop", "asyncio"):
            raise ConfigError(f"unknown loop {self.loop!r} (uvloop or asyncio)")
        if self.interface not in ("asgi", "wsgi", "auto"):
            raise ConfigError(f"unknown interface {self.interface!r} (asgi, wsgi or auto)")
        if self.lifespan not in ("auto", "on", "off"):
            raise ConfigError(f"unknown lifespan mode {self.lifespan!r} (auto, on or off)")
        if self.limit_concurrency is not None and self.limit_concurrency < 1:
            raise ConfigError("limit_concurrency must be at least 1")
        for name in ("timeout_keep_alive", "timeout_header_read"):
            if getattr(self, name) <= 0:
                raise ConfigError(f"{name} must be positive")
        if self.timeout_graceful_shutdown is not None and self.timeout_graceful_shutdown < 0:
            raise ConfigError("timeout_graceful_shutdown must not be negative")
        if self.wsgi_threads < 1:
            raise ConfigError("wsgi_threads must be at least 1")
        if self.workers < 1:
            raise ConfigError("workers must be at least 1")
        if self.root_path and not self.root_path.startswith("/"):
            raise ConfigError("root_path must start with '/'")
        if self.ws_max_size < 1 or self.ws_max_queue < 1:
            raise ConfigError("ws_max_size and ws_max_queue must be positive")

    @property
    def server_header_value(self) -> bytes | None:
        """The ``Server`` header value for the HTTP core (None: send none)."""
        return SERVER_HEADER if self.server_header else None
