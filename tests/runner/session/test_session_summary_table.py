"""The end-of-run summary fits 100 columns without breaking a configuration's label."""

from __future__ import annotations

from typing import Any

from rich.console import Console

from bench.runner.session.progress import render_summary
from bench.runner.session.summary_table import by_configuration, short_status, spread_text

LABELS = (
    "uvicorn w1 uvloop httptools",
    "gunicorn gthread w1×t8",
    "eventloop w1 uvloop",
    "prefork [sync] w1",  # rich markup characters are shown, not interpreted
)


def _row(label: str, load: str, **extra: Any) -> dict[str, Any]:
    row: dict[str, Any] = {
        "cell_id": f"{label}-{load}", "label": label, "load": load, "reps": 3, "reps_ok": 3,
        "rps_median": 16_541.0, "rps_min": 15_900.0, "rps_max": 17_200.0, "p50_us": 2960.0,
        "p99_us": 16_900.0, "latency_resolution_us": 1.0, "errors": 0,
        "server_cpu_util": 0.4, "cpu_per_request_us": 24.0, "slo": "pass",
        "status_kind": "ok", "status": "ok",
    }  # fmt: skip
    row.update(extra)
    return row


def _rows() -> list[dict[str, Any]]:
    rows = []
    for load in ("c=16", "c=1024"):  # the matrix's order: load points outer
        for label in LABELS:
            rows.append(_row(label, load))
    rows[1].update(status_kind="engine-bound", slo="fail",
                   status="engine-bound: the load generator was the bottleneck")  # fmt: skip
    rows[-2].update(status_kind="failed", rps_median=None, p50_us=None, p99_us=None, slo="",
                    status="failed: server exited with code 1 before the window ended")  # fmt: skip
    return rows


def _render(rows: list[dict[str, Any]], width: int = 100) -> str:
    console = Console(width=width, record=True, highlight=False, color_system=None)
    render_summary(console, rows, "peers — results/peers-20261207-120555")
    return console.export_text()


def test_the_summary_fits_100_columns_and_keeps_each_label_on_one_line() -> None:
    text = _render(_rows())
    lines = text.splitlines()
    assert max(len(line.rstrip()) for line in lines) <= 100
    for label in LABELS:
        assert sum(line.strip() == label for line in lines) == 1, label  # once, whole
    assert "prefork [sync] w1" in text
    header = next(line for line in lines if "server · load" in line)
    assert header.split() == [
        "server", "·", "load", "req/s", "±", "p50", "p99", "errors", "CPU", "CPU/req", "SLO",
        "status",
    ]  # fmt: skip
    assert "reps" not in header  # every cell ran 3: said once, in the caption
    assert "3 repetitions per cell" in " ".join(text.split())
    failed = " ".join(text.split())
    assert "failed: server exited with code 1 before the window ended" in failed


def test_each_configuration_is_a_section_with_its_loads_under_it() -> None:
    lines = _render(_rows()).splitlines()
    at = next(i for i, line in enumerate(lines) if line.strip() == LABELS[0])
    first, second = lines[at + 1].split(), lines[at + 2].split()
    assert first[:3] == ["c=16", "16,541", "±4%"]
    assert second[0] == "c=1024"
    engine_bound = next(line for line in lines if line.strip() == LABELS[1])
    assert "engine-bound" in lines[lines.index(engine_bound) + 1]


def test_reps_column_only_when_cells_ran_different_repetitions() -> None:
    rows = _rows()
    rows[0].update(reps=2)
    header = next(line for line in _render(rows).splitlines() if "server · load" in line)
    assert "reps" in header.split()


def test_plain_helpers() -> None:
    assert (
        spread_text({"rps_median": 100.0, "rps_min": 90.0, "rps_max": 110.0, "reps_ok": 3})
        == "±10%"
    )
    assert (
        spread_text({"rps_median": 100.0, "rps_min": 100.0, "rps_max": 100.0, "reps_ok": 1}) == ""
    )
    assert spread_text({"rps_median": None, "rps_min": None, "rps_max": None, "reps_ok": 0}) == ""
    bound = "engine-bound: the load generator was the bottleneck (1 of 3 repetitions failed: x)"
    assert short_status({"status_kind": "engine-bound", "status": bound}) == (
        "engine-bound (1 of 3 repetitions failed: x)"
    )
    assert short_status({"status_kind": "failed", "status": "failed: boom"}) == "failed: boom"
    groups = by_configuration([{"label": "a"}, {"label": "b"}, {"label": "a"}])
    assert list(groups) == ["a", "b"] and len(groups["a"]) == 2
