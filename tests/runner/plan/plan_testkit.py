"""Synthetic run folders for the plan tests, written through the real results writer.

``Point`` is one cell × repetition with the numbers a real run would record; ``write_run``
stores points with ``bench.runner.results.RunStore`` (cells.parquet + a histogram per row) and
a manifest, so the plan reads them exactly as it reads a real run.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench.runner.results.steps import write_steps
from bench.runner.results.store import RunStore, atomic_write_json


@dataclass(frozen=True)
class Point:
    """One cell × repetition: configuration, load point, and what was measured."""

    server: str
    workers: int
    load: float
    rps: float
    p99_ms: float
    worker_class: str | None = None
    threads: int | None = None
    mode: str = "closed"
    error_rate: float = 0.0
    repetition: int = 0
    status: str = "ok"
    cpu_us_per_request: float = 500.0
    rss_bytes: int = 50 * 2**20
    achieved_rate: float | None = None
    little_ratio: float | None = 1.0
    server_cpus: str = "0"

    @property
    def label(self) -> str:
        parts = [self.server]
        if self.worker_class:
            parts.append(self.worker_class)
        size = f"w{self.workers}" + (f"×t{self.threads}" if self.threads else "")
        return " ".join([*parts, size])

    @property
    def cell_id(self) -> str:
        key = f"{self.label}|{self.mode}|{self.load:g}"
        return hashlib.sha1(key.encode()).hexdigest()[:10]


def _histogram(p99_us: int) -> list[tuple[int, int]]:
    """1000 samples whose nearest-rank p50 is p99/4 and p99 is ``p99_us``."""
    return [(max(1, p99_us // 4), 985), (p99_us, 10), (p99_us * 2, 5)]


def row_of(point: Point, index: int, scenario: str = "synthetic") -> dict[str, Any]:
    """The ``cells.parquet`` row of one point."""
    duration = 5.0
    requests = int(point.rps * duration)
    errors = round(requests * point.error_rate / (1 - point.error_rate)) if point.error_rate else 0
    closed = point.mode == "closed"
    measured = point.status in ("ok", "engine-bound")
    base: dict[str, Any] = {
        "run_id": "run",
        "scenario": scenario,
        "cell_id": point.cell_id,
        "cell_index": index,
        "repetition": point.repetition,
        "label": point.label,
        "server": point.server,
        "server_kind": "bundled",
        "worker_class": point.worker_class,
        "workers": point.workers,
        "threads": point.threads,
        "interface": "wsgi",
        "app": "io",
        "engine": "native",
        "mode": point.mode,
        "concurrency": int(point.load) if closed else None,
        "target_rate": None if closed else point.load,
        "server_cpus": point.server_cpus,
        "engine_cpus": "1",
        "status": point.status,
    }
    if not measured:
        return base
    p99 = int(point.p99_ms * 1000)
    return {
        **base,
        "achieved_rate": None if closed else (point.achieved_rate or point.load),
        "duration_s": duration,
        "requests": requests,
        "errors": errors,
        "error_rate": point.error_rate,
        "rps": point.rps,
        "latency_mean_us": p99 / 3,
        "p50_us": p99 / 4,
        "p99_us": float(p99),
        "little_ratio": point.little_ratio if closed else None,
        "server_cpu_s": point.cpu_us_per_request * requests / 1e6,
        "server_cpu_per_request_us": point.cpu_us_per_request,
        "server_rss_peak_bytes": point.rss_bytes,
        "engine_cpu": 0.3,
        "engine_bound": point.status == "engine-bound",
    }


@dataclass
class SearchRecord:
    """A search cell: its configuration and steps as ``(rate, p99 ms, passed)``."""

    point: Point
    steps: Sequence[tuple[float, float]]
    percentile: str = "p99"
    slo_ms: float = 100.0
    extra: dict[str, Any] = field(default_factory=dict)


def manifest(
    scenario: str = "synthetic", *, logical: int = 2, pin: dict[str, Any] | None = None
) -> dict[str, Any]:
    """A minimal manifest with the facts the plan reads."""
    return {
        "run_id": "run",
        "scenario": scenario,
        "scenario_text": f"name: {scenario}\nslo: {{p99: 100ms, error_rate: 0.1%}}\n",
        "environment": {"cpu": {"model": "Synthetic CPU", "logical": logical}},
        "pinning": pin or {"mode": "auto", "server_cpus": "0", "engine_cpus": "1"},
        "status": "complete",
    }


def write_run(
    run_dir: Path,
    points: Sequence[Point],
    searches: Sequence[SearchRecord] = (),
    *,
    scenario: str = "synthetic",
    logical: int = 2,
) -> Path:
    """Write a run folder holding ``points`` (and search cells) and return it."""
    run_dir.mkdir(parents=True, exist_ok=True)
    atomic_write_json(run_dir / "manifest.json", manifest(scenario, logical=logical))
    store = RunStore(run_dir)
    ids: list[str] = []
    for point in points:
        if point.cell_id not in ids:
            ids.append(point.cell_id)
    for point in points:
        row = row_of(point, ids.index(point.cell_id), scenario)
        hist = (
            _histogram(int(point.p99_ms * 1000)) if point.status in ("ok", "engine-bound") else []
        )
        store.add(row, hist)
    for n, record in enumerate(searches):
        rows = []
        for i, (rate, p99_ms) in enumerate(record.steps):
            passed = p99_ms <= record.slo_ms
            rows.append(
                {
                    "step": i,
                    "rate": rate,
                    "achieved_rate": rate,
                    "rps": rate,
                    "requests": int(rate * 5),
                    "errors": 0,
                    "error_rate": 0.0,
                    "percentile": record.percentile,
                    "latency_us": p99_ms * 1000,
                    "p99_us": p99_ms * 1000,
                    "engine_bound": False,
                    "passed": passed,
                    "reason": "" if passed else "too slow",
                }
            )
        point = record.point
        write_steps(run_dir, point.cell_id, point.repetition, rows)
        # As the runner records a search: the row is the open-loop window at the capacity.
        row = {**row_of(point, len(ids) + n, scenario), "mode": "open"}
        store.add(row, _histogram(int(point.p99_ms * 1000)))
    return run_dir
