"""The spawner thread: jobs run on one long-lived thread, results and errors come back."""

from __future__ import annotations

import threading

import pytest

from bench.runner.events.spawner import run_on_spawner


def test_jobs_run_on_one_thread_that_outlives_the_caller() -> None:
    names: list[str] = []

    def caller() -> None:
        names.append(run_on_spawner(lambda: threading.current_thread().name))

    for _ in range(2):
        thread = threading.Thread(target=caller)
        thread.start()
        thread.join()
    assert names == ["bench-spawner", "bench-spawner"]
    assert any(t.name == "bench-spawner" and t.is_alive() for t in threading.enumerate())


def test_an_error_is_raised_in_the_caller() -> None:
    def fail() -> None:
        raise LookupError("server not ready")

    with pytest.raises(LookupError, match="server not ready"):
        run_on_spawner(fail)
    assert run_on_spawner(lambda: 41 + 1) == 42
