"""Bundled apps' declared parameters: parsing, refusals with the allowed list, the docs."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from bench.servers.apps import (
    AppLoadError,
    AppParamError,
    Param,
    Params,
    bundled_names,
    declared_params,
)
from bench.servers.apps._params import params_table

DOCS = Path(__file__).resolve().parents[3] / "docs" / "scenarios.md"
CPU = Params("cpu", Param("iterations", int, 20_000, "loop iterations", minimum=0))
IO = Params(
    "io",
    Param("ms", float, 50.0, "latency", minimum=0),
    Param("mode", str, "sleep", "how", choices=("sleep", "http")),
)

ITERATIONS = Param("iterations", int, 1, "")


@pytest.mark.parametrize(
    ("param", "value", "parsed"),
    [
        (ITERATIONS, 5000, 5000),
        (ITERATIONS, "5000", 5000),  # from the environment or a command line
        (Param("ms", float, 1.0, ""), 5, 5.0),
        (Param("ms", float, 1.0, ""), "2.5", 2.5),
        (Param("mode", str, "a", "", choices=("a", "b")), "b", "b"),
        (Param("name", str, "", ""), "anything", "anything"),
    ],
)
def test_param_parses_its_type(param: Param, value: object, parsed: object) -> None:
    assert param.parse(value) == parsed
    assert type(param.parse(value)) is param.type


@pytest.mark.parametrize(
    ("param", "value", "message"),
    [
        (Param("n", int, 1, ""), "abc", "expected int, got 'abc'"),
        (Param("n", int, 1, ""), 5.5, "expected int, got 5.5"),
        (Param("n", int, 1, ""), True, "expected int, got True"),
        (Param("n", int, 1, "", minimum=0), -1, "must be at least 0, got -1"),
        (Param("ms", float, 1.0, ""), "abc", "expected number, got 'abc'"),
        (Param("ms", float, 1.0, ""), "nan", "expected number, got 'nan'"),
        (Param("mode", str, "a", "", choices=("a", "b")), "c", "expected a|b, got 'c'"),
        (Param("name", str, "", ""), 5, "expected text, got 5"),
    ],
)
def test_param_refuses_what_its_type_cannot_take(param: Param, value: object, message: str) -> None:
    with pytest.raises(ValueError, match=message.replace("|", r"\|")):
        param.parse(value)


def test_unknown_and_mistyped_params_are_refused_with_the_allowed_list() -> None:
    assert CPU.problem("iterations", 5000) is None
    assert CPU.problem("iteration", 5000) == (
        "unknown param 'iteration' for app cpu (did you mean 'iterations'?); "
        "allowed: iterations (int, default 20000)"
    )
    assert IO.problem("ms", "abc") == (
        "param 'ms' of app io: expected number, got 'abc'; "
        "allowed: ms (number, default 50), mode (sleep|http, default sleep)"
    )
    with pytest.raises(AppParamError, match="unknown param 'zzz' for app io; allowed: ms"):
        IO.check({"ms": 5, "zzz": 1})
    assert issubclass(AppParamError, AppLoadError)  # bad input: exit code 2


def test_read_takes_the_environment_or_the_default() -> None:
    assert IO.read({}) == {"ms": 50.0, "mode": "sleep"}
    assert IO.read({"BENCH_APP_MS": "5", "BENCH_APP_MODE": ""}) == {"ms": 5.0, "mode": "sleep"}
    with pytest.raises(AppParamError, match=r"BENCH_APP_MODE='fast': param 'mode' of app io"):
        IO.read({"BENCH_APP_MODE": "fast"})


@pytest.mark.parametrize("name", bundled_names())
def test_every_bundled_app_declares_its_params(name: str) -> None:
    params = declared_params(name)
    assert params.app == name
    for param in params:
        assert param.name == param.name.lower() and param.help
        assert param.parse(param.default) == param.default  # the default is a valid value


def test_an_app_reads_its_declared_param_from_the_environment() -> None:
    # In a child process: the app reads its parameters when its module is imported.
    code = "from servers.apps import cpu; print(cpu.ITERATIONS)"
    env = {"BENCH_APP_ITERATIONS": "123", "PATH": ""}
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)
    assert out.stdout.strip() == "123", out.stderr


def test_declared_params_of_an_unknown_app() -> None:
    with pytest.raises(AppLoadError, match="unknown app 'nope'"):
        declared_params("nope")


def test_docs_show_every_bundled_apps_params() -> None:
    table = params_table({name: declared_params(name) for name in bundled_names()})
    assert table in DOCS.read_text(encoding="utf-8"), (
        "regenerate the table in docs/scenarios.md: servers.apps._params.params_table"
    )
