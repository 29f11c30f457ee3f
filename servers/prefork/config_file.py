"""``-c CONFIG.py``: a gunicorn-style Python config file for the prefork server.

The file is Python, run once in the master. Its module-level names that equal a
setting's name become that setting (``workers = 4``, ``bind = "127.0.0.1:8000"``,
``worker_class = "thread"``); gunicorn's names for the same settings are accepted too
(``keepalive``, ``accesslog``, ``errorlog``, ``loglevel``, ``access_log_format``,
``raw_env``, ``wsgi_app``, ``pidfile``). Flags given on the command line override the
file. Names starting with ``_``, modules, functions and classes (gunicorn's server
hooks) are ignored; any other name is an error, so a typo is caught (``bench serve
prefork -c FILE --check-config`` validates a file and exits 0 or 2).

``wsgi_app`` names the app when the command line gives none.
"""

from __future__ import annotations

import dataclasses
import inspect
import runpy
from collections.abc import Mapping
from typing import Any

from bench.servers.errors import ConfigError
from bench.servers.prefork.config import PreforkConfig

#: gunicorn's names of settings whose bench name differs.
GUNICORN_NAMES: dict[str, str] = {
    "keepalive": "keep_alive",
    "accesslog": "access_logfile",
    "errorlog": "error_logfile",
    "loglevel": "log_level",
    "access_log_format": "access_logformat",
    "raw_env": "env",
    "pidfile": "pidfile",
    "limit_request_field_size": "limit_request_field_size",
}
#: The name of the app spec in a config file (gunicorn's).
APP_NAME = "wsgi_app"

_SETTINGS = {f.name: f for f in dataclasses.fields(PreforkConfig) if f.metadata.get("flags")}


def _ignored(name: str, value: Any) -> bool:
    return (
        name.startswith("_")
        or inspect.ismodule(value)
        or inspect.isroutine(value)
        or inspect.isclass(value)
    )


def _coerce(name: str, value: Any, source: str) -> Any:
    """A config-file value as the setting's field value (tuples for repeatable settings)."""
    f = _SETTINGS[name]
    if f.metadata.get("append"):
        if isinstance(value, str):
            return (value,)
        if isinstance(value, list | tuple):
            return tuple(str(v) for v in value)
        raise ConfigError(f"{source}: {name} must be a string or a list of strings")
    kind = str(f.type).replace(" | None", "")
    if value is None and "None" in str(f.type):
        return None
    expected: tuple[type, ...] = {
        "int": (int,),
        "float": (int, float),
        "bool": (bool,),
        "str": (str,),
    }.get(kind, (object,))
    if isinstance(value, bool) and kind in ("int", "float"):
        expected = ()
    if not isinstance(value, expected):
        raise ConfigError(f"{source}: {name} must be {kind}, not {type(value).__name__}")
    return float(value) if kind == "float" else value


def settings_from_namespace(
    names: Mapping[str, Any], source: str
) -> tuple[dict[str, Any], str | None]:
    """(settings, app spec) from the module-level names of a config file."""
    values: dict[str, Any] = {}
    app: str | None = None
    for raw_name, value in names.items():
        if _ignored(raw_name, value):
            continue
        if raw_name == APP_NAME:
            if not isinstance(value, str):
                raise ConfigError(f"{source}: {APP_NAME} must be a string ('module:attr')")
            app = value
            continue
        name = GUNICORN_NAMES.get(raw_name, raw_name)
        if name not in _SETTINGS:
            raise ConfigError(f"{source}: unknown setting {raw_name!r}")
        values[name] = _coerce(name, value, source)
    return values, app


def read_config_file(path: str) -> tuple[dict[str, Any], str | None]:
    """Run the config file at ``path``; return its (settings, app spec).

    Raises:
        ConfigError: the file cannot be read or run, or names an unknown setting or a
            value of the wrong type.
    """
    try:
        names = runpy.run_path(path, run_name="__config__")
    except FileNotFoundError:
        raise ConfigError(f"-c {path}: no such file") from None
    except SyntaxError as exc:
        raise ConfigError(f"{path}:{exc.lineno}: syntax error: {exc.msg}") from None
    except Exception as exc:
        raise ConfigError(f"{path}: failed: {type(exc).__name__}: {exc}") from None
    names = {k: v for k, v in names.items() if k not in ("__builtins__",)}
    return settings_from_namespace(names, path)


def merged_config(file_values: Mapping[str, Any], cli_values: Mapping[str, Any]) -> PreforkConfig:
    """The config of the file's settings overridden by the command line's (ConfigError)."""
    return PreforkConfig(**{**file_values, **cli_values})
