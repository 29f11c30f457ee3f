"""The locust and wrk engines: their output mapped into LoadResult, and real short runs."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from bench.runner.engines.locust import (
    LOCUST_RESOLUTION_US,
    LocustEngine,
    LocustSettings,
    classify_error,
    locust_config,
    result_from_dump,
    write_locustfile,
)
from bench.runner.engines.registry import make_engine
from bench.runner.engines.wrk import WrkEngine, parse_wrk_output, result_from_wrk, wrk_script
from bench.runner.errors import EngineError
from bench.runner.loadspec import LoadSpec

SPEC = LoadSpec(url="http://127.0.0.1:9/path?x=1", connections=4, duration_s=1.0)


# ---------------------------------------------------------------- locust (pure)


def test_locust_dump_maps_to_load_result() -> None:
    dump = {
        "window_start": 1000.2,
        "window_end": 1002.2,
        "num_requests": 110,
        "num_failures": 10,
        "total_response_time_ms": 220.0,
        "min_response_time_ms": 0.4,
        "max_response_time_ms": 30.0,
        "response_times_ms": {"1": 60, "2": 40, "30": 10},
        "num_reqs_per_sec": {"1000": 50, "1001": 60},
        "num_fail_per_sec": {"1001": 10},
        "errors": [
            {"error": "status 500", "occurrences": 6},
            {"error": "ConnectionRefusedError(111, 'Connection refused')", "occurrences": 4},
        ],
    }
    result = result_from_dump(dump, SPEC)
    assert result.engine == "locust"
    assert result.requests == 100
    assert result.duration_s == pytest.approx(2.0)
    assert result.rps == pytest.approx(50.0)
    assert result.errors["status"] == 6 and result.errors["connect"] == 4
    assert result.latency_us["p50"] == 1000.0
    assert result.latency_us["p99"] == 30000.0
    assert result.latency_us["mean"] == pytest.approx(2000.0)  # exact, not from buckets
    assert result.latency_us["min"] == pytest.approx(400.0)
    assert result.latency_resolution_us == LOCUST_RESOLUTION_US
    assert sorted(result.histogram) == [(1000, 60), (2000, 40), (30000, 10)]
    assert [p["requests"] for p in result.timeseries] == [50.0, 50.0]
    assert any("rounds" in note for note in result.notes)


def test_locust_dump_without_window_is_an_engine_error() -> None:
    with pytest.raises(EngineError, match="nothing was measured"):
        result_from_dump({"window_start": None, "window_end": 1.0}, SPEC)


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("status 503", "status"),
        ("body mismatch", "body"),
        ("ConnectionRefusedError(111, 'Connection refused')", "connect"),
        ("timeout('timed out')", "timeout"),
        ("ConnectionResetError(104, 'Connection reset by peer')", "reset"),
        ("something else", "protocol"),
    ],
)
def test_classify_locust_errors(text: str, kind: str) -> None:
    assert classify_error(text) == kind


def test_generated_locustfile_bakes_the_request(tmp_path: Path) -> None:
    spec = LoadSpec(
        url="http://127.0.0.1:9/p?q=1",
        method="POST",
        body=b"{}",
        mode="open",
        rate=8.0,
        connections=4,
    )
    config = locust_config(spec)
    assert config["path"] == "/p?q=1" and config["pace_s"] == pytest.approx(0.5)
    text = write_locustfile(tmp_path / "locustfile.py", config).read_text()
    assert "'method': 'POST'" in text
    assert "# bench:config" not in text
    compile(text, "locustfile.py", "exec")  # valid Python (never imported here: gevent)


# ---------------------------------------------------------------- wrk (pure)


def test_wrk_output_maps_to_load_result() -> None:
    out = (
        "Running 1s test @ http://127.0.0.1:9/\n  2 threads and 4 connections\n"
        'BENCH-JSON {"duration_us":2000000,"requests":1000,"bytes":5,"errors":{"connect":1,'
        '"read":2,"write":3,"status":10,"timeout":4},"mean_us":150.5,"min_us":100,'
        '"max_us":900,"histogram":[[100,500],[200,490],[900,10]]}\n'
    )
    result = result_from_wrk(parse_wrk_output(out), SPEC)
    assert result.requests == 990
    assert result.rps == pytest.approx(495.0)
    assert result.errors == {
        "connect": 1,
        "timeout": 4,
        "reset": 5,
        "status": 10,
        "body": 0,
        "protocol": 0,
    }
    assert result.latency_us["p50"] == 100.0 and result.latency_us["max"] == 900.0
    assert result.latency_us["mean"] == 150.5


def test_wrk_output_without_results_is_an_engine_error() -> None:
    with pytest.raises(EngineError):
        parse_wrk_output("unable to connect to 127.0.0.1:9 Connection refused\n")


def test_wrk_script_carries_method_headers_body() -> None:
    spec = LoadSpec(url="http://h/", method="POST", headers=(("x-a", 'q"uote'),), body=b"hi")
    script = wrk_script(spec)
    assert 'wrk.method = "POST"' in script
    assert 'wrk.headers["x-a"] = "q\\"uote"' in script
    assert 'wrk.body = "hi"' in script


def test_unknown_engine() -> None:
    with pytest.raises(EngineError, match="allowed: native, locust, wrk"):
        make_engine("ab")


# ---------------------------------------------------------------- real runs


@pytest.mark.slow
def test_locust_drives_a_real_server(serve, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    with serve("eventloop", "hello") as url:
        engine = LocustEngine(LocustSettings(), workdir=tmp_path)
        spec = LoadSpec(
            url=url + "/", connections=2, duration_s=1.0, warmup_s=0.0, expect_length=13
        )
        result = engine.run(spec)
    assert result.engine == "locust"
    assert result.requests > 0
    assert sum(result.errors.values()) == 0
    assert result.latency_us["max"] > 0  # exact; percentiles are whole ms (0 under 0.5 ms)
    assert result.latency_resolution_us == LOCUST_RESOLUTION_US
    assert (tmp_path / "locustfile.py").exists()


@pytest.mark.slow
@pytest.mark.skipif(shutil.which("wrk") is None, reason="wrk is not installed")
def test_wrk_drives_a_real_server(serve, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    with serve("eventloop", "hello") as url:
        result = WrkEngine(workdir=tmp_path).run(
            LoadSpec(url=url + "/", connections=2, duration_s=1.0)
        )
    assert result.engine == "wrk"
    assert result.requests > 0 and result.errors["status"] == 0
    assert result.latency_us["p99"] >= result.latency_us["p50"] > 0
    assert sum(c for _, c in result.histogram) > 0
