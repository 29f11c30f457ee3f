"""Before a ``bench run`` starts anything: the plan, the dry run, the run folder.

How this works: ``plan_run`` reads the scenario (or, for ``--resume``, the scenario text
stored in the run's manifest), checks the app and the engine, expands and filters the
matrix, and decides the pinning — nothing is started yet, so ``--dry-run`` stops there
(``print_dry_run``). ``new_run_dir`` creates the run folder; ``read_manifest`` reads an
existing one back for ``--resume``. ``bench.runner.session.conduct`` then runs the plan.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from bench.runner.errors import ScenarioError, UsageError
from bench.runner.launch.pinning import Pinning, available_cpus, plan_pinning
from bench.runner.launch.preflight import check_app, engine_problem, skipped_cells
from bench.runner.matrix.cells import Cell, expand
from bench.runner.matrix.schedule import filter_cells, parse_only, schedule
from bench.runner.scenario.bundled import resolve_scenario
from bench.runner.scenario.model import Scenario, load_scenario, parse_scenario
from bench.runner.session.cell_events import event_plan_lines
from bench.runner.session.loop import cell_estimate_s
from bench.runner.units import format_duration


@dataclass
class RunPlan:
    """What a run will do (all decided before anything starts)."""

    scenario: Scenario
    scenario_text: str
    source: str
    cells: list[Cell]
    order: list[tuple[Cell, int]]
    pinning: Pinning
    skipped: dict[str, str]
    repeat: int
    only: list[str] = field(default_factory=list)


def plan_run(
    scenario_path: str | None,
    *,
    repeat: int | None = None,
    only: Sequence[str] = (),
    resume_manifest: dict[str, Any] | None = None,
    check: bool = True,
    profile: bool = False,
) -> RunPlan:
    """Read, check and expand a scenario (or the one of a run being resumed)."""
    if resume_manifest is not None:
        text = str(resume_manifest["scenario_text"])
        source = str(resume_manifest.get("scenario_path") or "<manifest>")
        scenario = parse_scenario(text, source)
        options = resume_manifest.get("options", {})
        repeat = int(options.get("repeat") or scenario.repeat)
        only = list(options.get("only") or [])
        profile = bool(options.get("profile"))
    else:
        if scenario_path is None:
            raise UsageError("give a scenario file (or --resume RUN_DIR)")
        path = resolve_scenario(scenario_path)
        scenario = load_scenario(path)
        text = path.read_text(encoding="utf-8")
        source = str(path)
        repeat = repeat or scenario.repeat
    if profile:  # bench run --profile: as if the scenario said profile: true
        scenario = scenario.model_copy(update={"profile": True})
    if check:
        problem = engine_problem(scenario)
        if problem:
            raise ScenarioError(f"{source}: at load.engine: {problem}")
        if scenario.load.cluster:  # reachable, with workers on this bench version
            from bench.runner.engines.cluster import cluster_problem

            problem = cluster_problem(scenario.load.cluster)
            if problem:
                raise ScenarioError(f"{source}: at load.cluster: {problem}")
        app_interface = check_app(scenario, source)
    else:
        app_interface = None
    cells = expand(scenario, app_interface)
    wanted = parse_only(only)
    cells = filter_cells(cells, wanted)
    if not cells:
        raise UsageError(f"--only {' '.join(only)}: no cell of {source} matches")
    pinning = plan_pinning(scenario.pin, available_cpus())
    return RunPlan(
        scenario=scenario,
        scenario_text=text,
        source=source,
        cells=cells,
        order=schedule(cells, repeat),
        pinning=pinning,
        skipped=skipped_cells(cells, app_interface),
        repeat=repeat,
        only=list(only),
    )


def print_dry_run(plan: RunPlan, console: Console) -> None:
    """The cells a run would execute, in order, and how long it would take."""
    table = Table(
        title=f"{plan.scenario.name}: {len(plan.cells)} cells × {plan.repeat} repetition(s)",
        title_justify="left",
        header_style="bold",
    )
    for col in ("#", "cell_id", "server", "load", "note"):
        table.add_column(col)
    for cell in plan.cells:
        note = plan.skipped.get(cell.cell_id, "")
        table.add_row(
            str(cell.index),
            cell.cell_id,
            cell.server.describe(),
            cell.load.describe(),
            f"skipped: {note}" if note else "",
        )
    console.print(table)
    for line in event_plan_lines(plan.scenario, plan.cells):  # the scenario's events:
        console.print(line, markup=False, highlight=False)
    runnable = sum(1 for c, _ in plan.order if c.cell_id not in plan.skipped)
    estimate = runnable * cell_estimate_s(plan.scenario)
    console.print(f"pinning: {plan.pinning.note}")
    console.print(f"about {format_duration(estimate)} for {runnable} cell repetition(s)")


def new_run_dir(out: Path, name: str) -> Path:
    """A fresh folder ``OUT/<scenario>-<UTC timestamp>`` (suffixed if it exists)."""
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%d-%H%M%S")
    base = out / f"{name}-{stamp}"
    candidate, n = base, 1
    while candidate.exists():
        n += 1
        candidate = out / f"{name}-{stamp}-{n}"
    candidate.mkdir(parents=True)
    return candidate


def read_manifest(run_dir: Path) -> dict[str, Any]:
    """The manifest of an existing run folder (UsageError if there is none)."""
    path = run_dir / "manifest.json"
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise UsageError(f"{run_dir}: not a run folder (no manifest.json)") from None
    except ValueError as exc:
        raise UsageError(f"{path}: unreadable manifest: {exc}") from None
