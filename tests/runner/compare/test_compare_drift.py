"""Machine drift: fingerprint differences, the reference workload, the normalized comparison."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from compare_testkit import rows, write_run

from bench.runner.cli import main
from bench.runner.compare.drift import assess, describe, normalize

FP = {"machine": "aaaa", "cpu.model": "EPYC", "cpu.logical": "2", "kernel": "6.1", "python": "3.11"}


def reference(cpu_ns: float, rtt_us: float = 20.0, version: int = 1) -> dict[str, Any]:
    return {
        "version": version,
        "cpu": {"value": cpu_ns * 1.1, "best": cpu_ns, "spread": 0.1},
        "loopback": {"value": rtt_us, "best": rtt_us, "spread": 0.2},
    }


def manifest(fp: dict[str, str], ref: dict[str, Any] | None) -> dict[str, Any]:
    return {"fingerprint": fp, "reference": ref}


def test_compare_drift_same_machine_same_speed_says_nothing() -> None:
    drift = assess(manifest(FP, reference(50)), manifest(FP, reference(51)))
    assert drift.diff == () and not drift.other_machine and not drift.reference_moved
    assert not drift.needs_normalizing and describe(drift) == []
    assert drift.cpu_ratio == pytest.approx(1.02)


def test_compare_drift_other_machine_and_package_change_are_listed() -> None:
    other = {**FP, "machine": "bbbb", "cpu.model": "Xeon", "package.uvloop": "0.21"}
    drift = assess(manifest(FP, reference(50)), manifest(other, reference(60)))
    keys = [k for k, _, _ in drift.diff]
    assert keys == ["cpu.model", "machine", "package.uvloop"]
    assert drift.other_machine and drift.reference_moved and drift.needs_normalizing
    notes = describe(drift)
    assert notes[0] == "baseline and candidate ran on different machines"
    assert "environment cpu.model: baseline EPYC → candidate Xeon" in notes
    assert "environment package.uvloop: baseline — → candidate 0.21" in notes
    assert any(n.startswith("CPU reference +20.0%") and "slower" in n for n in notes)


def test_compare_drift_old_runs_and_other_reference_versions_are_not_compared() -> None:
    drift = assess({}, manifest(FP, reference(50)))
    assert drift.cpu_ratio is None and not drift.needs_normalizing
    assert drift.missing == ("baseline has no fingerprint", "baseline has no reference")
    assert (
        assess(manifest(FP, reference(50)), manifest(FP, reference(80, version=2))).cpu_ratio
        is None
    )


def test_compare_drift_normalize_scales_throughput_and_latency_only() -> None:
    table = rows(seed=1)
    out = normalize(table, 1.25)
    assert out["rps"].tolist() == pytest.approx((table["rps"] * 1.25).tolist())
    assert out["p99_us"].tolist() == pytest.approx((table["p99_us"] / 1.25).tolist())
    assert out["server_rss_peak_bytes"].tolist() == table["server_rss_peak_bytes"].tolist()
    assert table["rps"].tolist() != out["rps"].tolist()  # the input is not modified


def test_compare_cli_shows_the_normalized_comparison_beside_the_raw_one(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # The candidate ran on a machine 20 % slower (its reference says so) and is 20 % slower:
    # raw, that is a regression; normalized, nothing changed.
    other = {**FP, "machine": "bbbb"}
    base = write_run(tmp_path / "b", rows(seed=1), extra=manifest(FP, reference(50)))
    cand = write_run(
        tmp_path / "c", rows(seed=2, slowdown=0.2), extra=manifest(other, reference(60))
    )
    assert main(["compare", str(base), str(cand), "--json"]) == 1
    notes = json.loads(capsys.readouterr().out)["notes"]
    assert "baseline and candidate ran on different machines" in notes
    normalized = next(n for n in notes if n.startswith("normalized to the CPU reference"))
    assert "× 1.200" in normalized and "✅ no regression" in normalized
    assert "--normalize lets it decide" in normalized
    assert main(["compare", str(base), str(cand), "--normalize", "--json"]) == 0
    capsys.readouterr()
    # Same machine, same reference: no note, and --normalize says the raw one decides.
    same = write_run(tmp_path / "s", rows(seed=3), extra=manifest(FP, reference(50)))
    assert main(["compare", str(base), str(same), "--normalize", "--json"]) == 0
    notes = json.loads(capsys.readouterr().out)["notes"]
    notes = [n for n in notes if not n.startswith("warning:")]  # 3 % noise vs a 5 % threshold
    assert notes == ["--normalize: the machines and references agree; the raw comparison decides"]
