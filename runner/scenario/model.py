"""The scenario file: a typed schema (pydantic v2) and ``load_scenario(path)``.

How this works: a scenario YAML is parsed into plain data, validated by the models below,
and every validation problem is turned into ONE line that names the file (and line), the
YAML path (``servers[2].workers``) and what is allowed (``bench.runner.scenario.messages``). Fields
that take a list (``workers: [1, 2, 4]``) are the axes of the matrix; a scalar is a list
of one. Each server kind is its own model (``SERVER_KINDS``): the fields it accepts are
its axes, and a field of another kind is an error naming the allowed ones.

The schema is the user's contract: change it only by adding fields with defaults.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated, Any, Literal, TypeVar

import yaml
from pydantic import (
    AfterValidator,
    BeforeValidator,
    Discriminator,
    Field,
    PositiveFloat,
    PositiveInt,
    Tag,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError

from bench.runner.errors import ScenarioError
from bench.runner.results.slo import Slo as ResultsSlo
from bench.runner.scenario.base import Cpus, Duration, Fraction
from bench.runner.scenario.base import StrictModel as _Model
from bench.runner.scenario.events import Event, Recovery, events_problem
from bench.runner.scenario.gates import Gates
from bench.runner.scenario.messages import format_validation_error, yaml_error
from bench.runner.scenario.search import SearchSettings, SearchSlo

T = TypeVar("T")


def bundled_apps() -> tuple[str, ...]:
    """Names of the apps in servers/apps (each module there with ``asgi``/``wsgi`` forms)."""
    from bench.servers.apps import bundled_names

    return tuple(bundled_names())


#: Bundled apps that speak WebSocket (ASGI only).
WEBSOCKET_APPS: frozenset[str] = frozenset({"ws_echo", "ws_broadcast"})
#: Servers of this project, launched through ``bench serve``.
BUNDLED_SERVERS: tuple[str, ...] = ("prefork", "eventloop")


def _as_list(value: object) -> object:
    return list(value) if isinstance(value, list | tuple) else [value]


def _distinct(values: tuple[T, ...]) -> tuple[T, ...]:
    if not values:
        raise ValueError("needs at least one value")
    if len(set(values)) != len(values):
        raise ValueError(f"lists a value twice: {list(values)}")
    return values


#: A matrix axis: a scalar or a list of distinct values.
Axis = Annotated[tuple[T, ...], BeforeValidator(_as_list), AfterValidator(_distinct)]


def located(at: str, problem: str) -> PydanticCustomError:
    """An error about the field at dotted path ``at`` below the model raising it."""
    return PydanticCustomError("located", "{problem}", {"at": at, "problem": problem})


# ---------------------------------------------------------------- workload


class Workload(_Model):
    """The app under test and the request that drives it."""

    app: str = Field(min_length=1, description="bundled app name or 'module:attr' import string")
    params: dict[str, str | int | float | bool] = Field(
        default_factory=dict, description="bundled app parameters, passed as BENCH_APP_<NAME>"
    )
    interface: Literal["auto", "asgi", "wsgi"] = "auto"
    path: str = "/"
    method: str = "GET"
    headers: dict[str, str] = Field(default_factory=dict)
    body: str = ""
    expect_status: int = 200
    expect_body: str | None = None
    websocket: bool | None = None
    downstream: bool = False
    app_dir: str | None = Field(
        default=None,
        description="folder the app imports from (like --app-dir), relative to the scenario "
        "file's folder; first on the server's module search path (PYTHONPATH)",
    )

    @field_validator("app_dir")
    @classmethod
    def _resolve_app_dir(cls, value: str | None, info: ValidationInfo) -> str | None:
        if value is None:
            return None
        path = Path(value).expanduser()
        if not path.is_absolute():
            path = base_dir(info) / path
        path = path.resolve()
        if not path.is_dir():
            raise ValueError(
                f"app_dir {value!r} is not a folder (looked for {path}); give a path relative "
                "to the scenario file's folder, or an absolute one"
            )
        return str(path)

    @model_validator(mode="after")
    def _check(self) -> Workload:
        if not self.path.startswith("/"):
            raise ValueError(f"path must start with '/'; got {self.path!r}")
        if ":" not in self.app and self.app not in bundled_apps():
            raise located(
                "app",
                f"{self.app!r} is neither a bundled app nor a 'module:attr' import string; "
                f"allowed: {', '.join(bundled_apps())}, or module:attr",
            )
        if self.params and not self.is_bundled:
            raise ValueError("params are for bundled apps; an import string app reads its own")
        if self.params:
            _check_params(self.app, self.params)
        if self.is_websocket and self.interface == "wsgi":
            raise ValueError("a WebSocket workload needs the asgi interface")
        return self

    @property
    def is_bundled(self) -> bool:
        """True for the apps shipped in servers/apps."""
        return ":" not in self.app

    @property
    def is_websocket(self) -> bool:
        """True when the load is WebSocket round-trips rather than HTTP requests."""
        return self.websocket if self.websocket is not None else self.app in WEBSOCKET_APPS

    def search_path(self, current: str | None) -> dict[str, str]:
        """``PYTHONPATH`` with ``app_dir`` first (``current``: the runner's own), or nothing."""
        if self.app_dir is None:
            return {}
        return {"PYTHONPATH": os.pathsep.join(p for p in (self.app_dir, current) if p)}

    def env(self) -> dict[str, str]:
        """Environment variables carrying ``params`` to a bundled app."""
        out: dict[str, str] = {}
        for key, value in self.params.items():
            text = ("1" if value else "0") if isinstance(value, bool) else str(value)
            out[f"BENCH_APP_{key.upper()}"] = text
        return out


def _check_params(app: str, params: dict[str, object]) -> None:
    """Refuse a param the bundled ``app`` does not declare, or a value it cannot take."""
    from bench.servers.apps import AppLoadError, declared_params

    try:
        declared = declared_params(app)
    except AppLoadError as exc:
        raise located("app", str(exc)) from None
    for name, value in params.items():
        problem = declared.problem(name, value)
        if problem:
            raise located(f"params.{name}", problem)


# ---------------------------------------------------------------- servers


class _Server(_Model):
    args: tuple[str, ...] = Field(default=(), description="extra command-line arguments")
    label: str | None = None


class PreforkServer(_Server):
    """The bundled prefork master (``bench serve prefork``)."""

    server: Literal["prefork"]
    worker_class: Axis[Literal["sync", "thread", "eventloop"]] = ("sync",)
    workers: Axis[PositiveInt] = (1,)
    threads: Axis[PositiveInt] = (1,)
    #: For ``eventloop`` workers (``sync`` and ``thread`` always serve WSGI).
    interface: Axis[Literal["asgi", "wsgi"]] = ("asgi",)


class EventloopServer(_Server):
    """The bundled event-loop server (``bench serve eventloop``)."""

    server: Literal["eventloop"]
    workers: Axis[PositiveInt] = (1,)
    loop: Axis[Literal["uvloop", "asyncio"]] = ("uvloop",)
    interface: Axis[Literal["asgi", "wsgi"]] = ("asgi",)


class GunicornServer(_Server):
    """gunicorn (WSGI): sync or gthread workers."""

    server: Literal["gunicorn"]
    worker_class: Axis[Literal["sync", "gthread"]] = ("sync",)
    workers: Axis[PositiveInt] = (1,)
    threads: Axis[PositiveInt] = (1,)


class UvicornServer(_Server):
    """uvicorn (ASGI)."""

    server: Literal["uvicorn"]
    workers: Axis[PositiveInt] = (1,)
    loop: Axis[Literal["uvloop", "asyncio"]] = ("uvloop",)
    http: Axis[Literal["httptools", "h11"]] = ("httptools",)


class GranianServer(_Server):
    """granian (Rust HTTP, ASGI or WSGI)."""

    server: Literal["granian"]
    workers: Axis[PositiveInt] = (1,)
    threads: Axis[PositiveInt] = (1,)
    loop: Axis[Literal["uvloop", "asyncio"]] = ("uvloop",)
    interface: Axis[Literal["asgi", "wsgi"]] = ("asgi",)


class HypercornServer(_Server):
    """hypercorn (ASGI or WSGI)."""

    server: Literal["hypercorn"]
    workers: Axis[PositiveInt] = (1,)
    loop: Axis[Literal["uvloop", "asyncio"]] = ("uvloop",)
    interface: Axis[Literal["asgi", "wsgi"]] = ("asgi",)


class ExternalServer(_Server):
    """A server bench did not start (``{url: https://host:port/path, label: staging}``)."""

    server: Literal["external"] = "external"
    url: str = Field(description="http(s):// or ws(s):// URL: the only host bench targets")
    tls_verify: bool = Field(default=True, description="https/wss: verify the certificate")

    @field_validator("url")
    @classmethod
    def _check_url(cls, value: str) -> str:
        from bench.runner.scenario.external import url_problem

        problem = url_problem(value)
        if problem:
            raise ValueError(problem)
        return value


ServerEntry = Annotated[
    PreforkServer
    | EventloopServer
    | GunicornServer
    | UvicornServer
    | GranianServer
    | HypercornServer
    | ExternalServer,
    Field(discriminator="server"),
]

#: server name -> its model (the axes are the model's tuple fields).
SERVER_KINDS: dict[str, type[_Server]] = {
    "prefork": PreforkServer,
    "eventloop": EventloopServer,
    "gunicorn": GunicornServer,
    "uvicorn": UvicornServer,
    "granian": GranianServer,
    "hypercorn": HypercornServer,
    "external": ExternalServer,
}


# ---------------------------------------------------------------- load


class WebSocketLoad(_Model):
    """WebSocket echo load: message size and per-connection rate are axes."""

    message_size: Axis[PositiveInt] = (32,)
    message_rate: Axis[PositiveFloat | None] = (None,)


class LocustOptions(_Model):
    """How the locust engine runs."""

    workers: int = Field(default=0, ge=0, description="0: one process; K: master + K workers")
    external_workers: int = Field(default=0, ge=0, description="workers joining from other hosts")
    master_bind: str = "127.0.0.1"
    master_port: int = Field(default=0, ge=0, le=65535)
    locustfile: str | None = Field(
        default=None,
        description="your own locustfile, relative to the scenario file's folder; "
        "stored as an absolute path, checked when the scenario loads",
    )

    @field_validator("locustfile")
    @classmethod
    def _resolve_locustfile(cls, value: str | None, info: ValidationInfo) -> str | None:
        if value is None:
            return None
        return str(resolve_file(value, base_dir(info), what="locustfile"))


def base_dir(info: ValidationInfo) -> Path:
    """The folder relative paths of the scenario are resolved against (the file's own)."""
    context = info.context or {}
    return Path(context.get("base_dir") or Path.cwd())


def resolve_file(value: str, base: Path, *, what: str) -> Path:
    """``value`` as an absolute path (relative: to ``base``); ValueError if no file is there."""
    path = Path(value).expanduser()
    if not path.is_absolute():
        path = base / path
    path = path.resolve()
    if not path.is_file():
        place = "is a folder" if path.is_dir() else "does not exist"
        raise ValueError(
            f"{what} {value!r} {place} (looked for {path}); give a path relative to the "
            "scenario file's folder, or an absolute one"
        )
    return path


class Load(_Model):
    """The load applied to every server configuration."""

    engine: Literal["native", "locust", "wrk"] = "native"
    mode: Literal["closed", "open", "search"] = "closed"
    concurrency: Axis[PositiveInt] | None = None
    rate: Axis[PositiveFloat] | None = None
    connections: PositiveInt = 64
    arrival: Literal["constant", "poisson"] = "constant"
    duration: Duration = 10.0
    warmup: Duration = 2.0
    primer: Duration = 1.0
    timeout: Duration = 10.0
    processes: PositiveInt | Literal["auto"] = "auto"
    cluster: str | None = None  # a dask scheduler: the native engine on its workers
    websocket: WebSocketLoad | None = None
    locust: LocustOptions = Field(default_factory=LocustOptions)
    # --- search mode (bench plan): the SLO searched for, and how the search moves ---
    slo: SearchSlo | None = None
    search: SearchSettings = Field(default_factory=SearchSettings)

    @model_validator(mode="after")
    def _check(self) -> Load:
        if self.duration <= 0:
            raise ValueError("duration must be more than 0")
        if self.cluster is not None and self.engine != "native":
            raise ValueError("load.cluster runs the native engine on a dask cluster: engine native")
        if self.mode == "search":
            if self.slo is None:
                raise ValueError("search mode needs slo: {p99: 100ms, error_rate: 0.1%}")
            if self.concurrency is not None or self.rate is not None:
                raise ValueError("search mode finds the rate itself: drop concurrency and rate")
            if self.engine != "native":
                raise ValueError("search mode needs engine native (open-loop windows)")
            return self
        if self.slo is not None:
            raise ValueError("load.slo is for mode: search; the scenario's slo judges cells")
        # --- end search mode ---
        if self.mode == "closed":
            if self.concurrency is None:
                raise ValueError("closed loop needs concurrency: [N, ...]")
            if self.rate is not None:
                raise ValueError("rate is for open loop (mode: open); closed loop uses concurrency")
        else:
            if self.rate is None:
                raise ValueError("open loop needs rate: [R, ...] (arrivals per second)")
            if self.concurrency is not None:
                raise ValueError("concurrency is for closed loop; open loop uses rate")
            if self.engine == "wrk":
                raise ValueError("engine wrk drives closed loop only; use native for open loop")
        if self.engine == "wrk" and self.websocket is not None:
            raise ValueError("engine wrk cannot drive WebSocket; use native")
        return self


# ---------------------------------------------------------------- the rest


class ExplicitPin(_Model):
    """CPU sets given by hand, e.g. ``{server: "0-3", engine: "4-7"}``."""

    server: Cpus
    engine: Cpus

    @model_validator(mode="after")
    def _check(self) -> ExplicitPin:
        if set(self.server) & set(self.engine):
            raise ValueError("server and engine CPU sets overlap")
        return self


def _pin_tag(value: Any) -> str:
    return "explicit" if isinstance(value, dict | ExplicitPin) else "named"


#: ``auto`` (split the CPUs), ``none`` (no pinning) or explicit CPU sets.
PinSetting = Annotated[
    Annotated[Literal["auto", "none"], Tag("named")] | Annotated[ExplicitPin, Tag("explicit")],
    Discriminator(_pin_tag),
]


class Slo(_Model):
    """Service-level objective a cell passes or fails (judged by ``bench.runner.results.slo``)."""

    p50: Duration | None = None
    p90: Duration | None = None
    p99: Duration | None = None
    p999: Duration | None = None
    error_rate: Fraction | None = None

    def to_slo(self) -> ResultsSlo:
        """The one SLO type every judge reads (latency limits in µs)."""
        keys = ("p50", "p90", "p99", "p999")
        limits = {k: getattr(self, k) * 1e6 for k in keys if getattr(self, k) is not None}
        return ResultsSlo(limits, self.error_rate)


class LaunchOptions(_Model):
    """Where servers listen, and time limits for starting and stopping them."""

    host: str = Field(
        default="127.0.0.1",
        min_length=1,
        description="address servers bind and the engine targets (loopback by default)",
    )
    ready_timeout: Duration = 30.0
    stop_timeout: Duration = 10.0


class Scenario(_Model):
    """A whole scenario file."""

    name: str = Field(min_length=1, pattern=r"^[A-Za-z0-9_.-]+$")
    description: str = ""
    workload: Workload
    servers: list[ServerEntry] = Field(min_length=1)
    load: Load
    repeat: PositiveInt = 1
    pin: PinSetting = "auto"
    slo: Slo | None = None
    launch: LaunchOptions = Field(default_factory=LaunchOptions)
    gates: Gates | None = None
    profile: bool = Field(
        default=False,
        description="record a py-spy profile of the server tree in each cell (closed/open modes)",
    )
    # --- lifecycle and fault events (runner.scenario.events) ---
    events: list[Event] = Field(default_factory=list)
    recovery: Recovery = Field(default_factory=Recovery)

    @property
    def cell_slo(self) -> ResultsSlo | None:
        """The SLO cells are judged on (``slo:``), as the one SLO type; None without one."""
        return self.slo.to_slo() if self.slo is not None else None

    @field_validator("servers", mode="before")
    @classmethod
    def _external_entries(cls, value: object) -> object:
        from bench.runner.scenario.external import tag_external

        return tag_external(value)

    @model_validator(mode="after")
    def _check(self) -> Scenario:
        ws = self.workload.is_websocket
        if ws and self.load.mode == "search":  # search mode (bench plan)
            raise located("load.mode", "search mode drives HTTP requests, not WebSocket")
        if ws and self.load.engine in ("wrk", "locust"):
            raise located(
                "load.engine", f"engine {self.load.engine} cannot drive WebSocket; use native"
            )
        for i, entry in enumerate(self.servers):
            problem = _interface_problem(entry, self.workload.interface, ws)
            if problem:
                raise located(f"servers.{i}", problem)
        at_problem = events_problem(
            self.events,
            duration_s=self.load.duration,
            mode=self.load.mode,
            engine=self.load.engine,
            configurations=[
                (e.server, w)  # type: ignore[attr-defined]
                for e in self.servers
                for w in getattr(e, "workers", (1,))  # an external url entry has no workers
            ],
        )
        if at_problem:
            raise located(*at_problem)
        return self


def _interface_problem(entry: _Server, app_interface: str, websocket: bool) -> str | None:
    """Why this server cannot serve an app of this interface, or None."""
    kind = entry.server  # type: ignore[attr-defined]
    if kind == "gunicorn":
        wsgi_only = kind
    elif kind == "prefork" and set(entry.worker_class) & {"sync", "thread"}:  # type: ignore[attr-defined]
        wsgi_only = "prefork with worker_class sync or thread"
    else:
        wsgi_only = ""
    if wsgi_only and app_interface == "asgi":
        return f"{wsgi_only} serves WSGI apps; the workload app is ASGI"
    if kind == "uvicorn" and app_interface == "wsgi":
        return f"{kind} serves ASGI apps; the workload app is WSGI"
    if websocket and wsgi_only:
        return f"{wsgi_only} (WSGI) cannot serve a WebSocket workload"
    if websocket and "wsgi" in getattr(entry, "interface", ()):
        return "a WebSocket workload needs interface asgi"
    return None


def _context(source: str, base: Path | None) -> dict[str, Path]:
    """Validation context: relative paths resolve against ``base``, else ``source``'s folder."""
    if base is None:
        base = Path.cwd() if source.startswith("<") else Path(source).parent
    return {"base_dir": base.resolve()}


def scenario_from_data(
    data: object, source: str = "<scenario>", *, base_dir: Path | None = None
) -> Scenario:
    """Validate already-parsed YAML data; raise ScenarioError with one line."""
    if not isinstance(data, dict):
        raise ScenarioError(f"{source}: a scenario is a mapping of fields (name, workload, ...)")
    try:
        return Scenario.model_validate(data, context=_context(source, base_dir))
    except ValidationError as exc:
        raise ScenarioError(
            format_validation_error(exc, source, data, server_kinds=tuple(SERVER_KINDS))
        ) from None


def parse_scenario(
    text: str, source: str = "<scenario>", *, base_dir: Path | None = None
) -> Scenario:
    """Validate scenario YAML text; ``source`` names it in errors.

    Relative paths in it (``load.locust.locustfile``) are resolved against ``base_dir``,
    by default the folder of ``source`` (the current folder for ``<...>`` sources).

    Raises:
        ScenarioError: one line, ``SOURCE:LINE: at YAML.PATH: problem; allowed: ...``.
    """
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ScenarioError(yaml_error(exc, source)) from None
    if not isinstance(data, dict):
        raise ScenarioError(f"{source}: a scenario is a mapping of fields (name, workload, ...)")
    try:
        return Scenario.model_validate(data, context=_context(source, base_dir))
    except ValidationError as exc:
        raise ScenarioError(
            format_validation_error(exc, source, data, text, server_kinds=tuple(SERVER_KINDS))
        ) from None


def load_scenario(path: str | Path) -> Scenario:
    """Read and validate a scenario file.

    Raises:
        ScenarioError: one line, ``FILE:LINE: at YAML.PATH: problem; allowed: ...``.
    """
    from bench.runner.scenario.bundled import bundled_names_hint, resolve_scenario

    path = resolve_scenario(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        hint = bundled_names_hint()
        raise ScenarioError(
            f"{path}: no such scenario file" + (f"; {hint}" if hint else "")
        ) from None
    except IsADirectoryError:
        raise ScenarioError(f"{path}: is a folder, not a scenario file") from None
    except OSError as exc:
        raise ScenarioError(f"{path}: cannot read: {exc.strerror}") from None
    except UnicodeDecodeError:
        raise ScenarioError(f"{path}: not a text file") from None
    return parse_scenario(text, str(path))
