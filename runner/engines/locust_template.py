"""The locustfile bench generates (this file, with CONFIG filled in). Never imported by bench.

It is run by locust in locust's own processes (gevent monkey-patching stays there). It
defines:

- ``BenchUser``: a FastHttpUser sending the scenario's request back to back (closed loop)
  or paced with ``constant_throughput`` (locust's closest to an open loop — still closed:
  a slow response delays the next request). A response with another status than
  expected, or another body, is a failure named ``status <code>`` or ``body mismatch``.
  Not defined when the scenario brings its own locustfile (``define_user: false``).
- Hooks that make locust's numbers fit bench's results: after ``warmup_s`` the stats are
  reset on the master and on every worker (so the window excludes warm-up); once a
  second a status file gets the request count (for the progress bar); at the end the
  stats are written as JSON (``out``) with the window's start and end.

Copy this file to other hosts to run workers there:
``locust -f locustfile.py --worker --master-host MASTER_IP --master-port PORT``.
"""

import json
import os
import time

import gevent
from locust import FastHttpUser, constant, constant_throughput, events, task
from locust.runners import MasterRunner, WorkerRunner

CONFIG: dict = {}  # bench:config (replaced by the generator)

_STATE: dict = {"window_start": None, "window_end": None}


def _path(key: str) -> str | None:
    return os.environ.get(f"BENCH_LOCUST_{key.upper()}") or CONFIG.get(key)


if CONFIG.get("define_user", True):

    class BenchUser(FastHttpUser):
        """One locust user: one connection sending the scenario's request."""

        if CONFIG.get("pace_s"):
            wait_time = constant_throughput(1.0 / CONFIG["pace_s"])
        else:
            wait_time = constant(0)
        network_timeout = CONFIG.get("timeout_s", 10.0)
        connection_timeout = CONFIG.get("timeout_s", 10.0)

        @task
        def bench_request(self) -> None:
            """Send the request, judge status and body."""
            body = CONFIG.get("body") or None
            with self.client.request(
                CONFIG.get("method", "GET"),
                CONFIG.get("path", "/"),
                data=body,
                headers=CONFIG.get("headers") or None,
                catch_response=True,
            ) as response:
                if not response.status_code:
                    return  # a connection-level error: locust records the exception itself
                expected = CONFIG.get("expect_status")
                if expected is not None and response.status_code != expected:
                    response.failure(f"status {response.status_code}")
                    return
                want_body = CONFIG.get("expect_body")
                want_length = CONFIG.get("expect_length")
                content = response.content or b""
                if (want_body is not None and content != want_body.encode("latin-1")) or (
                    want_length is not None and len(content) != want_length
                ):
                    response.failure("body mismatch")


def _controls(environment) -> bool:
    """True in the process whose stats are the run's (local runner or master)."""
    return not isinstance(environment.runner, WorkerRunner)


@events.init.add_listener
def _on_init(environment, **_kwargs) -> None:
    if isinstance(environment.runner, WorkerRunner):
        environment.runner.register_message(
            "bench_reset", lambda _msg, **_kw: environment.runner.stats.reset_all()
        )


@events.test_start.add_listener
def _on_test_start(environment, **_kwargs) -> None:
    if not _controls(environment):
        return

    def warm() -> None:
        gevent.sleep(float(CONFIG.get("warmup_s", 0.0)))
        environment.runner.stats.reset_all()
        if isinstance(environment.runner, MasterRunner):
            environment.runner.send_message("bench_reset")
        _STATE["window_start"] = time.time()

    gevent.spawn(warm)
    if _path("status"):
        gevent.spawn(_status_loop, environment)


def _status_loop(environment) -> None:
    status = _path("status")
    while True:
        gevent.sleep(1.0)
        total = environment.runner.stats.total
        data = {
            "measuring": _STATE["window_start"] is not None,
            "requests": total.num_requests - total.num_failures,
            "errors": total.num_failures,
            "rps": total.current_rps,
            "time": time.time(),
        }
        tmp = f"{status}.tmp"
        with open(tmp, "w") as fh:
            json.dump(data, fh)
        os.replace(tmp, status)


@events.test_stop.add_listener
def _on_test_stop(environment, **_kwargs) -> None:
    if _controls(environment) and _STATE["window_end"] is None:
        _STATE["window_end"] = time.time()


@events.quitting.add_listener
def _on_quitting(environment, **_kwargs) -> None:
    out = _path("out")
    if not _controls(environment) or not out:
        return
    stats = environment.runner.stats
    total = stats.total
    data = {
        "window_start": _STATE["window_start"],
        "window_end": _STATE["window_end"] or time.time(),
        "num_requests": total.num_requests,
        "num_failures": total.num_failures,
        "total_response_time_ms": total.total_response_time,
        "min_response_time_ms": total.min_response_time,
        "max_response_time_ms": total.max_response_time,
        "response_times_ms": {str(k): v for k, v in total.response_times.items()},
        "num_reqs_per_sec": {str(k): v for k, v in total.num_reqs_per_sec.items()},
        "num_fail_per_sec": {str(k): v for k, v in total.num_fail_per_sec.items()},
        "errors": [
            {"error": str(e.error), "occurrences": e.occurrences} for e in stats.errors.values()
        ],
        "workers": len(getattr(environment.runner, "clients", {}) or {}),
    }
    tmp = f"{out}.tmp"
    with open(tmp, "w") as fh:
        json.dump(data, fh)
    os.replace(tmp, out)
