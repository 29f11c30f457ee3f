"""Settings of the prefork server, each defined once.

Every setting is a field of the frozen ``PreforkConfig`` dataclass: its default is the
field default, and its command-line flags and help live in the field's metadata
(``bench.servers.settings``, the mechanism the eventloop server's ``ServerConfig`` uses too).
The command line (``add_arguments`` / ``from_namespace``) and the table in
``docs/servers.md`` are generated from those fields, so a setting's name, default, flags
and help cannot drift apart (the good part of gunicorn's settings module, without its
3,000 lines). Flag names are gunicorn's where gunicorn has the setting.

A setting the ``-k eventloop`` worker passes on to its ``ServerConfig`` names that
setting in its metadata (``eventloop="timeout_keep_alive"``).
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
from bench.servers.settings import option
from bench.servers.wsgi.inline import INLINE_MODES

WorkerClass = Literal["sync", "thread", "eventloop"]

#: Accepted ``-k`` values and the worker class each one selects (gunicorn's names too).
WORKER_CLASSES: dict[str, WorkerClass] = {
    "sync": "sync",
    "thread": "thread",
    "gthread": "thread",
    "eventloop": "eventloop",
}


_CORE_LIMITS = Limits()


@dataclass(frozen=True, slots=True)
class PreforkConfig:
    """All settings of the prefork master and its workers (see ``--help`` for each)."""

    bind: tuple[str, ...] = field(
        default=("127.0.0.1:8000",),
        metadata=option(
            "-b",
            "--bind",
            metavar="ADDRESS",
            help="address to listen on: HOST:PORT, [IPV6]:PORT, unix:PATH or fd://N; "
            "repeat to listen on several",
            append=True,
        ),
    )
    workers: int = field(
        default=1,
        metadata=option(
            "-w", "--workers", metavar="N", help="worker processes", eventloop="workers"
        ),
    )
    worker_class: str = field(
        default="sync",
        metadata=option(
            "-k",
            "--worker-class",
            metavar="CLASS",
            help="sync (one request at a time), thread (alias gthread: --threads per "
            "process) or eventloop (the ASGI/WSGI event-loop server in each worker)",
            choices=tuple(WORKER_CLASSES),
        ),
    )
    threads: int = field(
        default=1,
        metadata=option(
            "--threads",
            metavar="T",
            help="threads per worker for -k thread; more than 1 with -k sync selects "
            "-k thread, as in gunicorn; with -k eventloop, the pool of a WSGI app",
            eventloop="wsgi_threads",
        ),
    )
    interface: str = field(
        default="auto",
        metadata=option(
            "--interface",
            help="-k eventloop: the app's interface (auto: from the app; a bundled app "
            "with both forms is served as ASGI)",
            choices=INTERFACE_CHOICES,
            eventloop="interface",
        ),
    )
    wsgi_inline: str = field(
        default="auto",
        metadata=option(
            "--wsgi-inline",
            help="-k eventloop with a WSGI app: run it on the loop's thread while it does "
            "not wait (auto), always, or never (always the --threads pool)",
            choices=INLINE_MODES,
            eventloop="wsgi_inline",
        ),
    )
    worker_connections: int = field(
        default=1000,
        metadata=option(
            "--worker-connections",
            metavar="N",
            help="-k thread: most open connections per worker (busy and keep-alive); at the "
            "cap the keep-alive connection idle the longest is closed for a new one",
        ),
    )
    timeout: float = field(
        default=30.0,
        metadata=option(
            "-t",
            "--timeout",
            metavar="S",
            help="a worker silent (no heartbeat) for this long is aborted, killed and "
            "replaced; 0 disables",
        ),
    )
    graceful_timeout: float = field(
        default=30.0,
        metadata=option(
            "--graceful-timeout",
            metavar="S",
            help="after a graceful stop (TERM, HUP, retirement) a worker still running "
            "this long is killed",
            eventloop="timeout_graceful_shutdown",
        ),
    )
    keep_alive: float = field(
        default=2.0,
        metadata=option(
            "--keep-alive",
            metavar="S",
            help="seconds an idle keep-alive connection stays open (-k thread, "
            "-k eventloop, and -k sync with --sync-keep-alive); 0 closes after each response",
            eventloop="timeout_keep_alive",
        ),
    )
    sync_keep_alive: bool = field(
        default=False,
        metadata=option(
            "--sync-keep-alive",
            help="let -k sync keep connections open between requests; off by default "
            "(as in gunicorn): a kept-alive client holds the worker's only thread "
            "while other clients wait, so it is only safe behind a proxy that opens "
            "no more connections than there are workers",
        ),
    )
    max_requests: int = field(
        default=0,
        metadata=option(
            "--max-requests",
            metavar="N",
            help="a worker retires gracefully after about N requests (a replacement "
            "starts first); 0 disables",
        ),
    )
    max_requests_jitter: int = field(
        default=0,
        metadata=option(
            "--max-requests-jitter",
            metavar="J",
            help="add a random 0..J to --max-requests per worker, so workers do not "
            "all retire at once",
        ),
    )
    max_worker_rss: int = field(
        default=0,
        metadata=option(
            "--max-worker-rss",
            metavar="MIB",
            help="a worker whose resident memory exceeds this many MiB is replaced "
            "(gracefully, replacement first); 0 disables",
        ),
    )
    preload: bool = field(
        default=False,
        metadata=option(
            "--preload",
            help="import the app in the master before forking (faster boot, shared "
            "memory; HUP then restarts workers without re-importing the app)",
        ),
    )
    reuse_port: bool = field(
        default=False, metadata=option("--reuse-port", help="set SO_REUSEPORT on the listeners")
    )
    backlog: int = field(
        default=2048,
        metadata=option("--backlog", metavar="N", help="listen() backlog", eventloop="backlog"),
    )
    pidfile: str | None = field(
        default=None,
        metadata=option("-p", "--pid", metavar="FILE", help="write the master's pid to FILE"),
    )
    limit_request_line: int = field(
        default=_CORE_LIMITS.max_request_line,
        metadata=option(
            "--limit-request-line",
            metavar="B",
            help="longest request line (else 414)",
            eventloop="limit_request_line",
        ),
    )
    limit_request_fields: int = field(
        default=_CORE_LIMITS.max_header_count,
        metadata=option(
            "--limit-request-fields",
            metavar="N",
            help="most request header fields (else 431)",
            eventloop="limit_request_fields",
        ),
    )
    limit_request_field_size: int = field(
        default=_CORE_LIMITS.max_header_field_size,
        metadata=option(
            "--limit-request-field_size",
            "--limit-request-field-size",
            metavar="B",
            help="longest request header field line, CRLF included (else 431)",
            eventloop="limit_request_field_size",
        ),
    )
    limit_request_body: int | None = field(
        default=None,
        metadata=option(
            "--limit-request-body",
            metavar="B",
            help="largest request body in bytes, else 413 (refused from its "
            "Content-Length, before any 100 Continue); unlimited if unset or 0",
            parse=lambda value: value or None,
            eventloop="limit_request_body",
        ),
    )
    chdir: str | None = field(
        default=None,
        metadata=option("--chdir", metavar="DIR", help="change to DIR before loading the app"),
    )
    pythonpath: str | None = field(
        default=None,
        metadata=option(
            "--pythonpath",
            metavar="DIRS",
            help="comma-separated directories to put first on the module search path",
        ),
    )
    root_path: str = field(
        default="",
        metadata=option(
            "--root-path",
            metavar="PATH",
            help="SCRIPT_NAME of the app when it is mounted below a path prefix",
            eventloop="root_path",
        ),
    )
    # -- deployment: logs, proxies, TLS, environment (servers.deploy, servers.deploy)
    access_logfile: str | None = field(
        default=None,
        metadata=option(
            "--access-logfile",
            metavar="FILE",
            help="write one access-log line per response to FILE ('-': stdout); off if unset",
        ),
    )
    access_logformat: str = field(
        default=DEFAULT_FORMAT,
        metadata=option(
            "--access-logformat",
            metavar="FORMAT",
            shown="gunicorn's",
            help="access-log line in gunicorn's atoms (%(h)s %(r)s %(s)s %(b)s ...)",
            eventloop="access_log_format",
        ),
    )
    error_logfile: str | None = field(
        default=None,
        metadata=option(
            "--error-logfile", "--log-file", metavar="FILE", help="the error log ('-': stderr)"
        ),
    )
    log_level: str = field(
        default="info",
        metadata=option(
            "--log-level", choices=("debug", "info", "warning", "error"), help="log level"
        ),
    )
    log_config: str | None = field(
        default=None,
        metadata=option(
            "--log-config",
            metavar="FILE",
            help="logging configuration: a dictConfig in JSON or YAML, or an INI fileConfig",
        ),
    )
    forwarded_allow_ips: str | None = field(
        default=None,
        metadata=option(
            "--forwarded-allow-ips",
            metavar="IPS",
            help="trust Forwarded / X-Forwarded-For / X-Forwarded-Proto from these "
            "comma-separated addresses or CIDR networks (* for any); off if unset",
        ),
    )
    certfile: str | None = field(
        default=None,
        metadata=option(
            "--certfile",
            metavar="FILE",
            help="serve HTTPS with this certificate (PEM; -k eventloop)",
            eventloop="ssl_certfile",
        ),
    )
    keyfile: str | None = field(
        default=None,
        metadata=option(
            "--keyfile",
            metavar="FILE",
            help="the certificate's private key",
            eventloop="ssl_keyfile",
        ),
    )
    ca_certs: str | None = field(
        default=None,
        metadata=option(
            "--ca-certs",
            metavar="FILE",
            help="CA certificates client certificates must verify against",
            eventloop="ssl_ca_certs",
        ),
    )
    env: tuple[str, ...] = field(
        default=(),
        metadata=option(
            "-e", "--env", metavar="KEY=VALUE", help="set an environment variable", append=True
        ),
    )
    reload: bool = field(
        default=False,
        metadata=option(
            "--reload",
            help="development: restart when a .py file changes under --chdir and "
            "--pythonpath (else the current directory)",
        ),
    )
    #: ``-k eventloop``: a ready ``bench.servers.asgi.server.ServerConfig`` to use as is (set by
    #: ``bench serve eventloop -w N``); ``None`` derives one from the settings above.
    eventloop_config: Any = None

    def __post_init__(self) -> None:
        if self.worker_class not in WORKER_CLASSES:
            raise ConfigError(f"unknown worker class {self.worker_class!r}")
        if self.interface not in INTERFACE_CHOICES:
            raise ConfigError(f"unknown --interface {self.interface!r} (auto, asgi or wsgi)")
        if self.interface == "asgi" and self.worker_class not in ("eventloop",):
            raise ConfigError(
                f"--interface asgi needs -k eventloop (-k {self.worker_class} serves WSGI apps)"
            )
        if self.wsgi_inline not in INLINE_MODES:
            raise ConfigError(f"unknown --wsgi-inline {self.wsgi_inline!r} (auto, always or never)")
        if not self.bind:
            raise ConfigError("at least one --bind address is needed")
        for name in ("workers", "threads", "worker_connections", "backlog"):
            if getattr(self, name) < 1:
                raise ConfigError(f"--{name.replace('_', '-')} must be at least 1")
        for name in (
            "timeout",
            "graceful_timeout",
            "keep_alive",
            "max_requests",
            "max_requests_jitter",
            "max_worker_rss",
        ):
            if getattr(self, name) < 0:
                raise ConfigError(f"--{name.replace('_', '-')} must not be negative")
        self._check_deployment()

    def _check_deployment(self) -> None:
        from bench.servers.deploy import parse_env_pairs
        from bench.servers.proxy_headers import TrustedProxies

        if self.forwarded_allow_ips is not None:
            TrustedProxies(self.forwarded_allow_ips)
        problem = check_format(self.access_logformat)
        if problem:
            raise ConfigError(f"--access-logformat: {problem}")
        parse_env_pairs(self.env)
        if self.certfile is None and (self.keyfile or self.ca_certs):
            raise ConfigError("--keyfile and --ca-certs need --certfile")
        if self.certfile is not None and self.effective_worker_class != "eventloop":
            raise ConfigError(
                "TLS (--certfile) is served by -k eventloop; -k sync and -k thread refuse it"
            )

    def deploy_options(self) -> Any:
        """The access-log and proxy-header settings (``bench.servers.deploy.DeployOptions``)."""
        from bench.servers.deploy import DeployOptions

        return DeployOptions(
            access_log=self.access_logfile is not None,
            access_log_format=self.access_logformat,
            proxy_headers=self.forwarded_allow_ips is not None,
            forwarded_allow_ips=self.forwarded_allow_ips or "127.0.0.1",
            https=self.certfile is not None,
        )

    def tls_settings(self) -> Any:
        """``bench.servers.tls.TLSSettings`` when ``certfile`` is set, else None."""
        if self.certfile is None:
            return None
        from bench.servers.tls import TLSSettings

        return TLSSettings(self.certfile, self.keyfile, None, self.ca_certs)

        if self.limit_request_body is not None and self.limit_request_body < 0:
            raise ConfigError("--limit-request-body must not be negative")

    @property
    def effective_worker_class(self) -> WorkerClass:
        """The worker class that runs: ``sync`` with ``--threads`` > 1 becomes ``thread``."""
        kind = WORKER_CLASSES[self.worker_class]
        if kind == "sync" and self.threads > 1:
            return "thread"
        return kind

    def describe(self) -> str:
        """A short human summary, e.g. ``4 sync workers`` or ``2 thread workers x 8 threads``."""
        kind = self.effective_worker_class
        plural = "s" if self.workers != 1 else ""
        text = f"{self.workers} {kind} worker{plural}"
        if kind == "thread":
            text += f" x {self.threads} threads"
        return text


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add one option per setting to ``parser`` (defaults stay ``None`` = not given)."""
    settings.add_arguments(PreforkConfig, parser)


def from_namespace(args: argparse.Namespace, **overrides: Any) -> PreforkConfig:
    """Build the config from parsed options (those not given keep their defaults).

    Raises ConfigError for values that do not validate.
    """
    return PreforkConfig(**{**settings.namespace_values(PreforkConfig, args), **overrides})
