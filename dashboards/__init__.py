"""Dashboards: the results of a run as one self-contained, offline HTML report.

``build_report(run_dir, out=None)`` reads a run folder and writes the report;
the figure functions in ``bench.dashboards.figures`` are pure (tables in, plotly figure out).
``build_report`` is imported on first use, so ``import dashboards.theme`` stays light.
"""

from __future__ import annotations

from typing import Any

__all__ = ["build_report"]


def __getattr__(name: str) -> Any:
    if name == "build_report":
        from bench.dashboards.report import build_report

        return build_report
    raise AttributeError(f"module 'bench.dashboards' has no attribute {name!r}")
