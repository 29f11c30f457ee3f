"""The locust engine: locust runs as its own process(es); its stats are mapped to LoadResult.

How this works: ``write_locustfile`` fills ``locust_template.py`` with the request to send
(or, with the scenario's own locustfile, only with bench's hooks, passed to locust as a
second file). Locust runs headless — one process, or with ``workers: K`` a master and K
worker processes (the same commands a user runs on other hosts to grow past one machine).
The hooks reset the stats after warm-up, write a status file every second (progress) and
dump the final stats as JSON, which ``result_from_dump`` maps to a ``LoadResult``.

Precision limits, recorded in ``notes`` and ``latency_resolution_us``: locust rounds
response times (to 1 ms below 100 ms, 10 ms below 1 s, 100 ms above), counts failed
requests in its latency histogram, paces "open loop" users with constant_throughput
(closed loop: coordinated omission applies), and in distributed mode workers report every
few seconds, so the window's edges are fuzzy by that much.

Locust is never imported here: its gevent monkey-patching must not reach the runner.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import pprint
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import psutil

from bench.runner.engines.base import ENGINE_BOUND_CPU, Progress, process_or_none, usable_cpu_count
from bench.runner.errors import EngineError
from bench.runner.launch.pinning import pin_command
from bench.runner.launch.process import free_port, log_tail
from bench.runner.loadspec import ERROR_KINDS, LoadResult, LoadSpec
from bench.runner.results.histogram import Histogram
from bench.runner.results.overload import SecondCounts, judge_overload

#: Resolution of locust latencies (µs): it keeps whole milliseconds at best.
LOCUST_RESOLUTION_US = 1000.0
#: Extra seconds allowed beyond warm-up + duration (start-up, workers joining, shutdown).
STARTUP_SLACK_S = 30.0
#: A locust process using more than this share of its core is the bottleneck.

PRECISION_NOTE = (
    "locust rounds latencies (1 ms below 100 ms, 10 ms below 1 s, 100 ms above) "
    "and counts failed requests in its latency histogram"
)
_MARKER = "CONFIG: dict = {}  # bench:config (replaced by the generator)"


@dataclass(frozen=True, slots=True)
class LocustSettings:
    """Locust options (mirrors ``bench.runner.scenario.LocustOptions``)."""

    workers: int = 0
    external_workers: int = 0
    master_bind: str = "127.0.0.1"
    master_port: int = 0
    locustfile: str | None = None


def _settings(options: Any) -> LocustSettings:
    if options is None:
        return LocustSettings()
    if isinstance(options, LocustSettings):
        return options
    return LocustSettings(
        workers=options.workers,
        external_workers=options.external_workers,
        master_bind=options.master_bind,
        master_port=options.master_port,
        locustfile=options.locustfile,
    )


def locust_config(spec: LoadSpec, *, define_user: bool = True) -> dict[str, Any]:
    """The CONFIG a generated locustfile carries for ``spec``."""
    parts = urlsplit(spec.url)
    path = parts.path or "/"
    if parts.query:
        path += f"?{parts.query}"
    pace = None
    if spec.mode == "open" and spec.rate:
        pace = spec.connections / spec.rate  # seconds between requests of one user
    return {
        "define_user": define_user,
        "method": spec.method,
        "path": path,
        "headers": dict(spec.headers),
        "body": spec.body.decode("latin-1"),
        "timeout_s": spec.timeout_s,
        "expect_status": spec.expect_status,
        "expect_body": None if spec.expect_body is None else spec.expect_body.decode("latin-1"),
        "expect_length": spec.expect_length,
        "warmup_s": spec.warmup_s,
        "pace_s": pace,
    }


def write_locustfile(path: Path, config: dict[str, Any]) -> Path:
    """Write the template with ``config`` baked in; return ``path``."""
    template = (Path(__file__).parent / "locust_template.py").read_text(encoding="utf-8")
    if _MARKER not in template:
        raise EngineError("locust template lost its CONFIG marker")
    baked = f"CONFIG: dict = {pprint.pformat(config, sort_dicts=True)}"
    path.write_text(template.replace(_MARKER, baked), encoding="utf-8")
    return path


def classify_error(text: str) -> str:
    """Map a locust failure message to one of bench's error kinds."""
    low = text.lower()
    if low.startswith("status ") or "badstatuscode" in low or "httperror" in low:
        return "status"
    if "body mismatch" in low:
        return "body"
    if "refused" in low or "connecterror" in low or "gaierror" in low:
        return "connect"
    if "timeout" in low or "timed out" in low:
        return "timeout"
    if "reset" in low or "broken pipe" in low or "remotedisconnected" in low:
        return "reset"
    return "protocol"


