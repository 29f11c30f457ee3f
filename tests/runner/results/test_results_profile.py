"""Reading py-spy's speedscope file into stacks and function shares (pure)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bench.runner.results.profile import (
    FunctionShare,
    function_shares,
    load_profile,
    read_speedscope,
    short_file,
    top_from_json,
    top_functions,
    top_to_json,
)


def _doc() -> dict:
    """Two workers under a master, as ``py-spy record --subprocesses`` writes them."""
    frames = [
        {"name": 'process 10:"python -m bench serve"', "file": "", "line": 0},
        {"name": 'process 11:"python -m bench serve"', "file": "", "line": 0},
        {"name": 'process 12:"python -m bench serve"', "file": "", "line": 0},
        {"name": "serve", "file": "/x/servers/prefork/workers/sync.py", "line": 10},
        {"name": "burn", "file": "/x/servers/apps/cpu.py", "line": 40},
        {"name": "burn", "file": "/x/servers/apps/cpu.py", "line": 41},  # another line
        {"name": "send", "file": "/venv/lib/python3.11/site-packages/pkg/io.py", "line": 3},
    ]
    return {
        "shared": {"frames": frames},
        "profiles": [
            # worker 11: 3 samples in burn (two lines), 1 in send
            {
                "type": "sampled",
                "samples": [[0, 1, 3, 4], [0, 1, 3, 5], [0, 1, 3, 4], [0, 1, 3, 6]],
                "weights": [0.01] * 4,
            },
            # worker 12: 1 sample in burn, 1 in serve itself
            {"type": "sampled", "samples": [[0, 2, 3, 4], [0, 2, 3]], "weights": [0.01, 0.01]},
            {"type": "evented", "events": []},  # not a sampled profile: ignored
        ],
    }


def test_function_shares_fold_lines_threads_and_processes() -> None:
    profile = read_speedscope(_doc())
    assert profile.samples == 6
    assert profile.total == pytest.approx(0.06)
    shares = {s.function: s for s in function_shares(profile)}
    burn = shares["burn (servers/apps/cpu.py)"]
    assert burn.self_share == pytest.approx(4 / 6)
    assert burn.total_share == pytest.approx(4 / 6)
    serve = shares["serve (prefork/workers/sync.py)"]
    assert serve.self_share == pytest.approx(1 / 6)
    assert serve.total_share == pytest.approx(1.0)
    assert shares["send (pkg/io.py)"].self_share == pytest.approx(1 / 6)
    # the synthetic process frames are not functions; their PIDs weigh each worker
    assert not any(k.startswith("process") for k in shares)
    assert profile.processes == pytest.approx({11: 0.04, 12: 0.02})


def test_top_functions_rank_by_self_share_and_survive_the_row() -> None:
    top = top_functions(read_speedscope(_doc()), n=2)
    assert [s.function for s in top] == [
        "burn (servers/apps/cpu.py)",
        "serve (prefork/workers/sync.py)",  # ties with send on self share: larger total first
    ]
    back = top_from_json(top_to_json(top))
    assert [s.function for s in back] == [s.function for s in top]
    assert back[0].self_share == pytest.approx(top[0].self_share, abs=1e-5)
    assert top_from_json(None) == [] and top_from_json("not json") == []


def test_short_file_keeps_what_a_reader_recognises() -> None:
    assert short_file("/venv/lib/python3.11/site-packages/gunicorn/workers/sync.py") == (
        "gunicorn/workers/sync.py"
    )
    assert short_file("/home/u/proj/servers/apps/cpu.py", roots=()) == "servers/apps/cpu.py"
    roots = ["/home/u/proj", "/usr/lib/python3.11"]
    assert short_file("/home/u/proj/servers/sockets.py", roots) == "servers/sockets.py"
    assert short_file("/usr/lib/python3.11/socket.py", roots) == "socket.py"
    assert short_file("<string>") == "<string>"


def test_not_a_speedscope_file_is_a_value_error(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="not a speedscope"):
        read_speedscope({"frames": []})
    bad = tmp_path / "p.json"
    bad.write_text("{", encoding="utf-8")
    with pytest.raises(ValueError, match="cannot read"):
        load_profile(bad)
    good = tmp_path / "g.json"
    good.write_text(json.dumps(_doc()), encoding="utf-8")
    assert load_profile(good).samples == 6


def test_an_empty_profile_has_no_shares() -> None:
    empty = read_speedscope({"shared": {"frames": []}, "profiles": []})
    assert function_shares(empty) == [] and top_functions(empty) == []
    assert FunctionShare("f", 0.5, 0.5).self_share == 0.5
