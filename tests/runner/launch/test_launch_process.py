"""Launching servers: pinning, readiness by probing, sampling, graceful stop, leftovers."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import psutil
import pytest

from bench.runner.errors import LaunchError
from bench.runner.launch.pinning import pin_command, plan_pinning
from bench.runner.launch.process import ServerProcess, free_port
from bench.runner.launch.sampler import TreeSample, TreeSampler, window_stats
from bench.runner.scenario.model import ExplicitPin

PY = sys.executable


def wait_until(predicate, timeout: float = 10.0) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met before the deadline")
        time.sleep(0.02)


# ---------------------------------------------------------------- pinning (pure)


def test_auto_splits_cpus_in_two() -> None:
    plan = plan_pinning("auto", (0, 1))
    assert (plan.server_cpus, plan.engine_cpus) == ((0,), (1,))
    plan = plan_pinning("auto", tuple(range(8)))
    assert (plan.server_cpus, plan.engine_cpus) == ((0, 1, 2, 3), (4, 5, 6, 7))
    assert plan.to_dict()["server_cpus"] == "0-3"


def test_auto_on_one_cpu_and_none_do_not_pin() -> None:
    assert plan_pinning("auto", (0,)).server_cpus is None
    assert "one CPU" in plan_pinning("auto", (0,)).note
    assert plan_pinning("none", (0, 1)).engine_cpus is None
    assert plan_pinning("auto", None).server_cpus is None


def test_explicit_pin_must_exist() -> None:
    explicit = ExplicitPin(server="0", engine="1")
    assert plan_pinning(explicit, (0, 1)).mode == "explicit"
    with pytest.raises(Exception, match="not available"):
        plan_pinning(ExplicitPin(server="0", engine="7"), (0, 1))


@pytest.mark.skipif(not hasattr(os, "sched_getaffinity"), reason="no CPU affinity here")
def test_pin_command_sets_affinity_of_the_command() -> None:
    cpu = min(os.sched_getaffinity(0))
    argv = pin_command([PY, "-c", "import os; print(sorted(os.sched_getaffinity(0)))"], (cpu,))
    out = subprocess.run(argv, capture_output=True, text=True, check=True, timeout=30).stdout
    assert out.strip() == f"[{cpu}]"
    assert pin_command(["x"], None) == ["x"]


# ---------------------------------------------------------------- processes


def test_ready_by_probing_then_graceful_stop(tmp_path: Path) -> None:
    port = free_port()
    server = ServerProcess(
        [PY, "-m", "http.server", "--bind", "127.0.0.1", str(port)], log_path=tmp_path / "s.log"
    )
    try:
        server.start()
        took = server.wait_ready("127.0.0.1", port, "/", timeout=20)
        assert took >= 0
        assert server.returncode() is None
    finally:
        report = server.stop(timeout=10)
    assert not report.killed
    assert report.leftovers == []
    assert not psutil.pid_exists(server.pid) or psutil.Process(server.pid).status() == "zombie"


def test_a_server_that_exits_fails_fast_with_its_log(tmp_path: Path) -> None:
    server = ServerProcess(
        [PY, "-c", "import sys; print('boom: cannot bind'); sys.exit(3)"],
        log_path=tmp_path / "s.log",
    )
    try:
        server.start()
        with pytest.raises(LaunchError, match=r"exited with code 3 before listening: boom"):
            server.wait_ready("127.0.0.1", free_port(), "/", timeout=30)
    finally:
        server.stop(timeout=5)


def test_a_server_that_never_listens_times_out(tmp_path: Path) -> None:
    server = ServerProcess(
        [PY, "-c", "import time; print('thinking'); time.sleep(60)"], log_path=tmp_path / "s.log"
    )
    try:
        server.start()
        with pytest.raises(LaunchError, match=r"not ready after 0.5s"):
            server.wait_ready("127.0.0.1", free_port(), "/", timeout=0.5)
    finally:
        report = server.stop(timeout=5)
    assert report.exit_code is not None


def test_term_ignored_then_kill_and_escaped_children_are_found(tmp_path: Path) -> None:
    # The leader ignores SIGTERM; its child leaves the process group (setsid) and
    # ignores SIGTERM too: stop must SIGKILL the leader and still find and kill the child.
    script = textwrap.dedent(
        """
        import os, signal, time
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        if os.fork() == 0:
            os.setsid()
            while True:
                time.sleep(1)
        while True:
            time.sleep(1)
        """
    )
    server = ServerProcess([PY, "-c", script], log_path=tmp_path / "s.log")
    server.start()
    try:
        wait_until(lambda: len(server.tree()) == 2)
        child = next(p for p in server.tree() if p.pid != server.pid)
    finally:
        report = server.stop(timeout=0.5)
    assert report.killed
    assert report.leftovers == [child.pid]
    wait_until(lambda: not child.is_running() or child.status() == psutil.STATUS_ZOMBIE)


def test_sampler_sees_cpu_and_memory_of_the_tree(tmp_path: Path) -> None:
    server = ServerProcess(
        [PY, "-c", "import os\nif os.fork() == 0:\n    while True: pass\nwhile True: pass"],
        log_path=tmp_path / "s.log",
    )
    server.start()
    try:
        wait_until(lambda: len(server.tree()) == 2)
        with TreeSampler(server, interval=0.05) as sampler:
            start = time.monotonic()
            wait_until(lambda: len(sampler.samples) >= 6)
            end = time.monotonic()
        stats = sampler.window(start, end)
    finally:
        server.stop(timeout=5)
    assert stats.cpu_s is not None and stats.cpu_s > 0
    assert stats.processes == 2
    assert stats.rss_peak_bytes is not None and stats.rss_peak_bytes > 1_000_000


def test_window_stats_interpolates() -> None:
    samples = [
        TreeSample(t, cpu, rss, 1)
        for t, cpu, rss in [(0, 0, 10), (1, 1, 20), (2, 1.5, 15), (3, 2.5, 12)]
    ]
    stats = window_stats(samples, 0.5, 2.5)
    assert stats.cpu_s == pytest.approx(2.0 - 0.5)  # 0.5 at t=0.5, 2.0 at t=2.5
    assert stats.rss_peak_bytes == 20
    assert [round(cpu, 3) for _, cpu, _ in stats.per_second] == [0.75, 0.75]
    assert window_stats(samples[:1], 0, 1).cpu_s is None
