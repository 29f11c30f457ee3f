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
#: The packages that run a benchmark (launch servers, drive load, run the loop).
RUN_FLOW: tuple[str, ...] = (
    "runner.matrix",
    "runner.launch",
    "runner.engines",
    "runner.session",
    "runner.commands",
)
#: Analysis of stored results, and the views of it.
ANALYSIS: tuple[str, ...] = ("runner.compare", "runner.plan")
VIEWS: tuple[str, ...] = ("dashboards", "runner.commands")

RULES: dict[str, tuple[tuple[str, ...], str]] = {
    "servers": (("runner", "dashboards"), "servers never import the runner or its views"),
    "runner.scenario": (
        (*RUN_FLOW, *ANALYSIS, *VIEWS),
        "the scenario is what the user wrote: it knows nothing of how it is run",
    ),
    "runner.matrix": (
        ("runner.launch", "runner.engines", "runner.session", *ANALYSIS, *VIEWS),
        "the matrix is pure: scenario -> cells, nothing started",
    ),
    "runner.launch": (
        ("runner.engines", "runner.session", *ANALYSIS, *VIEWS),
        "launching a server knows nothing of load or of the run loop",
    ),
    "runner.events": (
        ("runner.engines", "runner.session", *ANALYSIS, *VIEWS),
        "an action on a server knows nothing of load or of the run loop",
    ),
    "runner.events.mapping": (
        ("runner",),
        "the action table is pure data the scenario loader reads: it imports nothing of bench",
    ),
    "runner.bisect": (
        ("runner.matrix", "runner.launch", "runner.engines", "runner.session", *VIEWS),
        "bisect runs each commit's own bench run as a process, never this checkout's run code",
    ),
    "runner.engines": (
        ("runner.scenario", "runner.matrix", "runner.session", *ANALYSIS, *VIEWS),
        "engines read a LoadSpec, not a scenario, and write a LoadResult",
    ),
    "runner.session": (
        (*ANALYSIS, *VIEWS),
        "the session runs and stores; analysis and views read what it stored",
    ),
    "runner.results": (
        ("runner.engines", "runner.launch", "runner.session", *ANALYSIS, *VIEWS),
        "the results package is read by everyone and reads no one",
    ),
    "runner.compare": (
        (*RUN_FLOW, "plotly", *VIEWS),
        "compare is analysis of stored results: no run, no figures, no HTML",
    ),
    "runner.plan": (
        (*RUN_FLOW, "plotly", *VIEWS),
        "plan is analysis of stored results: no run, no figures, no HTML",
    ),
    "dashboards": (
        (*RUN_FLOW, "runner.commands"),
        "views read results and analysis, never the run machinery",
    ),
}


def modules(package: str) -> list[Path]:
    single = ROOT / (package.replace(".", "/") + ".py")
    if single.is_file():  # a rule on one module
        return [single]
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


def layout_name(module: str) -> str:
    """The repository-layout name of an installed module: ``bench.runner.x`` -> ``runner.x``.

    The folders ``servers/``, ``runner/`` and ``dashboards/`` install as ``bench.servers``,
    ``bench.runner`` and ``bench.dashboards``; the rules below speak of the folders.
    """
    return module.removeprefix("bench.")


def violations(package: str) -> list[str]:
    forbidden, _ = RULES[package]
    found = []
    for path in modules(package):
        for line, module in imported(path):
            name = layout_name(module)
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


#: The folders that install under the one ``bench`` namespace.
NAMESPACED = ("servers", "runner", "dashboards")


#: Calls that import or open a package named by a string.
_BY_NAME = frozenset({"import_module", "__import__", "files", "find_spec"})


def _loads_by_name(node: ast.Call) -> bool:
    """``importlib.import_module("x")``, ``resources.files("x")`` … with a literal name."""
    func = node.func
    name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
    first = node.args[0] if node.args else None
    return name in _BY_NAME and isinstance(first, ast.Constant) and isinstance(first.value, str)


def test_code_imports_the_installed_names_only() -> None:
    """Nothing imports a bare ``runner``/``servers``/``dashboards``: an install has only ``bench.*``."""
    found = []
    for top in (*NAMESPACED, "tests", "benchmarks"):
        for path in sorted((ROOT / top).rglob("*.py")):
            tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
            for node in ast.walk(tree):
                names = []
                if isinstance(node, ast.Call) and _loads_by_name(node):
                    names = [node.args[0].value]
                elif isinstance(node, ast.Import):
                    names = [alias.name for alias in node.names]
                elif isinstance(node, ast.ImportFrom) and not node.level:
                    names = [node.module or ""]
                found.extend(
                    f"{path.relative_to(ROOT)}:{node.lineno} imports {name}"
                    for name in names
                    if name.split(".")[0] in NAMESPACED
                )
    assert found == []
