"""`bench load` takes wrk/oha habits that mean the same thing, and refuses -n in one line."""

from __future__ import annotations

import pytest

from bench.runner.cli import build_parser, main
from bench.runner.commands.load import build_spec


def _spec(*argv: str):
    return build_spec(build_parser().parse_args(["load", "http://127.0.0.1:1/", *argv]))


def test_wrk_and_oha_flags_map_to_bench_flags() -> None:
    spec = _spec("-t", "2", "-z", "3s", "-q", "50", "--latency")
    assert (spec.processes, spec.duration_s, spec.rate, spec.mode) == (2, 3.0, 50.0, "open")


def test_a_request_count_is_refused_naming_the_bench_flag(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["load", "http://127.0.0.1:1/", "-n", "1000"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "-d DURATION" in err[0]
