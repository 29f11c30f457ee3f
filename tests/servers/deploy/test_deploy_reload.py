"""--reload restarts the server when a watched file changes; the WSGI path of the
eventloop server logs no traceback when a client goes away mid-response."""

from __future__ import annotations

import socket
from pathlib import Path
from typing import Any

import httpx
import pytest
from deploykit import write_app
from serverkit import READY_RE, wait_until

pytestmark = pytest.mark.slow


def _ready_urls(log: str) -> list[str]:
    return [m.group(1) for line in log.splitlines() if (m := READY_RE.match(line))]


@pytest.mark.parametrize("server", ["eventloop", "prefork"])
def test_reload_restarts_on_a_change(serve: Any, tmp_path: Path, server: str) -> None:
    app = write_app(tmp_path)
    where = ("--app-dir" if server == "eventloop" else "--chdir", str(tmp_path))
    spec = "deployapp:asgi" if server == "eventloop" else "deployapp"
    extra = ("--reload-dir", str(tmp_path)) if server == "eventloop" else ()
    with serve(server, spec, *where, "--reload", *extra) as url:
        assert httpx.get(url + "/").text.endswith(" -")
        source = app.read_text().replace("'DEPLOY_VAR', '-'", "'DEPLOY_VAR', 'changed'")

        def restarted() -> bool:
            if len(_ready_urls(url.log())) >= 2:
                return True
            app.write_text(source)  # again, in case the watcher was not watching yet
            return False

        assert wait_until(restarted, 30, interval=1.0), url.log()
        new_url = _ready_urls(url.log())[-1]
        assert httpx.get(new_url + "/").text.endswith(" changed")


def test_wsgi_client_disconnect_logs_no_traceback(serve: Any, tmp_path: Path) -> None:
    write_app(tmp_path)
    with serve("eventloop", "deployapp:streaming", "--app-dir", str(tmp_path)) as url:
        for _ in range(3):
            with socket.create_connection((url.host, url.port), timeout=10) as sock:
                sock.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
                assert sock.recv(65536).startswith(b"HTTP/1.1 200 ")
            # the client is gone while the app still streams
        with httpx.Client() as client:  # the server keeps serving
            assert client.get(url + "/", headers={"Range": "none"}).status_code == 200
        assert url.stop() == 0
    log = url.log()
    assert "Traceback" not in log and "never retrieved" not in log, log
