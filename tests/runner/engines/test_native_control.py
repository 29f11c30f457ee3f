"""Running the engine: progress, stopping early, several pinned processes, recording off."""

from __future__ import annotations

import os
import threading
import time

import pytest

from bench.runner.engines.native import run, validate_spec
from bench.runner.engines.native.testing import Behaviour, serve
from bench.runner.errors import UsageError
from bench.runner.loadspec import LoadSpec


def test_progress_is_reported_every_second() -> None:
    reports: list[dict] = []
    with serve(Behaviour(delay_ms=1.0)) as url:
        spec = LoadSpec(url=url + "/", connections=2, duration_s=1.0, warmup_s=1.2)
        run(spec, progress=reports.append)
    phases = [r["phase"] for r in reports]
    assert phases[0] == "warmup"  # one second into the warm-up
    assert phases.count("measure") >= 2  # at the window start, and each second after
    for report in reports:
        assert {"elapsed_s", "requests", "errors", "rps"} <= set(report)
    measured = [r for r in reports if r["phase"] == "measure"]
    assert measured[-1]["requests"] > 0 and measured[-1]["rps"] > 0


@pytest.mark.parametrize("processes", [1, 2])
def test_stop_ends_the_run_early_with_what_was_measured(processes: int) -> None:
    stop = threading.Event()

    def progress(report: dict) -> None:
        if report["requests"] > 0:  # stop once something was measured
            stop.set()

    with serve(Behaviour(delay_ms=1.0)) as url:
        spec = LoadSpec(url=url + "/", connections=2, duration_s=30.0, processes=processes)
        started = time.monotonic()
        result = run(spec, progress=progress, stop=stop)
        elapsed = time.monotonic() - started
    assert elapsed < 10.0  # far from the 30 s asked for
    assert result.requests > 0
    assert result.duration_s < 5.0
    assert sum(c for _, c in result.histogram) == result.requests
    assert any("stopped early" in n for n in result.notes)


def test_two_pinned_processes_merge_into_one_result() -> None:
    cpu = sorted(os.sched_getaffinity(0))[0]
    with serve(Behaviour(delay_ms=5.0)) as url:
        spec = LoadSpec(url=url + "/", connections=4, duration_s=1.0, processes=2, cpus=(cpu,))
        result = run(spec)
    assert result.error_count == 0
    assert sum(c for _, c in result.histogram) == result.requests
    assert sum(p["requests"] for p in result.timeseries) == result.requests
    # Two processes with 2 connections each at ~5 ms: ~800 req/s together.
    assert result.rps == pytest.approx(4 / 0.0055, rel=0.4)
    assert 0.0 < result.engine_cpu <= 1.0


def test_without_recording_responses_are_counted_only() -> None:
    with serve(Behaviour(delay_ms=1.0)) as url:
        result = run(LoadSpec(url=url + "/", connections=2, duration_s=0.5), record=False)
    assert result.requests > 0
    assert result.histogram == []


@pytest.mark.parametrize(
    "spec",
    [
        LoadSpec(url="http://127.0.0.1:1/", duration_s=0),
        LoadSpec(url="http://127.0.0.1:1/", connections=0),
        LoadSpec(url="http://127.0.0.1:1/", mode="open", rate=None),
        LoadSpec(url="http://127.0.0.1:1/", cpus=(10_000,)),
        LoadSpec(url="ftp://127.0.0.1:1/"),
    ],
)
def test_bad_specs_are_usage_errors(spec: LoadSpec) -> None:
    with pytest.raises(UsageError):
        validate_spec(spec)
        run(spec)
