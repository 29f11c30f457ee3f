"""py-spy on a real process tree: a profile that names the busy function, or one line why not."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

from bench.runner.launch import profiler
from bench.runner.launch.profiler import ProfileRecorder, attach_problem, py_spy_path

PERMISSION = (
    "Permission Denied: Try running again with elevated permissions by going "
    "'sudo env \"PATH=$PATH\" !!'"
)

#: Waits for a line on stdin, then burns CPU in a function of a known name, in a forked
#: child too (the tree), and exits.
TARGET = r"""
import os, sys
def spin_for_profile(n):
    acc = 0
    for i in range(n):
        acc = (acc * 31 + i) & 0xFFFFFFFF
    return acc
print("ready", flush=True)
sys.stdin.readline()
pid = os.fork()
spin_for_profile(6_000_000)
if pid == 0:
    os._exit(0)
os.waitpid(pid, 0)
"""


def test_attach_problem_is_one_line_naming_the_fix() -> None:
    reason = attach_problem(PERMISSION + "\n", 1)
    assert "no ptrace permission" in reason and "SYS_PTRACE" in reason
    assert "\n" not in reason
    backtrace = "Error: Failed to find python version\n\nStack backtrace:\n  0: anyhow\n"
    assert attach_problem(backtrace, 1) == "py-spy: Failed to find python version"
    assert attach_problem("", 3) == "py-spy exited with code 3 and wrote no profile"
    assert attach_problem("", -2) == "py-spy had not attached when the window ended"


def test_no_py_spy_is_a_reason_not_an_error(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setattr(profiler, "py_spy_path", lambda: None)
    recorder = ProfileRecorder(1, tmp_path, "profiles/x-r0")
    recorder.start()
    result = recorder.finish()
    assert result.speedscope is None
    assert result.reason == "py-spy is not installed (pip install 'bench[profile]')"


needs_py_spy = pytest.mark.skipif(py_spy_path() is None, reason="py-spy is not installed")


@needs_py_spy
def test_a_process_that_is_gone_gives_one_line(tmp_path: Path) -> None:
    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()
    recorder = ProfileRecorder(gone.pid, tmp_path, "profiles/x-r0")
    recorder.start()
    result = recorder.finish()
    assert result.speedscope is None and result.reason
    assert "\n" not in result.reason and "backtrace" not in result.reason.lower()


def _wait_for(path: Path, text: str, limit_s: float = 30.0) -> bool:
    deadline = time.monotonic() + limit_s
    while time.monotonic() < deadline:
        if path.is_file() and text in path.read_text(encoding="utf-8", errors="replace"):
            return True
        time.sleep(0.05)
    return False


@needs_py_spy
def test_profile_of_a_process_tree_names_its_busy_function(tmp_path: Path) -> None:
    target = subprocess.Popen(
        [sys.executable, "-c", TARGET], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    try:
        assert target.stdout is not None and target.stdin is not None
        assert target.stdout.readline().strip() == "ready"
        recorder = ProfileRecorder(target.pid, tmp_path, "profiles/cell-r0")
        recorder.start()
        attached = _wait_for(recorder.log_path, "Sampling process")
        if not attached:
            result = recorder.finish()
            pytest.skip(f"py-spy cannot attach here: {result.reason}")
        target.stdin.write("go\n")
        target.stdin.flush()
        target.wait(120)
        result = recorder.finish("cell")
    finally:
        if target.poll() is None:
            target.kill()
            target.wait()
    assert result.reason is None, result.reason
    assert result.samples > 0
    assert result.top[0].function.startswith("spin_for_profile")
    assert result.top[0].self_share > 0.5
    assert len(result.processes) == 2  # the parent and its forked child were both sampled
    svg = (tmp_path / result.svg).read_text(encoding="utf-8")
    assert "spin_for_profile" in svg
    assert (tmp_path / result.speedscope).is_file()
    assert result.recorded_s is not None and result.recorded_s > 0
    assert result.profiler_cpu_s is not None and result.profiler_cpu_s >= 0


@needs_py_spy
@pytest.mark.skipif(
    os.geteuid() != 0 or shutil.which("setpriv") is None,
    reason="needs root and setpriv to run py-spy as an unprivileged user",
)
def test_without_ptrace_permission_the_reason_is_one_line(tmp_path: Path) -> None:
    """py-spy run as nobody against a root process: the real permission error."""
    spy_path = py_spy_path()
    assert spy_path is not None
    shared = Path(tempfile.mkdtemp(prefix="bench-nobody-"))
    try:
        shared.chmod(0o755)
        spy = shared / "py-spy"
        shutil.copy2(spy_path, spy)
        spy.chmod(0o755)
        wrapper = shared / "py-spy-as-nobody"
        wrapper.write_text(
            f'#!/bin/sh\nexec setpriv --reuid=65534 --regid=65534 --clear-groups {spy} "$@"\n',
            encoding="utf-8",
        )
        wrapper.chmod(0o755)
        target = subprocess.Popen(
            [sys.executable, "-c", "import sys; print('ready', flush=True); sys.stdin.read()"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        try:
            assert target.stdout is not None
            assert target.stdout.readline().strip() == "ready"
            recorder = ProfileRecorder(
                target.pid, tmp_path, "profiles/x-r0", executable=str(wrapper)
            )
            recorder.start()
            assert _wait_for(recorder.log_path, "Error")  # py-spy gave up by itself
            result = recorder.finish()
        finally:
            target.kill()
            target.wait()
    finally:
        shutil.rmtree(shared, ignore_errors=True)
    assert result.speedscope is None
    assert result.reason is not None and "\n" not in result.reason
    assert result.reason.startswith("py-spy cannot attach: no ptrace permission")
