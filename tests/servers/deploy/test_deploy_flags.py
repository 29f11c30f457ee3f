"""Deployment flags of `bench serve` against real servers: proxy headers, app loading
(--app-dir, --factory, the module default 'application'), --env-file and -e, the
interface check, --host/--port, --version, usage lines, --limit-max-requests."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest
from deploykit import run_serve as _cli
from deploykit import write_app

pytestmark = pytest.mark.slow

FORWARDED = {"X-Forwarded-For": "203.0.113.7, 10.1.2.3", "X-Forwarded-Proto": "https"}


# -- proxy headers ------------------------------------------------------------------


@pytest.mark.parametrize("app", ["deployapp:asgi", "deployapp:application"])
def test_eventloop_trusts_proxy_headers_from_allowed_peers(
    serve: Any, tmp_path: Path, app: str
) -> None:
    write_app(tmp_path)
    args = (
        "--app-dir",
        str(tmp_path),
        "--proxy-headers",
        "--forwarded-allow-ips",
        "127.0.0.0/8,10.0.0.0/8",
    )
    with serve("eventloop", app, *args) as url:
        assert httpx.get(url + "/", headers=FORWARDED).text == "https 203.0.113.7 -"
        forwarded = {"Forwarded": 'for=198.51.100.9;proto=https, for="10.0.0.5"'}
        assert httpx.get(url + "/", headers=forwarded).text == "https 198.51.100.9 -"
        assert httpx.get(url + "/").text == "http 127.0.0.1 -"


@pytest.mark.parametrize("app", ["deployapp:asgi", "deployapp:application"])
def test_eventloop_ignores_proxy_headers_from_other_peers(
    serve: Any, tmp_path: Path, app: str
) -> None:
    write_app(tmp_path)
    args = ("--app-dir", str(tmp_path), "--proxy-headers", "--forwarded-allow-ips", "192.0.2.1")
    with serve("eventloop", app, *args) as url:
        assert httpx.get(url + "/", headers=FORWARDED).text == "http 127.0.0.1 -"


def test_eventloop_ignores_proxy_headers_when_off(serve: Any, tmp_path: Path) -> None:
    write_app(tmp_path)
    with serve("eventloop", "deployapp:asgi", "--app-dir", str(tmp_path)) as url:
        assert httpx.get(url + "/", headers=FORWARDED).text == "http 127.0.0.1 -"


@pytest.mark.parametrize(
    ("allow", "expected"),
    [("127.0.0.1", "https 203.0.113.7 -"), ("192.0.2.0/24", "http 127.0.0.1 -")],
)
def test_prefork_forwarded_allow_ips(serve: Any, tmp_path: Path, allow: str, expected: str) -> None:
    write_app(tmp_path)
    args = ("--chdir", str(tmp_path), "--forwarded-allow-ips", allow)
    with serve("prefork", "deployapp", *args) as url:
        headers = {"X-Forwarded-For": "203.0.113.7", "X-Forwarded-Proto": "https"}
        assert httpx.get(url + "/", headers=headers).text == expected


# -- loading the app ----------------------------------------------------------------


def test_app_dir_and_factory(serve: Any, tmp_path: Path) -> None:
    write_app(tmp_path)
    with serve("eventloop", "deployapp:make_asgi", "--factory", "--app-dir", str(tmp_path)) as url:
        assert httpx.get(url + "/").text == "http 127.0.0.1 -"
    with serve(
        "eventloop", "deployapp:make_wsgi", "--factory", "--app-dir", str(tmp_path), "-w", "2"
    ) as url:
        assert httpx.get(url + "/").text == "http 127.0.0.1 -"


def test_without_app_dir_the_module_is_not_found(tmp_path: Path) -> None:
    write_app(tmp_path)
    done = _cli("eventloop", "deployapp:asgi", "-b", "127.0.0.1:0")
    assert done.returncode == 2
    assert done.stderr.strip() == "bench: error: app 'deployapp:asgi': no module named 'deployapp'"


def test_a_module_without_attr_means_application(serve: Any, tmp_path: Path) -> None:
    write_app(tmp_path)
    with serve("prefork", "deployapp", "--pythonpath", str(tmp_path)) as url:
        assert httpx.get(url + "/").text == "http 127.0.0.1 -"


def test_env_file_and_e(serve: Any, tmp_path: Path) -> None:
    write_app(tmp_path)
    env_file = tmp_path / ".env"
    env_file.write_text('# comment\nexport DEPLOY_VAR="from file"\nOTHER=1\n')
    with serve(
        "eventloop", "deployapp:asgi", "--app-dir", str(tmp_path), "--env-file", str(env_file)
    ) as url:
        assert httpx.get(url + "/").text == "http 127.0.0.1 from file"
    with serve("prefork", "deployapp", "--chdir", str(tmp_path), "-e", "DEPLOY_VAR=from-e") as url:
        assert httpx.get(url + "/").text == "http 127.0.0.1 from-e"


# -- the interface check ------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "hint"),
    [
        (("prefork", "deployapp:asgi", "-k", "sync"), "use -k eventloop"),
        (("prefork", "deployapp:asgi", "-k", "thread", "-w", "2"), "use -k eventloop"),
        (("prefork", "deployapp:asgi", "--preload"), "use -k eventloop"),
        (("eventloop", "deployapp:asgi", "--interface", "wsgi"), "use --interface asgi"),
        (("eventloop", "deployapp:application", "--interface", "asgi"), "use --interface wsgi"),
        (
            ("eventloop", "deployapp:application", "--interface", "asgi", "-w", "2"),
            "use --interface wsgi",
        ),
        (("prefork", "ws_broadcast"), "use -k eventloop"),
    ],
)
def test_the_wrong_interface_is_refused_at_start_with_one_line(
    tmp_path: Path, args: tuple[str, ...], hint: str
) -> None:
    write_app(tmp_path)
    server, app, *rest = args
    where = ("--app-dir" if server == "eventloop" else "--chdir", str(tmp_path))
    done = _cli(server, app, *where, *rest, "-b", "127.0.0.1:0")
    assert done.returncode == 2, done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert lines[0].startswith("bench: error: ") and hint in lines[0], lines[0]


# -- the command line ---------------------------------------------------------------


def test_host_and_port(serve: Any) -> None:
    with serve("eventloop", "hello", "--host", "127.0.0.1", "--port", "0", bind=None) as url:
        assert url.startswith("http://127.0.0.1:")
        assert httpx.get(url + "/").status_code == 200


@pytest.mark.parametrize("server", ["eventloop", "prefork"])
def test_version_and_own_usage_lines(server: str) -> None:
    done = _cli(server, "--version")
    assert done.returncode == 0 and done.stdout.startswith("bench ")
    done = _cli(server, "hello", "--no-such-flag")
    assert done.returncode == 2
    assert done.stderr.startswith(f"usage: bench serve {server} ")
    assert done.stderr.strip().endswith(
        f"bench serve {server}: error: unrecognized arguments: --no-such-flag"
    )


def test_limit_max_requests_stops_the_server(serve: Any) -> None:
    with serve("eventloop", "hello", "--limit-max-requests", "2") as url:
        with httpx.Client() as client:
            assert client.get(url + "/").status_code == 200
            assert client.get(url + "/").status_code == 200
        assert url.server.wait(20) == 0
        assert "--limit-max-requests" in url.log()
