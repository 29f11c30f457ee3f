"""The columns that say which cell a row is: its server configuration and its load point.

Listed once here; the matrix fills them, compare groups by them, plan fits along them,
the dashboard labels by them. Every name is a column of ``CELL_COLUMNS`` (checked at
import).
"""

from __future__ import annotations

from bench.runner.loadspec import PERCENTILES
from bench.runner.results.schema import CELL_COLUMNS

#: The axes of a server configuration (what varies between configurations).
SERVER_AXES: tuple[str, ...] = (
    "server",
    "worker_class",
    "workers",
    "threads",
    "loop",
    "interface",
    "http",
)
#: Columns that name a cell's server configuration: its label and kind, and its axes.
CONFIG_COLUMNS: tuple[str, ...] = ("label", "server", "server_kind", *SERVER_AXES[1:])
#: Columns that name a cell's load point.
LOAD_COLUMNS: tuple[str, ...] = (
    "mode",
    "concurrency",
    "target_rate",
    "message_size",
    "message_rate",
)
#: Every dimension column: configuration, then load point.
DIMENSION_COLUMNS: tuple[str, ...] = (*CONFIG_COLUMNS, *LOAD_COLUMNS)
#: Percentile columns of the summary, from the engine contract (p50_us, p90_us, …).
PERCENTILE_COLUMNS: tuple[str, ...] = tuple(f"{key}_us" for key, _ in PERCENTILES)

_SCHEMA = {c.name for c in CELL_COLUMNS}
assert set(CONFIG_COLUMNS) | set(LOAD_COLUMNS) <= _SCHEMA
