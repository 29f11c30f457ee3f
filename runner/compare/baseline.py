"""The two sides of a comparison: run folders, baseline files, saved baselines by name.

A *baseline file* is one parquet file: the run's cells table, with the run's manifest
and a small header (name, when saved, from which run) in the parquet schema metadata
under ``bench.manifest`` and ``bench.baseline``. One file is easy to keep as a CI cache
or artifact, or to commit. ``bench baseline save RUN_DIR [NAME]`` writes
``<baselines dir>/<NAME>.parquet`` (default dir ``results/baselines``, or
``$BENCH_BASELINES``); ``bench compare NAME CANDIDATE`` finds it again by name.

``load_side`` accepts a run folder, a baseline file or a saved baseline's name.
"""

from __future__ import annotations

import io
import json
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import yaml

from bench.runner.compare.table import CELL_ID, SCENARIO, STATUS, STATUS_ENGINE_BOUND, STATUS_OK
from bench.runner.errors import UsageError
from bench.runner.results.manifest import utc_now
from bench.runner.results.store import atomic_write_bytes, load_run

#: Where saved baselines live unless --dir or $BENCH_BASELINES says otherwise.
DEFAULT_BASELINES_DIR = Path("results") / "baselines"
BASELINES_ENV = "BENCH_BASELINES"
#: Parquet metadata keys of a baseline file.
META_BASELINE = b"bench.baseline"
META_MANIFEST = b"bench.manifest"
BASELINE_FORMAT = 1
BASELINE_SUFFIX = ".parquet"
_UNSAFE = re.compile(r"[^A-Za-z0-9_.-]+")


@dataclass(frozen=True)
class Side:
    """One side of a comparison.

    Attributes:
        source: what the user named (path or baseline name), for messages.
        name: the baseline's name, or the run's id.
        kind: ``run`` (a run folder) or ``baseline`` (a baseline file).
        manifest: the run's manifest (may be empty for hand-made tables).
        cells: the cells table.
        header: a baseline file's header (name, saved_at, source run), else empty.
    """

    source: str
    name: str
    kind: str
    manifest: dict[str, Any]
    cells: pd.DataFrame
    header: dict[str, Any]

    @property
    def scenario(self) -> str | None:
        """The scenario's name (manifest, else the cells table), or None."""
        name = self.manifest.get("scenario")
        if name:
            return str(name)
        if SCENARIO in self.cells.columns:
            names = self.cells[SCENARIO].dropna().astype(str).unique()
            if len(names) == 1:
                return str(names[0])
        return None

    @property
    def scenario_text(self) -> str | None:
        """The scenario file's text as the run saw it, or None."""
        text = self.manifest.get("scenario_text")
        return str(text) if text else None

    @property
    def git_sha(self) -> str | None:
        """The bench checkout's commit the run was made with, or None."""
        env = self.manifest.get("environment") or {}
        return env.get("git_sha") if isinstance(env, dict) else None

    def scenario_data(self) -> dict[str, Any]:
        """The scenario text parsed as YAML ({} when absent or unreadable)."""
        if not self.scenario_text:
            return {}
        try:
            data = yaml.safe_load(self.scenario_text)
        except yaml.YAMLError:
            return {}
        return data if isinstance(data, dict) else {}


def baselines_dir(explicit: str | Path | None = None) -> Path:
    """The folder of saved baselines: ``explicit``, else $BENCH_BASELINES, else the default."""
    if explicit:
        return Path(explicit)
    env = os.environ.get(BASELINES_ENV)
    return Path(env) if env else DEFAULT_BASELINES_DIR


def baseline_path(name: str, directory: Path) -> Path:
    """Where the baseline ``name`` is stored (unsafe characters, e.g. ``/``, become ``-``)."""
    safe = _UNSAFE.sub("-", name.strip()).strip("-.")
    if not safe:
        raise UsageError(f"{name!r} is not a usable baseline name")
    return directory / f"{safe}{BASELINE_SUFFIX}"


def _read_run(path: Path, source: str) -> Side:
    if not (path / "cells.parquet").exists():
        raise UsageError(f"{source}: not a run folder (no cells.parquet)")
    try:
        run = load_run(path)
    except (OSError, ValueError, pa.ArrowException) as exc:
        raise UsageError(f"{source}: cannot read the run: {exc}") from None
    name = str(run.manifest.get("run_id") or path.name)
    return Side(source, name, "run", run.manifest, run.cells, {})


