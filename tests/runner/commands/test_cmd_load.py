"""`bench load`: argument parsing (pure) and real runs against the engine's test server."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from runner.cli import main
from runner.commands.load import parse_cpus, parse_duration, parse_header, read_body
from runner.engines.native.testing import Behaviour, serve
from runner.errors import UsageError


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("10s", 10.0), ("500ms", 0.5), ("2m", 120.0), ("1.5", 1.5), ("1h", 3600.0)],
)
def test_parse_duration(text: str, seconds: float) -> None:
    assert parse_duration(text) == seconds


@pytest.mark.parametrize("text", ["", "ten", "5 parsecs", "-1s"])
def test_bad_durations_are_usage_errors(text: str) -> None:
    with pytest.raises(UsageError):
        parse_duration(text)


def test_parse_header_and_cpus() -> None:
    assert parse_header("Content-Type: application/json") == ("Content-Type", "application/json")
    with pytest.raises(UsageError):
        parse_header("no colon")
    assert parse_cpus("1") == (1,)
    assert parse_cpus("0,2-3") == (0, 2, 3)
    assert parse_cpus(None) is None
    with pytest.raises(UsageError):
        parse_cpus("a-b")


def test_read_body(tmp_path: Path) -> None:
    body = tmp_path / "body.json"
    body.write_bytes(b'{"a": 1}')
    assert read_body(f"@{body}") == b'{"a": 1}'
    assert read_body("inline") == b"inline"
    assert read_body(None) == b""
    with pytest.raises(UsageError):
        read_body(f"@{tmp_path / 'missing'}")


def test_json_output_has_the_documented_keys(capsys: pytest.CaptureFixture[str]) -> None:
    with serve(Behaviour(delay_ms=2.0)) as url:
        code = main(
            ["load", url + "/", "-c", "2", "-d", "0.5s", "--json", "--expect-body", "hello"]
        )
    assert code == 0
    out = json.loads(capsys.readouterr().out)
    assert out["requests"] > 0
    assert out["errors"]["status"] == 0 and out["errors"]["body"] == 0
    assert out["rps"] > 0 and out["duration_s"] == pytest.approx(0.5, abs=0.1)
    assert {"p50", "p90", "p99", "p999", "max"} <= set(out["latency_us"])
    assert out["latency_us"]["p50"] >= 2000


def test_open_loop_websocket_json(capsys: pytest.CaptureFixture[str]) -> None:
    with serve(Behaviour()) as url:
        ws = url.replace("http://", "ws://") + "/"
        code = main(["load", ws, "--ws", "--rate", "100", "-d", "0.5s", "--json"])
    assert code == 0
    out = json.loads(capsys.readouterr().out)
    assert out["requests"] > 20
    assert out["connect_us"]["p50"] > 0


def test_terminal_output_shows_the_latency_table(capsys: pytest.CaptureFixture[str]) -> None:
    with serve(Behaviour(delay_ms=1.0)) as url:
        code = main(["load", url + "/", "--rate", "100", "-d", "0.5s", "-m", "POST", "--body", "x"])
    assert code == 0
    out = capsys.readouterr().out
    for text in ("latency", "p99", "percentile spectrum", "asked 100", "schedule lag"):
        assert text in out


def test_a_bad_url_is_a_one_line_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["load", "https://127.0.0.1:1/", "-d", "1s"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("bench: error:") and "TLS" in err
