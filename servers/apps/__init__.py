"""Workload apps, and ``load_app``: turn an app spec into a callable and its interface.

A spec is either the name of a bundled app (``hello``, ``json``, and whatever other
modules of this package define) or an import string ``module:attr`` where ``attr``
may be dotted (``pkg.mod:obj.app``) and may end in ``()`` to call a factory
(``pkg.mod:create_app()``).

Bundled apps: a module ``servers/apps/<name>.py`` (or ``<name>_app.py`` when the name
would shadow a standard module, like ``json``) that defines ``asgi`` (an ASGI 3 app)
and/or ``wsgi`` (a PEP 3333 app), and ``PARAMS``: the declaration of its parameters
(``bench.servers.apps._params``). Adding such a module is all it takes to bundle an app. A
bundled app reads its parameters from ``BENCH_APP_<PARAM>`` environment variables
(``PARAMS.read()``), so a server command line can pass them without knowing the app,
e.g. ``BENCH_APP_MS=50 bench serve eventloop io``; ``declared_params(name)`` gives the
declaration to the scenario loader and ``bench serve --param``, which refuse unknown
names and mistyped values.

An import string without ``:attr`` names ``module:application``, as in gunicorn
(``myproject.wsgi`` is ``myproject.wsgi:application``) when it is not a bundled name.

Interface detection (``interface="auto"``): a bundled app prefers its ASGI form; for an
import string, a coroutine function (or an object whose ``__call__`` is one) is ASGI,
anything else callable is WSGI. A forced interface the app plainly does not have (an
ASGI app forced to WSGI, a two-argument ``(environ, start_response)`` callable forced
to ASGI, a bundled app without that form) raises ``AppInterfaceError``: every server
path refuses it at start instead of answering each request with a 500.
"""

from __future__ import annotations

import importlib
import inspect
import os
import re
import sys
import traceback
from collections.abc import Callable
from typing import Any, Literal

from bench.servers.apps._params import Param, Params
from bench.servers.errors import AppInterfaceError, AppLoadError, AppParamError

__all__ = [
    "INTERFACE_CHOICES",
    "AppInterfaceError",
    "AppLoadError",
    "AppParamError",
    "Param",
    "Params",
    "answer_non_http",
    "bundled_names",
    "declared_params",
    "detect_interface",
    "factory_spec",
    "is_asgi",
    "lifespan_noop",
    "load_app",
    "text_headers",
]

Interface = Literal["asgi", "wsgi"]
InterfaceChoice = Literal["asgi", "wsgi", "auto"]
#: What ``--interface`` takes, on every server: auto detects it from the app.
INTERFACE_CHOICES: tuple[str, ...] = ("auto", "asgi", "wsgi")

#: Module name suffixes tried for a bundled app name (``json`` lives in ``json_app.py``).
_MODULE_SUFFIXES: tuple[str, ...] = ("", "_app")
_NAME_RE = re.compile(r"[a-z][a-z0-9_]*\Z")


def declared_params(name: str) -> Params:
    """The declared parameters of bundled app ``name`` (imports its module).

    Raises:
        AppLoadError: ``name`` is not a bundled app, or its module does not declare
            ``PARAMS`` or fails to import (e.g. a ``BENCH_APP_*`` value it refuses).
    """
    module = _bundled_module(name)
    if module is None:
        raise AppLoadError(f"unknown app {name!r}: bundled apps are {', '.join(bundled_names())}")
    params = getattr(module, "PARAMS", None)
    if not isinstance(params, Params):
        raise AppLoadError(f"bundled app {name!r} does not declare PARAMS")
    return params


def is_asgi(app: object) -> bool:
    """True if ``app`` looks like an ASGI 3 callable (coroutine function or async __call__)."""
    if inspect.iscoroutinefunction(app):
        return True
    call = getattr(app, "__call__", None)  # noqa: B004 - we need the bound method itself
    return inspect.iscoroutinefunction(call)


def _looks_wsgi(app: object) -> bool:
    """True if ``app`` is a plain callable of exactly two positional parameters (PEP 3333)."""
    if is_asgi(app):
        return False
    try:
        params = list(inspect.signature(app).parameters.values())  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return False
    positional = (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)
    required = [p for p in params if p.kind in positional and p.default is p.empty]
    return len(required) == 2 and all(p.kind in positional for p in params)


def detect_interface(app: object) -> Interface | None:
    """ "asgi" or "wsgi" when ``app`` plainly is one (``is_asgi``, or a 2-argument callable)."""
    if is_asgi(app):
        return "asgi"
    return "wsgi" if _looks_wsgi(app) else None


def bundled_names() -> list[str]:
    """Names of the bundled apps found in this package."""
    here = os.path.dirname(__file__)
    names: set[str] = set()
    for entry in os.listdir(here):
        if not entry.endswith(".py") or entry.startswith("_"):
            continue
        stem = entry[:-3]
        name = stem[: -len("_app")] if stem.endswith("_app") else stem
        names.add(name)
    return sorted(names)


def _bundled_module(name: str) -> Any | None:
    """Import the module of bundled app ``name``, or return None if there is none."""
    if not _NAME_RE.match(name):
        return None
    for suffix in _MODULE_SUFFIXES:
        module_name = f"{__name__}.{name}{suffix}"
        try:
            return importlib.import_module(module_name)
        except ModuleNotFoundError as exc:
            if exc.name != module_name:
                raise AppLoadError(f"bundled app {name!r} failed to import: {exc}") from None
    return None


