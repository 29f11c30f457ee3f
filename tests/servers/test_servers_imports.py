"""Dependencies point one way: nothing under servers/ imports the runner or the dashboards."""

from __future__ import annotations

import ast
from pathlib import Path

SERVERS = Path(__file__).resolve().parent.parent.parent / "servers"


def imported_modules(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def test_servers_never_import_the_runner_or_the_dashboards() -> None:
    files = sorted(SERVERS.rglob("*.py"))
    assert len(files) > 30
    offending = {
        str(path.relative_to(SERVERS)): sorted(
            name
            for name in imported_modules(path)
            if name.split(".")[0] in {"runner", "dashboards", "benchmarks"}
        )
        for path in files
    }
    assert {path: names for path, names in offending.items() if names} == {}
