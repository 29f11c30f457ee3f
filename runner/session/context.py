"""What the run loop, a cell and its driver share: the run's context, one cell's state.

``RunContext`` is everything the loop needs besides the schedule; ``CellRun`` is one cell
repetition with its server up and sampled (what a driver works on); ``CellOutcome`` is
what a cell leaves in the store; ``Interrupted`` is the user's stop.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench.runner.engines.base import Engine
from bench.runner.launch.pinning import Pinning
from bench.runner.launch.process import ServerProcess, log_tail
from bench.runner.launch.sampler import TreeSampler
from bench.runner.loadspec import LoadSpec
from bench.runner.matrix.cells import Cell
from bench.runner.scenario.model import Scenario
from bench.runner.session.progress import RunView


class Interrupted(Exception):
    """The user asked to stop; the current cell is not recorded."""


@dataclass
class RunContext:
    """Everything the loop needs besides the schedule."""

    scenario: Scenario
    run_dir: Path
    run_id: str
    pinning: Pinning
    engine: Engine
    view: RunView
    stop: threading.Event
    skipped: dict[str, str] = field(default_factory=dict)
    extra_env: dict[str, str] = field(default_factory=dict)


@dataclass
class CellRun:
    """One cell repetition whose server is up and being sampled: what a driver drives.

    ``spec`` is the cell's load (the measured window's); ``base`` the row's dimension
    fields; ``notes`` collects remarks for the row.
    """

    ctx: RunContext
    cell: Cell
    base: dict[str, Any]
    spec: LoadSpec
    server: ServerProcess
    sampler: TreeSampler
    startup_s: float
    notes: list[str] = field(default_factory=list)

    def exit_note(self) -> str:
        """``": <last lines of the server log>"`` (empty when the log says nothing)."""
        tail = log_tail(self.server.log_path)
        return f": {tail}" if tail else ""


@dataclass
class CellOutcome:
    """One cell repetition's row, histogram and time series."""

    row: dict[str, Any]
    histogram: list[tuple[int, int]] = field(default_factory=list)
    timeseries: list[dict[str, Any]] = field(default_factory=list)
