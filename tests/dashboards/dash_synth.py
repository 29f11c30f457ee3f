"""Realistic run folders for the dashboard tests, written through the runner's own code.

A scenario (YAML text) is validated and expanded by ``bench.runner.scenario`` and
``bench.runner.matrix``; each cell × repetition gets a ``LoadResult`` from a small queueing
model, and ``bench.runner.session.rows`` turns it into the row, time series and histogram that
``bench.runner.results.RunStore`` writes, with a manifest from ``bench.runner.results.manifest``. So the
dashboards read exactly what a real ``bench run`` writes, only faster.

The model: a configuration can work on ``P`` requests at once (sync: workers, thread:
workers × threads, event loop: unbounded) and spends ``1 / cpu_rate`` CPU seconds per
request on top of the app's ``service`` time. Closed loop with ``c`` connections gives
throughput ``min(c, P) / (service + cpu)`` capped at ``cpu_rate × cores``, and the mean
latency follows from Little's law, ``c / throughput``; latencies are drawn around it
(log-normal service, exponential queueing, a rare slow tail).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import yaml

from bench.runner.launch.pinning import plan_pinning
from bench.runner.launch.sampler import WindowStats
from bench.runner.loadspec import ERROR_KINDS, LoadResult
from bench.runner.matrix.cells import Cell, expand
from bench.runner.matrix.schedule import schedule
from bench.runner.results.histogram import Histogram
from bench.runner.results.manifest import new_manifest, utc_now
from bench.runner.results.store import RunStore, atomic_write_json
from bench.runner.scenario.model import Scenario, scenario_from_data
from bench.runner.session.rows import cell_row, dimension_fields, failed_row, timeseries_rows

#: CPU-bound request rate per core by server kind (req/s).
CPU_RATE: dict[str, float] = {"prefork": 3000.0, "eventloop": 9000.0, "uvicorn": 11000.0}
#: Resident memory per process by server kind (bytes).
RSS_PER_PROCESS: dict[str, float] = {"prefork": 24e6, "eventloop": 38e6, "uvicorn": 36e6}

IO_SCENARIO = """\
name: io_small
description: 5 ms of downstream I/O per request
workload: {app: io, params: {ms: 5}}
servers:
  - {server: prefork, worker_class: sync, workers: [1, 2, 4]}
  - {server: prefork, worker_class: thread, workers: [2], threads: [4, 16]}
  - {server: eventloop, workers: [1]}
load: {mode: closed, concurrency: [1, 8, 32, 128], duration: 3s, warmup: 1s}
repeat: 3
slo: {p99: 100ms, error_rate: 1%}
"""

OPEN_SCENARIO = """\
name: open_small
workload: {app: io, params: {ms: 2}}
servers:
  - {server: prefork, worker_class: thread, workers: [1], threads: [8]}
  - {server: eventloop, workers: [1]}
load: {mode: open, rate: [200, 1000, 3000, 6000], duration: 2s, warmup: 1s}
repeat: 1
slo: {p99: 50ms}
"""

WS_SCENARIO = """\
name: ws_small
description: WebSocket echo
workload: {app: ws_echo}
servers:
  - {server: eventloop, workers: [1], loop: [uvloop, asyncio]}
load:
  mode: closed
  concurrency: [10, 100, 1000]
  duration: 2s
  warmup: 1s
  websocket: {message_size: [32, 4096]}
