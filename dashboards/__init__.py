"""Dashboards: the results of a run as one self-contained, offline HTML report.

``build_report(run_dir, out=None)`` reads a run folder and writes the report;
the figure functions in ``dashboards.figures`` are pure (tables in, plotly figure out).
"""

from dashboards.report import build_report

__all__ = ["build_report"]
