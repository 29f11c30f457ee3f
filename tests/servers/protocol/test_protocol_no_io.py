"""Nothing under servers/protocol/ may import an I/O, process or concurrency module.

The files are parsed with ``ast`` (not searched as text), so comments and strings do
not count and every import form is seen: ``import os.path``, ``from os import path``,
``__import__("os")`` and ``importlib.import_module("os")``.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import bench.servers.protocol

PROTOCOL = Path(bench.servers.protocol.__file__).resolve().parent
FORBIDDEN = frozenset(
    {
        "socket",
        "asyncio",
        "os",
        "select",
        "selectors",
        "subprocess",
        "threading",
        "multiprocessing",
        "ssl",
    }
)


def imported_modules(source: str) -> list[tuple[int, str]]:
    """(line, top-level module name) of every absolute import in ``source``."""
    found: list[tuple[int, str]] = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name.split(".")[0]) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.append((node.lineno, node.module.split(".")[0]))
        elif isinstance(node, ast.Call) and _is_dynamic_import(node.func):
            arg = node.args[0] if node.args else None
            if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
                found.append((node.lineno, arg.value.split(".")[0]))
            else:
                found.append((node.lineno, "<dynamic import>"))
    return found


def _is_dynamic_import(func: ast.expr) -> bool:
    if isinstance(func, ast.Name):
        return func.id in ("__import__", "import_module")
    return isinstance(func, ast.Attribute) and func.attr == "import_module"


def violations(source: str) -> list[str]:
    return [
        f"line {line}: {name}"
        for line, name in imported_modules(source)
        if name in FORBIDDEN or name == "<dynamic import>"
    ]


SOURCES = sorted(PROTOCOL.rglob("*.py"))


def test_the_protocol_package_has_sources() -> None:
    names = {p.name for p in SOURCES}
    assert {"__init__.py", "http11.py", "events.py", "errors.py"} <= names


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: str(p.relative_to(PROTOCOL)))
def test_no_io_imports(path: Path) -> None:
    assert violations(path.read_text("utf-8")) == []


@pytest.mark.parametrize(
    "source",
    [
        "import os",
        "import os.path",
        "import socket as s",
        "import json, asyncio",
        "from os import path",
        "from asyncio.events import AbstractEventLoop",
        "def f():\n    import threading",
        "try:\n    import ssl\nexcept ImportError:\n    pass",
        "__import__('subprocess')",
        "importlib.import_module('selectors')",
        "import_module(name)",
    ],
)
def test_the_checker_sees_every_import_form(source: str) -> None:
    assert violations(source) != []


@pytest.mark.parametrize(
    "source",
    [
        "import re",
        "from servers.protocol import events",
        "from . import _body",
        "# import os",
        "text = 'import socket'",
        "import osmium",
    ],
)
def test_the_checker_lets_harmless_code_pass(source: str) -> None:
    assert violations(source) == []
