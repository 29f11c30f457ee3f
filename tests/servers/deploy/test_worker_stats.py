"""The worker stats side channel: off by default, and per worker counts when on."""

from __future__ import annotations

import asyncio
import gc
import os
import urllib.request
from pathlib import Path

import pytest

from bench.servers import worker_stats
from bench.servers.worker_stats import ENV, bucket, parse_stats, read_stats
from tests.serverkit import wait_until


def _wsgi(environ, start_response):
    start_response("200 OK", [("Content-Length", "2")])
    return [b"ok"]


async def _asgi(scope, receive, send):
    if scope["type"] == "lifespan":
        return
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": b"ok"})


def test_off_by_default_the_app_itself_is_served(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(ENV, raising=False)
    assert worker_stats.wrap_wsgi(_wsgi) is _wsgi
    assert worker_stats.wrap_asgi(_asgi) is _asgi


@pytest.fixture
def uninstall():
    """Take the channel out of this test process afterwards (gc callback, folder)."""
    yield
    counters = worker_stats._COUNTERS
    if counters.on_gc in gc.callbacks:
        gc.callbacks.remove(counters.on_gc)
    counters.folder = ""


def test_on_it_counts_calls_gc_and_loop_lag_into_the_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, uninstall: None
) -> None:
    monkeypatch.setenv(ENV, str(tmp_path))
    wsgi = worker_stats.wrap_wsgi(_wsgi)
    asgi = worker_stats.wrap_asgi(_asgi)
    before = worker_stats._COUNTERS.requests if worker_stats._COUNTERS.pid == os.getpid() else 0
    assert wsgi({}, lambda status, headers: None) == [b"ok"]

    async def calls() -> None:
        async def receive():
            return {"type": "http.request"}

        async def send(message):
            return None

        await asgi({"type": "lifespan"}, receive, send)  # not a request
        for _ in range(3):
            await asgi({"type": "http"}, receive, send)
        await asyncio.sleep(worker_stats.LAG_INTERVAL_S * 3)  # let the lag probe fire

    asyncio.run(calls())
    gc.collect()
    mine = read_stats(tmp_path)[os.getpid()]  # the mapped file, read while it is live
    assert mine["requests"] - before == 4  # one WSGI call and three HTTP scopes
    assert mine["gc_pause_s"] > 0 and sum(mine["gc_hist"].values()) >= 1
    assert sum(mine["lag_hist"].values()) >= 1


def test_a_prefork_server_writes_one_file_per_worker(serve, tmp_path: Path) -> None:
    folder = tmp_path / "stats"
    with serve("prefork", "hello", "-w", "2", env={ENV: str(folder)}) as url:
        for _ in range(20):
            with urllib.request.urlopen(url + "/", timeout=10) as response:
                assert response.status == 200

        def counted() -> bool:
            return sum(s["requests"] for s in read_stats(folder).values()) >= 20

        assert wait_until(counted, timeout=20)
        stats = read_stats(folder)
    assert 1 <= len(stats) <= 2  # only workers that took a request write a file
    assert bucket(0.5) == 0
    assert all(s["pid"] == pid for pid, s in stats.items())


def test_parse_stats_refuses_other_files() -> None:
    assert parse_stats(b"") is None
    assert parse_stats(b"XXXX" + bytes(worker_stats.FILE_SIZE)) is None
