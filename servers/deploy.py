"""What a server process does before it loads the app: environment, module path, logging.

- ``read_env_file(path)``: ``KEY=VALUE`` lines (``--env-file``), the dotenv subset:
  ``#`` comments, blank lines, an optional ``export`` prefix, single or double quotes
  (double quotes understand ``\\n``, ``\\t``, ``\\"`` and ``\\\\``).
- ``parse_env_pairs(items)``: ``-e KEY=VALUE`` options (prefork).
- ``add_app_dir(path)``: ``--app-dir``, first on the module search path.
- ``configure_logs(...)``: the default stderr log, the access log's own handler (stdout,
  a file, or off) and ``--log-config``, a ``logging.config.dictConfig`` file in JSON or
  YAML (or an INI ``fileConfig``) applied last, so it can route ``bench.access``.
- ``DeployOptions`` and ``wrap_asgi`` / ``wrap_wsgi`` / ``wrap``: the middleware around
  the app. ``ServerConfig`` and ``PreforkConfig`` build the options
  (``deploy_options()``) from their settings. The app itself is returned when nothing
  is on, so the request path costs nothing extra; otherwise the proxy-headers
  middleware runs first (the access log then shows the real client) and the access log
  sees every response. The blocking prefork workers serving TLS mark requests https
  first (``DeployOptions.https``). With ``BENCH_WORKER_STATS`` set, the app is also
  counted per worker (``bench.servers.worker_stats``, the side channel ``bench run`` reads).

Every problem is a ``ConfigError`` of one line naming the file or setting.
"""

from __future__ import annotations

import json
import logging
import logging.config
import os
import sys
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.servers import worker_stats
from bench.servers.access_log import ACCESS_LOGGER, DEFAULT_FORMAT, AsgiAccessLog, WsgiAccessLog
from bench.servers.errors import ConfigError
from bench.servers.proxy_headers import AsgiProxyHeaders, TrustedProxies, WsgiProxyHeaders

_ESCAPES = {"n": "\n", "t": "\t", '"': '"', "\\": "\\", "r": "\r"}


def _unquote(value: str) -> str:
    if len(value) >= 2 and value[0] == value[-1] == "'":
        return value[1:-1]
    if len(value) >= 2 and value[0] == value[-1] == '"':
        out: list[str] = []
        chars = iter(value[1:-1])
        for char in chars:
            if char == "\\":
                nxt = next(chars, "")
                out.append(_ESCAPES.get(nxt, "\\" + nxt))
            else:
                out.append(char)
        return "".join(out)
    return value.split(" #", 1)[0].strip()


def parse_env_text(text: str, source: str = "<env>") -> dict[str, str]:
    """The variables of dotenv-style ``text``; ConfigError names ``source`` and the line."""
    values: dict[str, str] = {}
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("export "):
            line = line[len("export ") :].lstrip()
        key, sep, value = line.partition("=")
        key = key.strip()
        if not sep or not key or not key.replace("_", "a").isalnum():
            raise ConfigError(f"{source}:{number}: expected KEY=VALUE, got {raw.strip()!r}")
        values[key] = _unquote(value.strip())
    return values


def read_env_file(path: str) -> dict[str, str]:
    """The variables of the env file at ``path``."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"--env-file {path}: {exc.strerror or exc}") from None
    return parse_env_text(text, path)


def parse_env_pairs(items: Iterable[str]) -> dict[str, str]:
    """``-e KEY=VALUE`` options as a dict (ConfigError for one without ``=``)."""
    values: dict[str, str] = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise ConfigError(f"-e expects KEY=VALUE, got {item!r}")
        values[key.strip()] = value
    return values


def export(values: Mapping[str, str]) -> None:
    """Put ``values`` in ``os.environ`` (inherited by workers forked or spawned later)."""
    os.environ.update(values)


def add_app_dir(path: str) -> None:
    """Put ``path`` first on ``sys.path`` (the app's module is looked for there first)."""
    if not path:
        return
    full = os.path.abspath(path)
    if not os.path.isdir(full):
        raise ConfigError(f"--app-dir {path}: no such directory")
    if full in sys.path:
        sys.path.remove(full)
    sys.path.insert(0, full)


def load_log_config(path: str) -> None:
    """Apply a logging configuration file: dictConfig (``.json``, ``.yaml``/``.yml``) or INI."""
    file = Path(path)
    try:
        text = file.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"--log-config {path}: {exc.strerror or exc}") from None
    suffix = file.suffix.lower()
    try:
        if suffix in (".ini", ".cfg", ".conf"):
            logging.config.fileConfig(path, disable_existing_loggers=False)
            return
        if suffix == ".json":
            data = json.loads(text)
        else:
            import yaml

            data = yaml.safe_load(text)
        if not isinstance(data, dict):
            raise ConfigError(f"--log-config {path}: expected a mapping (logging dictConfig)")
        data.setdefault("version", 1)
        data.setdefault("disable_existing_loggers", False)
        logging.config.dictConfig(data)
    except ConfigError:
        raise
    except Exception as exc:
        raise ConfigError(f"--log-config {path}: {type(exc).__name__}: {exc}") from None


