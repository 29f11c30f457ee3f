"""`bench load`: argument parsing (pure) and real runs against the engine's test server."""

from __future__ import annotations

import json
import socket
from pathlib import Path
from typing import Any

import pytest

from bench.runner.cli import main
from bench.runner.commands.load import outcome, parse_cpus, parse_duration, parse_header, read_body
from bench.runner.engines.native.testing import Behaviour, serve
from bench.runner.errors import UsageError
from bench.runner.exit_codes import ExitCode


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
    assert main(["load", "ftp://127.0.0.1:1/", "-d", "1s"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("bench: error:") and "unsupported URL scheme 'ftp'" in err


@pytest.mark.parametrize(
    ("requests", "errors", "limit", "code"),
    [
        (0, 768, None, ExitCode.NOTHING_MEASURED),  # a closed port
        (0, 0, None, ExitCode.NOTHING_MEASURED),  # nothing at all came back
        (0, 10, 1.0, ExitCode.NOTHING_MEASURED),  # even a 100% limit cannot make it a pass
        (90, 10, None, ExitCode.OK),  # errors are reported, not failed, by default
        (90, 10, 0.1, ExitCode.OK),  # exactly at the limit passes
        (89, 11, 0.1, ExitCode.FAILED),
        (100, 0, 0.0, ExitCode.OK),
        (100, 1, 0.0, ExitCode.FAILED),
    ],
)
def test_load_outcome(requests: int, errors: int, limit: float | None, code: ExitCode) -> None:
    got, why = outcome(requests, errors, limit)
    assert got == code
    assert bool(why) == (code != ExitCode.OK)


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_a_closed_port_measured_nothing(capsys: pytest.CaptureFixture[str]) -> None:
    port = _closed_port()
    assert main(["load", f"http://127.0.0.1:{port}/", "-c", "2", "-d", "0.3s"]) == 5
    captured = capsys.readouterr()
    assert "no successful response: no latency measured" in captured.out
    assert "µs" not in captured.out and "p99" not in captured.out  # no table of zeros
    assert "errors: connect" in captured.out
    assert captured.err.startswith("bench: no successful response (")


def test_every_response_an_http_error_measured_nothing(
    serve: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    # The bundled json app answers 400 to a body that is not JSON: every request fails.
    with serve("eventloop", "json") as url:
        args = ["load", url + "/", "-c", "2", "-d", "0.3s", "-m", "POST", "--body", "not json"]
        assert main(args) == ExitCode.NOTHING_MEASURED
        out = capsys.readouterr().out
        assert "no successful response" in out and "errors: status" in out
        assert main([*args, "--json"]) == ExitCode.NOTHING_MEASURED
        data = json.loads(capsys.readouterr().out)
        assert data["requests"] == 0 and data["errors"]["status"] > 0
        # The same server and app, a valid request: measured, no errors, exit 0.
        ok = ["load", url + "/", "-c", "2", "-d", "0.3s", "--max-error-rate", "0"]
        assert main(ok) == ExitCode.OK
        assert "no successful response" not in capsys.readouterr().out


def test_max_error_rate_fails_a_load_with_some_errors(
    capsys: pytest.CaptureFixture[str],
) -> None:
    # Every 4th request takes 3 s and times out at 0.5 s; the others succeed.
    with serve(Behaviour(slow_every=4, slow_ms=3000.0)) as url:
        args = ["load", url + "/", "-c", "2", "-d", "1s", "--timeout", "500ms"]
        assert main(args) == ExitCode.OK  # reported, not failed
        assert "timeout" in capsys.readouterr().out
        assert main([*args, "--max-error-rate", "0.1%"]) == ExitCode.FAILED
        assert "is above --max-error-rate 0.100%" in capsys.readouterr().err


def test_bad_max_error_rate_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        main(["load", "http://127.0.0.1:1/", "--max-error-rate", "150%"])
    assert exc.value.code == ExitCode.USAGE
    assert "between 0 and 1" in capsys.readouterr().err
