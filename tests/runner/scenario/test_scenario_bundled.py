"""Scenario arguments: a path, or the name of a bundled scenario; workload.app_dir."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from bench.runner.cli import main
from bench.runner.errors import ScenarioError
from bench.runner.scenario.bundled import bundled_dir, bundled_scenarios, resolve_scenario
from bench.runner.scenario.model import load_scenario, parse_scenario

REPO_SCENARIOS = Path(__file__).resolve().parents[3] / "scenarios"


def test_every_repository_scenario_is_bundled_with_its_description() -> None:
    bundled = {s.name: s for s in bundled_scenarios()}
    assert set(bundled) == {p.stem for p in REPO_SCENARIOS.glob("*.yaml")}
    assert "smoke run" in bundled["quick"].description
    assert all(s.path.is_file() for s in bundled.values())


@pytest.mark.parametrize("arg", ["quick", "quick.yaml"])
def test_a_name_finds_the_bundled_file_from_any_folder(
    arg: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    assert resolve_scenario(arg) == bundled_dir() / "quick.yaml"
    assert load_scenario(arg).name == "quick"


def test_a_file_in_the_current_folder_wins_over_a_bundled_name(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    mine = (REPO_SCENARIOS / "quick.yaml").read_text().replace("name: quick", "name: mine")
    Path("quick.yaml").write_text(mine)
    assert resolve_scenario("quick.yaml") == Path("quick.yaml")
    assert load_scenario("quick.yaml").name == "mine"


def test_an_unknown_name_lists_the_bundled_ones(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    assert resolve_scenario("nope") == Path("nope")
    with pytest.raises(ScenarioError) as err:
        load_scenario("nope")
    message = str(err.value)
    assert "\n" not in message
    assert message.startswith("nope: no such scenario file")
    assert "quick" in message and "bench scenarios" in message


def test_bench_scenarios_lists_names_and_paths(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["scenarios", "--paths"]) == 0
    out = capsys.readouterr().out
    for scenario in bundled_scenarios():
        assert scenario.name in out
    assert "quick.yaml" in out
    assert "bench run quick" in out


def test_bench_run_takes_a_bundled_name(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    assert main(["run", "quick", "--dry-run"]) == 0
    assert "4 cell" in capsys.readouterr().out


SCENARIO = """
name: mine
workload: {{app: "myapp:app", app_dir: {app_dir}}}
servers: [{{server: eventloop}}]
load: {{concurrency: 1, duration: 1s}}
"""


def test_app_dir_is_relative_to_the_scenario_file(tmp_path: Path) -> None:
    (tmp_path / "src").mkdir()
    source = tmp_path / "conf" / "mine.yaml"
    source.parent.mkdir()
    scenario = parse_scenario(SCENARIO.format(app_dir="../src"), str(source))
    assert scenario.workload.app_dir == str((tmp_path / "src").resolve())
    env = scenario.workload.search_path("/elsewhere")
    assert env == {"PYTHONPATH": os.pathsep.join([str((tmp_path / "src").resolve()), "/elsewhere"])}


def test_no_app_dir_leaves_the_search_path_alone(tmp_path: Path) -> None:
    text = SCENARIO.format(app_dir="null")
    assert parse_scenario(text, str(tmp_path / "s.yaml")).workload.search_path("/x") == {}


def test_a_missing_app_dir_is_one_line_with_its_yaml_path(tmp_path: Path) -> None:
    source = tmp_path / "mine.yaml"
    with pytest.raises(ScenarioError) as err:
        parse_scenario(SCENARIO.format(app_dir="nowhere"), str(source))
    message = str(err.value)
    assert "\n" not in message
    assert "workload.app_dir" in message and "is not a folder" in message
