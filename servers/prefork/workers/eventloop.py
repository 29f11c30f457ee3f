"""The eventloop worker: bench's ASGI event-loop server inside a prefork worker.

``bench serve prefork APP -k eventloop -w 4`` is the gunicorn + uvicorn-worker
arrangement: the master supervises, each worker runs ``servers.asgi.server.run_worker``
on the inherited listening sockets. That server installs its own handlers for TERM
(graceful), INT and QUIT; its once-a-second timer calls our heartbeat, which also
notices a dead master and then asks the server to stop gracefully. Every completed
response is counted (``on_request``) so ``--max-requests`` retires the worker: the
master starts a replacement, then sends TERM.
"""

from __future__ import annotations

import os
import signal
import socket
from collections.abc import Callable
from typing import Any

from servers.prefork.config import PreforkConfig
from servers.prefork.workers.base import WorkerRuntime
from servers.prefork.workers.sync import limits_of


def eventloop_config(config: PreforkConfig) -> Any:
    """The ServerConfig of each worker: the one given, or one derived from our settings."""
    if config.eventloop_config is not None:
        return config.eventloop_config
    from servers.asgi.config import ServerConfig

    extra: dict[str, Any] = {}
    if config.threads > 1:
        extra["wsgi_threads"] = config.threads
    return ServerConfig(
        # The event-loop server needs a positive keep-alive; 0.001 s closes idle
        # connections at once, which is what --keep-alive 0 asks for.
        timeout_keep_alive=config.keep_alive or 0.001,
        timeout_graceful_shutdown=config.graceful_timeout,
        limits=limits_of(config),
        root_path=config.root_path.rstrip("/"),
        backlog=config.backlog,
        **extra,
    )


def run_eventloop_worker(
    app: Callable[..., Any],
    interface: str,
    config: PreforkConfig,
    sockets: list[socket.socket],
    runtime: WorkerRuntime,
) -> int:
    """Run the event-loop server in this worker until it is stopped; return its exit code."""
    from servers.asgi.server import run_worker

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
