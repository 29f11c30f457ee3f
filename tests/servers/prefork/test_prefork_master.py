"""The real prefork master, started as ``bench serve prefork`` on 127.0.0.1.

Each test starts the server through the shared ``serve`` fixture (its own process
group, killed at teardown), waits for readiness explicitly, and polls conditions
with deadlines; nothing sleeps to wait for the server.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

import httpx
import psutil
import pytest

PROBE = "tests.servers.prefork.apps.prefork_probe:app"
ASGI_PROBE = "tests.servers.prefork.apps.prefork_asgi_probe:app"
BROKEN = "tests.servers.prefork.apps.prefork_broken:app"

REPO_ROOT = Path(__file__).resolve().parents[3]

pytestmark = pytest.mark.slow


def wait_until(predicate: Callable[[], bool], timeout: float) -> bool:
    """Poll ``predicate`` (every 20 ms) until true or ``timeout``; return its last value."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() >= deadline:
            return False
        time.sleep(0.02)
    return True


def worker_pids(url) -> set[int]:
    """Live worker processes of the master behind ``url``."""
    try:
        children = psutil.Process(url.process.pid).children()
    except psutil.NoSuchProcess:
        return set()
    return {c.pid for c in children if c.is_running() and c.status() != psutil.STATUS_ZOMBIE}


def get_pid(url: str, path: str = "/pid", timeout: float = 10.0) -> int:
    response = httpx.get(url + path, timeout=timeout)
    assert response.status_code == 200
    return int(response.text)


@pytest.mark.parametrize(
    ("args", "described"),
    [
        (["-k", "sync"], "2 sync workers"),
        (["-k", "thread", "--threads", "2"], "2 thread workers x 2 threads"),
        (["-k", "gthread", "--threads", "2"], "2 thread workers x 2 threads"),
        (["--threads", "3"], "2 thread workers x 3 threads"),  # gunicorn's rule
        (["-k", "eventloop"], "2 eventloop workers"),
    ],
)
def test_each_worker_class_serves(serve, args: list[str], described: str) -> None:
    app = ASGI_PROBE if "eventloop" in args else PROBE
    with serve("prefork", app, "-w", "2", *args) as url:
        log = url.log()
        assert log.count("bench: listening on") == 1
        assert described in log
        pids = {get_pid(url) for _ in range(6)}
        assert pids <= worker_pids(url)
        assert len(worker_pids(url)) == 2


def test_a_killed_worker_is_replaced_and_serves(serve) -> None:
    with serve("prefork", PROBE, "-w", "1") as url:
        first = get_pid(url)
        os.kill(first, signal.SIGKILL)
        # The listening socket stays open in the master: this request waits in the
        # backlog for the replacement instead of failing.
        second = get_pid(url, timeout=15)
        assert second != first
        assert f"worker {first} died (signal SIGKILL); replacing it" in url.log()


def test_a_stuck_worker_is_aborted_after_timeout_and_replaced(serve) -> None:
    with serve("prefork", PROBE, "-w", "1", "--timeout", "2") as url:
        stuck = get_pid(url)
        with pytest.raises(httpx.TransportError):
            httpx.get(url + "/spin", timeout=20)
        assert get_pid(url) != stuck
        log = url.log()
        assert f"worker {stuck}: no heartbeat for 2s (--timeout); aborting it" in log
        assert f"worker {stuck} aborted" in log  # the worker printed where it was stuck
        assert "prefork_probe.py" in log


