"""Calibration: noise per metric on an A/A run, what a gate needs, and the command."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from compare_testkit import rows, write_run

from bench.runner.cli import main
from bench.runner.compare.calibrate import calibrate, recommendation, split_false_alarms
from bench.runner.errors import UsageError
from bench.runner.exit_codes import ExitCode
from bench.runner.scenario.gates import Gates


def test_compare_calibrate_measures_noise_and_what_a_gate_needs() -> None:
    quiet = calibrate(rows(seed=1, reps=12, noise=0.02), Gates(), per_side=8)
    noisy = calibrate(rows(seed=1, reps=12, noise=0.15), Gates(), per_side=8)
    assert {m.metric for m in quiet.metrics} == {"rps", "p50", "p99", "p999", "rss"}
    assert quiet.family == 10  # 2 cells × 5 relative metrics
    assert quiet.level == pytest.approx(0.008 / 10)
    for q, n in zip(quiet.metrics, noisy.metrics, strict=True):
        assert 0.004 < q.noise < 0.04 and 0.05 < n.noise < 0.3
        assert n.noise == pytest.approx(q.noise * 7.5)  # same draws, 7.5× the noise
        assert q.smallest < n.smallest
        assert q.needed is not None and (n.needed is None or n.needed > q.needed)
    worst = quiet.worst()
    assert worst is not None and worst.smallest < 0.10
    # The A/A check: even vs odd repetitions of the same code.
    assert quiet.aa_summary is not None and quiet.aa_summary.counts["regressed"] == 0
    assert "repetitions per side" in recommendation(quiet)


def test_compare_calibrate_needs_repetitions() -> None:
    with pytest.raises(UsageError, match="no cell has two measured repetitions"):
        calibrate(rows(reps=1), Gates(), per_side=5)


def test_calibrate_cli_reads_a_run_folder(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    run = write_run(tmp_path / "aa", rows(seed=3, reps=10, noise=0.05))
    assert main(["calibrate", str(run), "--json", "--per-side", "8"]) == ExitCode.OK
    data = json.loads(capsys.readouterr().out)
    assert data["per_side"] == 8 and len(data["metrics"]) == 10
    assert all(0.01 < m["noise"] < 0.12 for m in data["metrics"])
    assert data["aa"]["exit_code"] in (0, 6)
    assert main(["calibrate", str(run)]) == ExitCode.OK
    out = capsys.readouterr().out
    assert "run-to-run noise" in out and "A/A (even vs odd repetitions" in out
    one = write_run(tmp_path / "one", rows(seed=3, reps=1))
    assert main(["calibrate", str(one)]) == ExitCode.NOTHING_MEASURED
    assert "no noise to measure" in capsys.readouterr().err
    assert main(["calibrate", str(tmp_path / "missing.yaml")]) == ExitCode.USAGE
    assert main(["calibrate", str(run), "--repeat", "2"]) == ExitCode.USAGE


def test_compare_calibrate_random_halves_of_an_aa_run_rarely_alarm() -> None:
    table = rows(seed=5, reps=12, noise=0.05)
    rate, splits = split_false_alarms(table, Gates(), splits=60)
    assert splits == 60 and rate < 0.1
    assert split_false_alarms(rows(reps=3), Gates())[1] == 0
