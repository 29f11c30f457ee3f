"""What a comparison needs beyond the tables: are the sides comparable, which gates apply."""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError

from bench.runner.compare.baseline import Side
from bench.runner.errors import UsageError
from bench.runner.scenario.gates import Gates

#: The scenario section holding gates.
GATES_KEY = "gates"


def describe_side(side: Side) -> str:
    """``main (a1b2c3d)`` — the name, and the commit the run was made at when known."""
    sha = side.git_sha
    if sha:
        short = sha[:7] + ("-dirty" if sha.endswith("-dirty") else "")
        return f"{side.name} ({short})"
    return side.name


def scenario_gates(side: Side) -> Gates | None:
    """The ``gates:`` section of the side's scenario, or None when it has none.

    Raises:
        UsageError: the section does not validate (one line, naming the field).
    """
    data = side.scenario_data().get(GATES_KEY)
    if data is None:
        return None
    try:
        return Gates.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first.get("loc", ()))
        where = f"{GATES_KEY}.{where}" if where else GATES_KEY
        raise UsageError(f"{side.source}: scenario {where}: {first.get('msg')}") from None


def _without_gates(data: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in data.items() if k != GATES_KEY}


def check_comparable(baseline: Side, candidate: Side, *, any_scenario: bool = False) -> list[str]:
    """Notes about the pair; raise UsageError when they measure different scenarios.

    Raises:
        UsageError: the scenario names differ (unless ``any_scenario``).
    """
    notes: list[str] = []
    b, c = baseline.scenario, candidate.scenario
    if b and c and b != c:
        if not any_scenario:
            raise UsageError(
                f"the baseline is scenario {b!r} and the candidate {c!r}; compare runs of one "
                "scenario (or pass --any-scenario)"
            )
        notes.append(f"scenarios differ: baseline {b!r}, candidate {c!r}")
    b_data, c_data = baseline.scenario_data(), candidate.scenario_data()
    if b_data and c_data and _without_gates(b_data) != _without_gates(c_data):
        changed = sorted(
            k
            for k in set(b_data) | set(c_data)
            if k != GATES_KEY and b_data.get(k) != c_data.get(k)
        )
        notes.append(f"the scenario differs from the baseline's in: {', '.join(changed)}")
    return notes
