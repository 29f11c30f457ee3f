"""``bench serve eventloop``: its options come from ServerConfig, with today's flags."""

from __future__ import annotations

import io
import subprocess
import sys
from contextlib import redirect_stdout
from typing import Any

import httpx
import pytest

from bench.runner.cli import build_parser
from bench.runner.commands.serve import eventloop_config
from bench.runner.errors import UsageError
from bench.servers.asgi.config import ServerConfig
from bench.servers.settings import cli_fields

#: Every option of ``bench serve eventloop --help`` as it was written by hand (flags,
#: metavar or choices): the settings-driven parser keeps each of them.
USAGE = [
    "[-b ADDRESS]", "[--uds PATH]", "[--fd N]", "[-w N]", "[--loop {uvloop,asyncio}]",
    "[--interface {auto,asgi,wsgi}]", "[--lifespan {auto,on,off}]", "[--limit-concurrency N]",
    "[--timeout-keep-alive S]", "[--timeout-header-read S]", "[--graceful-timeout S]",
    "[--root-path PATH]", "[--no-server-header]", "[--threads T]", "[--backlog N]",
    "[--limit-request-line B]", "[--limit-request-fields N]", "[--limit-request-field-size B]",
    "[--limit-request-body B]", "[--ws-max-size B]", "[--ws-max-queue N]",
    "[--ws-ping-interval S]", "[--ws-ping-timeout S]", "[--ws-per-message-deflate {true,false}]",
    "[--param KEY=VALUE]", "[--log-level {debug,info,warning,error}]",
]  # fmt: skip


def help_text() -> str:
    with redirect_stdout(io.StringIO()) as out, pytest.raises(SystemExit):
        build_parser().parse_args(["serve", "eventloop", "--help"])
    return " ".join(out.getvalue().split())


def test_the_help_keeps_every_flag_and_shows_every_setting() -> None:
    text = help_text()
    for option in USAGE:
        assert option in text
    assert "--timeout-graceful-shutdown S" in text
    for f in cli_fields(ServerConfig):
        for flag in f.metadata["flags"]:
            assert flag in text


def test_no_options_give_the_default_config() -> None:
    args = build_parser().parse_args(["serve", "eventloop", "hello"])
    assert eventloop_config(args) == ServerConfig()


def test_options_reach_the_config() -> None:
    args = build_parser().parse_args(
        ["serve", "eventloop", "hello", "-w", "2", "--ws-max-size", "99", "--no-server-header"]
    )
    config = eventloop_config(args)
    assert (config.workers, config.ws_max_size, config.server_header) == (2, 99, False)


def test_a_bad_value_is_a_usage_error() -> None:
    args = build_parser().parse_args(["serve", "eventloop", "hello", "--threads", "0"])
    with pytest.raises(UsageError, match="wsgi_threads must be at least 1"):
        eventloop_config(args)


def _serve_cli(*args: str) -> subprocess.CompletedProcess[str]:
    # A child process: --param exports BENCH_APP_* variables into the serving process.
    return subprocess.run(
        [sys.executable, "-m", "bench.runner.cli", "serve", *args],
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
        timeout=60,
    )


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ("eventloop", "cpu", "--param", "iteration=5000"),
            "bench serve eventloop: error: --param: unknown param 'iteration' for app cpu "
            "(did you mean 'iterations'?); allowed: iterations (int, default 20000)",
        ),
        (
            ("prefork", "io", "--param", "ms=abc"),
            "bench serve prefork: error: --param: BENCH_APP_MS='abc': param 'ms' of app io: "
            "expected number, got 'abc'; allowed: ms (number, default 50)",
        ),
    ],
)
def test_serve_refuses_an_unknown_or_mistyped_param(args: tuple[str, ...], message: str) -> None:
    proc = _serve_cli(*args, "-b", "127.0.0.1:0")
    assert proc.returncode == 2, proc.stderr
    assert proc.stderr.startswith(f"usage: bench serve {args[0]} "), proc.stderr
    assert proc.stderr.splitlines()[-1].startswith(message), proc.stderr
    assert "listening" not in proc.stderr


def test_a_declared_param_reaches_the_app(serve: Any) -> None:
    with serve("eventloop", "hello", "--param", "size=5") as url:
        assert httpx.get(url + "/").content == b"Hello"


def test_an_import_string_app_takes_any_param(serve: Any) -> None:
    with serve("eventloop", "bench.servers.apps.hello:asgi", "--param", "anything=1") as url:
        assert httpx.get(url + "/").status_code == 200
