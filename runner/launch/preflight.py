"""Checks before a run starts: can the app be imported, which peers and engines exist.

The workload app is loaded in a child process (``bench.servers.apps.load_app``), never in the
runner: importing a user's app can have side effects, and the runner must not carry
them. The child prints the interface it found, which decides how peers serve an
import-string app. Problems the user must fix raise ``ScenarioError`` naming the file
and the YAML path; a peer that is not installed only skips its cells.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import subprocess
import sys
from collections.abc import Sequence

from bench.runner.errors import ScenarioError
from bench.runner.launch.commands import peer_missing
from bench.runner.matrix.cells import Cell
from bench.runner.scenario.model import Scenario

_CHECK = """
import sys
from bench.servers.apps import AppLoadError, load_app
try:
    _app, kind = load_app(sys.argv[1], interface=sys.argv[2])
except AppLoadError as exc:
    print("error:", exc)
    sys.exit(3)
print("interface:", kind)
"""

#: A placeholder downstream URL for the import check (no request is made at import).
PLACEHOLDER_DOWNSTREAM = "http://127.0.0.1:9"


def check_app(scenario: Scenario, source: str, *, timeout: float = 60.0) -> str | None:
    """Load the workload app in a child process; return its interface for import strings.

    Raises:
        ScenarioError: the app cannot be imported (message names file and ``workload.app``).
    """
    workload = scenario.workload
    env = {**os.environ, **workload.env(), **workload.search_path(os.environ.get("PYTHONPATH"))}
    if workload.downstream:
        env.setdefault("BENCH_APP_DOWNSTREAM", PLACEHOLDER_DOWNSTREAM)
    try:
        proc = subprocess.run(
            [sys.executable, "-c", _CHECK, workload.app, workload.interface],
            capture_output=True,
            text=True,
            env=env,
            timeout=timeout,
        )
    except subprocess.TimeoutExpired:
        raise ScenarioError(
            f"{source}: at workload.app: importing {workload.app!r} took more than {timeout:g}s"
        ) from None
    out = proc.stdout.strip().splitlines()
    last = out[-1] if out else ""
    if proc.returncode != 0 or not last.startswith("interface:"):
        reason = last.removeprefix("error:").strip() if last.startswith("error:") else ""
        if not reason:
            err = [line for line in proc.stderr.strip().splitlines() if line.strip()]
            reason = err[-1] if err else f"exit code {proc.returncode}"
        raise ScenarioError(f"{source}: at workload.app: {reason}")
    found = last.split(":", 1)[1].strip()
    return None if workload.is_bundled else found


def engine_problem(scenario: Scenario) -> str | None:
    """Why the scenario's engine cannot run here, or None."""
    engine = scenario.load.engine
    if engine == "wrk" and shutil.which("wrk") is None:
        return "engine wrk is not installed (apt-get install wrk); allowed here: native, locust"
    if engine == "locust" and importlib.util.find_spec("locust") is None:
        return "engine locust is not installed (pip install locust)"
    if engine == "locust" and scenario.workload.is_websocket:
        return "engine locust does not drive WebSocket; use native"
    return None


def skipped_cells(cells: Sequence[Cell], app_interface: str | None = None) -> dict[str, str]:
    """cell_id -> reason, for cells whose server cannot run here or cannot serve the app.

    ``app_interface`` is the interface of an import-string app (None: a bundled app,
    which has both forms).
    """
    out: dict[str, str] = {}
    for cell in cells:
        point = cell.server
        reason = peer_missing(point.server)
        if (
            reason is None
            and app_interface is not None
            and not point.is_external  # serves whatever it serves: bench did not start it
            and point.interface != app_interface
        ):
            reason = (
                f"{point.describe()} serves {point.interface.upper()} apps; "
                f"the app is {app_interface.upper()}"
            )
        if reason:
            out[cell.cell_id] = reason
    return out
