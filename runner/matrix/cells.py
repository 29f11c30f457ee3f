"""Scenario -> cells: the matrix of server configurations × load points (pure).

How this works: every list-valued field of a server entry or of the load is an axis. A
cell is one value of every axis. Axes that do not apply to a configuration collapse
(``threads`` for a sync worker), so the matrix holds no duplicates. Cells are ordered
load point first, server configuration second, so that within a repetition the server
configurations being compared run next to each other at each load point
(``bench.runner.matrix.schedule`` picks and orders them for a run).

Nothing here starts a process; everything is tested with plain values.
"""

from __future__ import annotations

import hashlib
import itertools
import json
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

from bench.runner.results.dimensions import LOAD_COLUMNS, SERVER_AXES
from bench.runner.results.labels import config_label, load_label
from bench.runner.scenario.external import default_label
from bench.runner.scenario.model import BUNDLED_SERVERS, Scenario

#: Keys ``--only KEY=VALUE`` accepts (and the dimension columns of the results).
FILTER_KEYS: tuple[str, ...] = (
    *SERVER_AXES,
    "label",
    *("rate" if c == "target_rate" else c for c in LOAD_COLUMNS),
)

#: ServerPoint fields left out of a cell's id while unset (ids of older runs stay the same).
_NEW: frozenset[str] = frozenset({"url", "tls_verify"})


@dataclass(frozen=True, slots=True)
class ServerPoint:
    """One server configuration: which server, with which workers, threads, loop…"""

    server: str
    workers: int
    worker_class: str | None = None
    threads: int | None = None
    loop: str | None = None
    interface: str = "asgi"
    http: str | None = None
    args: tuple[str, ...] = ()
    label: str | None = None
    url: str | None = None  # an external target: a server bench did not start
    tls_verify: bool | None = None

    @property
    def is_external(self) -> bool:
        """True for a server bench does not launch (a scenario entry with ``url``)."""
        return self.url is not None

    @property
    def is_peer(self) -> bool:
        """True for servers that are not ours (gunicorn, uvicorn, granian, hypercorn)."""
        return self.server not in BUNDLED_SERVERS

    def describe(self) -> str:
        """Short human label: ``prefork thread w2×t8``, ``eventloop w1 uvloop`` (the
        scenario's ``label`` when it gives one) — ``bench.runner.results.labels.config_label``."""
        return config_label(asdict(self))


@dataclass(frozen=True, slots=True)
class LoadPoint:
    """One load point: a concurrency (closed loop) or an arrival rate (open loop)."""

    mode: str
    concurrency: int | None = None
    rate: float | None = None
    message_size: int | None = None
    message_rate: float | None = None

    def describe(self) -> str:
        """Short human label: ``c=32``, ``500 req/s``, ``c=8 · 1024 B``, ``search``
        (``bench.runner.results.labels.load_label``)."""
        return load_label({**asdict(self), "target_rate": self.rate})


@dataclass(frozen=True, slots=True)
class Cell:
    """One server configuration at one load point."""

    index: int
    server: ServerPoint
    load: LoadPoint

    @property
    def cell_id(self) -> str:
        """A stable id from the cell's parameters (not its position): survives --only."""
        server = {k: v for k, v in asdict(self.server).items() if v is not None or k not in _NEW}
        payload = json.dumps([server, asdict(self.load)], sort_keys=True)
        return hashlib.sha1(payload.encode()).hexdigest()[:10]

    def describe(self) -> str:
        """``eventloop w1 uvloop · c=32``."""
        return f"{self.server.describe()} · {self.load.describe()}"

    def key(self) -> dict[str, str]:
        """Filterable dimensions as strings (``--only KEY=VALUE``)."""
        values = {**asdict(self.server), **asdict(self.load)}
        values.pop("args")
        values["label"] = self.server.describe()
        return {k: _text(values[k]) for k in FILTER_KEYS}


def _text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


# ---------------------------------------------------------------- expansion