def configure_logs(
    level: str,
    *,
    access_target: str | None = "-",
    error_target: str | None = None,
    log_config: str | None = None,
) -> None:
    """Set up the server's logs (see the module docstring).

    Args:
        level: the level of the ``bench`` loggers (debug, info, warning, error).
        access_target: where access lines go without a log config: ``-`` stdout, a
            file path, or None (not configured here).
        error_target: the error log: None or ``-`` stderr, else a file path.
        log_config: a logging configuration file applied last.
    """
    fmt = logging.Formatter("bench[%(process)d] %(levelname)s: %(message)s")
    try:
        if error_target in (None, "-"):
            handler: logging.Handler = logging.StreamHandler(sys.stderr)
        else:
            handler = logging.FileHandler(error_target)
        access: logging.Handler | None = None
        if access_target == "-":
            access = logging.StreamHandler(sys.stdout)
        elif access_target is not None:
            access = logging.FileHandler(access_target)
    except OSError as exc:
        raise ConfigError(f"log file: {exc.filename}: {exc.strerror}") from None
    handler.setFormatter(fmt)
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(getattr(logging, level.upper()))
    access_logger = logging.getLogger(ACCESS_LOGGER)
    if access is not None:
        access.setFormatter(logging.Formatter("%(message)s"))
        access_logger.handlers[:] = [access]
        access_logger.propagate = False
        access_logger.setLevel(logging.INFO)
    if log_config:
        load_log_config(log_config)


# -- the middleware around the app ----------------------------------------------------

App = Callable[..., Any]


@dataclass(frozen=True, slots=True)
class DeployOptions:
    """Middleware settings: the access log and proxy headers (both off by default)."""

    access_log: bool = False
    access_log_format: str = DEFAULT_FORMAT
    proxy_headers: bool = False
    forwarded_allow_ips: str = "127.0.0.1"
    #: The blocking workers serve TLS: ``wsgi.url_scheme`` is https (a proxy may override).
    https: bool = False


def wrap_asgi(app: App, options: DeployOptions) -> App:
    """``app`` wrapped in the ASGI middleware ``options`` turns on (else ``app``)."""
    app = worker_stats.wrap_asgi(app)  # only with BENCH_WORKER_STATS set
    if options.access_log:
        app = AsgiAccessLog(app, options.access_log_format)
    if options.proxy_headers:
        app = AsgiProxyHeaders(app, TrustedProxies(options.forwarded_allow_ips))
    return app


def wrap_wsgi(app: App, options: DeployOptions) -> App:
    """``app`` wrapped in the WSGI middleware ``options`` turns on (else ``app``)."""
    app = worker_stats.wrap_wsgi(app)  # only with BENCH_WORKER_STATS set
    if options.access_log:
        app = WsgiAccessLog(app, options.access_log_format)
    if options.proxy_headers:
        app = WsgiProxyHeaders(app, TrustedProxies(options.forwarded_allow_ips))
    if options.https:
        app = _WsgiHttps(app)
    return app


class _WsgiHttps:
    """Marks every request as arrived over TLS (``wsgi.url_scheme`` https, ``HTTPS`` on)."""

    def __init__(self, app: App) -> None:
        self.app = app

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        environ["wsgi.url_scheme"] = "https"
        environ["HTTPS"] = "on"
        return self.app(environ, start_response)


def wrap(app: App, interface: str, options: DeployOptions) -> App:
    """``wrap_asgi`` or ``wrap_wsgi`` by ``interface``."""
    return wrap_asgi(app, options) if interface == "asgi" else wrap_wsgi(app, options)
