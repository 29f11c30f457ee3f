"""The deployment middleware around an app: proxy headers, then the access log.

``DeployOptions`` gathers the settings both servers share for it (each defined once in
``ServerConfig`` and ``PreforkConfig``, which build it with ``deploy_options()``).
``wrap_asgi`` / ``wrap_wsgi`` return the app itself when nothing is on, so the request
path costs nothing extra; otherwise the proxy-headers middleware runs first (the access
log then shows the real client) and the access log sees every response. The blocking
prefork workers serving TLS mark requests https first (``DeployOptions.https``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from servers.access_log import DEFAULT_FORMAT, AsgiAccessLog, WsgiAccessLog
from servers.proxy_headers import AsgiProxyHeaders, TrustedProxies, WsgiProxyHeaders

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
    if options.access_log:
        app = AsgiAccessLog(app, options.access_log_format)
    if options.proxy_headers:
        app = AsgiProxyHeaders(app, TrustedProxies(options.forwarded_allow_ips))
    return app


def wrap_wsgi(app: App, options: DeployOptions) -> App:
    """``app`` wrapped in the WSGI middleware ``options`` turns on (else ``app``)."""
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