def read_baseline_file(path: Path, source: str | None = None) -> Side:
    """Read a baseline file written by ``save_baseline``."""
    source = source or str(path)
    try:
        table = pq.read_table(path)
    except (OSError, pa.ArrowException) as exc:
        raise UsageError(f"{source}: not a baseline file ({exc})") from None
    meta = table.schema.metadata or {}
    if META_BASELINE not in meta:
        raise UsageError(f"{source}: a parquet file without a bench baseline header")
    try:
        header = json.loads(meta[META_BASELINE])
        manifest = json.loads(meta.get(META_MANIFEST, b"{}"))
    except json.JSONDecodeError:
        raise UsageError(f"{source}: damaged baseline header") from None
    cells = table.to_pandas()
    return Side(source, str(header.get("name", path.stem)), "baseline", manifest, cells, header)


def load_side(spec: str, *, directory: Path) -> Side:
    """A run folder, a baseline file, or the name of a baseline saved in ``directory``.

    Raises:
        UsageError: nothing by that name, or not readable as either.
    """
    path = Path(spec)
    if path.is_dir():
        return _read_run(path, spec)
    if path.is_file():
        if path.name == "manifest.json":
            return _read_run(path.parent, spec)
        return read_baseline_file(path, spec)
    try:
        saved = baseline_path(spec, directory)
    except UsageError:
        saved = None
    if saved is not None and saved.is_file():
        return read_baseline_file(saved, spec)
    raise UsageError(
        f"{spec}: no such run folder, baseline file or saved baseline (looked in {directory})"
    )


def baseline_bytes(side: Side, name: str) -> bytes:
    """A baseline file's content for ``side`` under ``name``."""
    header = {
        "format": BASELINE_FORMAT,
        "name": name,
        "saved_at": utc_now(),
        "source_run": side.name,
        "scenario": side.scenario,
        "git_sha": side.git_sha,
    }
    table = pa.Table.from_pandas(side.cells, preserve_index=False)
    meta = dict(table.schema.metadata or {})
    meta[META_BASELINE] = json.dumps(header).encode()
    meta[META_MANIFEST] = json.dumps(side.manifest, default=str).encode()
    buffer = io.BytesIO()
    pq.write_table(table.replace_schema_metadata(meta), buffer)
    return buffer.getvalue()


def save_baseline(run_dir: Path, name: str | None, directory: Path, *, force: bool = False) -> Path:
    """Keep ``run_dir``'s cells and manifest as the baseline ``name``; return its path.

    ``name`` defaults to the run's scenario name. Refuses a run without one measured
    repetition, and (unless ``force``) overwriting a baseline of another scenario.

    Raises:
        UsageError: not a run folder, nothing measured, or a clash with another scenario.
    """
    if not run_dir.is_dir():
        raise UsageError(f"{run_dir}: no such run folder")
    side = _read_run(run_dir, str(run_dir))
    status = side.cells[STATUS].astype("string") if STATUS in side.cells else pd.Series([])
    if not status.isin([STATUS_OK, STATUS_ENGINE_BOUND]).any():
        raise UsageError(f"{run_dir}: no measured repetition to keep (all failed or skipped)")
    name = name or side.scenario
    if not name:
        raise UsageError(f"{run_dir}: the run names no scenario; give the baseline a NAME")
    target = baseline_path(name, directory)
    if target.exists() and not force:
        previous = read_baseline_file(target)
        if previous.scenario and side.scenario and previous.scenario != side.scenario:
            raise UsageError(
                f"{target} holds scenario {previous.scenario!r}, this run is "
                f"{side.scenario!r}; choose another NAME or pass --force"
            )
    atomic_write_bytes(target, baseline_bytes(side, name))
    return target


@dataclass(frozen=True, slots=True)
class BaselineInfo:
    """What ``bench baseline list`` shows about one saved baseline."""

    name: str
    path: Path
    scenario: str | None
    saved_at: str | None
    source_run: str | None
    git_sha: str | None
    cells: int
    rows: int


def list_baselines(directory: Path) -> list[BaselineInfo]:
    """The baselines saved in ``directory``, by name (unreadable files are skipped)."""
    out: list[BaselineInfo] = []
    if not directory.is_dir():
        return out
    for path in sorted(directory.glob(f"*{BASELINE_SUFFIX}")):
        try:
            side = read_baseline_file(path)
        except UsageError:
            continue
        cells = side.cells
        out.append(
            BaselineInfo(
                name=side.name,
                path=path,
                scenario=side.scenario,
                saved_at=side.header.get("saved_at"),
                source_run=side.header.get("source_run"),
                git_sha=side.header.get("git_sha"),
                cells=int(cells[CELL_ID].nunique()) if CELL_ID in cells else 0,
                rows=len(cells),
            )
        )
    return out
