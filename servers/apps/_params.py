"""The parameters of a bundled app, declared once: name, type, default, meaning.

How this works: a bundled app module declares ``PARAMS = Params("cpu", Param(...), ...)``
and takes its values from ``PARAMS.read()``, which parses each ``BENCH_APP_<NAME>``
environment variable (typed, range-checked; unset: the default). The same declaration
is what the scenario loader and ``bench serve --param`` check a user's values against
(``Params.check``): an unknown name or a value of the wrong type is refused with the
allowed list, instead of the app silently running with its default. ``docs/scenarios.md``
shows the declarations as a table (``params_table``).

The module's name starts with ``_`` so that it is not taken for a bundled app.
"""

from __future__ import annotations

import difflib
import math
import os
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from bench.servers.errors import AppParamError

#: The prefix of the environment variables that carry parameters to a bundled app.
ENV_PREFIX = "BENCH_APP_"
#: How each parameter type is named in messages and docs.
TYPE_NAMES: dict[type, str] = {int: "int", float: "number", str: "text"}


def env_name(name: str) -> str:
    """``"iterations"`` -> ``"BENCH_APP_ITERATIONS"``."""
    return ENV_PREFIX + name.upper()


@dataclass(frozen=True, slots=True)
class Param:
    """One parameter of a bundled app.

    Attributes:
        name: lower-case name, as written in ``params:`` and ``--param NAME=VALUE``.
        type: ``int``, ``float`` or ``str``.
        default: the value when it is not given.
        help: what it means, one sentence (docs and messages).
        choices: the allowed values of a ``str`` parameter (empty: any text).
        minimum: the smallest allowed value of a number (None: no bound).
    """

    name: str
    type: type
    default: int | float | str
    help: str
    choices: tuple[str, ...] = ()
    minimum: float | None = None

    def describe(self) -> str:
        """``"iterations (int, default 20000)"``."""
        kind = "|".join(self.choices) if self.choices else TYPE_NAMES[self.type]
        return f"{self.name} ({kind}, default {self.shown_default()})"

    def shown_default(self) -> str:
        """The default as docs and messages show it (``50``, ``none`` for empty text)."""
        if isinstance(self.default, float):
            return f"{self.default:g}"
        return str(self.default) if self.default != "" else "none"

    def parse(self, value: object) -> int | float | str:
        """``value`` (from YAML, a command line or the environment) as this type.

        Raises:
            ValueError: the value is not of this type, not a choice, or below the minimum.
        """
        expected = "|".join(self.choices) if self.choices else TYPE_NAMES[self.type]
        problem = f"expected {expected}, got {value!r}"
        parsed: int | float | str
        if isinstance(value, bool):
            raise ValueError(problem)
        if self.type is str:
            if not isinstance(value, str):
                raise ValueError(problem)
            parsed = value
        elif self.type is int:
            if isinstance(value, float) or not isinstance(value, int | str):
                raise ValueError(problem)
            try:
                parsed = int(value)
            except ValueError:
                raise ValueError(problem) from None
        else:
            if not isinstance(value, int | float | str):
                raise ValueError(problem)
            try:
                parsed = float(value)
            except ValueError:
                raise ValueError(problem) from None
            if not math.isfinite(parsed):
                raise ValueError(problem)
        if self.choices and parsed not in self.choices:
            raise ValueError(problem)
        if self.minimum is not None and not isinstance(parsed, str) and parsed < self.minimum:
            raise ValueError(f"must be at least {self.minimum:g}, got {value!r}")
        return parsed


class Params:
    """The declared parameters of one bundled app."""

    def __init__(self, app: str, *params: Param) -> None:
        self.app = app
        self._params = {p.name: p for p in params}

    def __iter__(self) -> Iterator[Param]:
        return iter(self._params.values())

    def __len__(self) -> int:
        return len(self._params)

    def allowed(self) -> str:
        """``"iterations (int, default 20000), …"``, or ``"none"``."""
        return ", ".join(p.describe() for p in self) or "none"

    def problem(self, name: str, value: object) -> str | None:
        """Why ``name: value`` is refused for this app, or None (one line, with the allowed)."""
        param = self._params.get(name)
        if param is None:
            close = difflib.get_close_matches(name, list(self._params), n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            return f"unknown param {name!r} for app {self.app}{hint}; allowed: {self.allowed()}"
        try:
            param.parse(value)
        except ValueError as exc:
            return f"param {name!r} of app {self.app}: {exc}; allowed: {self.allowed()}"
        return None

    def check(self, values: Mapping[str, object]) -> None:
        """Refuse unknown names and values of the wrong type.

        Raises:
            AppParamError: the first problem, one line naming the allowed parameters.
        """
        for name, value in values.items():
            problem = self.problem(name, value)
            if problem:
                raise AppParamError(problem)

    def read(self, environ: Mapping[str, str] | None = None) -> dict[str, Any]:
        """Every parameter's value from ``BENCH_APP_<NAME>`` (unset or empty: the default).

        Raises:
            AppParamError: a variable is set to a value its parameter refuses.
        """
        env = os.environ if environ is None else environ
        out: dict[str, Any] = {}
        for param in self:
            raw = env.get(env_name(param.name))
            if raw is None or raw == "":
                out[param.name] = param.default
                continue
            try:
                out[param.name] = param.parse(raw)
            except ValueError as exc:
                raise AppParamError(
                    f"{env_name(param.name)}={raw!r}: param {param.name!r} of app "
                    f"{self.app}: {exc}; allowed: {self.allowed()}"
                ) from None
        return out


def params_table(declared: Mapping[str, Params]) -> str:
    """A markdown table of every bundled app's parameters (for ``docs/scenarios.md``)."""
    rows = ["| app | param | type | default | meaning |", "|---|---|---|---|---|"]
    for app, params in declared.items():
        if not len(params):
            rows.append(f"| `{app}` | — | | | no parameters |")
        for p in params:
            kind = " \\| ".join(f"`{c}`" for c in p.choices) if p.choices else TYPE_NAMES[p.type]
            default = f"`{p.shown_default()}`" if p.default != "" else "none"
            rows.append(f"| `{app}` | `{p.name}` | {kind} | {default} | {p.help} |")
    return "\n".join(rows)
