"""Scenario arguments: a file path, or the name of a scenario bundled with bench.

``bench run quick`` and ``bench run scenarios/quick.yaml`` are the same run from the
repository; from anywhere else (an installed bench) the name finds the copy shipped as
package data (``bench.scenarios``). A path that exists always wins over a name, so a
user's own ``quick.yaml`` in the current folder is the one that runs.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import yaml

#: The package that holds the bundled scenario files.
PACKAGE = "bench.scenarios"

_NAME_RE = re.compile(r"[A-Za-z0-9_][\w-]*\Z")


@dataclass(frozen=True)
class BundledScenario:
    """One scenario file shipped with bench."""

    name: str
    path: Path
    description: str


def bundled_dir() -> Path:
    """The folder of the bundled scenario files (inside the installed package)."""
    return Path(str(resources.files(PACKAGE)))


def bundled_scenarios() -> list[BundledScenario]:
    """Every bundled scenario, by name, with the description its file gives."""
    out = []
    for path in sorted(bundled_dir().glob("*.yaml")):
        description = ""
        try:
            data = yaml.safe_load(path.read_text(encoding="utf-8"))
        except (OSError, yaml.YAMLError):
            data = None
        if isinstance(data, dict):
            description = str(data.get("description") or "")
        out.append(BundledScenario(path.stem, path, description))
    return out


def resolve_scenario(arg: str | Path) -> Path:
    """The scenario file ``arg`` names: an existing path, else a bundled scenario's name.

    ``quick`` and ``quick.yaml`` both name the bundled ``quick.yaml``. A name that is not
    bundled comes back unchanged as a path, so the loader reports it as a missing file
    (and lists the bundled names).
    """
    path = Path(arg)
    if path.exists():
        return path
    text = str(arg)
    stem = text[: -len(".yaml")] if text.endswith(".yaml") else text
    if _NAME_RE.match(stem):
        candidate = bundled_dir() / f"{stem}.yaml"
        if candidate.is_file():
            return candidate
    return path


def bundled_names_hint() -> str:
    """``bundled: quick, io_bound, …`` for a missing-scenario message."""
    names = [s.name for s in bundled_scenarios()]
    return f"bundled scenarios: {', '.join(names)} (bench scenarios lists them)" if names else ""
