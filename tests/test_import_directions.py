"""Imports point one way (docs/architecture.md): a test like the protocol's no-I/O test.

Every import statement of every module is read with ``ast`` (imports inside functions
too, so a cycle cannot hide in one), and each rule names packages a package must never
import.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

#: package (dotted) -> prefixes of modules it must never import, and why.
RULES: dict[str, tuple[tuple[str, ...], str]] = {
    "servers": (("runner", "dashboards"), "servers never import the runner or its views"),
    "runner.results": (
        ("runner.engines", "runner.launch", "runner.session", "runner.commands", "dashboards"),
        "the results package is read by everyone and reads no one",
    ),
    "runner.compare": (("plotly", "dashboards"), "compare is analysis: no figures, no HTML"),
    "runner.plan": (("plotly", "dashboards"), "plan is analysis: no figures, no HTML"),
    "dashboards": (("runner.engines", "runner.launch"), "views read results, not engines"),
}


def modules(package: str) -> list[Path]:
    return sorted((ROOT / package.replace(".", "/")).rglob("*.py"))


def imported(path: Path, root: Path = ROOT) -> list[tuple[int, str]]:
    """(line, module) of every import in ``path``, relative imports resolved."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    out: list[tuple[int, str]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out.extend((node.lineno, alias.name) for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = parts[: len(parts) - node.level + (1 if path.name == "__init__.py" else 0)]
                name = ".".join([*base, node.module] if node.module else base)
            else:
                name = node.module or ""
            out.append((node.lineno, name))
    return out


def violations(package: str) -> list[str]:
    forbidden, _ = RULES[package]
    found = []
    for path in modules(package):
        for line, name in imported(path):
            if any(name == f or name.startswith(f + ".") for f in forbidden):
                found.append(f"{path.relative_to(ROOT)}:{line} imports {name}")
    return found


@pytest.mark.parametrize("package", sorted(RULES))
def test_imports_point_one_way(package: str) -> None:
    assert modules(package), f"no modules found for {package}"
    assert violations(package) == [], RULES[package][1]


def test_the_scanner_sees_imports_in_functions_and_relative_ones(tmp_path: Path) -> None:
    pkg = tmp_path / "runner" / "plan"
    pkg.mkdir(parents=True)
    (pkg / "view.py").write_text(
        "import math\n"
        "def draw():\n"
        "    import plotly.graph_objects as go\n"
        "    from ..results import status\n"
        "    from . import capacity\n",
        encoding="utf-8",
    )
    names = [name for _, name in imported(pkg / "view.py", root=tmp_path)]
    assert names == ["math", "plotly.graph_objects", "runner.results", "runner.plan"]