class Load:
    """Requests in a loop from a few threads until stopped; records pids and failures."""

    def __init__(self, url: str, threads: int = 4, keep_alive: bool = True) -> None:
        self.url = url
        self.keep_alive = keep_alive
        self.failures: list[str] = []
        self.pids: list[int] = []
        self.ok = 0
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._threads = [threading.Thread(target=self._run, daemon=True) for _ in range(threads)]

    def _run(self) -> None:
        limits = httpx.Limits(max_keepalive_connections=1 if self.keep_alive else 0)
        with httpx.Client(timeout=10, limits=limits) as client:
            while not self._stop.is_set():
                try:
                    response = client.get(self.url + "/pid")
                    outcome = response.status_code
                except httpx.HTTPError as exc:
                    outcome = f"{type(exc).__name__}: {exc}"
                with self._lock:
                    if outcome == 200:
                        self.ok += 1
                        self.pids.append(int(response.text))
                    else:
                        self.failures.append(str(outcome))

    def seen_since(self, index: int) -> set[int]:
        """Pids of the responses recorded after the first ``index``, less those in flight.

        A response an old worker sent just before it exited may be recorded after
        ``index`` was taken: at most one per load thread, so those are skipped.
        """
        with self._lock:
            return set(self.pids[index + len(self._threads) :])

    def __enter__(self) -> Load:
        for t in self._threads:
            t.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        for t in self._threads:
            t.join(15)


@pytest.mark.parametrize(
    ("kind", "keep_alive"),
    [
        ("sync", False),
        ("thread", True),
        ("eventloop", False),  # connections accepted by a retiring worker are served
        ("eventloop", True),
    ],
)
def test_hup_under_load_replaces_every_worker_without_a_failed_request(
    serve, kind: str, keep_alive: bool
) -> None:
    threads = ["--threads", "2"] if kind == "thread" else []
    app = ASGI_PROBE if kind == "eventloop" else PROBE
    with serve("prefork", app, "-k", kind, "-w", "2", *threads) as url:
        old = worker_pids(url)
        assert len(old) == 2
        with Load(url, keep_alive=keep_alive) as load:
            assert wait_until(lambda: load.ok >= 20, 10)
            url.signal(signal.SIGHUP)
            # New workers take over; the old ones finish and exit.
            assert wait_until(lambda: not (worker_pids(url) & old), 15), url.log()
            mark = len(load.pids)
            assert wait_until(lambda: load.ok >= mark + 20, 10)
        assert load.failures == []
        new = worker_pids(url)
        assert len(new) == 2
        assert load.seen_since(mark) <= new
        assert "reloading" in url.log()


@pytest.mark.parametrize("kind", ["sync", "thread"])
def test_term_lets_requests_in_flight_finish_then_exits_zero(serve, tmp_path, kind) -> None:
    args = ["-w", "3"] if kind == "sync" else ["-w", "1", "--threads", "4"]
    with serve(
        "prefork",
        PROBE,
        "-k",
        kind,
        *args,
        "--graceful-timeout",
        "20",
        env={"PREFORK_PROBE_DIR": str(tmp_path)},
    ) as url:
        results: list[object] = []

        def slow() -> None:
            try:
                results.append(httpx.get(url + "/sleep?ms=1500", timeout=20).status_code)
            except httpx.HTTPError as exc:
                results.append(exc)

        threads = [threading.Thread(target=slow) for _ in range(3)]
        for t in threads:
            t.start()
        assert wait_until(lambda: len(list(tmp_path.iterdir())) == 3, 10)
        url.signal(signal.SIGTERM)
        assert url.server.wait(20) == 0
        for t in threads:
            t.join(20)
        assert results == [200, 200, 200]


def test_a_graceful_stop_that_overruns_graceful_timeout_is_cut_short(serve, tmp_path) -> None:
    with serve(
        "prefork",
        PROBE,
        "--graceful-timeout",
        "1",
        env={"PREFORK_PROBE_DIR": str(tmp_path)},
    ) as url:
        outcome: list[object] = []

        def long_request() -> None:
            try:
                outcome.append(httpx.get(url + "/sleep?ms=60000", timeout=30))
            except httpx.TransportError as exc:
                outcome.append(exc)

        thread = threading.Thread(target=long_request)
        thread.start()
        assert wait_until(lambda: len(list(tmp_path.iterdir())) == 1, 10)
        url.signal(signal.SIGTERM)
        assert url.server.wait(20) == 0
        thread.join(30)
        assert len(outcome) == 1 and isinstance(outcome[0], httpx.TransportError)
        assert "not stopped 1s after SIGTERM; killing it" in url.log()


