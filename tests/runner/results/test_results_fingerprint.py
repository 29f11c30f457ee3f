"""The environment fingerprint: flat strings, the facts a benchmark depends on."""

from __future__ import annotations

from pathlib import Path

import pytest

from bench.runner.results import fingerprint as fp
from bench.runner.results.manifest import collect_environment, new_manifest


def test_results_fingerprint_flattens_the_environment_and_pinning() -> None:
    env = {
        "cpu": {"model": "EPYC", "logical": 2, "available": [0, 1]},
        "python": {"implementation": "CPython", "version": "3.11.7"},
        "packages": {"uvloop": "0.21", "numpy": "2.0"},
    }
    out = fp.fingerprint(env, {"mode": "auto", "server_cpus": "0", "note": "text"})
    assert out["cpu.model"] == "EPYC" and out["cpu.logical"] == "2"
    assert out["cpu.available"] == "0,1" and out["python"] == "CPython 3.11.7"
    assert out["pinning"] == "mode=auto server_cpus=0"  # the note is prose, left out
    assert out["package.numpy"] == "2.0" and out["package.uvloop"] == "0.21"
    assert len(out["machine"]) == 12 and out["machine"] == fp.machine_id()
    assert all(isinstance(v, str) for v in out.values())
    assert fp.fingerprint({}, None)["cpu.model"] == fp.UNKNOWN


def test_results_fingerprint_reads_cpufreq_where_shown(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "scaling_governor").write_text("performance\n")
    (tmp_path / "scaling_cur_freq").write_text("2400000\n")
    monkeypatch.setattr(fp, "CPUFREQ", tmp_path)
    got = fp.cpu_frequency()
    assert got == {
        "cpu.governor": "performance",
        "cpu.freq_cur": "2400 MHz",
        "cpu.freq_max": fp.UNKNOWN,  # not shown: unknown, not guessed
    }


def test_results_manifest_records_the_fingerprint() -> None:
    manifest = new_manifest(
        run_id="r", scenario_name="s", scenario_path="s.yaml", scenario_text="",
        options={}, pinning={"mode": "none"}, planned=1, skipped=[],
    )  # fmt: skip
    assert manifest["fingerprint"]["pinning"] == "mode=none"
    assert manifest["fingerprint"]["cpu.model"] == collect_environment()["cpu"]["model"]
