"""The differential profile of a comparison (pure, on plain shares and small run folders)."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from bench.runner.compare.judge import Verdict
from bench.runner.compare.profile_diff import (
    diff_lines,
    diff_markdown,
    differential,
    merge,
    profile_diffs,
)
from bench.runner.results.profile import FunctionShare, Profile, top_to_json
from bench.runner.results.schema import CELL_COLUMNS, frame


def test_differential_ranks_growth_and_shrinkage_and_drops_noise() -> None:
    base = {"burn": 0.75, "send": 0.20, "parse": 0.05}
    cand = {"burn": 0.50, "send": 0.18, "parse": 0.048, "audit": 0.27}
    grew, shrank = differential(base, cand)
    assert [d.function for d in grew] == ["audit"]
    assert grew[0].delta == pytest.approx(0.27) and grew[0].baseline == 0.0
    assert [d.function for d in shrank] == ["burn", "send"]  # parse moved < 0.5 pp
    assert differential({"a": 0.5}, {"a": 0.5}) == ([], [])


def test_merge_adds_the_repetitions_stacks() -> None:
    a = Profile({("m", "f"): 1.0}, samples=1)
    b = Profile({("m", "f"): 2.0, ("m", "g"): 1.0}, samples=3)
    merged = merge([a, b])
    assert merged.stacks == {("m", "f"): 3.0, ("m", "g"): 1.0} and merged.samples == 4


def _speedscope(path: Path, leaf_weights: dict[str, int]) -> None:
    frames = [{"name": "main", "file": "/app/main.py", "line": 1}]
    samples = []
    for name, count in leaf_weights.items():
        frames.append({"name": name, "file": "/app/work.py", "line": 2})
        samples += [[0, len(frames) - 1]] * count
    doc = {
        "shared": {"frames": frames},
        "profiles": [{"type": "sampled", "samples": samples, "weights": [0.01] * len(samples)}],
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(doc), encoding="utf-8")


def _cells(run_dir: Path | None, leaves: dict[str, int]) -> pd.DataFrame:
    rows = []
    for rep in range(2):
        rel = f"profiles/c1-r{rep}.speedscope.json"
        if run_dir is not None:
            _speedscope(run_dir / rel, leaves)
        total = sum(leaves.values())
        top = [FunctionShare(f"{n} (work.py)", c / total, c / total) for n, c in leaves.items()]
        rows.append(
            {
                "cell_id": "c1",
                "cell_index": 0,
                "repetition": rep,
                "server": "prefork",
                "worker_class": "sync",
                "workers": 2,
                "mode": "closed",
                "concurrency": 8,
                "status": "ok",
                "label": "prefork sync w2",
                "profile_speedscope": rel,
                "profile_top": top_to_json(top),
            }
        )
    return frame(rows, CELL_COLUMNS)


def test_a_regression_names_the_function_that_grew(tmp_path: Path) -> None:
    base_dir, cand_dir = tmp_path / "base", tmp_path / "cand"
    base = _cells(base_dir, {"burn": 80, "send": 20})
    cand = _cells(cand_dir, {"burn": 50, "send": 15, "audit_checksum": 35})
    regressed = Verdict("c1", "prefork sync w2 · c=8", "rps", "regressed", "fell 30%")
    [d] = profile_diffs(base, cand, base_dir, cand_dir, [regressed])
    assert d.regressed and d.notes == []
    assert d.grew[0].function == "audit_checksum (app/work.py)"
    assert d.grew[0].delta == pytest.approx(0.35)
    assert d.shrank[0].function == "burn (app/work.py)"
    markdown = diff_markdown([d])
    assert "### Where the time went" in markdown and "**regressed**" in markdown
    assert "| `audit_checksum (app/work.py)` | 0.0% | 35.0% | +35.0 pp |" in markdown
    assert diff_lines([d]) == [
        "profile prefork sync w2 · c=8: grew audit_checksum (app/work.py) +35.0 pp; "
        "shrank burn (app/work.py) -30.0 pp"
    ]


def test_without_the_files_the_top_functions_stand_in(tmp_path: Path) -> None:
    base = _cells(None, {"burn": 80, "send": 20})
    cand = _cells(None, {"burn": 50, "audit": 50})
    [d] = profile_diffs(base, cand, None, tmp_path / "missing")
    assert [f.function for f in d.grew] == ["audit (work.py)"]
    assert len(d.notes) == 2 and "top functions only" in d.notes[0]
    assert not d.regressed


def test_no_profiles_on_one_side_means_no_differential() -> None:
    base = _cells(None, {"burn": 1})
    cand = frame(
        [{"cell_id": "c1", "cell_index": 0, "repetition": 0, "status": "ok"}], CELL_COLUMNS
    )
    assert profile_diffs(base, cand, None, None) == []
    assert diff_markdown([]) == ""
