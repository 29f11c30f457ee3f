"""`bench serve prefork -c CONFIG.py`: gunicorn-style config files, flags override them,
and --check-config validates and exits."""

from __future__ import annotations

import textwrap
from pathlib import Path
from typing import Any

import httpx
import pytest
from deploykit import run_serve, write_app

from bench.servers.errors import ConfigError
from bench.servers.prefork.config_file import merged_config, read_config_file

pytestmark = pytest.mark.slow


def _config(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "gunicorn.conf.py"
    path.write_text(textwrap.dedent(text))
    return path


def test_settings_and_gunicorn_names_are_read(tmp_path: Path) -> None:
    path = _config(
        tmp_path,
        """
        import multiprocessing
        workers = 2
        bind = ["127.0.0.1:0", "127.0.0.1:0"]
        worker_class = "gthread"
        threads = 4
        keepalive = 3
        accesslog = "-"
        raw_env = ["A=1"]
        wsgi_app = "deployapp"
        _private = 1
        def on_starting(server):
            pass
        """,
    )
    values, app = read_config_file(str(path))
    assert app == "deployapp"
    config = merged_config(values, {"workers": 3})
    assert (config.workers, config.effective_worker_class, config.threads) == (3, "thread", 4)
    assert config.bind == ("127.0.0.1:0", "127.0.0.1:0")
    assert (config.keep_alive, config.access_logfile, config.env) == (3.0, "-", ("A=1",))


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("wrokers = 2\n", "unknown setting 'wrokers'"),
        ("workers = 'two'\n", "workers must be int, not str"),
        ("workers = 0\n", "--workers must be at least 1"),
        ("workers = (\n", "syntax error"),
        ("raise RuntimeError('boom')\n", "failed: RuntimeError: boom"),
    ],
)
def test_bad_files_name_the_problem(tmp_path: Path, text: str, message: str) -> None:
    path = _config(tmp_path, text)
    with pytest.raises(ConfigError, match=message):
        merged_config(*read_config_file(str(path))[:1], {})


def test_a_config_file_serves_and_flags_override_it(serve: Any, tmp_path: Path) -> None:
    write_app(tmp_path)
    path = _config(
        tmp_path,
        f"""
        workers = 2
        chdir = {str(tmp_path)!r}
        wsgi_app = "deployapp"
        raw_env = ["DEPLOY_VAR=from-config"]
        """,
    )
    with serve("prefork", "-c", str(path)) as url:
        assert "2 sync workers" in url.log()
        assert httpx.get(url + "/").text == "http 127.0.0.1 from-config"
    with serve("prefork", "-c", str(path), "-w", "1", "-e", "DEPLOY_VAR=flag") as url:
        assert "1 sync worker)" in url.log()
        assert httpx.get(url + "/").text == "http 127.0.0.1 flag"


def test_check_config(tmp_path: Path) -> None:
    write_app(tmp_path)
    good = _config(tmp_path, f"workers = 2\nchdir = {str(tmp_path)!r}\n")
    done = run_serve("prefork", "deployapp", "-c", str(good), "--check-config")
    assert done.returncode == 0, done.stderr
    assert "config OK" in done.stderr and "listening" not in done.stderr

    done = run_serve("prefork", "deployapp:asgi", "-c", str(good), "--check-config")
    assert done.returncode == 2
    assert "use -k eventloop" in done.stderr

    bad = tmp_path / "bad.conf.py"
    bad.write_text("wrokers = 2\n")
    done = run_serve("prefork", "hello", "-c", str(bad), "--check-config")
    assert done.returncode == 2
    assert done.stderr.startswith("usage: bench serve prefork ")
    assert "unknown setting 'wrokers'" in done.stderr
