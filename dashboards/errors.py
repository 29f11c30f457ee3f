"""The error hierarchy of the dashboards package (shown to users as one line)."""

from __future__ import annotations

from bench.runner.errors import BenchError


class ReportError(BenchError):
    """A report that cannot be built: no such run folder, unreadable tables, bad output path."""