def run_cli(*args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    env = dict(
        os.environ, PYTHONPATH=os.pathsep.join([str(REPO_ROOT), os.environ.get("PYTHONPATH", "")])
    )
    return subprocess.run(
        [sys.executable, "-m", "bench.runner.cli", "serve", "prefork", *args],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        start_new_session=True,
    )


@pytest.mark.parametrize("preload", [False, True])
def test_a_broken_app_stops_the_master_with_one_clear_line(preload: bool) -> None:
    extra = ["--preload"] if preload else []
    done = run_cli(BROKEN, "-b", "127.0.0.1:0", "-w", "3", *extra)
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert lines[0].startswith("bench: error: ")
    assert "prefork_broken" in lines[0]
    assert "this module is broken on purpose" in lines[0]


def test_workers_dying_while_booting_stop_the_master_instead_of_looping() -> None:
    done = run_cli("tests.servers.prefork.apps.prefork_exits:app", "-b", "127.0.0.1:0", "-w", "2")
    assert done.returncode == 3
    last = done.stderr.strip().splitlines()[-1]
    # The master stops once 5 boot deaths are counted; with 2 workers dying together, the
    # reap that crosses the threshold may count both (5 or 6, never more: no respawn after).
    match = re.match(r"bench: error: (\d+) workers in a row died before becoming ready", last)
    assert match, last
    assert 5 <= int(match.group(1)) <= 6
    assert "(last: exit code 1)" in last


def test_quit_stops_at_once_without_waiting_for_requests(serve, tmp_path) -> None:
    with serve("prefork", PROBE, env={"PREFORK_PROBE_DIR": str(tmp_path)}) as url:
        outcome: list[object] = []

        def long_request() -> None:
            try:
                outcome.append(httpx.get(url + "/sleep?ms=60000", timeout=30))
            except httpx.TransportError as exc:
                outcome.append(exc)

        thread = threading.Thread(target=long_request)
        thread.start()
        assert wait_until(lambda: len(list(tmp_path.iterdir())) == 1, 10)
        url.signal(signal.SIGQUIT)
        assert url.server.wait(10) == 0
        thread.join(30)
        assert len(outcome) == 1 and isinstance(outcome[0], httpx.TransportError)


def test_an_address_in_use_is_one_line_and_exit_one(serve) -> None:
    with serve("prefork", PROBE) as url:
        done = run_cli(PROBE, "-b", f"127.0.0.1:{url.port}")
    assert done.returncode == 1
    assert done.stderr.strip().splitlines() == [
        f"bench: error: cannot bind 127.0.0.1:{url.port}: Address already in use"
    ]


def test_ttin_and_ttou_change_the_number_of_workers(serve) -> None:
    with serve("prefork", PROBE, "-w", "1") as url:
        assert wait_until(lambda: len(worker_pids(url)) == 1, 10), url.log()
        url.signal(signal.SIGTTIN)
        assert wait_until(lambda: len(worker_pids(url)) == 2, 10)
        url.signal(signal.SIGTTOU)
        assert wait_until(lambda: len(worker_pids(url)) == 1, 10)
        get_pid(url)


def test_max_requests_recycles_workers_without_failures(serve) -> None:
    with serve("prefork", PROBE, "-w", "1", "--max-requests", "3") as url:
        pids: list[int] = []
        with httpx.Client(timeout=10) as client:

            def recycled() -> bool:
                response = client.get(url + "/pid")
                assert response.status_code == 200
                pids.append(int(response.text))
                return len(set(pids)) >= 2

            assert wait_until(recycled, 15)
        first = pids[0]
        # The first worker served its 3 requests (and more while its replacement booted).
        assert pids.count(first) >= 3
        assert wait_until(lambda: first not in worker_pids(url), 10)
        assert "retired" not in url.log()  # routine: not worth a line


def test_max_requests_recycles_eventloop_workers_without_failures(serve) -> None:
    with serve(
        "prefork",
        ASGI_PROBE,
        "-k",
        "eventloop",
        "-w",
        "1",
        "--max-requests",
        "20",
        "--max-requests-jitter",
        "5",
    ) as url:
        first = get_pid(url)
        failures: list[str] = []
        pids: list[int] = []
        for _ in range(100):  # a new connection per request
            try:
                response = httpx.get(url + "/pid", timeout=10)
            except httpx.HTTPError as exc:
                failures.append(f"{type(exc).__name__}: {exc}")
                continue
            assert response.status_code == 200
            pids.append(int(response.text))
        assert failures == []
        assert len(set(pids)) >= 2  # 20-25 requests per worker: retired more than once
        assert wait_until(lambda: first not in worker_pids(url), 10), url.log()
        assert wait_until(lambda: len(worker_pids(url)) == 1, 10), url.log()


def test_bench_serve_eventloop_with_workers_and_a_broken_app_is_one_line_exit_two() -> None:
    env = dict(
        os.environ, PYTHONPATH=os.pathsep.join([str(REPO_ROOT), os.environ.get("PYTHONPATH", "")])
    )
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "bench.runner.cli",
            "serve",
            "eventloop",
            BROKEN,
            "-w",
            "2",
            "-b",
            "127.0.0.1:0",
        ],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        start_new_session=True,
    )
    assert done.returncode == 2, done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert lines[0].startswith("bench: error: ")
    assert "this module is broken on purpose" in lines[0]