def result_from_dump(
    dump: dict[str, Any],
    spec: LoadSpec,
    *,
    engine_cpu: float = 0.0,
    engine_bound: bool = False,
    notes: list[str] | None = None,
) -> LoadResult:
    """Map the hooks' JSON dump to a LoadResult (pure)."""
    start = dump.get("window_start")
    end = dump.get("window_end")
    notes = [PRECISION_NOTE, *(notes or [])]
    if start is None or end is None:
        raise EngineError("locust ended before the warm-up was over: nothing was measured")
    duration = max(1e-9, float(end) - float(start))
    total = int(dump.get("num_requests", 0))
    failures = int(dump.get("num_failures", 0))
    errors = dict.fromkeys(ERROR_KINDS, 0)
    classified = 0
    for item in dump.get("errors", []):
        kind = classify_error(str(item.get("error", "")))
        errors[kind] = errors.get(kind, 0) + int(item.get("occurrences", 0))
        classified += int(item.get("occurrences", 0))
    if failures > classified:
        errors["protocol"] += failures - classified
    pairs = sorted(
        (round(float(ms) * 1000), int(count))
        for ms, count in dump.get("response_times_ms", {}).items()
    )
    hist = Histogram.from_pairs(pairs)
    latency = hist.summary()
    if total:
        latency["mean"] = float(dump.get("total_response_time_ms", 0.0)) * 1000 / total
        latency["min"] = float(dump.get("min_response_time_ms") or 0.0) * 1000
        latency["max"] = float(dump.get("max_response_time_ms") or 0.0) * 1000
    requests = max(0, total - failures)
    per_sec = {int(k): int(v) for k, v in dump.get("num_reqs_per_sec", {}).items()}
    fail_sec = {int(k): int(v) for k, v in dump.get("num_fail_per_sec", {}).items()}
    timeseries = [
        {
            "t": float(sec - math.floor(float(start))),
            "requests": float(per_sec[sec] - fail_sec.get(sec, 0)),
            "errors": float(fail_sec.get(sec, 0)),
        }
        for sec in sorted(per_sec)
    ]
    rps = requests / duration
    overload = None
    if spec.mode == "open" and spec.rate:
        first, last = math.ceil(float(start)), math.floor(float(end))
        whole = [
            SecondCounts(
                t=float(sec - first),
                scheduled=round(spec.rate),
                completed=per_sec.get(sec, 0) - fail_sec.get(sec, 0),
            )
            for sec in range(first, last)
        ]
        overload = judge_overload(
            asked_rate=spec.rate, sent_rate=total / duration, seconds=whole
        ).to_dict()
        if overload["overloaded"]:
            notes.append(f"overloaded: {overload['reason']}")
    return LoadResult(
        engine="locust",
        requests=requests,
        errors=errors,
        duration_s=duration,
        rps=rps,
        latency_us=latency,
        histogram=hist.to_pairs(),
        latency_resolution_us=LOCUST_RESOLUTION_US,
        timeseries=timeseries,
        target_rate=spec.rate if spec.mode == "open" else None,
        achieved_rate=(total / duration) if spec.mode == "open" else None,
        overload=overload,
        engine_cpu=engine_cpu,
        engine_bound=engine_bound,
        notes=notes,
    )


