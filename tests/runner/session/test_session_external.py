"""External targets: a scenario server entry ``{url: ..., label: ...}`` bench does not start."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd
import pytest
import trustme

from bench.runner.cli import main
from bench.runner.engines.native.testing import Behaviour, serve
from bench.runner.errors import ScenarioError
from bench.runner.exit_codes import ExitCode
from bench.runner.matrix.cells import expand
from bench.runner.scenario.model import parse_scenario
from bench.runner.session.external import NOT_LAUNCHED_NOTE, UNVERIFIED_NOTE

SCENARIO = """
name: staging
description: a server bench did not start
workload: {{app: hello}}
servers:
  - {{url: "{url}", label: staging{extra}}}
load:
  concurrency: 2
  processes: 1
  duration: 0.5s
  warmup: 0s
  primer: 0.2s
repeat: 1
pin: none
launch: {{ready_timeout: 10s, stop_timeout: 5s}}
"""


def test_an_entry_with_a_url_is_an_external_cell() -> None:
    scenario = parse_scenario(SCENARIO.format(url="https://10.0.0.9:8443/api", extra=""))
    (cell,) = expand(scenario)
    assert cell.server.server == "external" and cell.server.is_external
    assert cell.server.url == "https://10.0.0.9:8443/api" and cell.server.tls_verify is True
    assert cell.server.describe() == "staging"
    unverified = SCENARIO.format(url="https://10.0.0.9/", extra=", tls_verify: false")
    assert expand(parse_scenario(unverified))[0].server.tls_verify is False


def test_cell_ids_of_launched_servers_do_not_change() -> None:
    import hashlib
    import json
    from dataclasses import asdict

    text = SCENARIO.replace('{{url: "{url}", label: staging{extra}}}', "{{server: eventloop}}")
    (cell,) = expand(parse_scenario(text.format()))
    old_fields = {k: v for k, v in asdict(cell.server).items() if k not in ("url", "tls_verify")}
    payload = json.dumps([old_fields, asdict(cell.load)], sort_keys=True)
    assert cell.cell_id == hashlib.sha1(payload.encode()).hexdigest()[:10]


@pytest.mark.parametrize("url", ["ftp://host/", "https:///nohost", "http://host:99999/"])
def test_a_bad_url_is_one_line_naming_the_entry(url: str) -> None:
    with pytest.raises(ScenarioError) as info:
        parse_scenario(SCENARIO.format(url=url, extra=""), "s.yaml")
    message = str(info.value)
    assert "servers" in message and "\n" not in message


@pytest.mark.slow
def test_a_run_measures_the_external_url_without_launching(tmp_path: Path) -> None:
    path = tmp_path / "staging.yaml"
    with serve(Behaviour(delay_ms=1.0)) as url:
        path.write_text(SCENARIO.format(url=url + "/", extra=""))
        code = main(["run", str(path), "--out", str(tmp_path / "results")])
    assert code == ExitCode.OK
    (run_dir,) = (tmp_path / "results").iterdir()
    row = pd.read_parquet(run_dir / "cells.parquet").iloc[0]
    assert row["status"] in ("ok", "engine-bound") and row["requests"] > 0
    assert row["server"] == "external" and row["server_kind"] == "external"
    assert row["label"] == "staging"
    assert pd.isna(row["server_cpu_s"]) and pd.isna(row["server_rss_peak_bytes"])
    assert NOT_LAUNCHED_NOTE in row["notes"]
    # bench plan plans from it, saying what it could not measure (never "0 CPU-s").
    assert main(["plan", str(run_dir), "--slo", "p99<=1s"]) == ExitCode.OK
    plan = (run_dir / "plan.md").read_text()
    line = next(x for x in plan.splitlines() if x.startswith("| staging |"))
    assert "CPU-s" not in line
    assert "**external**: staging: a server bench did not start" in plan


@pytest.fixture(scope="module")
def tls(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    folder = tmp_path_factory.mktemp("tls")
    cert = trustme.CA().issue_cert("127.0.0.1")
    certfile, keyfile = folder / "cert.pem", folder / "key.pem"
    cert.private_key_and_cert_chain_pem.write_to_path(str(certfile))
    cert.private_key_pem.write_to_path(str(keyfile))
    return certfile, keyfile


@pytest.mark.slow
@pytest.mark.parametrize("verify", [True, False])
def test_tls_is_verified_unless_the_entry_opts_out(
    serve: Any, tls: tuple[Path, Path], tmp_path: Path, verify: bool
) -> None:
    certfile, keyfile = tls
    path = tmp_path / "staging.yaml"
    extra = "" if verify else ", tls_verify: false"
    with serve(
        "eventloop", "hello", "--ssl-certfile", str(certfile), "--ssl-keyfile", str(keyfile)
    ) as url:
        path.write_text(SCENARIO.format(url=url + "/", extra=extra))
        main(["run", str(path), "--out", str(tmp_path / "results")])
    (run_dir,) = (tmp_path / "results").iterdir()
    row = pd.read_parquet(run_dir / "cells.parquet").iloc[0]
    if verify:  # a throw-away CA nobody trusts: refused before any load, with the fix
        assert row["status"].startswith("failed: external target https://")
        assert "CERTIFICATE_VERIFY_FAILED" in row["status"] and "tls_verify: false" in row["status"]
    else:
        assert row["status"] in ("ok", "engine-bound") and row["requests"] > 0
        assert UNVERIFIED_NOTE in row["notes"]


def test_the_plan_states_that_an_external_target_was_not_sampled() -> None:
    from bench.runner.plan.limits import external_limit

    cells = pd.DataFrame(
        {"server_kind": ["external", "bundled"], "label": ["staging", "eventloop w1 uvloop"]}
    )
    limit = external_limit(cells)
    assert limit is not None and limit.kind == "external"
    assert limit.text.startswith("staging: a server bench did not start")
    assert external_limit(cells[cells["server_kind"] == "bundled"]) is None