def test_max_worker_rss_recycles_a_worker_that_grew(serve) -> None:
    with serve("prefork", PROBE, "-w", "1", "--max-worker-rss", "200") as url:
        big = get_pid(url, "/grow?mib=250")
        assert wait_until(lambda: big not in worker_pids(url), 15), url.log()
        assert get_pid(url) != big


def test_pidfile_unix_socket_and_two_binds(serve, tmp_path: Path) -> None:
    pidfile = tmp_path / "master.pid"
    sock_path = tmp_path / "s.sock"
    with serve(
        "prefork", PROBE, "-b", "127.0.0.1:0", "-b", f"unix:{sock_path}", "-p", str(pidfile)
    ) as url:
        assert int(pidfile.read_text()) == url.process.pid
        assert f"also unix:{sock_path}" in url.log()
        transport = httpx.HTTPTransport(uds=str(sock_path))
        with httpx.Client(transport=transport) as client:
            assert client.get("http://localhost/pid").status_code == 200
        assert get_pid(url) in worker_pids(url)
        url.signal(signal.SIGTERM)
        assert url.server.wait(20) == 0
    assert not pidfile.exists()
    assert not sock_path.exists()


def test_ipv6_and_reuse_port(serve) -> None:
    if not socket_has_ipv6():
        pytest.skip("no IPv6 loopback")
    with serve("prefork", PROBE, "-b", "[::1]:0", "--reuse-port") as url:
        assert url.startswith("http://[::1]:")
        assert get_pid(url) in worker_pids(url)


def socket_has_ipv6() -> bool:
    import socket

    try:
        with socket.socket(socket.AF_INET6) as s:
            s.bind(("::1", 0))
    except OSError:
        return False
    return True


def test_bench_serve_eventloop_with_workers_runs_the_prefork_master(serve) -> None:
    with serve("eventloop", ASGI_PROBE, "-w", "2") as url:
        assert "2 eventloop workers" in url.log()
        assert len(worker_pids(url)) == 2
        assert get_pid(url) in worker_pids(url)


def test_chdir_and_pythonpath(serve) -> None:
    apps = REPO_ROOT / "tests" / "servers" / "prefork" / "apps"
    with serve("prefork", "prefork_probe:app", "--chdir", str(apps)) as url:
        assert get_pid(url) in worker_pids(url)
    with serve("prefork", "prefork_probe:app", "--pythonpath", f"/nonexistent,{apps}") as url:
        assert get_pid(url) in worker_pids(url)
