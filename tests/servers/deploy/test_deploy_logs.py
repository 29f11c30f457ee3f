"""Access logs (one line per response, gunicorn atoms) and --log-config, on real servers."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from deploykit import run_serve, write_app
from serverkit import wait_until

pytestmark = pytest.mark.slow

LINE_RE = re.compile(
    r"^127\.0\.0\.1 - - \[\d\d/\w{3}/\d{4}:\d\d:\d\d:\d\d [+-]\d{4}\] "
    r'"GET /path\?q=1 HTTP/1\.1" 200 (\d+) "http://ref/" "bench-test/1"$'
)
HEADERS = {"User-Agent": "bench-test/1", "Referer": "http://ref/"}


def _log_config(tmp_path: Path, access_file: Path, kind: str = "json") -> Path:
    """A dictConfig (JSON or YAML) that routes bench.access to ``access_file``."""
    config = {
        "version": 1,
        "formatters": {"plain": {"format": "%(message)s"}},
        "handlers": {
            "access": {
                "class": "logging.FileHandler",
                "filename": str(access_file),
                "formatter": "plain",
            },
        },
        "loggers": {"bench.access": {"handlers": ["access"], "level": "INFO", "propagate": False}},
    }
    path = tmp_path / f"logging.{kind}"
    path.write_text(json.dumps(config) if kind == "json" else yaml.safe_dump(config))
    return path


def _lines(path: Path) -> list[str]:
    return path.read_text().splitlines() if path.exists() else []


@pytest.mark.parametrize(("app", "kind"), [("hello", "json"), ("deployapp:application", "yaml")])
def test_eventloop_access_log_routed_by_log_config(
    serve: Any, tmp_path: Path, app: str, kind: str
) -> None:
    write_app(tmp_path)
    access = tmp_path / "access.log"
    config = _log_config(tmp_path, access, kind)
    args = ("--app-dir", str(tmp_path), "--access-log", "--log-config", str(config))
    with serve("eventloop", app, *args) as url:
        for _ in range(3):
            response = httpx.get(url + "/path?q=1", headers=HEADERS)
            assert response.status_code == 200
        assert wait_until(lambda: len(_lines(access)) == 3, 10)
    for line in _lines(access):
        match = LINE_RE.match(line)
        assert match, line
        assert int(match.group(1)) == len(response.content)


def test_no_access_log_writes_nothing(serve: Any, tmp_path: Path) -> None:
    access = tmp_path / "access.log"
    config = _log_config(tmp_path, access)
    args = ("--access-log", "--no-access-log", "--log-config", str(config))
    with serve("eventloop", "hello", *args) as url:
        assert httpx.get(url + "/path?q=1").status_code == 200
    assert _lines(access) == []


def test_access_log_format_atoms(serve: Any, tmp_path: Path) -> None:
    access = tmp_path / "access.log"
    config = _log_config(tmp_path, access)
    fmt = "%(m)s %(U)s %(q)s %(s)s %(B)s %({x-test}i)s %({content-type}o)s %(D)s"
    args = ("--access-log", "--access-log-format", fmt, "--log-config", str(config))
    with serve("eventloop", "hello", *args) as url:
        httpx.post(url + "/a?b=c", headers={"X-Test": "yes"})
        assert wait_until(lambda: len(_lines(access)) == 1, 10)
    method, path, query, status, size, header, ctype, micros = _lines(access)[0].split(" ")
    assert (method, path, query, status, size, header) == ("POST", "/a", "b=c", "200", "13", "yes")
    assert ctype == "text/plain" and int(micros) >= 0


@pytest.mark.parametrize("worker_class", ["sync", "thread"])
def test_prefork_access_logfile(serve: Any, tmp_path: Path, worker_class: str) -> None:
    write_app(tmp_path)
    access = tmp_path / "access.log"
    args = ("--chdir", str(tmp_path), "-k", worker_class, "--access-logfile", str(access))
    with serve("prefork", "deployapp", *args) as url:
        for _ in range(2):
            assert httpx.get(url + "/path?q=1", headers=HEADERS).status_code == 200
        assert wait_until(lambda: len(_lines(access)) == 2, 10)
    assert all(LINE_RE.match(line) for line in _lines(access)), _lines(access)


def test_prefork_error_logfile_and_log_level(serve: Any, tmp_path: Path) -> None:
    errors = tmp_path / "error.log"
    args = ("--error-logfile", str(errors), "--log-level", "debug", "--access-logformat", "%(s)s")
    with serve("prefork", "hello", *args) as url:
        assert httpx.get(url + "/").status_code == 200
    assert errors.exists()


def test_a_bad_log_config_is_refused_with_one_line(tmp_path: Path) -> None:
    bad = tmp_path / "logging.yaml"
    bad.write_text("version: 1\nhandlers: {h: {class: no.such.Handler}}\n")
    done = run_serve("eventloop", "hello", "-b", "127.0.0.1:0", "--log-config", str(bad))
    assert done.returncode == 2
    assert str(bad) in done.stderr.splitlines()[-1]


def test_prefork_log_config_routes_the_access_log(serve: Any, tmp_path: Path) -> None:
    access = tmp_path / "access.log"
    config = _log_config(tmp_path, access, "yaml")
    args = ("--access-logfile", "-", "--log-config", str(config), "-w", "2")
    with serve("prefork", "hello", *args) as url:
        assert httpx.get(url + "/path?q=1", headers=HEADERS).status_code == 200
        assert wait_until(lambda: len(_lines(access)) == 1, 10)
    assert LINE_RE.match(_lines(access)[0])