class LocustEngine:
    """Runs locust headless (locally, or master + workers) and maps its stats."""

    name = "locust"

    def __init__(self, options: Any = None, *, workdir: Path | None = None) -> None:
        self.settings = _settings(options)
        self.workdir = workdir

    def run(
        self,
        spec: LoadSpec,
        *,
        progress: Progress | None = None,
        stop: threading.Event | None = None,
    ) -> LoadResult:
        """Run locust for ``spec``; raise EngineError if locust failed."""
        if spec.websocket:
            raise EngineError("the locust engine does not drive WebSocket; use native")
        # Every path locust sees is absolute: its processes run in ``workdir``.
        workdir = (self.workdir or Path.cwd()).resolve()
        workdir.mkdir(parents=True, exist_ok=True)
        tag = f"{os.getpid()}-{time.monotonic_ns()}"
        files = self._locustfiles(spec, workdir)
        out = workdir / f"locust-{tag}.json"
        status = workdir / f"locust-{tag}.status"
        log = workdir / f"locust-{tag}.log"
        env = {
            **os.environ,
            "BENCH_LOCUST_OUT": str(out),
            "BENCH_LOCUST_STATUS": str(status),
            "PYTHONUNBUFFERED": "1",
        }
        run_time = max(1, math.ceil(spec.warmup_s + spec.duration_s))
        notes: list[str] = []
        if run_time != spec.warmup_s + spec.duration_s:
            notes.append(f"locust runs whole seconds: ran {run_time}s of warm-up + window")
        master, workers = self._commands(spec, files, run_time)
        if self.settings.workers:
            notes.append(
                f"distributed: master + {self.settings.workers} worker processes"
                + (
                    f" + {self.settings.external_workers} external"
                    if self.settings.external_workers
                    else ""
                )
                + "; window edges are fuzzy by the workers' report interval"
            )
        if spec.mode == "open":
            notes.append("locust paces users (constant_throughput): not a true open loop")
        procs: list[subprocess.Popen[bytes]] = []
        with open(log, "ab") as logf:
            try:
                for argv in [master, *workers]:
                    procs.append(
                        subprocess.Popen(
                            pin_command(argv, spec.cpus),
                            stdin=subprocess.DEVNULL,
                            stdout=logf,
                            stderr=subprocess.STDOUT,
                            env=env,
                            cwd=str(workdir),
                            process_group=0,
                        )
                    )
                cpu = self._watch(procs, spec, run_time, status, progress, stop)
            finally:
                for proc in procs:
                    _stop(proc)
        code = procs[0].returncode
        status.unlink(missing_ok=True)
        if not out.exists():
            tail = log_tail(log, 4)
            raise EngineError(
                f"locust exited with code {code} and no stats" + (f": {tail}" if tail else "")
            )
        dump = json.loads(out.read_text(encoding="utf-8"))
        return result_from_dump(dump, spec, engine_cpu=cpu[0], engine_bound=cpu[1], notes=notes)

    def _locustfiles(self, spec: LoadSpec, workdir: Path) -> str:
        if self.settings.locustfile:
            # The scenario loader made it absolute; a relative one given here is the cwd's.
            own = Path(self.settings.locustfile).expanduser().resolve()
            if not own.is_file():
                raise EngineError(f"locustfile {own} does not exist")
            hooks = write_locustfile(
                workdir / "bench_locust_hooks.py", locust_config(spec, define_user=False)
            )
            return f"{own},{hooks}"
        return str(write_locustfile(workdir / "locustfile.py", locust_config(spec)))

    def _commands(
        self, spec: LoadSpec, files: str, run_time: int
    ) -> tuple[list[str], list[list[str]]]:
        parts = urlsplit(spec.url)
        host = f"{parts.scheme}://{parts.netloc}"
        base = [sys.executable, "-m", "locust", "-f", files, "--loglevel", "WARNING"]
        master = [*base, "--headless", "--only-summary", "-H", host]
        master += ["-u", str(spec.connections), "-r", str(spec.connections), "-t", f"{run_time}s"]
        master += ["--stop-timeout", "1"]
        workers: list[list[str]] = []
        expected = self.settings.workers + self.settings.external_workers
        if expected:
            port = self.settings.master_port or free_port(self.settings.master_bind)
            master += ["--master", "--master-bind-host", self.settings.master_bind]
            master += ["--master-bind-port", str(port), "--expect-workers", str(expected)]
            for _ in range(self.settings.workers):
                workers.append(
                    [*base, "--worker", "--master-host", "127.0.0.1", "--master-port", str(port)]
                )
        return master, workers

    def _watch(
        self,
        procs: list[subprocess.Popen[bytes]],
        spec: LoadSpec,
        run_time: int,
        status: Path,
        progress: Progress | None,
        stop: threading.Event | None,
    ) -> tuple[float, bool]:
        """Wait for the master; report progress; return (engine CPU share, engine-bound)."""
        master = procs[0]
        deadline = time.monotonic() + run_time + STARTUP_SLACK_S
        handles = [process_or_none(p.pid) for p in procs]
        first: dict[int, tuple[float, float]] = {}
        last: dict[int, tuple[float, float]] = {}
        measuring_since: float | None = None
        stopping = False
        seen: tuple[float, float] | None = None  # (time, requests) at the last status change
        rps = 0.0
        while master.poll() is None:
            if time.monotonic() > deadline:
                raise EngineError(f"locust did not finish within {run_time + STARTUP_SLACK_S:g}s")
            if stop is not None and stop.is_set() and not stopping:
                stopping = True
                with contextlib.suppress(ProcessLookupError):
                    os.kill(master.pid, signal.SIGTERM)
            state = _read_status(status)
            if state.get("measuring") and measuring_since is None:
                measuring_since = time.monotonic()
            for handle in handles:
                if handle is None:
                    continue
                with contextlib.suppress(psutil.Error):
                    times = handle.cpu_times()
                    sample = (time.monotonic(), times.user + times.system)
                    if measuring_since is not None:
                        first.setdefault(handle.pid, sample)
                    last[handle.pid] = sample
            if state and (seen is None or state.get("time", 0.0) > seen[0]):
                now_t, now_n = float(state.get("time", 0.0)), float(state.get("requests", 0))
                if seen is not None and now_n >= seen[1] and now_t > seen[0]:
                    rps = (now_n - seen[1]) / (now_t - seen[0])
                seen = (now_t, now_n)
            if progress is not None and state:
                elapsed = time.monotonic() - measuring_since if measuring_since else 0.0
                progress(
                    {
                        "phase": "measure" if state.get("measuring") else "warmup",
                        "elapsed_s": elapsed,
                        "requests": state.get("requests", 0),
                        "errors": state.get("errors", 0),
                        "rps": rps,
                    }
                )
            time.sleep(0.25)
        # The load comes from the workers when there are any, else from the one process.
        pool = handles[1:] if len(handles) > 1 else handles
        loaders = [h.pid for h in pool if h is not None]
        shares: list[float] = []
        total_cpu = 0.0
        wall = 0.0
        for pid in loaders:
            if pid in first and pid in last and last[pid][0] > first[pid][0]:
                span = last[pid][0] - first[pid][0]
                used = last[pid][1] - first[pid][1]
                shares.append(used / span)
                total_cpu += used
                wall = max(wall, span)
        cores = min(len(loaders), len(spec.cpus) if spec.cpus else usable_cpu_count()) or 1
        share = total_cpu / (wall * cores) if wall > 0 else 0.0
        bound = bool(shares) and (max(shares) >= ENGINE_BOUND_CPU or share >= ENGINE_BOUND_CPU)
        return share, bound


def _read_status(path: Path) -> dict[str, Any]:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}


def _stop(proc: subprocess.Popen[bytes], timeout: float = 10.0) -> None:
    """TERM then KILL one locust process group (workers exit with their master)."""
    if proc.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(5.0)
