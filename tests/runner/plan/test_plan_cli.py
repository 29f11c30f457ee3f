"""``bench plan`` through the real CLI dispatcher."""

from __future__ import annotations

import json

import pytest
from plan_testkit import Point, write_run

from bench.runner.cli import main


@pytest.fixture
def run(tmp_path):
    points = [
        Point("prefork", 1, 8, 150.0, 40.0, worker_class="thread", threads=8),
        Point("prefork", 1, 32, 160.0, 230.0, worker_class="thread", threads=8),
        Point("eventloop", 1, 8, 160.0, 52.0),
        Point("eventloop", 1, 32, 620.0, 57.0),
    ]
    return write_run(tmp_path / "run", points)


def test_plan_writes_both_reports_and_prints_the_recommendation(run, capsys):
    code = main([
        "plan", str(run), "--slo", "p99<=250ms", "--slo", "error_rate<=0.1%",
        "--target-rps", "2000", "--headroom", "30%",
    ])  # fmt: skip
    out = capsys.readouterr().out
    assert code == 0
    assert (run / "plan.md").exists() and (run / "plan.html").exists()
    lines = out.strip().splitlines()
    # 2000 / (620 × 0.7) = 4.6 → 5 instances; prefork thread: 2000 / 112 → 18
    assert lines[0].startswith("eventloop w1 sustains 620 req/s within p99 ≤ 250 ms")
    assert (
        "needs 5 instances" in lines[0]
        and "Runner-up: prefork thread w1×t8 (18 instances)" in lines[0]
    )
    assert lines[1] == f"plan: {run / 'plan.md'}"
    assert lines[2] == f"plan: {run / 'plan.html'}"


def test_out_folder_and_scenario_slo(run, tmp_path, capsys):
    out_dir = tmp_path / "elsewhere"
    assert main(["plan", str(run), "-o", str(out_dir)]) == 0  # the scenario's p99: 100ms
    assert (out_dir / "plan.md").exists() and not (run / "plan.md").exists()
    assert "within p99 ≤ 100 ms" in capsys.readouterr().out


@pytest.mark.parametrize(
    "args, message",
    [
        (["--slo", "p95<=1s"], "unknown key 'p95'"),
        (["--slo", "errors<=1%"], "needs a latency limit"),
    ],
)
def test_errors_are_one_line(run, capsys, args, message):
    assert main(["plan", str(run), *args]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and message in err and err.startswith("bench: error:")


def test_missing_run_folder(tmp_path, capsys):
    assert main(["plan", str(tmp_path / "nope"), "--slo", "p99<=1s"]) == 2
    assert "no such run folder" in capsys.readouterr().err


def test_scenario_without_slo_needs_one(run, capsys):
    manifest = json.loads((run / "manifest.json").read_text())
    manifest["scenario_text"] = "name: synthetic\n"
    (run / "manifest.json").write_text(json.dumps(manifest))
    assert main(["plan", str(run)]) == 2
    assert "give one, e.g. --slo" in capsys.readouterr().err


@pytest.mark.parametrize(
    "args", [["--headroom", "100%"], ["--target-rps", "-5"], ["--target-rps", "lots"]]
)
def test_bad_numbers_are_usage_errors(run, capsys, args):
    with pytest.raises(SystemExit) as exc:
        main(["plan", str(run), "--slo", "p99<=1s", *args])
    assert exc.value.code == 2
    assert "bench plan: error:" in capsys.readouterr().err
