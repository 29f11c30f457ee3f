"""Worker balance and profile records from cells.parquet rows (pure)."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from bench.runner.results.attribution import cell_profiles, describe_shares, worker_balance
from bench.runner.results.profile import FunctionShare, top_to_json
from bench.runner.results.schema import CELL_COLUMNS, frame


def _row(cell_id: str, rep: int, **extra: object) -> dict[str, object]:
    base = {
        "cell_id": cell_id,
        "cell_index": 0 if cell_id == "a" else 1,
        "repetition": rep,
        "server": "prefork",
        "worker_class": "sync",
        "workers": 2,
        "mode": "closed",
        "concurrency": 8,
        "status": "ok",
        "rps": 1000.0,
        "p99_us": 5000.0,
    }
    return {**base, **extra}


def _cells(*rows: dict[str, object]) -> pd.DataFrame:
    return frame(list(rows), CELL_COLUMNS)


def test_balance_lines_up_repetitions_by_busiest_worker() -> None:
    cells = _cells(
        _row(
            "a",
            0,
            worker_cpu_shares="[0.6, 0.4]",
            worker_request_shares="[0.62, 0.38]",
            gc_pause_s=0.01,
            gc_pause_max_us=900.0,
            p99_us=4000.0,
        ),
        _row(
            "a",
            1,
            worker_cpu_shares="[0.3, 0.7]",
            worker_request_shares="[0.28, 0.72]",
            gc_pause_s=0.03,
            gc_pause_max_us=2000.0,
            p99_us=6000.0,
        ),
        _row("b", 0, status="failed: server exited", worker_cpu_shares="[1.0, 0.0]"),
    )
    [a] = worker_balance(cells)  # the failed cell is not shown
    assert a.config == "prefork sync w2" and a.load == "c=8" and a.workers == 2
    assert a.cpu_shares == pytest.approx([0.65, 0.35])
    assert a.request_shares == pytest.approx([0.67, 0.33])
    assert a.p99_us == pytest.approx(5000.0)
    assert a.gc_pause_s == pytest.approx(0.02) and a.gc_pause_max_us == 2000.0
    assert a.lag_p99_us is None
    assert a.even_share == 0.5
    assert describe_shares(a.cpu_shares) == "65% / 35%" and describe_shares([]) == "–"


def test_profiles_carry_files_overhead_or_the_reason() -> None:
    top = [FunctionShare("burn (servers/apps/cpu.py)", 0.7, 0.72)]
    cells = _cells(
        _row(
            "a",
            0,
            profile_svg="profiles/a-r0.svg",
            profile_speedscope="profiles/a-r0.json",
            profile_samples=500,
            profile_top=top_to_json(top),
            profile_rps=900.0,
            profile_overhead=0.1,
        ),
        _row("b", 0, profile_note="py-spy cannot attach: no ptrace permission"),
        _row("b", 1),  # not profiled: not listed
    )
    a, b = cell_profiles(cells)
    assert a.svg == "profiles/a-r0.svg" and a.samples == 500 and a.overhead == 0.1
    assert a.top[0].function == "burn (servers/apps/cpu.py)" and a.rps == 1000.0
    assert b.svg is None and b.note == "py-spy cannot attach: no ptrace permission"
    assert json.loads(top_to_json(top))[0][0] == top[0].function
