"""``bench serve eventloop``: its options come from ServerConfig, with today's flags."""

from __future__ import annotations

import io
from contextlib import redirect_stdout

import pytest

from runner.cli import build_parser
from runner.commands.serve import eventloop_config
from runner.errors import UsageError
from servers.asgi.config import ServerConfig
from servers.settings import cli_fields

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
