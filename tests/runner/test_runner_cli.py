"""``bench run`` end to end: a tiny scenario, a failed cell, Ctrl-C and --resume, errors.

These start real servers (bounded: loopback, sub-second windows) through the real CLI.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pandas as pd
import psutil
import pytest

from bench.runner.exit_codes import ExitCode

REPO = Path(__file__).resolve().parent.parent.parent
pytestmark = pytest.mark.slow

TINY = """
name: tiny
description: two servers and one that cannot start
workload: {{app: hello}}
servers:
  - {{server: eventloop, workers: 1}}
  - {{server: prefork, worker_class: sync, workers: 1}}
  - {{server: eventloop, workers: 1, args: [--no-such-flag], label: broken}}
load: {{concurrency: {concurrency}, duration: 0.5s, warmup: 0.2s, primer: 0.2s}}
repeat: 1
pin: auto
launch: {{ready_timeout: 20s, stop_timeout: 5s}}
"""


def bench(
    *args: str, env: dict[str, str] | None = None, timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bench.runner.cli", *args],
        capture_output=True,
        text=True,
        cwd=REPO,
        env={**os.environ, **(env or {})},
        timeout=timeout,
    )


def only_run_dir(out: Path) -> Path:
    runs = [p for p in out.iterdir() if p.is_dir()]
    assert len(runs) == 1, runs
    return runs[0]


def test_tiny_scenario_end_to_end_with_a_failed_cell(tmp_path: Path) -> None:
    scenario = tmp_path / "tiny.yaml"
    scenario.write_text(TINY.format(concurrency=4))
    out = tmp_path / "results"
    proc = bench("run", str(scenario), "--out", str(out))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "2 of 3 cells measured (1 failed, 0 skipped)" in proc.stdout
    run_dir = only_run_dir(out)
    cells = pd.read_parquet(run_dir / "cells.parquet")
    assert len(cells) == 3
    by_label = {row.label: row for row in cells.itertuples()}
    broken = by_label["broken"]
    assert broken.status.startswith("failed: server exited with code 2 before listening")
    assert pd.isna(broken.requests) and pd.isna(broken.rps)
    for label in ("eventloop w1 uvloop", "prefork sync w1"):
        row = by_label[label]
        assert row.status in ("ok", "engine-bound"), row.status
        assert row.requests > 0 and row.rps > 0 and row.errors == 0
        assert row.p50_us > 0 and row.p99_us >= row.p50_us
        assert row.server_processes >= 1
    manifest = json.loads((run_dir / "manifest.json").read_text())
    assert manifest["status"] == "complete"
    assert manifest["scenario_text"] == scenario.read_text()
    assert manifest["cells_done"] == 3 and manifest["cells_failed"] == 1
    assert manifest["environment"]["python"]["version"]
    hist = pd.read_parquet(run_dir / "histograms")
    assert set(hist["cell_id"]) == {
        by_label[k].cell_id for k in ("eventloop w1 uvloop", "prefork sync w1")
    }
    assert (run_dir / "logs" / f"{broken.cell_id}-r0.log").read_text().strip()
    # The summary table and where the results are.
    assert "prefork sync w1" in proc.stdout
    assert f"{run_dir}" in proc.stdout.replace("\n", "")


def test_a_run_whose_every_cell_failed_exits_nothing_measured(tmp_path: Path) -> None:
    scenario = tmp_path / "broken.yaml"
    scenario.write_text(
        TINY.format(concurrency=4).replace(
            "  - {server: eventloop, workers: 1}\n"
            "  - {server: prefork, worker_class: sync, workers: 1}\n",
            "",
        )
    )
    proc = bench("run", str(scenario), "--out", str(tmp_path / "results"))
    assert proc.returncode == ExitCode.NOTHING_MEASURED == 5, proc.stdout + proc.stderr
    assert "nothing measured: 0 of 1 cell measured (1 failed, 0 skipped)" in proc.stdout


def test_dry_run_lists_cells_and_starts_nothing(tmp_path: Path) -> None:
    scenario = tmp_path / "tiny.yaml"
    scenario.write_text(TINY.format(concurrency="[4, 8]"))
    proc = bench(
        "run", str(scenario), "--dry-run", "--only", "concurrency=8", "--out", str(tmp_path / "r")
    )
    assert proc.returncode == 0, proc.stderr
    assert "3 cells" in proc.stdout
    assert "broken" in proc.stdout
    assert not (tmp_path / "r").exists()


def test_unimportable_app_is_one_line_naming_file_and_path(tmp_path: Path) -> None:
    scenario = tmp_path / "bad.yaml"
    scenario.write_text(
        TINY.format(concurrency=4).replace("{app: hello}", "{app: 'no_such_mod_xyz:app'}")
    )
    proc = bench("run", str(scenario), "--out", str(tmp_path / "r"))
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    assert lines[0].startswith(f"bench: error: {scenario}: at workload.app:")
    assert "no_such_mod_xyz" in lines[0]


def _marked_processes(marker: str) -> list[psutil.Process]:
    found = []
    for proc in psutil.process_iter():
        try:
            if proc.environ().get("BENCH_TEST_MARKER") == marker:
                found.append(proc)
        except psutil.Error:
            continue
    return found


def test_ctrl_c_keeps_finished_cells_and_resume_finishes(tmp_path: Path) -> None:
    scenario = tmp_path / "three.yaml"
    scenario.write_text(
        TINY.format(concurrency="[2, 4, 8]").replace(
            "  - {server: prefork, worker_class: sync, workers: 1}\n"
            "  - {server: eventloop, workers: 1, args: [--no-such-flag], label: broken}\n",
            "",
        )
    )
    out = tmp_path / "results"
    marker = uuid.uuid4().hex
    env = {**os.environ, "BENCH_TEST_MARKER": marker}
    proc = subprocess.Popen(
        [sys.executable, "-m", "bench.runner.cli", "run", str(scenario), "--out", str(out)],
        cwd=REPO,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        process_group=0,
    )
    try:
        deadline = time.monotonic() + 60
        while not list(out.glob("*/cells.parquet")):
            assert proc.poll() is None, proc.stdout.read() if proc.stdout else ""
            assert time.monotonic() < deadline, "no cell finished in time"
            time.sleep(0.05)
        os.killpg(proc.pid, signal.SIGINT)  # what Ctrl-C does: the whole foreground group
        output, _ = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    assert proc.returncode == 130, output
    run_dir = only_run_dir(out)
    assert "--resume" in output
    manifest = json.loads((run_dir / "manifest.json").read_text())
    assert manifest["status"] == "interrupted"
    kept = pd.read_parquet(run_dir / "cells.parquet")
    assert 1 <= len(kept) < 3
    assert (kept["status"] == "ok").all() or kept["status"].isin(["ok", "engine-bound"]).all()
    assert _marked_processes(marker) == []  # nothing left behind

    resumed = bench("run", "--resume", str(run_dir))
    assert resumed.returncode == 0, resumed.stdout + resumed.stderr
    cells = pd.read_parquet(run_dir / "cells.parquet")
    assert len(cells) == 3
    assert sorted(cells["concurrency"].tolist()) == [2, 4, 8]
    assert cells.iloc[: len(kept)]["started_at"].tolist() == kept["started_at"].tolist()
    manifest = json.loads((run_dir / "manifest.json").read_text())
    assert manifest["status"] == "complete"
    assert len(manifest["resumed_at"]) == 1
