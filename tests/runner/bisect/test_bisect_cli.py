"""``bench bisect`` end to end over a synthetic history, and its bad-input lines."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
from bisect_repo import SCENARIO, make_history

from bench.runner.cli import main
from bench.runner.exit_codes import ExitCode


@pytest.fixture(scope="module")
def history(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, str]]:
    root = tmp_path_factory.mktemp("history") / "repo"
    return root, make_history(root)


@pytest.mark.slow
@pytest.mark.timeout(900)  # about ten short bench runs: GOOD again before every probe
def test_bisect_names_the_commit_that_slowed_the_cpu_app(
    history: tuple[Path, dict[str, str]], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    repo, shas = history
    out = tmp_path / "bisect"
    code = main(
        ["bisect", shas["base"], shas["head"], str(repo / SCENARIO), "--repo", str(repo),
         "--build", "none", "--out", str(out), "--max-tries", "3"]
    )  # fmt: skip
    printed = capsys.readouterr().out
    report = json.loads((out / "bisect.json").read_text())
    assert code == ExitCode.OK, printed
    assert report["first_bad"]["sha"] == shas["slow"], printed
    assert "first bad commit: " in printed and "twice the work" in printed
    marks = {s["commit"]["sha"]: s["mark"] for s in report["steps"]}
    assert marks.get(shas["broken"], "skip") == "skip"  # a failed build is skipped, never bad
    assert marks[shas["head"]] == "bad"
    for step in report["steps"]:
        if step["mark"] in ("good", "bad") and step["commit"]["sha"] != shas["base"]:
            assert Path(step["run"], "cells.parquet").is_file()
            assert Path(step["baseline"], "cells.parquet").is_file()  # GOOD, re-measured
    table = (out / "bisect.md").read_text()
    assert table.startswith("## bench bisect: first bad commit:")
    assert "| step | commit |" in table and "report.html" in table
    # Every worktree is gone; only the repository's own remains.
    listed = subprocess.run(
        ["git", "-C", str(repo), "worktree", "list"], capture_output=True, text=True, check=True
    ).stdout
    assert len(listed.strip().splitlines()) == 1


def test_bisect_bad_input_is_one_line(
    history: tuple[Path, dict[str, str]], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    repo, shas = history
    scenario = str(repo / SCENARIO)
    cases = [
        (["bisect", "a", "b", scenario, "--repo", str(tmp_path)], "not a git repository"),
        (["bisect", "nope", shas["head"], scenario, "--repo", str(repo)], "nope: unknown commit"),
        (["bisect", shas["head"], shas["base"], scenario, "--repo", str(repo)], "not an ancestor"),
        (["bisect", shas["base"], shas["base"], scenario, "--repo", str(repo)], "same commit"),
        (
            ["bisect", shas["base"], shas["head"], str(tmp_path / "x.yaml"), "--repo", str(repo)],
            "no such scenario file",
        ),
    ]
    for argv, message in cases:
        assert main([*argv, "--out", str(tmp_path / "o")]) == ExitCode.USAGE, argv
        err = capsys.readouterr().err
        assert message in err and len(err.strip().splitlines()) == 1, err


def test_bisect_a_scenario_that_fails_on_good_is_bad_input(
    history: tuple[Path, dict[str, str]], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    repo, shas = history
    broken = tmp_path / "broken.yaml"  # outside the repository: used as is at every commit
    broken.write_text(
        "name: broken\nworkload: {app: cpu}\nservers:\n  - {server: eventloop, workers: 1}\n"
        "load: {mode: closed, concurrency: [1], duration: 0.2s, warmup: 0s}\n"
        "repeat: 1\nload_nonsense: 1\n"
    )
    code = main(
        ["bisect", shas["base"], shas["head"], str(broken), "--repo", str(repo),
         "--build", "none", "--out", str(tmp_path / "o")]
    )  # fmt: skip
    err = capsys.readouterr().err
    assert code == ExitCode.USAGE
    assert "the scenario fails on GOOD" in err and len(err.strip().splitlines()) == 1
