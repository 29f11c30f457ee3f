"""The scenario schema: shipped scenarios load; bad ones give one precise line each.

Bad scenarios are data: ``tests/runner/scenario/scenarios/bad_*.yaml``, each starting with a
comment ``# error: <text the message must contain>``.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from bench.runner.errors import ScenarioError
from bench.runner.scenario.model import Scenario, load_scenario, parse_scenario
from bench.runner.units import format_cpus, parse_cpus, parse_duration, parse_fraction

HERE = Path(__file__).parent
FIXTURES = HERE / "scenarios"
SHIPPED = HERE.parents[2] / "scenarios"
BAD = sorted(FIXTURES.glob("bad_*.yaml"))


def _expected(path: Path) -> str:
    first = path.read_text().splitlines()[0]
    assert first.startswith("# error: "), f"{path.name} must start with '# error: ...'"
    return first.removeprefix("# error: ")


@pytest.mark.parametrize("path", BAD, ids=[p.stem for p in BAD])
def test_bad_scenario_gives_one_line_naming_file_path_and_allowed(path: Path) -> None:
    with pytest.raises(ScenarioError) as info:
        load_scenario(path)
    message = str(info.value)
    assert message.startswith(str(path)), message
    assert _expected(path) in message
    assert "\n" not in message
    assert "Traceback" not in message


def test_there_are_bad_fixtures() -> None:
    assert len(BAD) >= 10


@pytest.mark.parametrize("path", sorted(SHIPPED.glob("*.yaml")), ids=lambda p: p.stem)
def test_shipped_scenarios_load(path: Path) -> None:
    scenario = load_scenario(path)
    assert scenario.name == path.stem
    assert scenario.description


def test_good_fixture_uses_every_field() -> None:
    scenario = load_scenario(FIXTURES / "good_full.yaml")
    assert isinstance(scenario, Scenario)
    assert scenario.load.rate == (100.0, 500.5)
    assert scenario.load.duration == 1.5
    assert scenario.load.warmup == 0.5
    assert scenario.slo is not None and scenario.slo.error_rate == pytest.approx(0.001)
    assert scenario.pin.server == (0,) and scenario.pin.engine == (1,)  # type: ignore[union-attr]
    assert scenario.workload.env() == {"BENCH_APP_ITEMS": "10"}
    prefork = scenario.servers[0]
    assert prefork.worker_class == ("sync", "thread")  # type: ignore[union-attr]
    assert prefork.args == ("--keep-alive", "2")


def test_missing_file_is_one_line() -> None:
    with pytest.raises(ScenarioError, match=r"nope\.yaml: no such scenario file"):
        load_scenario(FIXTURES / "nope.yaml")


def test_scalar_axis_becomes_a_list_of_one() -> None:
    text = "name: s\nworkload: {app: hello}\nservers: [{server: prefork, workers: 3}]\nload: {concurrency: 4}\n"
    scenario = parse_scenario(text, "s.yaml")
    assert scenario.servers[0].workers == (3,)
    assert scenario.load.concurrency == (4,)


def test_params_only_for_bundled_apps() -> None:
    text = (
        "name: s\nworkload: {app: 'mypkg.app:application', params: {x: 1}}\n"
        "servers: [{server: eventloop}]\nload: {concurrency: 4}\n"
    )
    with pytest.raises(ScenarioError, match=r"at workload: params are for bundled apps"):
        parse_scenario(text, "s.yaml")


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("2s", 2.0), ("500ms", 0.5), ("1.5m", 90.0), ("250us", 0.00025), (3, 3.0), ("1h", 3600.0)],
)
def test_parse_duration(text: object, seconds: float) -> None:
    assert parse_duration(text) == pytest.approx(seconds)


@pytest.mark.parametrize("bad", ["2 parsecs", "", "-1s", True, None, [1]])
def test_parse_duration_rejects(bad: object) -> None:
    with pytest.raises(ValueError):
        parse_duration(bad)


@pytest.mark.parametrize(("text", "fraction"), [("0.1%", 0.001), (0.05, 0.05), ("1", 1.0)])
def test_parse_fraction(text: object, fraction: float) -> None:
    assert parse_fraction(text) == pytest.approx(fraction)


def test_cpus_round_trip() -> None:
    assert parse_cpus("0-3,6") == (0, 1, 2, 3, 6)
    assert parse_cpus([2, "0"]) == (0, 2)
    assert format_cpus((0, 1, 2, 3, 6)) == "0-3,6"
    assert format_cpus(None) == ""
    with pytest.raises(ValueError):
        parse_cpus("3-1")
