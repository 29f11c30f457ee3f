"""Build the report of a run folder: ``build_report(run_dir, out=None) -> Path``.

The runner calls exactly this at the end of ``bench run``; ``bench report`` calls it on
any run folder, finished or interrupted (the report shows what was done). The file is
written atomically next to the results unless ``out`` says otherwise.
"""

from __future__ import annotations

import os
import webbrowser
from pathlib import Path

from bench.dashboards.errors import ReportError
from bench.dashboards.html import render_page
from bench.dashboards.panels import build_panels
from bench.dashboards.run import load_view
from bench.runner.results.store import atomic_write_bytes

#: The report's file name inside the run folder when no output path is given.
REPORT_NAME = "report.html"


def build_report(run_dir: Path, out: Path | None = None) -> Path:
    """Write the HTML report of ``run_dir`` and return its path.

    Args:
        run_dir: a run folder (``manifest.json``, ``cells.parquet``, …).
        out: where to write; default ``run_dir / "report.html"``.

    Raises:
        ReportError: no such run folder, unreadable results, or the output cannot be written.
    """
    run_dir = Path(run_dir)
    view = load_view(run_dir)
    target = Path(out) if out is not None else run_dir / REPORT_NAME
    # links to the run's files (flamegraphs) are relative to where the report lands
    files = os.path.relpath(run_dir.resolve(), target.resolve().parent)
    page = render_page(view, build_panels(view), files=files)
    if target.is_dir():
        raise ReportError(f"{target}: is a folder; give a file name like report.html")
    try:
        atomic_write_bytes(target, page.encode("utf-8"))
    except OSError as exc:
        raise ReportError(f"{target}: cannot write the report: {exc.strerror or exc}") from None
    return target


def can_open_browser() -> bool:
    """True when a browser can probably be shown (a display, or not Linux/BSD)."""
    if os.name == "nt" or os.uname().sysname == "Darwin":
        return True
    return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))


def open_in_browser(path: Path) -> bool:
    """Open the report in the user's browser; False when none is available."""
    if not can_open_browser():
        return False
    try:
        return webbrowser.open(Path(path).resolve().as_uri())
    except webbrowser.Error:
        return False
