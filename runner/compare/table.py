"""The results table as the gates see it: which column holds which metric, which rows count.

The cells table (``bench.runner.results.CELL_COLUMNS``) has one row per cell × repetition.
Cells are matched across runs by ``cell_id``, a hash of the cell's configuration (server,
workers, threads, loop, …, load point) that does not depend on the workload or the run,
so a baseline and a candidate of the same scenario pair up even when the app changed.
Rows with status ``ok`` or ``engine-bound`` are measurements; ``failed: …`` rows are
counted and reported, never used as numbers; ``skipped: …`` rows are ignored.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import pandas as pd

from bench.runner.errors import UsageError
from bench.runner.results.dimensions import LOAD_COLUMNS, SERVER_AXES
from bench.runner.results.schema import CELL_COLUMNS, Column

#: The schema by column name.
SCHEMA: dict[str, Column] = {c.name: c for c in CELL_COLUMNS}


def _column(name: str) -> str:
    """``name``, checked against the results schema at import time."""
    if name not in SCHEMA:
        raise RuntimeError(f"results schema has no column {name!r}")  # a schema change
    return name


#: Gate metric -> the column holding it.
METRIC_COLUMNS: dict[str, str] = {
    "rps": _column("rps"),
    "p50": _column("p50_us"),
    "p99": _column("p99_us"),
    "p999": _column("p999_us"),
    "error_rate": _column("error_rate"),
    "rss": _column("server_rss_peak_bytes"),
    "cpu": _column("server_cpu_per_request_us"),
}
CELL_ID = _column("cell_id")
CELL_INDEX = _column("cell_index")
REPETITION = _column("repetition")
STATUS = _column("status")
ENGINE_BOUND = _column("engine_bound")
LABEL = _column("label")
SCENARIO = _column("scenario")
#: Columns that describe a cell's configuration, for display (not for matching).
IDENTITY_COLUMNS: tuple[str, ...] = tuple(_column(n) for n in (*SERVER_AXES, *LOAD_COLUMNS))
#: Columns a table must have to be compared.
REQUIRED: tuple[str, ...] = (CELL_ID, STATUS, REPETITION)

STATUS_OK = "ok"
STATUS_ENGINE_BOUND = "engine-bound"
FAILED_PREFIX = "failed"


def unit(metric: str) -> str:
    """The unit of a gate metric's column (``req/s``, ``µs``, ``fraction``, ``bytes``)."""
    return SCHEMA[METRIC_COLUMNS[metric]].unit


def check_table(df: pd.DataFrame, side: str) -> None:
    """Raise UsageError (one line) when ``df`` cannot be compared."""
    missing = [c for c in REQUIRED if c not in df.columns]
    if missing:
        raise UsageError(f"{side}: the cells table has no column {', '.join(missing)}")


@dataclass(frozen=True, slots=True)
class CellRows:
    """The rows of one cell on one side, split by what they can be used for."""

    measured: pd.DataFrame
    failed: pd.DataFrame

    @property
    def engine_bound(self) -> int:
        """How many measured repetitions were limited by the load generator."""
        if ENGINE_BOUND in self.measured.columns:
            flags = self.measured[ENGINE_BOUND].fillna(False).astype(bool)
        else:
            flags = pd.Series(False, index=self.measured.index)
        status = self.measured[STATUS].astype(str)
        return int((flags | (status == STATUS_ENGINE_BOUND)).sum())

    def values(self, metric: str) -> list[float]:
        """The metric's values over the measured repetitions (missing values left out)."""
        column = METRIC_COLUMNS[metric]
        if column not in self.measured.columns:
            return []
        series = pd.to_numeric(self.measured[column], errors="coerce").astype(float)
        return [float(v) for v in series.dropna()]

    def failure_reason(self) -> str:
        """The first failure's reason, for reports."""
        if self.failed.empty:
            return ""
        text = str(self.failed[STATUS].iloc[0])
        return text.partition(":")[2].strip() or text


def split_cells(df: pd.DataFrame) -> dict[str, CellRows]:
    """Rows grouped by cell_id (first-seen order), one row per repetition."""
    status = df[STATUS].astype("string").fillna("")
    measured_mask = status.isin([STATUS_OK, STATUS_ENGINE_BOUND])
    failed_mask = status.str.startswith(FAILED_PREFIX)
    ordered = df.assign(_order=range(len(df)))
    if CELL_INDEX in df.columns:
        ordered = ordered.sort_values([CELL_INDEX, "_order"], kind="stable")
    out: dict[str, CellRows] = {}
    for cell_id in pd.unique(ordered[CELL_ID].astype(str)):
        rows = df[df[CELL_ID].astype(str) == cell_id]
        measured = rows[measured_mask.loc[rows.index]].drop_duplicates(REPETITION, keep="last")
        failed = rows[failed_mask.loc[rows.index]]
        out[str(cell_id)] = CellRows(measured=measured, failed=failed)
    return out


def describe_cell(row: Mapping[str, object]) -> str:
    """``prefork sync w2 · c=64`` from one row of the cell (label + load point)."""
    label = _text(row.get(LABEL)) or " ".join(
        _text(row.get(c)) for c in ("server", "worker_class") if _text(row.get(c))
    )
    mode = _text(row.get("mode"))
    if mode == "open" and _text(row.get("target_rate")):
        load = f"rate={_text(row.get('target_rate'))}/s"
    elif _text(row.get("concurrency")):
        load = f"c={_text(row.get('concurrency'))}"
    else:
        load = mode
    size = _text(row.get("message_size"))
    if size:
        load += f" ws {size}B"
    return f"{label} · {load}" if load else label or "cell"


def identity(row: Mapping[str, object]) -> dict[str, str]:
    """The configuration columns of a row that have a value, as text."""
    return {c: _text(row.get(c)) for c in IDENTITY_COLUMNS if _text(row.get(c))}


def _text(value: object) -> str:
    if value is None:
        return ""
    try:
        if pd.isna(value):  # type: ignore[arg-type]
            return ""
    except (TypeError, ValueError):
        pass
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)