def _interface(
    kind: str, worker_class: str | None, chosen: str | None, app_iface: str | None
) -> str:
    """The interface a server configuration serves the workload with."""
    if kind == "gunicorn" or (kind == "prefork" and worker_class in ("sync", "thread")):
        return "wsgi"
    if kind == "uvicorn":
        return "asgi" if app_iface in (None, "asgi") else "wsgi"
    return app_iface or chosen or "asgi"


def server_points(scenario: Scenario, app_interface: str | None = None) -> list[ServerPoint]:
    """Every server configuration of the scenario, in file order, without duplicates.

    ``app_interface`` is the workload's interface when it has only one (an import-string
    app); ``None`` for bundled apps, which offer both and let each server pick.
    """
    if app_interface is None and scenario.workload.interface != "auto":
        app_interface = scenario.workload.interface
    if scenario.workload.is_bundled and not scenario.workload.is_websocket:
        app_interface = None
    if scenario.workload.is_websocket:
        app_interface = "asgi"
    points: list[ServerPoint] = []
    for entry in scenario.servers:
        kind = entry.server
        if kind == "external":
            point = external_point(entry)
            if point not in points:
                points.append(point)
            continue
        classes = getattr(entry, "worker_class", (None,))
        loops = getattr(entry, "loop", (None,))
        interfaces = getattr(entry, "interface", (None,))
        https = getattr(entry, "http", (None,))
        threads_axis = getattr(entry, "threads", (None,))
        for wc, workers, threads, loop, iface, http in itertools.product(
            classes, entry.workers, threads_axis, loops, interfaces, https
        ):
            interface = _interface(kind, wc, iface, app_interface)
            if not _threads_apply(kind, wc, interface) or (wc == "eventloop" and threads == 1):
                threads = None  # eventloop workers: 1 is prefork's "no pool asked", its own default
            point = ServerPoint(
                server=kind,
                workers=workers,
                worker_class=wc,
                threads=threads,
                loop=loop,
                interface=interface,
                http=http,
                args=tuple(entry.args),
                label=entry.label,
            )
            if point not in points:
                points.append(point)
    return points


def external_point(entry: Any) -> ServerPoint:
    """The one configuration of an external target (bench knows nothing of its workers)."""
    return ServerPoint(
        server="external",
        workers=1,
        interface="asgi",
        label=entry.label or default_label(entry.url),
        url=entry.url,
        tls_verify=entry.tls_verify,
    )


def _threads_apply(kind: str, worker_class: str | None, interface: str) -> bool:
    if kind == "prefork":  # threads: of -k thread, or the pool of a WSGI app on -k eventloop
        return worker_class == "thread" or (worker_class == "eventloop" and interface == "wsgi")
    if kind == "gunicorn":
        return worker_class == "gthread"
    return kind == "granian" and interface == "wsgi"  # its blocking threads run WSGI apps


def load_points(scenario: Scenario) -> list[LoadPoint]:
    """Every load point of the scenario, in file order."""
    load = scenario.load
    ws = load.websocket
    sizes: Sequence[int | None] = ws.message_size if ws else (None,)
    rates: Sequence[float | None] = ws.message_rate if ws else (None,)
    if scenario.workload.is_websocket and ws is None:
        sizes, rates = (32,), (None,)
    points: list[LoadPoint] = []
    if load.mode == "search":  # search mode (bench plan): one searched point per server
        return [LoadPoint(mode="search")]
    levels: Sequence[int | float] = (
        load.concurrency if load.mode == "closed" else load.rate  # type: ignore[assignment]
    ) or ()
    for level, size, rate in itertools.product(levels, sizes, rates):
        points.append(
            LoadPoint(
                mode=load.mode,
                concurrency=int(level) if load.mode == "closed" else None,
                rate=float(level) if load.mode == "open" else None,
                message_size=size,
                message_rate=rate,
            )
        )
    return points


def expand(scenario: Scenario, app_interface: str | None = None) -> list[Cell]:
    """All cells: load points outer, server configurations inner; indices 0..n-1."""
    servers = server_points(scenario, app_interface)
    loads = load_points(scenario)
    return [
        Cell(index=i, server=server, load=load)
        for i, (load, server) in enumerate(itertools.product(loads, servers))
    ]
