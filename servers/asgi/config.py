"""ServerConfig: every setting of the eventloop server, each defined once.

Each field is a ``bench.servers.settings.setting``: its default, command-line flags (uvicorn's
names where uvicorn has the setting), help and CLI parsing live in one place, which
drives ``bench serve eventloop`` (``add_arguments`` / ``from_namespace``), the prefork
eventloop worker (``bench.servers.prefork.workers.eventloop``) and the settings table of
``docs/servers.md``. Validation is ``__post_init__``.
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass, field
from typing import Any, Literal

from bench.servers import settings
from bench.servers.access_log import DEFAULT_FORMAT, check_format
from bench.servers.apps import INTERFACE_CHOICES
from bench.servers.errors import ConfigError
from bench.servers.protocol import Limits
from bench.servers.protocol.websocket import DEFAULT_MAX_MESSAGE_SIZE
from bench.servers.settings import setting
from bench.servers.wsgi.inline import INLINE_MODES

LoopName = Literal["uvloop", "asyncio"]
LifespanMode = Literal["auto", "on", "off"]
InterfaceName = Literal["asgi", "wsgi", "auto"]

LOOPS: tuple[str, ...] = ("uvloop", "asyncio")
INTERFACES: tuple[str, ...] = INTERFACE_CHOICES
LIFESPAN_MODES: tuple[str, ...] = ("auto", "on", "off")

#: The ``Server`` header our responses carry when ``server_header`` is on.
SERVER_HEADER = b"bench"

_CORE_LIMITS = Limits()


def _zero_is_none(value: float) -> float | None:
    return value or None


@dataclass(frozen=True, slots=True)
class ServerConfig:
    """Settings of one eventloop server process (the same for every worker).

    Every field but ``limits`` is a setting with a flag (see ``bench serve eventloop
    --help`` or ``docs/servers.md``). ``uvloop`` falls back to ``asyncio`` (with a
    warning) where uvloop is not installed; ``limits`` is derived: the HTTP/1.1 core's
    size limits from the ``limit_request_*`` settings.
    """

    workers: int = setting(
        1,
        "-w",
        "--workers",
        metavar="N",
        help="worker processes serving the same sockets (WSGI multiprocess)",
    )
    loop: LoopName = setting("uvloop", "--loop", choices=LOOPS, help="event loop")
    interface: InterfaceName = setting(
        "auto", "--interface", choices=INTERFACES, help="app interface (auto: from the app)"
    )
    lifespan: LifespanMode = setting(
        "auto",
        "--lifespan",
        choices=LIFESPAN_MODES,
        help="ASGI lifespan: auto (run it if the app supports it), on (the app must "
        "complete startup), off",
    )
    limit_concurrency: int | None = setting(
        None,
        "--limit-concurrency",
        metavar="N",
        help="503 beyond N requests in progress (or open connections); unlimited if unset",
    )
    timeout_keep_alive: float = setting(
        5.0,
        "--timeout-keep-alive",
        metavar="S",
        help="seconds an idle keep-alive connection stays open",
    )
    timeout_header_read: float = setting(
        10.0,
        "--timeout-header-read",
        metavar="S",
        help="time a client has, from its first byte, to send a complete request head",
    )
    timeout_graceful_shutdown: float | None = setting(
        30.0,
        "--graceful-timeout",
        "--timeout-graceful-shutdown",
        metavar="S",
        help="on SIGTERM, time in-flight requests get to finish",
    )
    root_path: str = setting(
        "",
        "--root-path",
        metavar="PATH",
        help="ASGI root_path / WSGI SCRIPT_NAME (a trailing / is dropped)",
    )
    server_header: bool = setting(True, "--no-server-header", help="do not send Server: bench")
    wsgi_threads: int = setting(10, "--threads", metavar="T", help="thread pool for a WSGI app")
    wsgi_inline: str = setting(
        "auto",
        "--wsgi-inline",
        choices=INLINE_MODES,
        help="run a WSGI app on the loop's thread: auto (while it does not wait), always, never",
    )
    backlog: int = setting(
        2048, "--backlog", metavar="N", help="listen backlog of the sockets the server binds"
    )
    limit_request_line: int = setting(
        _CORE_LIMITS.max_request_line,
        "--limit-request-line",
        metavar="B",
        help="longest request line, else 414",
    )
    limit_request_fields: int = setting(
        _CORE_LIMITS.max_header_count,
        "--limit-request-fields",
        metavar="N",
        help="most header fields, else 431",
    )
    limit_request_field_size: int = setting(
        _CORE_LIMITS.max_header_field_size,
        "--limit-request-field-size",
        metavar="B",
        help="longest header field line, CRLF included (as gunicorn counts), else 431",
    )
    limit_request_body: int | None = setting(
        _CORE_LIMITS.max_body_size,
        "--limit-request-body",
        metavar="B",
        help="largest request body, else 413; unlimited if unset",
    )
    ws_max_size: int = setting(
        DEFAULT_MAX_MESSAGE_SIZE, "--ws-max-size", metavar="B", help="largest WebSocket message"
    )
    ws_max_queue: int = setting(
        32,
        "--ws-max-queue",
        metavar="N",
        help="WebSocket messages received and not yet read by the app, beyond which reading pauses",
    )
    ws_ping_interval: float | None = setting(
        20.0,
        "--ws-ping-interval",
        metavar="S",
        parse=_zero_is_none,
        help="seconds between WebSocket keepalive pings; 0 disables",
    )
    ws_ping_timeout: float | None = setting(
        20.0,
        "--ws-ping-timeout",
        metavar="S",
        parse=_zero_is_none,
        help="seconds to wait for the pong before closing with 1011; 0: no pong awaited",
    )
    ws_per_message_deflate: bool = setting(
        True,
        "--ws-per-message-deflate",
        choices=("true", "false"),
        parse=lambda value: value == "true",
        help="offer WebSocket permessage-deflate (RFC 7692)",
    )
    # -- deployment (servers.deploy, servers.tls, servers.deploy) ------------------
    app_dir: str = setting(
        "",
        "--app-dir",
        metavar="DIR",
        help="look for the app's module in DIR (put first on the module path)",
    )
    factory: bool = setting(
        False, "--factory", help="APP names a callable without arguments that returns the app"
    )
    access_log: bool = setting(
        False,
        "--access-log",
        off_flags=("--no-access-log",),
        help="log one line per response (logger bench.access: stdout unless --log-config "
        "routes it); off costs nothing",
    )
    access_log_format: str = setting(
        DEFAULT_FORMAT,
        "--access-log-format",
        metavar="FORMAT",
        shown="gunicorn's",
        help="access-log line in gunicorn's atoms: %(h)s client, %(r)s request line, "
        "%(s)s status, %(b)s bytes, %(D)s µs, %({name}i)s a request header, ...",
    )
    proxy_headers: bool = setting(
        False,
        "--proxy-headers",
        off_flags=("--no-proxy-headers",),
        help="take the client address and scheme from Forwarded / X-Forwarded-For and "
        "X-Forwarded-Proto, when the peer is in --forwarded-allow-ips",
    )
    forwarded_allow_ips: str = setting(
        "127.0.0.1",
        "--forwarded-allow-ips",
        metavar="IPS",
        help="comma-separated addresses or CIDR networks of trusted proxies, or *",
    )
    ssl_certfile: str | None = setting(
        None, "--ssl-certfile", metavar="FILE", help="serve HTTPS with this certificate (PEM)"
    )
    ssl_keyfile: str | None = setting(
        None, "--ssl-keyfile", metavar="FILE", help="the certificate's private key (PEM)"
    )
    ssl_keyfile_password: str | None = setting(
        None, "--ssl-keyfile-password", metavar="PASSWORD", help="password of the private key"
    )
    ssl_ca_certs: str | None = setting(
        None,
        "--ssl-ca-certs",
        metavar="FILE",
        help="CA certificates that client certificates must verify against",
    )
    env_file: str | None = setting(
        None,
        "--env-file",
        metavar="FILE",
        help="KEY=VALUE lines exported to the environment before the app loads",
    )
    log_config: str | None = setting(
        None,
        "--log-config",
        metavar="FILE",
        help="logging configuration: a dictConfig in JSON or YAML (or an INI fileConfig)",
    )
    limit_max_requests: int | None = setting(
        None,
        "--limit-max-requests",
        metavar="N",
        help="stop gracefully after N responses (each worker); unlimited if unset",
    )
    reload: bool = setting(
        False, "--reload", help="development: restart the server when a watched file changes"
    )
    reload_dirs: tuple[str, ...] = setting(
        (),
        "--reload-dir",
        metavar="DIR",
        append=True,
        help="with --reload: a directory to watch (repeatable; default the current one)",
    )
    #: Derived: the HTTP/1.1 core's limits from the ``limit_request_*`` settings.
    limits: Limits = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if self.loop not in LOOPS:
            raise ConfigError(f"unknown loop {self.loop!r} (uvloop or asyncio)")
        if self.interface not in INTERFACES:
            raise ConfigError(f"unknown interface {self.interface!r} (asgi, wsgi or auto)")
        if self.lifespan not in LIFESPAN_MODES:
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
        if self.wsgi_inline not in INLINE_MODES:
            raise ConfigError(f"unknown wsgi_inline {self.wsgi_inline!r} (auto, always or never)")
        if self.workers < 1:
            raise ConfigError("workers must be at least 1")
        root_path = self.root_path.rstrip("/")
        if root_path and not root_path.startswith("/"):
            raise ConfigError("root_path must start with '/'")
        if self.ws_max_size < 1 or self.ws_max_queue < 1:
            raise ConfigError("ws_max_size and ws_max_queue must be positive")
        object.__setattr__(self, "root_path", root_path)
        self._check_deployment()
        limits = Limits(
            max_request_line=self.limit_request_line,
            max_header_count=self.limit_request_fields,
            max_header_field_size=self.limit_request_field_size,
            max_body_size=self.limit_request_body,
        )
        object.__setattr__(self, "limits", limits)

    def _check_deployment(self) -> None:
        from bench.servers.proxy_headers import TrustedProxies

        TrustedProxies(self.forwarded_allow_ips)  # ConfigError names a bad entry
        problem = check_format(self.access_log_format)
        if problem:
            raise ConfigError(f"--access-log-format: {problem}")
        if self.limit_max_requests is not None and self.limit_max_requests < 1:
            raise ConfigError("limit_max_requests must be at least 1")
        tls_only = (self.ssl_keyfile, self.ssl_keyfile_password, self.ssl_ca_certs)
        if self.ssl_certfile is None and any(v is not None for v in tls_only):
            raise ConfigError(
                "--ssl-keyfile, --ssl-keyfile-password and --ssl-ca-certs need --ssl-certfile"
            )

    def deploy_options(self) -> Any:
        """The access-log and proxy-header settings (``bench.servers.deploy.DeployOptions``)."""
        from bench.servers.deploy import DeployOptions

        return DeployOptions(
            access_log=self.access_log,
            access_log_format=self.access_log_format,
            proxy_headers=self.proxy_headers,
            forwarded_allow_ips=self.forwarded_allow_ips,
        )

    def tls_settings(self) -> Any:
        """``bench.servers.tls.TLSSettings`` when ``ssl_certfile`` is set, else None."""
        if self.ssl_certfile is None:
            return None
        from bench.servers.tls import TLSSettings

        return TLSSettings(
            self.ssl_certfile, self.ssl_keyfile, self.ssl_keyfile_password, self.ssl_ca_certs
        )

    @property
    def server_header_value(self) -> bytes | None:
        """The ``Server`` header value for the HTTP core (None: send none)."""
        return SERVER_HEADER if self.server_header else None


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add one option per ServerConfig setting to ``parser`` (defaults stay ``None``)."""
    settings.add_arguments(ServerConfig, parser)


def from_namespace(args: argparse.Namespace, **overrides: Any) -> ServerConfig:
    """Build the config from parsed options (those not given keep their defaults).

    Raises ConfigError for values that do not validate.
    """
    return ServerConfig(**{**settings.namespace_values(ServerConfig, args), **overrides})