def _load_bundled(module: Any, name: str, interface: InterfaceChoice) -> tuple[Callable, Interface]:
    """Pick the ASGI or WSGI form of a bundled app module."""
    order: tuple[Interface, ...] = ("asgi", "wsgi") if interface == "auto" else (interface,)
    for kind in order:
        app = getattr(module, kind, None)
        if app is not None:
            return app, kind
    found = "wsgi" if interface == "asgi" else "asgi"
    raise AppInterfaceError(
        f"bundled app {name!r} is {found.upper()} only (it has no {interface.upper()} form)",
        found,
    )


def raised_at(exc: BaseException) -> str:
    """`` at FILE:LINE`` of the app's own code that raised ``exc`` (or a syntax error's place).

    The innermost frame outside the import machinery is the line the user wrote; for a
    SyntaxError the file and line are on the exception itself.
    """
    if isinstance(exc, SyntaxError) and exc.filename:
        return f" at {exc.filename}:{exc.lineno}"
    frames = [
        frame
        for frame in traceback.extract_tb(exc.__traceback__)
        if not frame.filename.startswith("<frozen ") and frame.filename != __file__
    ]
    return f" at {frames[-1].filename}:{frames[-1].lineno}" if frames else ""


def _import_string(spec: str) -> Callable:
    """Resolve ``module:attr[.attr...][()]`` to the object it names."""
    module_name, _, attr_path = spec.partition(":")
    if not module_name or not attr_path:
        raise AppLoadError(f"app {spec!r}: expected a bundled app name or 'module:attr'")
    call_factory = attr_path.endswith("()")
    if call_factory:
        attr_path = attr_path[:-2]
    if "" not in sys.path and os.getcwd() not in sys.path:
        sys.path.insert(0, os.getcwd())  # like `python -m`: apps beside the caller import
    try:
        obj: Any = importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        if exc.name and module_name.startswith(exc.name):
            raise AppLoadError(f"app {spec!r}: no module named {exc.name!r}") from None
        raise AppLoadError(f"app {spec!r}: import failed{raised_at(exc)}: {exc}") from None
    except Exception as exc:
        raise AppLoadError(
            f"app {spec!r}: import failed{raised_at(exc)}: {type(exc).__name__}: {exc}"
        ) from None
    for part in attr_path.split("."):
        try:
            obj = getattr(obj, part)
        except AttributeError:
            raise AppLoadError(f"app {spec!r}: {part!r} not found") from None
    if call_factory:
        try:
            obj = obj()
        except Exception as exc:
            raise AppLoadError(
                f"app {spec!r}: factory failed: {type(exc).__name__}: {exc}"
            ) from None
    if not callable(obj):
        raise AppLoadError(f"app {spec!r} is not callable ({type(obj).__name__})")
    return obj


def _default_attr(spec: str, factory: bool) -> Callable:
    """``module`` without ``:attr``: ``module:application`` (gunicorn's default)."""
    known = ", ".join(bundled_names())
    unknown = f"unknown app {spec!r}: use a bundled app ({known}), 'module:attr' or a module"
    if not re.match(r"[A-Za-z_][\w.]*\Z", spec):
        raise AppLoadError(unknown)
    try:
        return _import_string(spec + (":application()" if factory else ":application"))
    except AppLoadError as exc:
        if "no module named" in str(exc):
            raise AppLoadError(unknown + " defining 'application'") from None
        raise


def factory_spec(spec: str) -> str:
    """The import string that calls ``spec``'s factory (``--factory``): ``mod:make()``."""
    if spec.endswith("()"):
        return spec
    if ":" not in spec:
        return spec if _NAME_RE.match(spec) and _bundled_module(spec) else spec + ":application()"
    return spec + "()"


def load_app(
    spec: str, *, interface: InterfaceChoice = "auto", factory: bool = False
) -> tuple[Callable, Interface]:
    """Return ``(app, interface)`` for a bundled app name or an import string.

    ``interface`` forces the kind of app ("asgi" or "wsgi"); "auto" detects it.
    ``factory``: the import string names a callable that returns the app (as ``()``).

    Raises:
        AppInterfaceError: the app plainly has another interface than the forced one.
        AppLoadError: (one-line message) a bad spec, a failed import or factory.
    """
    if interface not in INTERFACE_CHOICES:
        raise AppLoadError(f"unknown interface {interface!r} (asgi, wsgi or auto)")
    if ":" not in spec:
        module = _bundled_module(spec)
        if module is not None:
            return _load_bundled(module, spec, interface)
        app = _default_attr(spec, factory)
    else:
        app = _import_string(factory_spec(spec) if factory else spec)
    found = detect_interface(app)
    if interface == "auto":
        return app, found or "wsgi"
    if found is not None and found != interface:
        raise AppInterfaceError(
            f"app {spec!r} is {'an' if found == 'asgi' else 'a'} {found.upper()} app, "
            f"not {interface.upper()}",
            found,
        )
    return app, interface


async def lifespan_noop(receive: Callable, send: Callable) -> None:
    """Answer the ASGI lifespan protocol with nothing to set up (for bundled ASGI apps)."""
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            await send({"type": "lifespan.shutdown.complete"})
            return


async def answer_non_http(scope: dict[str, Any], receive: Callable, send: Callable) -> bool:
    """For HTTP-only bundled apps: handle a scope that is not an HTTP request.

    Lifespan is answered with nothing to set up, a WebSocket is refused (close 1003:
    unsupported data), anything else is ignored. Returns False for an HTTP scope (the
    app answers it), True when the scope was handled here.
    """
    kind = scope["type"]
    if kind == "http":
        return False
    if kind == "lifespan":
        await lifespan_noop(receive, send)
    elif kind == "websocket":
        await send({"type": "websocket.close", "code": 1003})
    return True


def text_headers(length: int) -> list[tuple[bytes, bytes]]:
    """ASGI headers of a plain-text body of ``length`` bytes."""
    return [(b"content-type", b"text/plain"), (b"content-length", str(length).encode())]
