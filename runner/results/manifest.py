"""The manifest of a run: everything needed to reproduce it and to judge its numbers.

``collect_environment`` looks at the machine once (Python, CPU model and count, package
versions, the bench version and, run from a checkout, its git sha; wrk version); ``new_manifest`` adds the scenario
text, the options and the pinning. The runner updates ``status``, ``finished_at`` and the
cell counts as the run goes and writes it atomically (``bench.runner.results``).
"""

from __future__ import annotations

import datetime as dt
import os
import platform
import shutil
import subprocess
import sys
from importlib import metadata
from pathlib import Path
from typing import Any

from bench.runner import __version__
from bench.runner.results.fingerprint import fingerprint

#: Distributions whose versions the manifest records (absent ones are omitted).
PACKAGES: tuple[str, ...] = (
    "bench",
    "uvloop",
    "httptools",
    "pydantic",
    "numpy",
    "pandas",
    "pyarrow",
    "psutil",
    "locust",
    "gunicorn",
    "uvicorn",
    "granian",
    "hypercorn",
    "websockets",
)

#: Manifest format version (bump when fields change meaning).
MANIFEST_VERSION = 1


def utc_now() -> str:
    """The current time, ISO 8601 in UTC, to the second."""
    return dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat()


def cpu_model() -> str:
    """The CPU model name (``/proc/cpuinfo`` on Linux, else ``platform.processor()``)."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.lower().startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


#: This file, as the repository lays it out: a git checkout of bench has it here.
_THIS_IN_CHECKOUT = Path("runner", "results", "manifest.py")


def git_sha(repo: Path) -> str | None:
    """The commit of the bench checkout ``repo`` lies in (``-dirty`` with changes), or None.

    None when bench is installed from a wheel: the folder is then a site-packages
    folder, which may well sit inside some other project's checkout (a venv in the
    user's repository), whose commit says nothing about bench. The checkout counts only
    when its top level holds this very file.
    """
    if shutil.which("git") is None:
        return None
    try:
        top = subprocess.run(
            ["git", "-C", str(repo), "rev-parse", "--show-toplevel"],
            capture_output=True,
            text=True,
            timeout=5,
            check=True,
        ).stdout.strip()
        mine = Path(top, _THIS_IN_CHECKOUT)
        if not (mine.is_file() and mine.samefile(__file__)):
            return None
        sha = subprocess.run(
            ["git", "-C", str(repo), "rev-parse", "HEAD"],
            capture_output=True,
            text=True,
            timeout=5,
            check=True,
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "-C", str(repo), "status", "--porcelain", "--untracked-files=no"],
            capture_output=True,
            text=True,
            timeout=5,
            check=True,
        ).stdout.strip()
    except (subprocess.SubprocessError, OSError):
        return None
    return f"{sha}-dirty" if dirty else sha


def package_versions(names: tuple[str, ...] = PACKAGES) -> dict[str, str]:
    """Installed versions of ``names`` (missing packages are left out)."""
    out: dict[str, str] = {}
    for name in names:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    return out


def wrk_version() -> str | None:
    """``wrk 4.1.0`` or None when wrk is not installed."""
    binary = shutil.which("wrk")
    if binary is None:
        return None
    try:
        text = subprocess.run(
            [binary, "--version"], capture_output=True, text=True, timeout=5
        ).stdout
    except (subprocess.SubprocessError, OSError):
        return None
    first = text.strip().splitlines()[0] if text.strip() else ""
    return " ".join(first.split()[:2]) or None


def collect_environment() -> dict[str, Any]:
    """Facts about this machine and installation."""
    return {
        "bench_version": __version__,
        "git_sha": git_sha(Path(__file__).resolve().parent.parent),
        "python": {
            "version": platform.python_version(),
            "implementation": platform.python_implementation(),
            "executable": os.path.basename(sys.executable),
        },
        "platform": platform.platform(),
        "cpu": {
            "model": cpu_model(),
            "logical": os.cpu_count(),
            "available": sorted(os.sched_getaffinity(0))
            if hasattr(os, "sched_getaffinity")
            else None,
        },
        "packages": package_versions(),
        "tools": {"wrk": wrk_version()},
    }


def new_manifest(
    *,
    run_id: str,
    scenario_name: str,
    scenario_path: str,
    scenario_text: str,
    options: dict[str, Any],
    pinning: dict[str, Any],
    planned: int,
    skipped: list[str],
) -> dict[str, Any]:
    """A manifest for a run that is starting now (``fingerprint``: runner.results.fingerprint)."""
    environment = collect_environment()
    return {
        "manifest_version": MANIFEST_VERSION,
        "run_id": run_id,
        "scenario": scenario_name,
        "scenario_path": scenario_path,
        "scenario_text": scenario_text,
        "options": options,
        "pinning": pinning,
        "environment": environment,
        "fingerprint": fingerprint(environment, pinning),
        "started_at": utc_now(),
        "finished_at": None,
        "status": "running",
        "cells_planned": planned,
        "cells_done": 0,
        "cells_failed": 0,
        "skipped": skipped,
        "resumed_at": [],
    }
