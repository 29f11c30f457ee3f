"""Settings defined once: each config's fields drive its parser, its docs table, the worker."""

from __future__ import annotations

import argparse
import dataclasses
import io
from contextlib import redirect_stdout
from pathlib import Path

import pytest

from bench.servers.asgi.config import ServerConfig, add_arguments, from_namespace
from bench.servers.errors import ConfigError
from bench.servers.prefork.config import PreforkConfig
from bench.servers.prefork.workers.eventloop import eventloop_config, eventloop_settings
from bench.servers.protocol import Limits
from bench.servers.protocol.websocket import DEFAULT_MAX_MESSAGE_SIZE
from bench.servers.settings import cli_fields, markdown_table, shown_default

DOCS = Path(__file__).resolve().parent.parent.parent / "docs" / "servers.md"


def eventloop_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser()
    add_arguments(parser)
    return parser


def parse(*argv: str) -> ServerConfig:
    return from_namespace(eventloop_parser().parse_args(list(argv)))


def test_every_setting_but_limits_has_a_flag_and_its_default_in_the_help() -> None:
    parser = eventloop_parser()
    actions = {action.dest: action for action in parser._actions}
    names = {f.name for f in dataclasses.fields(ServerConfig)}
    assert names - set(actions) == {"limits"}
    with redirect_stdout(io.StringIO()) as out:
        parser.print_help()
    help_text = " ".join(out.getvalue().split())
    for f in cli_fields(ServerConfig):
        assert actions[f.name].default is None  # "not given": the dataclass has the default
        shown = shown_default(f)
        if shown is not None:
            assert f"(default {shown})" in help_text, f.name
    for expected in ("(default 16777216)", "(default 5)", "(default uvloop)", "(default true)"):
        assert expected in help_text


def test_no_options_give_the_dataclass_defaults() -> None:
    config = parse()
    assert config == ServerConfig()
    assert config.ws_max_size == DEFAULT_MAX_MESSAGE_SIZE == 16 * 1024 * 1024
    assert config.limits == Limits()
    assert (config.timeout_keep_alive, config.wsgi_threads, config.loop) == (5.0, 10, "uvloop")


def test_uvicorn_flag_names_and_their_values() -> None:
    config = parse(
        "-w", "3", "--loop", "asyncio", "--interface", "wsgi", "--lifespan", "off",
        "--limit-concurrency", "7", "--timeout-keep-alive", "2.5", "--timeout-header-read", "4",
        "--timeout-graceful-shutdown", "9", "--root-path", "/api/", "--no-server-header",
        "--threads", "4", "--backlog", "64", "--limit-request-line", "100",
        "--limit-request-fields", "10", "--limit-request-field-size", "200",
        "--limit-request-body", "1000", "--ws-max-size", "1024", "--ws-max-queue", "8",
        "--ws-ping-interval", "0", "--ws-ping-timeout", "3", "--ws-per-message-deflate", "false",
    )  # fmt: skip
    assert (config.workers, config.loop, config.interface, config.lifespan) == (
        3,
        "asyncio",
        "wsgi",
        "off",
    )
    assert (config.limit_concurrency, config.timeout_keep_alive) == (7, 2.5)
    assert (config.timeout_header_read, config.timeout_graceful_shutdown) == (4.0, 9.0)
    assert config.root_path == "/api"  # a trailing / is dropped
    assert config.server_header is False and config.server_header_value is None
    assert (config.wsgi_threads, config.backlog) == (4, 64)
    assert config.limits == Limits(
        max_request_line=100, max_header_count=10, max_header_field_size=200, max_body_size=1000
    )
    assert (config.ws_max_size, config.ws_max_queue) == (1024, 8)
    assert config.ws_ping_interval is None  # 0 disables
    assert config.ws_ping_timeout == 3.0
    assert config.ws_per_message_deflate is False
    assert parse("--graceful-timeout", "1").timeout_graceful_shutdown == 1.0


@pytest.mark.parametrize(
    "argv",
    [["-w", "0"], ["--timeout-keep-alive", "0"], ["--root-path", "api"], ["--threads", "0"]],
)
def test_invalid_values_are_config_errors(argv: list[str]) -> None:
    with pytest.raises(ConfigError):
        parse(*argv)


def test_bad_choices_are_refused_by_the_parser() -> None:
    with redirect_stdout(io.StringIO()), pytest.raises(SystemExit):
        eventloop_parser().parse_args(["--loop", "tokio"])


def test_docs_tables_are_generated_from_the_settings() -> None:
    """Regenerate with ``bench.servers.settings.markdown_table(ServerConfig / PreforkConfig)``."""
    text = DOCS.read_text(encoding="utf-8")
    assert markdown_table(ServerConfig) in text
    assert markdown_table(PreforkConfig) in text


def test_every_eventloop_counterpart_of_a_prefork_setting_is_a_server_setting() -> None:
    names = {f.name for f in cli_fields(ServerConfig)}
    targets = [
        f.metadata["eventloop"]
        for f in dataclasses.fields(PreforkConfig)
        if "eventloop" in f.metadata
    ]
    assert targets and set(targets) <= names
    assert len(targets) == len(set(targets))


def test_the_eventloop_worker_derives_its_config_from_the_prefork_settings() -> None:
    config = eventloop_config(
        PreforkConfig(
            worker_class="eventloop",
            workers=3,
            threads=4,
            keep_alive=0,
            graceful_timeout=7,
            backlog=64,
            root_path="/api/",
            limit_request_line=100,
            limit_request_fields=10,
            limit_request_field_size=200,
        )
    )
    assert (config.workers, config.wsgi_threads, config.backlog) == (3, 4, 64)
    assert config.timeout_keep_alive == 0.001  # --keep-alive 0: idle connections close at once
    assert config.timeout_graceful_shutdown == 7.0
    assert config.root_path == "/api"
    assert config.limits == Limits(
        max_request_line=100, max_header_count=10, max_header_field_size=200
    )


def test_prefork_defaults_keep_the_eventloop_servers_own_where_prefork_has_none() -> None:
    values = eventloop_settings(PreforkConfig(worker_class="eventloop"))
    assert "wsgi_threads" not in values  # --threads 1: no pool asked for
    config = eventloop_config(PreforkConfig(worker_class="eventloop"))
    assert config.wsgi_threads == ServerConfig().wsgi_threads
    assert config.timeout_keep_alive == PreforkConfig().keep_alive  # gunicorn's 2 s
    given = ServerConfig(loop="asyncio")
    assert eventloop_config(PreforkConfig(eventloop_config=given)) is given


def test_prefork_passes_interface_and_wsgi_inline_to_its_eventloop_workers() -> None:
    prefork = PreforkConfig(worker_class="eventloop", interface="wsgi", wsgi_inline="never")
    config = eventloop_config(prefork)
    assert (config.interface, config.wsgi_inline) == ("wsgi", "never")
    with pytest.raises(ConfigError):
        PreforkConfig(wsgi_inline="sometimes")
    with pytest.raises(ConfigError, match="needs -k eventloop"):
        PreforkConfig(worker_class="thread", interface="asgi")  # sync/thread serve WSGI
    with pytest.raises(ConfigError):
        ServerConfig(wsgi_inline="sometimes")
