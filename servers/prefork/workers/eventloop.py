"""The eventloop worker: bench's ASGI event-loop server inside a prefork worker.

``bench serve prefork APP -k eventloop -w 4`` is the gunicorn + uvicorn-worker
arrangement: the master supervises, each worker runs ``bench.servers.asgi.server.run_worker``
on the inherited listening sockets. That server installs its own handlers for TERM
(graceful), INT and QUIT; its once-a-second timer calls our heartbeat, which also
notices a dead master and then asks the server to stop gracefully. Every completed
response is counted (``on_request``) so ``--max-requests`` retires the worker: the
master starts a replacement, then sends TERM.
"""

from __future__ import annotations

import dataclasses
import os
import signal
import socket
from collections.abc import Callable
from typing import Any

from bench.servers.prefork.config import PreforkConfig
from bench.servers.prefork.workers.base import WorkerRuntime


def eventloop_settings(config: PreforkConfig) -> dict[str, Any]:
    """The ServerConfig settings a PreforkConfig gives, by ServerConfig name.

    Each PreforkConfig setting with an eventloop counterpart names it in its metadata
    (``eventloop=...``). Two values translate: ``--threads 1`` (the prefork default,
    "no thread pool") leaves the WSGI pool at its own default, and ``--keep-alive 0``
    (close idle connections at once) becomes 0.001 s, since the event-loop server needs
    a positive keep-alive; its next tick closes them. The access log is on when
    ``--access-logfile`` is set, proxy headers when ``--forwarded-allow-ips`` is.
    """
    values: dict[str, Any] = {}
    for f in dataclasses.fields(config):
        target = f.metadata.get("eventloop")
        if target is not None:
            values[target] = getattr(config, f.name)
    values["access_log"] = config.access_logfile is not None
    if config.forwarded_allow_ips is not None:
        values["proxy_headers"] = True
        values["forwarded_allow_ips"] = config.forwarded_allow_ips
    if values.get("wsgi_threads") == 1:
        del values["wsgi_threads"]
    if values.get("timeout_keep_alive") == 0:
        values["timeout_keep_alive"] = 0.001
    return values


def eventloop_config(config: PreforkConfig) -> Any:
    """The ServerConfig of each worker: the one given, or one derived from our settings."""
    if config.eventloop_config is not None:
        return config.eventloop_config
    from bench.servers.asgi.config import ServerConfig

    return ServerConfig(**eventloop_settings(config))


def run_eventloop_worker(
    app: Callable[..., Any],
    interface: str,
    config: PreforkConfig,
    sockets: list[socket.socket],
    runtime: WorkerRuntime,
) -> int:
    """Run the event-loop server in this worker until it is stopped; return its exit code."""
    from bench.servers.asgi.server import run_worker

    stop_sent = False

    def heartbeat() -> None:
        nonlocal stop_sent
        runtime.beat()
        if not runtime.alive and not stop_sent:  # the master is gone
            stop_sent = True
            os.kill(os.getpid(), signal.SIGTERM)

    return run_worker(
        app,
        interface,
        eventloop_config(config),
        sockets,
        heartbeat=heartbeat,
        install_signal_handlers=True,
        ready=runtime.ready,
        on_request=runtime.count_request,
    )