repeat: 2
"""


@dataclass(frozen=True)
class Faults:
    """Which cells go wrong: ``failed(cell, rep)`` -> reason or None; engine-bound cells."""

    failed: Callable[[Cell, int], str | None] = lambda cell, rep: None
    engine_bound: Callable[[Cell], bool] = lambda cell: False


def default_faults() -> Faults:
    """sync w1 crashes at c=128; one repetition of thread w2×t4 at c=32 fails; the
    event loop at c=128 is engine-bound."""

    def failed(cell: Cell, rep: int) -> str | None:
        s, load = cell.server, cell.load
        if s.worker_class == "sync" and s.workers == 1 and load.concurrency == 128:
            return "server exited with code 1 during the window (see logs/)"
        if s.threads == 4 and load.concurrency == 32 and rep == 1:
            return "no valid response in the window (errors: connect 32)"
        return None

    return Faults(
        failed=failed,
        engine_bound=lambda cell: (
            cell.server.server == "eventloop" and cell.load.concurrency == 128
        ),
    )


def _parallelism(cell: Cell) -> float:
    s = cell.server
    if s.server == "prefork" and s.worker_class == "sync":
        return float(s.workers)
    if s.threads:
        return float(s.workers * s.threads)
    return 1e9


def _service_s(scenario: Scenario) -> float:
    params = scenario.workload.params
    if scenario.workload.app == "io":
        return float(params.get("ms", 50)) / 1000.0
    return 0.0


def model_result(scenario: Scenario, cell: Cell, rep: int, rng: np.random.Generator,
                 engine_bound: bool) -> tuple[LoadResult, WindowStats]:  # fmt: skip
    """A LoadResult and server window for one cell × repetition from the queueing model."""
    s, load = cell.server, cell.load
    cores = 1
    cpu_rate = CPU_RATE.get(s.server, 5000.0) * (0.6 if s.loop == "asyncio" else 1.0)
    if load.message_size:
        cpu_rate *= 1.0 - min(0.5, load.message_size / 16384)
    cpu_s = 1.0 / cpu_rate
    total_s = _service_s(scenario) + cpu_s
    capacity = min(_parallelism(cell) / total_s, cpu_rate * cores)
    if load.rate is not None:  # open loop: queueing delay grows as the rate nears capacity
        rps = min(load.rate, capacity) * float(rng.normal(1.0, 0.01))
        c = rps * total_s / max(0.02, 1.0 - min(load.rate / capacity, 0.98))
    else:
        c = float(load.concurrency or 1)
        rps = min(c / total_s, capacity) * float(rng.normal(1.0, 0.03))
    if engine_bound:
        rps *= 0.9
    duration = scenario.load.duration
    requests = max(1, round(rps * duration))
    mean_s = c / rps
    wait_s = max(0.0, mean_s - total_s)
    base = total_s * rng.lognormal(0.0, 0.12, requests)
    samples = base + rng.exponential(wait_s, requests) if wait_s > 0 else base
    tail = rng.random(requests) < 0.002
    samples[tail] *= rng.uniform(3, 8, int(tail.sum()))
    samples_ns = (samples * 1e9).astype(np.int64)
    hist = Histogram.from_ns(samples_ns)
    seconds = round(duration)
    per_second = np.array_split(samples_ns, seconds)
    timeseries = []
    for t, chunk in enumerate(per_second):
        h = Histogram.from_ns(chunk)
        timeseries.append(
            {"t": float(t), "requests": float(len(chunk)), "errors": 0.0,
             "p50_us": h.percentile(50), "p99_us": h.percentile(99), "span_s": 1.0}
        )  # fmt: skip
    errors = dict.fromkeys(ERROR_KINDS, 0)
    if c >= 128 and s.workers == 1 and s.worker_class == "sync":
        errors["timeout"] = int(requests * 0.02)
    result = LoadResult(
        engine="native",
        requests=requests,
        errors=errors,
        duration_s=float(duration),
        rps=requests / duration,
        latency_us=hist.summary(),
        histogram=hist.to_pairs(),
        timeseries=timeseries,
        connect_us={"p50": 180.0 + c * 0.8} if load.message_size else {},
        target_rate=load.rate,
        achieved_rate=requests / duration if load.rate is not None else None,
        engine_cpu=0.97 if engine_bound else min(0.9, rps / 40000),
        engine_bound=engine_bound,
    )
    busy = min(1.0, rps * cpu_s)
    processes = s.workers + (1 if s.server == "prefork" else 0)
    rss = RSS_PER_PROCESS.get(s.server, 30e6) * processes * (1 + c / 4000)
    window = WindowStats(
        cpu_s=busy * duration,
        rss_peak_bytes=int(rss),
        processes=processes,
        per_second=[(float(t), busy, int(rss)) for t in range(seconds)],
    )
    return result, window


def write_run(run_dir: Path, scenario_text: str = IO_SCENARIO, faults: Faults | None = None,
              seed: int = 7) -> Path:  # fmt: skip
    """Write a complete run folder for ``scenario_text`` and return it."""
    faults = faults or default_faults()
    scenario = scenario_from_data(yaml.safe_load(scenario_text), "synthetic.yaml")
    cells = expand(scenario)
    pinning = plan_pinning(scenario.pin, (0, 1))
    run_dir.mkdir(parents=True, exist_ok=True)
    manifest = new_manifest(
        run_id=run_dir.name,
        scenario_name=scenario.name,
        scenario_path="scenarios/synthetic.yaml",
        scenario_text=scenario_text,
        options={"repeat": scenario.repeat},
        pinning=pinning.to_dict(),
        planned=len(cells) * scenario.repeat,
        skipped=[],
    )
    store = RunStore(run_dir)
    rng = np.random.default_rng(seed)
    cpus = {"server_cpus": pinning.server_cpus, "engine_cpus": pinning.engine_cpus}
    for cell, rep in schedule(cells, scenario.repeat):
        base = dimension_fields(cell, scenario, run_dir.name, rep)
        reason = faults.failed(cell, rep)
        if reason:
            store.add(failed_row(base, reason, notes=[], **cpus))
            continue
        result, window = model_result(scenario, cell, rep, rng, faults.engine_bound(cell))
        row = cell_row(base, result, window, slo=scenario.cell_slo, startup_s=0.3, notes=[], **cpus)
        store.add(row, result.histogram, timeseries_rows(result, window))
    manifest.update(status="complete", finished_at=utc_now(), cells_done=len(store.cells))
    atomic_write_json(run_dir / "manifest.json", manifest)
    return run_dir


HOSTILE_IO = """\
name: io_hostile
description: "<script>window.__pwned = 1</script> 5 ms of downstream I/O"
workload: {app: io, params: {ms: 5}}
servers:
  - {server: prefork, worker_class: sync, workers: [1, 2]}
  - {server: prefork, worker_class: thread, workers: [2], threads: [4, 16]}
  - {server: eventloop, workers: [1], label: '<img src=x onerror="window.__pwned=2">loop'}
load: {mode: closed, concurrency: [1, 32, 128], duration: 2s, warmup: 1s}
repeat: 2
slo: {p99: 100ms, error_rate: 1%}
"""

#: The label above as the report must show it: literally.
HOSTILE_LABEL = '<img src=x onerror="window.__pwned=2">loop'
