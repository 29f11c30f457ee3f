"""The command line that starts each server configuration (pure).

Our servers start through ``python -m bench.runner.cli serve ...`` with the bundled app's name;
peers through ``python -m <peer> ...`` with an import string, so every server runs on the
interpreter (and virtualenv) of the runner. Bundled app parameters travel as
``BENCH_APP_<NAME>`` environment variables, which every server passes to the app.

``peer_missing(name)`` tells whether a peer is installed, without importing it.
"""

from __future__ import annotations

import importlib.util
import os
import sys
from dataclasses import dataclass, field

from bench.runner.matrix.cells import ServerPoint
from bench.runner.scenario.model import Workload

#: Seconds a server gets to finish in-flight requests when stopped.
GRACEFUL_TIMEOUT_S = 5

#: Peer server -> the module that must be importable for it to run.
PEER_MODULES: dict[str, str] = {
    "gunicorn": "gunicorn",
    "uvicorn": "uvicorn",
    "granian": "granian",
    "hypercorn": "hypercorn",
}


@dataclass(frozen=True, slots=True)
class ServerCommand:
    """How to start one server configuration.

    Attributes:
        argv: the command (not yet pinned; see ``bench.runner.launch.pinning.pin_command``).
        env: variables to add to the runner's environment.
        name: the server's name, for messages.
    """

    argv: tuple[str, ...]
    env: dict[str, str] = field(default_factory=dict)
    name: str = ""


def peer_missing(server: str) -> str | None:
    """Why a peer cannot run here (``"gunicorn is not installed"``), or None."""
    module = PEER_MODULES.get(server)
    if module is None:
        return None
    if importlib.util.find_spec(module) is None:
        return f"{server} is not installed (pip install {server})"
    return None


def bundled_module(name: str) -> str:
    """The module of bundled app ``name`` (``json`` lives in ``bench.servers.apps.json_app``)."""
    for candidate in (f"bench.servers.apps.{name}", f"bench.servers.apps.{name}_app"):
        if importlib.util.find_spec(candidate) is not None:
            return candidate
    return f"bench.servers.apps.{name}"


def app_target(workload: Workload, interface: str) -> tuple[str, bool]:
    """The import string a peer serves, and whether it names a factory (``mod:make()``)."""
    if workload.is_bundled:
        return f"{bundled_module(workload.app)}:{interface}", False
    target = workload.app
    if target.endswith("()"):
        return target[:-2], True
    return target, False


def server_command(
    point: ServerPoint,
    workload: Workload,
    host: str,
    port: int,
    *,
    python: str = sys.executable,
) -> ServerCommand:
    """The command that serves ``workload`` with configuration ``point`` on host:port."""
    env = {**workload.env(), **workload.search_path(os.environ.get("PYTHONPATH"))}
    bind = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
    builder = _BUILDERS[point.server]
    argv = builder(point, workload, host, port, bind)
    return ServerCommand(argv=(python, *argv, *point.args), env=env, name=point.server)


def _prefork(point: ServerPoint, workload: Workload, host: str, port: int, bind: str) -> list[str]:
    argv = ["-m", "bench.runner.cli", "serve", "prefork", workload.app, "-b", bind]
    argv += ["-w", str(point.workers), "-k", point.worker_class or "sync"]
    if point.worker_class == "eventloop":
        argv += ["--interface", point.interface]
    if point.threads is not None:
        argv += ["--threads", str(point.threads)]
    argv += ["--graceful-timeout", str(GRACEFUL_TIMEOUT_S)]
    return argv


def _eventloop(
    point: ServerPoint, workload: Workload, host: str, port: int, bind: str
) -> list[str]:
    argv = ["-m", "bench.runner.cli", "serve", "eventloop", workload.app, "-b", bind]
    argv += ["-w", str(point.workers), "--loop", point.loop or "uvloop"]
    argv += ["--interface", point.interface, "--graceful-timeout", str(GRACEFUL_TIMEOUT_S)]
    argv += ["--log-level", "warning"]
    return argv


def _gunicorn(point: ServerPoint, workload: Workload, host: str, port: int, bind: str) -> list[str]:
    target, factory = app_target(workload, "wsgi")
    argv = ["-m", "gunicorn", "-b", bind, "-w", str(point.workers)]
    argv += ["-k", point.worker_class or "sync", "--graceful-timeout", str(GRACEFUL_TIMEOUT_S)]
    if point.threads is not None:
        argv += ["--threads", str(point.threads)]
    argv += ["--log-level", "warning", target + ("()" if factory else "")]
    return argv


def _uvicorn(point: ServerPoint, workload: Workload, host: str, port: int, bind: str) -> list[str]:
    target, factory = app_target(workload, point.interface)
    argv = ["-m", "uvicorn", target, "--host", host, "--port", str(port)]
    argv += ["--workers", str(point.workers), "--loop", point.loop or "uvloop"]
    argv += ["--http", point.http or "httptools", "--no-access-log", "--log-level", "warning"]
    argv += ["--timeout-graceful-shutdown", str(GRACEFUL_TIMEOUT_S)]
    if point.interface == "wsgi":
        argv += ["--interface", "wsgi"]
    if factory:
        argv.append("--factory")
    return argv


def _granian(point: ServerPoint, workload: Workload, host: str, port: int, bind: str) -> list[str]:
    target, factory = app_target(workload, point.interface)
    argv = ["-m", "granian", "--interface", point.interface, "--host", host, "--port", str(port)]
    argv += ["--workers", str(point.workers), "--loop", point.loop or "uvloop", "--http", "1"]
    if point.threads is not None and point.interface == "wsgi":
        argv += ["--blocking-threads", str(point.threads)]
    if not workload.is_websocket:
        argv.append("--no-ws")
    argv += ["--log-level", "warning", "--no-access-log"]
    if factory:
        argv.append("--factory")
    argv.append(target)
    return argv


def _hypercorn(
    point: ServerPoint, workload: Workload, host: str, port: int, bind: str
) -> list[str]:
    target, factory = app_target(workload, point.interface)
    argv = ["-m", "hypercorn", "-b", bind, "-w", str(point.workers)]
    argv += ["-k", point.loop or "uvloop", "--graceful-timeout", str(GRACEFUL_TIMEOUT_S)]
    argv.append(target + ("()" if factory else ""))
    return argv


_BUILDERS = {
    "prefork": _prefork,
    "eventloop": _eventloop,
    "gunicorn": _gunicorn,
    "uvicorn": _uvicorn,
    "granian": _granian,
    "hypercorn": _hypercorn,
}
