"""Record a sampling profile of a running server's whole process tree with py-spy.

How this works: ``ProfileRecorder`` runs ``py-spy record --pid ROOT --subprocesses
--nonblocking --format speedscope`` on the server's root process: py-spy follows every
worker (forked or spawned), reads their stacks from outside ~100 times a second without
stopping them (``--nonblocking``), and needs no change in the app. ``start`` launches it,
``finish`` sends SIGINT (py-spy then writes its file), reads the speedscope file
(``bench.runner.results.profile``) and draws the flamegraph SVG beside it
(``bench.runner.launch.flamegraph``), so one recording gives both files.

When py-spy is not installed, cannot attach (no ptrace permission: a container without
SYS_PTRACE, ``kernel.yama.ptrace_scope`` > 1, another user's process) or records
nothing, ``finish`` returns a ``RecordedProfile`` with ``reason`` — one line from
``attach_problem`` — and no files; the cell runs on either way.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import psutil

from bench.runner.launch.flamegraph import flamegraph_svg
from bench.runner.results.profile import FunctionShare, load_profile, top_functions

#: py-spy's samples per second.
SAMPLE_RATE = 100
#: Seconds py-spy gets to write its file after SIGINT.
FINISH_TIMEOUT_S = 30.0
#: Seconds a ``py-spy dump`` probe of the root may take.
PROBE_TIMEOUT_S = 10.0
INSTALL_HINT = "pip install 'bench[profile]'"


def py_spy_path() -> str | None:
    """The py-spy executable: beside this Python (a venv), else on PATH; None if absent."""
    beside = Path(sys.executable).with_name("py-spy")
    if beside.is_file() and os.access(beside, os.X_OK):
        return str(beside)
    return shutil.which("py-spy")


def attach_problem(output: str, returncode: int | None) -> str:
    """Pure: one line saying why py-spy recorded nothing, from its output and exit code."""
    text = output.lower()
    if "permission denied" in text or "operation not permitted" in text:
        return (
            "py-spy cannot attach: no ptrace permission (run as root, or give the "
            "container SYS_PTRACE, or set kernel.yama.ptrace_scope to 0 or 1)"
        )
    for line in output.splitlines():
        line = line.strip()
        if line.startswith("Error:"):
            return f"py-spy: {line.removeprefix('Error:').strip()}"
    if returncode == -signal.SIGINT and not output.strip():
        return "py-spy had not attached when the window ended"
    if returncode not in (0, None):
        return f"py-spy exited with code {returncode} and wrote no profile"
    return "py-spy wrote no profile"


@dataclass(frozen=True, slots=True)
class RecordedProfile:
    """What a recording left: files (relative to the run folder) and top functions, or why not."""

    speedscope: str | None = None
    svg: str | None = None
    samples: int = 0
    top: list[FunctionShare] = field(default_factory=list)
    processes: dict[int, float] = field(default_factory=dict)
    reason: str | None = None
    profiler_cpu_s: float | None = None  # CPU py-spy itself used while recording
    recorded_s: float | None = None  # how long it recorded


class ProfileRecorder:
    """py-spy on one server's process tree: ``start`` then ``finish`` (once each)."""

    def __init__(
        self,
        pid: int,
        run_dir: Path,
        relative_stem: str,
        *,
        rate: int = SAMPLE_RATE,
        executable: str | None = None,
    ) -> None:
        self.pid = pid
        self.run_dir = run_dir
        self.relative_stem = relative_stem  # e.g. profiles/<cell>-r0
        self.rate = rate
        self.executable = executable if executable is not None else py_spy_path()
        self._proc: subprocess.Popen[bytes] | None = None
        self._reason: str | None = None
        self._started = 0.0

    @property
    def speedscope_path(self) -> Path:
        return self.run_dir / f"{self.relative_stem}.speedscope.json"

    @property
    def log_path(self) -> Path:
        return self.run_dir / f"{self.relative_stem}.py-spy.log"

    def start(self) -> None:
        """Launch py-spy on the tree (a missing py-spy is remembered as the reason)."""
        if self.executable is None:
            self._reason = f"py-spy is not installed ({INSTALL_HINT})"
            return
        self.speedscope_path.parent.mkdir(parents=True, exist_ok=True)
        argv = [
            self.executable,
            "record",
            "--pid",
            str(self.pid),
            "--subprocesses",
            "--nonblocking",
            "--rate",
            str(self.rate),
            "--format",
            "speedscope",
            "--output",
            str(self.speedscope_path),
        ]
        with self.log_path.open("wb") as log:
            try:
                self._proc = subprocess.Popen(
                    argv,
                    stdin=subprocess.DEVNULL,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    env={**os.environ, "RUST_BACKTRACE": "0"},
                )
            except OSError as exc:
                self._reason = f"py-spy could not start: {exc.strerror or exc}"
        self._started = time.monotonic()

    def _probe_root(self) -> str:
        """With ``--subprocesses`` py-spy reports a refused attach as "no python
        processes found"; one ``py-spy dump`` of the root tells which it was."""
        return _probe_output(self.executable, self.pid) if self.executable else ""

    def finish(self, title: str = "") -> RecordedProfile:
        """Stop py-spy, then read its profile and draw the flamegraph (or say why not)."""
        if self._proc is None:
            return RecordedProfile(reason=self._reason or "the profiler was not started")
        proc, self._proc = self._proc, None
        recorded_s = time.monotonic() - self._started
        cpu_s = _cpu_seconds(proc.pid)
        if proc.poll() is None:
            proc.send_signal(signal.SIGINT)
        try:
            code = proc.wait(FINISH_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            proc.kill()
            code = proc.wait()
        output = self.log_path.read_text(encoding="utf-8", errors="replace")
        if not self.speedscope_path.is_file():
            if "No python processes found" in output:
                output = self._probe_root() + output  # a permission error hides behind it
            return RecordedProfile(reason=attach_problem(output, code))
        try:
            profile = load_profile(self.speedscope_path)
        except ValueError as exc:
            return RecordedProfile(reason=f"py-spy's profile is unreadable: {exc}")
        svg_rel = f"{self.relative_stem}.svg"
        (self.run_dir / svg_rel).write_text(flamegraph_svg(profile, title), encoding="utf-8")
        return RecordedProfile(
            speedscope=f"{self.relative_stem}.speedscope.json",
            svg=svg_rel,
            samples=profile.samples,
            top=top_functions(profile),
            processes=profile.processes,
            reason=None if profile.samples else "py-spy attached but saw no busy thread",
            profiler_cpu_s=cpu_s,
            recorded_s=recorded_s,
        )


def _probe_output(executable: str, pid: int) -> str:
    """What ``py-spy dump`` says of one process (it names a permission error plainly)."""
    try:
        done = subprocess.run(
            [executable, "dump", "--pid", str(pid), "--nonblocking"],
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=PROBE_TIMEOUT_S,
            env={**os.environ, "RUST_BACKTRACE": "0"},
        )
    except (OSError, subprocess.TimeoutExpired):
        return ""
    return done.stdout + done.stderr


def _cpu_seconds(pid: int) -> float | None:
    """CPU seconds (user + system) a live process has used; None when it is gone."""
    try:
        times = psutil.Process(pid).cpu_times()
    except psutil.Error:
        return None
    return times.user + times.system
