"""Profiled cells (``profile: true`` / ``bench run --profile``): a clean window, then a profiled one.

How this works: for a cell that asks for a profile, ``drive_fixed`` calls
``profiled_window`` instead of measuring once:

1. the cell's window is measured as usual, without the profiler — the row's numbers stay
   those of an unprofiled server, so gates and compares are not skewed by profiling;
2. the same window is measured again on the same server while py-spy records the whole
   process tree (``bench.runner.launch.profiler``), started when the warm-up ends
   (``threading.Timer``) and stopped when the engine returns;
3. the row gets the profile's files, its top functions, and the overhead: the profiled
   window's throughput against the clean one's (``profile_overhead``).

When py-spy is missing or cannot attach, the cell keeps its clean window and the row says
why in one line (``profile_note``, and the notes). Cells not asked for are never profiled.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from bench.runner.launch.profiler import ProfileRecorder, RecordedProfile
from bench.runner.launch.sampler import WindowStats
from bench.runner.loadspec import LoadResult, LoadSpec
from bench.runner.results.labels import config_label, load_label
from bench.runner.results.profile import PROFILES_DIR, profile_stem, top_to_json
from bench.runner.session.context import CellRun

#: ``measure_window``'s shape (passed in: the drivers module imports this one).
Measure = Callable[[CellRun, LoadSpec, str], tuple[LoadResult, WindowStats]]


def overhead(clean_rps: float, profiled_rps: float) -> float | None:
    """Pure: throughput lost to profiling, ``1 - profiled/clean`` (None without a clean rate)."""
    if clean_rps <= 0:
        return None
    return 1.0 - profiled_rps / clean_rps


def profile_fields(
    recorded: RecordedProfile, clean_rps: float, profiled_rps: float | None
) -> dict[str, Any]:
    """Pure: the row's ``profile_*`` columns from a recording and the two windows' rates."""
    if recorded.reason is not None and recorded.speedscope is None:
        return {"profile_note": recorded.reason}
    return {
        "profile_svg": recorded.svg,
        "profile_speedscope": recorded.speedscope,
        "profile_samples": recorded.samples,
        "profile_top": top_to_json(recorded.top),
        "profile_rps": profiled_rps,
        "profile_overhead": None if profiled_rps is None else overhead(clean_rps, profiled_rps),
        "profile_cpu_share": (
            recorded.profiler_cpu_s / recorded.recorded_s
            if recorded.profiler_cpu_s is not None and recorded.recorded_s
            else None
        ),
        "profile_note": recorded.reason,
    }


def profiled_window(
    run: CellRun, spec: LoadSpec, measure: Measure
) -> tuple[LoadResult, WindowStats, dict[str, Any]]:
    """The clean window (the row's), then a profiled one; the row's ``profile_*`` fields."""
    result, window = measure(run, spec, "")
    repetition = int(run.base["repetition"])
    recorder = ProfileRecorder(
        run.server.pid,
        run.ctx.run_dir,
        f"{PROFILES_DIR}/{profile_stem(run.cell.cell_id, repetition)}",
    )
    run.ctx.view.phase("profiling")
    timer = threading.Timer(spec.warmup_s, recorder.start)
    timer.start()
    profiled_rps: float | None = None
    try:
        profiled, _ = measure(run, spec, "during the profiled window")
        profiled_rps = profiled.rps
    finally:
        timer.cancel()
        timer.join()
        title = f"{config_label(run.base)} · {load_label(run.base)} · {run.cell.cell_id}"
        recorded = recorder.finish(title)
    fields = profile_fields(recorded, result.rps, profiled_rps)
    if recorded.speedscope is None:
        run.notes.append(f"no profile: {recorded.reason}")
    return result, window, fields
