"""Which cells a run executes, and in what order (pure).

``--only KEY=VALUE`` picks cells by their dimension values (``parse_only``,
``filter_cells``); ``schedule`` interleaves repetitions (A B C, A B C, …) so drift hits
every configuration alike.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from bench.runner.errors import UsageError
from bench.runner.matrix.cells import FILTER_KEYS, Cell


def parse_only(items: Iterable[str]) -> dict[str, set[str]]:
    """``["server=prefork", "workers=2", "workers=4"]`` -> {server: {prefork}, workers: {2, 4}}."""
    wanted: dict[str, set[str]] = {}
    for item in items:
        key, sep, value = item.partition("=")
        key = key.strip()
        if not sep or not key:
            raise UsageError(f"--only {item!r}: expected KEY=VALUE")
        if key not in FILTER_KEYS:
            raise UsageError(
                f"--only {item!r}: unknown key {key!r}; allowed: {', '.join(FILTER_KEYS)}"
            )
        wanted.setdefault(key, set()).update(v.strip() for v in value.split(","))
    return wanted


def filter_cells(cells: Sequence[Cell], wanted: dict[str, set[str]]) -> list[Cell]:
    """Cells matching every key (any of its values). Indices are kept."""
    return [c for c in cells if all(c.key()[k] in values for k, values in wanted.items())]


def schedule(cells: Sequence[Cell], repeat: int) -> list[tuple[Cell, int]]:
    """Execution order: repetition-major, so configurations interleave (A B C, A B C, …)."""
    return [(cell, rep) for rep in range(repeat) for cell in cells]
