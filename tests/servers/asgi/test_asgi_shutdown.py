"""Graceful shutdown on SIGTERM/SIGINT, the graceful timeout, and the lifespan protocol."""

from __future__ import annotations

import signal
import socket
import subprocess
import sys
import threading
from pathlib import Path

import httpx
import pytest
from asgi_testing import APPS_ENV, address, connect, read_one_response, read_until_closed
from serverkit import REPO_ROOT, _environment, wait_until


def _hold_in_background(
    url: str, seconds: float, results: list[httpx.Response]
) -> threading.Thread:
    def run() -> None:
        with httpx.Client(timeout=30) as client:
            results.append(client.get(f"{url}/hold?{seconds}"))

    thread = threading.Thread(target=run)
    thread.start()
    return thread


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_graceful_shutdown_finishes_in_flight_requests(
    serve, tmp_path: Path, signum: signal.Signals
) -> None:
    marker = tmp_path / "marker"
    env = {**APPS_ENV, "BENCH_TEST_MARKER": str(marker)}
    with serve("eventloop", "asgi_test_apps:raw", env=env) as url:
        idle = connect(url, timeout=10)
        idle.sendall(b"GET /idle HTTP/1.1\r\nHost: x\r\n\r\n")
        assert read_one_response(idle).status == 200  # now an idle keep-alive connection
        results: list[httpx.Response] = []
        worker = _hold_in_background(url, 1.0, results)
        assert wait_until(Path(str(marker) + ".hold").exists, 10)

        url.signal(signum)
        assert read_until_closed(idle) == b""  # idle keep-alive: closed after a short grace
        idle.close()
        assert url.server.wait(15) == 0
        worker.join(15)
        assert len(results) == 1
        assert results[0].status_code == 200
        assert results[0].text == "held"
        assert results[0].headers["connection"] == "close"
        with pytest.raises(OSError):
            socket.create_connection(address(url), timeout=2).close()
        assert "Traceback" not in url.log()


def test_graceful_timeout_cuts_long_requests(serve, tmp_path: Path) -> None:
    marker = tmp_path / "marker"
    env = {**APPS_ENV, "BENCH_TEST_MARKER": str(marker)}
    with serve("eventloop", "asgi_test_apps:raw", "--graceful-timeout", "0.5", env=env) as url:
        results: list[Exception] = []

        def run() -> None:
            try:
                httpx.get(f"{url}/hold?60", timeout=30)
            except httpx.HTTPError as exc:
                results.append(exc)

        worker = threading.Thread(target=run)
        worker.start()
        assert wait_until(Path(str(marker) + ".hold").exists, 10)
        url.signal(signal.SIGTERM)
        assert url.server.wait(15) == 0  # long before the 60 s request would end
        worker.join(15)
        assert len(results) == 1  # the client saw the connection close without a response


def _run_until_exit(*args: str, timeout: float = 20) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "bench.runner.cli",
            "serve",
            "eventloop",
            *args,
            "-b",
            "127.0.0.1:0",
        ],
        cwd=REPO_ROOT,
        env=_environment(APPS_ENV),
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def test_lifespan_startup_failure_exits_with_a_clear_message() -> None:
    done = _run_until_exit("asgi_test_apps:lifespan_fails")
    assert done.returncode == 3
    assert "application startup failed: database is unreachable" in done.stderr
    assert "Traceback" not in done.stderr
    assert "listening on" not in done.stderr


def test_lifespan_on_requires_support() -> None:
    done = _run_until_exit("asgi_test_apps:no_lifespan", "--lifespan", "on")
    assert done.returncode == 3
    assert "RuntimeError: unsupported scope type lifespan" in done.stderr
    assert "Traceback" not in done.stderr


@pytest.mark.parametrize("mode", ["auto", "off"])
def test_app_without_lifespan_is_served(serve, mode: str) -> None:
    with serve("eventloop", "asgi_test_apps:no_lifespan", "--lifespan", mode, env=APPS_ENV) as url:
        assert httpx.get(url + "/").text == "fine"


def test_lifespan_state_reaches_requests(serve) -> None:
    with serve("eventloop", "asgi_test_apps:raw", env=APPS_ENV) as url:
        assert httpx.get(url + "/scope").json()["state"] == {"started": "yes"}
    with serve("eventloop", "asgi_test_apps:raw", "--lifespan", "off", env=APPS_ENV) as url:
        assert httpx.get(url + "/scope").json()["state"] == {}


def test_bad_app_spec_is_a_one_line_usage_error() -> None:
    done = _run_until_exit("no_such_module_anywhere:app")
    assert done.returncode == 2
    assert done.stderr.strip() == (
        "bench: error: app 'no_such_module_anywhere:app': no module named 'no_such_module_anywhere'"
    )


@pytest.mark.parametrize("second", [None, signal.SIGTERM])
def test_fast_shutdown(serve, tmp_path: Path, second: signal.Signals | None) -> None:
    """SIGQUIT (or a second SIGTERM during a graceful wait) stops without waiting."""
    marker = tmp_path / "marker"
    env = {**APPS_ENV, "BENCH_TEST_MARKER": str(marker)}
    with serve("eventloop", "asgi_test_apps:raw", "--graceful-timeout", "60", env=env) as url:
        errors: list[Exception] = []

        def run() -> None:
            try:
                httpx.get(f"{url}/hold?60", timeout=30)
            except httpx.HTTPError as exc:
                errors.append(exc)

        worker = threading.Thread(target=run)
        worker.start()
        assert wait_until(Path(str(marker) + ".hold").exists, 10)
        if second is None:
            url.signal(signal.SIGQUIT)
        else:
            url.signal(signal.SIGTERM)
            assert wait_until(lambda: _refused(url), 10)  # the graceful shutdown has begun
            url.signal(second)
        assert url.server.wait(15) == 0
        worker.join(15)
        assert len(errors) == 1


def _refused(url: str) -> bool:
    try:
        socket.create_connection(address(url), timeout=1).close()
    except OSError:
        return True
    return False
