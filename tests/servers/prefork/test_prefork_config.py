"""Settings: one definition per setting drives the dataclass and the command line."""

from __future__ import annotations

import argparse
import dataclasses

import pytest

from bench.servers.errors import ConfigError
from bench.servers.prefork.config import PreforkConfig, add_arguments, from_namespace


def parse(*argv: str) -> PreforkConfig:
    parser = argparse.ArgumentParser()
    add_arguments(parser)
    return from_namespace(parser.parse_args(list(argv)))


def test_defaults_come_from_the_dataclass() -> None:
    assert parse() == PreforkConfig()
    assert PreforkConfig().timeout == 30.0  # gunicorn's defaults
    assert PreforkConfig().keep_alive == 2.0


def test_gunicorn_flag_names() -> None:
    config = parse(
        "-b", "127.0.0.1:9000", "--bind", "unix:/tmp/x.sock", "-w", "4", "-k", "gthread",
        "--threads", "8", "-t", "5", "--graceful-timeout", "7", "--keep-alive", "3",
        "--max-requests", "100", "--max-requests-jitter", "10", "--preload", "--reuse-port",
        "--backlog", "64", "-p", "/tmp/pid", "--limit-request-line", "100",
        "--limit-request-fields", "10", "--limit-request-field_size", "200",
        "--worker-connections", "50", "--chdir", "/tmp", "--pythonpath", "a,b",
    )  # fmt: skip
    assert config.bind == ("127.0.0.1:9000", "unix:/tmp/x.sock")
    assert (config.workers, config.effective_worker_class, config.threads) == (4, "thread", 8)
    assert (config.timeout, config.graceful_timeout, config.keep_alive) == (5.0, 7.0, 3.0)
    assert (config.max_requests, config.max_requests_jitter) == (100, 10)
    assert config.preload and config.reuse_port
    assert (config.backlog, config.pidfile) == (64, "/tmp/pid")
    assert (config.limit_request_line, config.limit_request_fields) == (100, 10)
    assert config.limit_request_field_size == 200
    assert (config.worker_connections, config.chdir, config.pythonpath) == (50, "/tmp", "a,b")


def test_every_setting_but_the_eventloop_config_has_a_flag() -> None:
    parser = argparse.ArgumentParser()
    add_arguments(parser)
    dests = {action.dest for action in parser._actions}
    names = {f.name for f in dataclasses.fields(PreforkConfig)}
    assert names - dests == {"eventloop_config"}


@pytest.mark.parametrize(
    ("threads", "kind", "effective"),
    [
        (1, "sync", "sync"),
        (4, "sync", "thread"),
        (1, "gthread", "thread"),
        (4, "eventloop", "eventloop"),
    ],
)
def test_effective_worker_class(threads: int, kind: str, effective: str) -> None:
    assert PreforkConfig(threads=threads, worker_class=kind).effective_worker_class == effective


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["-w", "0"], "--workers must be at least 1"),
        (["--threads", "0"], "--threads must be at least 1"),
        (["-t", "-1"], "--timeout must not be negative"),
    ],
)
def test_invalid_values_are_one_line_errors(argv: list[str], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        parse(*argv)


def test_describe() -> None:
    assert PreforkConfig(workers=1).describe() == "1 sync worker"
    assert PreforkConfig(workers=2, threads=3).describe() == "2 thread workers x 3 threads"
