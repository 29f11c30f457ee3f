"""Worker processes of the prefork master: boot (load the app), then run a worker class.

``run_worker_process`` is what a forked child runs. It installs the worker's signal
handling, imports the app (unless the master preloaded it) and reports failures to the
master as one line plus a distinctive exit code (``APP_LOAD_ERROR``, ``BOOT_ERROR``), so
the master stops instead of restarting workers that cannot boot. Then it runs the loop
of the configured worker class until a stop.
"""

from __future__ import annotations

import socket
import struct
from collections.abc import Callable
from typing import Any

from bench.servers.errors import APP_LOAD_ERROR, BOOT_ERROR
from bench.servers.prefork.config import PreforkConfig
from bench.servers.prefork.heartbeat import Heartbeat, StatusPipe
from bench.servers.prefork.workers.base import WorkerRuntime

#: Socket read/write timeout of the blocking workers when ``--timeout`` is 0.
DEFAULT_IO_TIMEOUT = 30.0


def run_worker_process(
    config: PreforkConfig,
    app_spec: str,
    *,
    sockets: list[socket.socket],
    heartbeat: Heartbeat,
    status: StatusPipe,
    preloaded: tuple[Callable[..., Any], str] | None = None,
) -> int:
    """Boot and run one worker in the current (forked) process; return its exit code."""
    runtime = WorkerRuntime(config, heartbeat, status)
    runtime.install_signals()
    kind = config.effective_worker_class
    if preloaded is not None:
        app, interface = preloaded
    else:
        from bench.servers.apps import AppLoadError

        runtime.booting = True
        try:
            app, interface = load_worker_app(config, app_spec)
        except AppLoadError as exc:
            status.send("error", str(exc))
            return APP_LOAD_ERROR
        except Exception as exc:
            status.send("error", f"worker failed to boot: {type(exc).__name__}: {exc}")
            return BOOT_ERROR
        finally:
            runtime.booting = False
    if kind == "sync":
        from bench.servers.prefork.workers.sync import SyncWorker

        tls = config.tls_settings()
        if tls is not None:
            from bench.servers.tls import server_context, wrap_listeners

            sockets = wrap_listeners(sockets, server_context(tls))

        return SyncWorker(app, config, sockets, runtime).run()
    if kind == "thread":
        from bench.servers.prefork.workers.thread import ThreadWorker

        return ThreadWorker(app, config, sockets, runtime).run()
    from bench.servers.prefork.workers.eventloop import run_eventloop_worker

    return run_eventloop_worker(app, interface, config, sockets, runtime)


def load_worker_app(config: PreforkConfig, app_spec: str) -> tuple[Callable[..., Any], str]:
    """Load the app for the configured worker class, wrapped as the settings ask.

    Raises:
        AppLoadError: the app cannot be loaded; ``AppInterfaceError`` (one line naming
            the worker class to use) for an ASGI app given to ``-k sync``/``-k thread``.
    """
    from bench.servers.apps import AppInterfaceError, load_app

    kind = config.effective_worker_class
    if kind == "eventloop":
        from bench.servers.prefork.workers.eventloop import eventloop_config

        wanted = eventloop_config(config).interface
        hint = "use --interface {found} (or auto)"
    else:
        wanted = "wsgi"
        hint = f"-k {kind} serves WSGI apps; use -k eventloop (or bench serve eventloop)"
    try:
        app, interface = load_app(app_spec, interface=wanted)
    except AppInterfaceError as exc:
        raise AppInterfaceError(f"{exc}: {hint.format(found=exc.found)}", exc.found) from None
    if kind != "eventloop":
        from bench.servers.deploy import wrap_wsgi

        app = wrap_wsgi(app, config.deploy_options())
    return app, interface


def io_timeout(config: PreforkConfig) -> float:
    """Socket timeout of blocking workers: half of ``--timeout``, so that a silent client
    is dropped before the worker misses its heartbeat deadline."""
    if config.timeout <= 0:
        return DEFAULT_IO_TIMEOUT
    return max(0.5, config.timeout / 2)


def set_io_timeouts(sock: socket.socket, seconds: float) -> None:
    """Set SO_RCVTIMEO/SO_SNDTIMEO on ``sock`` (TCP listeners pass them to accepted sockets).

    Blocking sockets then fail a ``recv``/``send`` stuck for ``seconds`` without the
    extra ``poll`` that Python's socket timeouts cost on every call.
    """
    whole = int(seconds)
    value = struct.pack("ll", whole, int((seconds - whole) * 1_000_000))
    for option in (socket.SO_RCVTIMEO, socket.SO_SNDTIMEO):
        sock.setsockopt(socket.SOL_SOCKET, option, value)


def tune_listener(listener: socket.socket, seconds: float) -> None:
    """Prepare a shared listener for a blocking worker: non-blocking accept, I/O timeouts
    inherited by accepted TCP sockets, and TCP_NODELAY (a response written in pieces must
    not wait for the client's delayed ACK)."""
    listener.setblocking(False)
    set_io_timeouts(listener, seconds)
    if listener.family in (socket.AF_INET, socket.AF_INET6):
        listener.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)


def server_address(listener: socket.socket) -> tuple[str, int] | None:
    """(host, port) of a TCP listener for SERVER_NAME/PORT; None for a Unix socket."""
    if listener.family in (socket.AF_INET, socket.AF_INET6):
        host, port = listener.getsockname()[:2]
        return host, port
    return None


def client_address(family: int, address: Any) -> tuple[str, int] | None:
    """(host, port) of a TCP peer for REMOTE_ADDR/PORT; None for a Unix socket peer."""
    if family in (socket.AF_INET, socket.AF_INET6):
        return address[0], address[1]
    return None
