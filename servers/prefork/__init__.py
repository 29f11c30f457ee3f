"""The prefork WSGI server: a master supervising sync, thread and event-loop workers.

Entry point::

    from bench.servers.prefork import PreforkConfig, serve
    exit_code = serve(PreforkConfig(bind=("127.0.0.1:8000",), workers=4), "myapp:app")

Modules: ``config`` (the settings, each defined once), ``policy`` (pure supervision
decisions), ``master`` (the process layer performing them), ``heartbeat`` (worker →
master channels), ``workers`` (the worker classes: ``sync``, ``thread``, ``eventloop``).
"""

from __future__ import annotations

from bench.servers.prefork.config import PreforkConfig

__all__ = ["PreforkConfig", "serve"]


def serve(config: PreforkConfig, app_spec: str) -> int:
    """Run the master until it is stopped; return its exit code.

    Raises ``bench.servers.errors.ServerError`` (one-line message, ``exit_code``) when it cannot start or
    when workers cannot boot (the app does not import, for example).
    """
    from bench.servers.prefork.master import serve_forever

    return serve_forever(config, app_spec)
