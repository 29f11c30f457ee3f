"""The wrk engine: a cross-check of the native engine with a well-known C load generator.

How this works: a Lua script (``wrk_script``) sets the request and, in ``done()``, prints
one line ``BENCH-JSON {...}`` with the summary, the error counts and wrk's whole latency
histogram (every distinct µs value with its count), which ``parse_wrk_output`` reads.
Warm-up is a separate wrk run whose output is discarded. wrk drives closed loop HTTP
only, takes whole seconds, and counts as errors only statuses >= 400 (no body check);
it reports no time series. All of this is written in ``notes``.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import shutil
import signal
import subprocess
import threading
import time
from pathlib import Path
from typing import Any

import psutil

from bench.runner.engines.base import ENGINE_BOUND_CPU, Progress, process_or_none, usable_cpu_count
from bench.runner.errors import EngineError
from bench.runner.launch.pinning import pin_command
from bench.runner.loadspec import ERROR_KINDS, LoadResult, LoadSpec
from bench.runner.results.histogram import Histogram

#: The marker of the line ``done()`` prints.
MARKER = "BENCH-JSON "
#: A wrk thread using more than this share of its core makes the run engine-bound.

_DONE_LUA = """
done = function(summary, latency, requests)
  local parts = {}
  for i = 1, #latency do
    local v, c = latency(i)
    parts[#parts + 1] = string.format("[%d,%d]", v, c)
  end
  local e = summary.errors
  io.write(string.format(
    '\\n%s{"duration_us":%d,"requests":%d,"bytes":%d,' ..
    '"errors":{"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d},' ..
    '"mean_us":%f,"min_us":%d,"max_us":%d,"histogram":[%s]}\\n',
    "__MARKER__", summary.duration, summary.requests, summary.bytes,
    e.connect, e.read, e.write, e.status, e.timeout,
    latency.mean, latency.min, latency.max, table.concat(parts, ",")))
end
"""


def _lua_string(text: str) -> str:
    return json.dumps(text)  # a JSON string literal is a valid Lua string literal here


def wrk_script(spec: LoadSpec) -> str:
    """The Lua script for ``spec``: request method, headers, body, and the JSON ``done``."""
    lines = [f"wrk.method = {_lua_string(spec.method)}"]
    if spec.body:
        lines.append(f"wrk.body = {_lua_string(spec.body.decode('latin-1'))}")
    for name, value in spec.headers:
        lines.append(f"wrk.headers[{_lua_string(name)}] = {_lua_string(value)}")
    lines.append(_DONE_LUA.replace("__MARKER__", MARKER.strip() + " "))
    return "\n".join(lines) + "\n"


def parse_wrk_output(text: str) -> dict[str, Any]:
    """The JSON ``done()`` printed, from wrk's whole stdout.

    Raises:
        EngineError: no such line (wrk failed before ``done``).
    """
    for line in reversed(text.splitlines()):
        if line.startswith(MARKER.strip()):
            return json.loads(line[len(MARKER.strip()) :].strip())
    raise EngineError("wrk printed no results")


def result_from_wrk(
    data: dict[str, Any],
    spec: LoadSpec,
    *,
    engine_cpu: float = 0.0,
    engine_bound: bool = False,
    notes: list[str] | None = None,
) -> LoadResult:
    """Map ``parse_wrk_output``'s dict to a LoadResult (pure)."""
    duration = max(1e-9, data["duration_us"] / 1e6)
    e = data["errors"]
    errors = dict.fromkeys(ERROR_KINDS, 0)
    errors["connect"] = int(e["connect"])
    errors["reset"] = int(e["read"]) + int(e["write"])
    errors["status"] = int(e["status"])
    errors["timeout"] = int(e["timeout"])
    # wrk counts a response with status >= 400 both as a request and as a status error.
    requests = max(0, int(data["requests"]) - errors["status"])
    hist = Histogram.from_pairs([(int(v), int(c)) for v, c in data["histogram"]])
    latency = hist.summary()
    if hist.total:
        latency["mean"] = float(data["mean_us"])
    return LoadResult(
        engine="wrk",
        requests=requests,
        errors=errors,
        duration_s=duration,
        rps=requests / duration,
        latency_us=latency,
        histogram=hist.to_pairs(),
        latency_resolution_us=1.0,
        timeseries=[],
        engine_cpu=engine_cpu,
        engine_bound=engine_bound,
        notes=[
            "wrk: closed loop, whole seconds, errors are statuses >= 400 (no body check), "
            "no time series",
            *(notes or []),
        ],
    )


class WrkEngine:
    """Runs ``wrk`` (when installed) pinned to the engine CPUs."""

    name = "wrk"

    def __init__(self, *, workdir: Path | None = None) -> None:
        self.workdir = workdir
        self.binary = shutil.which("wrk")

    def run(
        self,
        spec: LoadSpec,
        *,
        progress: Progress | None = None,
        stop: threading.Event | None = None,
    ) -> LoadResult:
        """Warm up (discarded), then measure; raise EngineError when wrk cannot run."""
        if self.binary is None:
            raise EngineError("wrk is not installed (apt-get install wrk, brew install wrk)")
        if spec.mode != "closed" or spec.websocket:
            raise EngineError("wrk drives closed loop HTTP only; use native")
        workdir = self.workdir or Path.cwd()
        workdir.mkdir(parents=True, exist_ok=True)
        script = workdir / "wrk_done.lua"
        script.write_text(wrk_script(spec), encoding="utf-8")
        notes: list[str] = []
        if spec.warmup_s > 0:
            self._wrk(spec, script, max(1, math.ceil(spec.warmup_s)), None, stop)
        seconds = max(1, math.ceil(spec.duration_s))
        if seconds != spec.duration_s:
            notes.append(f"wrk runs whole seconds: measured {seconds}s")
        if stop is not None and stop.is_set():
            raise EngineError("stopped before the measured window")
        out, cpu, bound = self._wrk(spec, script, seconds, progress, stop)
        return result_from_wrk(
            parse_wrk_output(out), spec, engine_cpu=cpu, engine_bound=bound, notes=notes
        )

    def _threads(self, spec: LoadSpec) -> int:
        cores = len(spec.cpus) if spec.cpus else usable_cpu_count()
        return max(1, min(cores, spec.connections))

    def _wrk(
        self,
        spec: LoadSpec,
        script: Path,
        seconds: int,
        progress: Progress | None,
        stop: threading.Event | None,
    ) -> tuple[str, float, bool]:
        assert self.binary is not None
        threads = self._threads(spec)
        argv = [self.binary, "-t", str(threads), "-c", str(max(spec.connections, threads))]
        argv += ["-d", f"{seconds}s", "--timeout", f"{max(1, math.ceil(spec.timeout_s))}s"]
        argv += ["-s", str(script), spec.url]
        proc = subprocess.Popen(
            pin_command(argv, spec.cpus),
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            process_group=0,
        )
        reader = _Reader(proc)
        handle = process_or_none(proc.pid)
        first: tuple[float, float] | None = None
        last: tuple[float, float] | None = None
        start = time.monotonic()
        try:
            while proc.poll() is None:
                if time.monotonic() - start > seconds + spec.timeout_s + 30:
                    raise EngineError("wrk did not finish in time")
                if stop is not None and stop.is_set():
                    with contextlib.suppress(ProcessLookupError):
                        os.killpg(proc.pid, signal.SIGINT)  # wrk prints results on SIGINT
                if handle is not None:
                    with contextlib.suppress(psutil.Error):
                        t = handle.cpu_times()
                        sample = (time.monotonic(), t.user + t.system)
                        first = first or sample
                        last = sample
                if progress is not None:
                    elapsed = time.monotonic() - start
                    progress(
                        {
                            "phase": "measure",
                            "elapsed_s": elapsed,
                            "requests": 0,
                            "errors": 0,
                            "rps": 0.0,
                        }
                    )
                time.sleep(0.2)
        finally:
            if proc.poll() is None:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(5.0)
            reader.join()
        cpu = 0.0
        if first and last and last[0] > first[0]:
            cpu = (last[1] - first[1]) / ((last[0] - first[0]) * threads)
        if proc.returncode not in (0, None) and MARKER.strip() not in reader.text:
            tail = " | ".join(reader.text.strip().splitlines()[-2:])
            raise EngineError(f"wrk exited with code {proc.returncode}: {tail}")
        return reader.text, cpu, cpu >= ENGINE_BOUND_CPU


class _Reader(threading.Thread):
    """Drains a process's stdout so it never blocks on a full pipe."""

    def __init__(self, proc: subprocess.Popen[bytes]) -> None:
        super().__init__(daemon=True)
        self.proc = proc
        self.chunks: list[bytes] = []
        self.start()

    def run(self) -> None:
        assert self.proc.stdout is not None
        for chunk in iter(lambda: self.proc.stdout.read(65536), b""):  # type: ignore[union-attr]
            self.chunks.append(chunk)

    @property
    def text(self) -> str:
        return b"".join(self.chunks).decode("utf-8", errors="replace")
