"""``bench compare`` and ``bench baseline`` end to end (in process): files, exit codes."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from compare_testkit import rows, scenario_text, write_run

from bench.runner.cli import main
from bench.runner.exit_codes import ExitCode


@pytest.fixture
def runs(tmp_path: Path) -> dict[str, Path]:
    return {
        "base": write_run(tmp_path / "base", rows(seed=1)),
        "same": write_run(tmp_path / "same", rows(seed=2)),
        "slow": write_run(tmp_path / "slow", rows(seed=3, slowdown=0.15)),
    }


def test_compare_cli_aa_passes(runs: dict[str, Path], capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["compare", str(runs["base"]), str(runs["same"])]) == 0
    out = capsys.readouterr().out
    assert "no regression" in out and "prefork sync w1 · c=32" in out


def test_compare_cli_ab_fails_and_writes_every_report(
    runs: dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    md, xml, js, page = (tmp_path / f"out.{ext}" for ext in ("md", "xml", "json", "html"))
    code = main(
        [
            "compare", str(runs["base"]), str(runs["slow"]),
            "--markdown", str(md), "--junit", str(xml), "--json", str(js), "--html", str(page),
        ]
    )  # fmt: skip
    assert code == 1
    assert "❌ 8 regressions" in capsys.readouterr().out
    assert md.read_text().startswith("## bench compare: ❌ 8 regressions")
    assert len(ET.parse(xml).getroot().findall(".//failure")) == 8
    assert json.loads(js.read_text())["exit_code"] == 1
    html = page.read_text()
    assert html.count("Plotly.newPlot") >= 7  # overview + one figure per metric
    assert "bench compare: ✗ 8 regressions" in html  # the page has no emoji


def test_compare_cli_json_to_stdout(
    runs: dict[str, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["compare", str(runs["base"]), str(runs["slow"]), "--json"]) == 1
    data = json.loads(capsys.readouterr().out)
    assert data["summary"]["counts"]["regressed"] == 8


def test_compare_cli_thresholds_from_the_command_line(runs: dict[str, Path]) -> None:
    args = ["compare", str(runs["base"]), str(runs["slow"]), "--max-regression", "40%"]
    assert main(args) == 0
    assert main([*args, "--metric", "p99:10%"]) == 1
    assert main(["compare", str(runs["base"]), str(runs["slow"]), "--alpha", "0.0001"]) == 0


def test_compare_cli_gates_from_the_candidate_scenario(
    tmp_path: Path, runs: dict[str, Path]
) -> None:
    gates = "gates: {max_regression: 50%, metrics: {p999: off}}\n"
    cand = write_run(
        tmp_path / "gated", rows(seed=3, slowdown=0.15), text=scenario_text(gates=gates)
    )
    out = tmp_path / "g.json"
    assert main(["compare", str(runs["base"]), str(cand), "--json", str(out)]) == 0
    data = json.loads(out.read_text())
    assert {v["metric"] for v in data["verdicts"]} == {"rps", "p50", "p99", "error_rate", "rss"}
    assert not any("scenario differs" in n for n in data["notes"])  # only gates differ
    # The command line wins over the scenario.
    assert main(["compare", str(runs["base"]), str(cand), "--max-regression", "5%"]) == 1


def test_compare_cli_bad_input_exits_2(
    runs: dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["compare", str(tmp_path / "missing"), str(runs["same"])]) == 2
    err = capsys.readouterr().err
    assert err.startswith("bench: error: ") and err.count("\n") == 1
    other = write_run(tmp_path / "io", rows(scenario="io_bound"), scenario="io_bound")
    assert main(["compare", str(runs["base"]), str(other)]) == 2
    assert "compare runs of one scenario" in capsys.readouterr().err
    assert main(["compare", str(runs["base"]), str(other), "--any-scenario"]) == 0
    bad_gates = write_run(tmp_path / "bad", rows(), text=scenario_text(gates="gates: {alpha: 2}\n"))
    assert main(["compare", str(runs["base"]), str(bad_gates)]) == 2
    assert "gates.alpha" in capsys.readouterr().err
    with pytest.raises(SystemExit) as exc:
        main(["compare", str(runs["base"]), str(runs["same"]), "--metric", "p42:5%"])
    assert exc.value.code == 2


def test_compare_cli_workload_change_is_noted_not_refused(
    tmp_path: Path, runs: dict[str, Path]
) -> None:
    heavier = write_run(
        tmp_path / "heavier", rows(seed=3, slowdown=0.15), text=scenario_text(work=3)
    )
    out = tmp_path / "n.json"
    assert main(["compare", str(runs["base"]), str(heavier), "--json", str(out)]) == 1
    notes = json.loads(out.read_text())["notes"]
    notes = [n for n in notes if not n.startswith("warning:")]  # 3 % noise vs a 5 % threshold
    assert notes == ["the scenario differs from the baseline's in: workload"]


def test_compare_cli_baseline_save_list_and_compare_by_name(
    runs: dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    directory = str(tmp_path / "baselines")
    assert main(["baseline", "save", str(runs["base"]), "main", "--dir", directory]) == 0
    assert "baseline saved" in capsys.readouterr().out
    assert main(["baseline", "list", "--dir", directory]) == 0
    assert "main" in capsys.readouterr().out
    assert main(["compare", "main", str(runs["same"]), "--dir", directory]) == 0
    assert main(["compare", "main", str(runs["slow"]), "--dir", directory]) == 1
    assert main(["baseline", "save", str(tmp_path / "nowhere"), "--dir", directory]) == 2


def test_compare_cli_of_single_repetition_runs_is_inconclusive_not_a_pass(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    base = write_run(tmp_path / "b1", rows(seed=1, reps=1))
    cand = write_run(tmp_path / "c1", rows(seed=2, reps=1))
    md = tmp_path / "out.md"
    code = main(["compare", str(base), str(cand), "--markdown", str(md)])
    assert code == ExitCode.INCONCLUSIVE == 6
    out = " ".join(capsys.readouterr().out.split())
    assert "❔ inconclusive: no gate could decide (12 inconclusive)" in out
    assert "no regression" not in out
    assert md.read_text().startswith("## bench compare: ❔ inconclusive")
    # Accepting it is explicit; --strict fails it as before.
    assert main(["compare", str(base), str(cand), "--allow-inconclusive"]) == ExitCode.OK
    assert "accepted by --allow-inconclusive" in " ".join(capsys.readouterr().out.split())
    assert main(["compare", str(base), str(cand), "--strict"]) == ExitCode.FAILED


def test_compare_cli_strict_and_allow_inconclusive_exclude_each_other(
    runs: dict[str, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exc:
        main(["compare", str(runs["base"]), str(runs["same"]), "--strict", "--allow-inconclusive"])
    assert exc.value.code == ExitCode.USAGE
    assert "not allowed with argument" in capsys.readouterr().err
