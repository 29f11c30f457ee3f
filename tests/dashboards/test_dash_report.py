"""``build_report`` and ``bench report``: one offline HTML file, escaped, every panel."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest
from dash_synth import HOSTILE_LABEL
from plotly.offline import get_plotlyjs

from bench.dashboards.errors import ReportError
from bench.dashboards.panels import build_panels
from bench.dashboards.report import build_report
from bench.dashboards.run import load_view
from bench.runner.cli import main


@pytest.fixture(scope="module")
def io_page(io_run: Path, tmp_path_factory: pytest.TempPathFactory) -> str:
    out = build_report(io_run, tmp_path_factory.mktemp("report") / "io.html")
    return out.read_text(encoding="utf-8")


def test_default_output_is_inside_the_run_folder(ws_run: Path) -> None:
    out = build_report(ws_run)
    assert out == ws_run / "report.html"
    assert out.stat().st_size > 1_000_000  # plotly.js is inside


def test_plotly_js_is_inlined_once_and_nothing_is_fetched(io_page: str) -> None:
    assert io_page.count(get_plotlyjs()[:300]) == 1
    outside_plotly = io_page.replace(get_plotlyjs(), "")
    assert not re.search(r"<script[^>]+src=", outside_plotly)
    assert "<link" not in outside_plotly
    assert "http://" not in outside_plotly and "https://" not in outside_plotly


def test_one_plot_per_panel(io_run: Path, io_page: str) -> None:
    panels = build_panels(load_view(io_run))
    keys = [p.key for p in panels]
    assert keys == [
        "matrix", "latency-throughput", "throughput-load", "capacity-workers",
        "capacity-threads", "spectrum", "resources", "timeseries",
    ]  # fmt: skip
    assert io_page.count("Plotly.newPlot(") == len(panels)
    assert f'data-figures="{len(panels)}"' in io_page
    for key in keys:
        assert f'id="fig-{key}"' in io_page


def test_websocket_run_gets_the_websocket_panel(ws_run: Path) -> None:
    keys = [p.key for p in build_panels(load_view(ws_run))]
    assert "websocket" in keys and "capacity-workers" not in keys


def test_open_loop_run_is_drawn_against_the_target_rate(open_run: Path) -> None:
    panels = {p.key: p for p in build_panels(load_view(open_run))}
    load = panels["throughput-load"].figure
    assert load.layout.xaxis2.title.text == "target rate (req/s)"
    assert list(load.data[0].x) == [200, 1000, 3000, 6000]
    hover = load.data[0].hovertext[-1]  # the thread pool at 6000/s keeps only ~3000/s
    assert "⚠ target rate not kept" in hover
    assert "Closed loop" not in panels["latency-throughput"].explains


def test_scenario_strings_are_escaped(io_page: str) -> None:
    assert "<script>window.__pwned" not in io_page
    assert "&lt;script&gt;window.__pwned = 1&lt;/script&gt;" in io_page
    assert HOSTILE_LABEL not in io_page
    assert "&lt;img src=x onerror=&quot;window.__pwned=2&quot;&gt;loop" in io_page


def test_header_has_the_manifest(io_run: Path, io_page: str) -> None:
    manifest = json.loads((io_run / "manifest.json").read_text())
    assert "<title>bench report: io_hostile</title>" in io_page
    for text in ("p99 ≤ 100 ms, errors ≤ 1%", "native", "io (ms=5)", "repetitions"):
        assert text in io_page
    env = manifest["environment"]
    assert env["python"]["version"] in io_page
    assert env["cpu"]["model"] in io_page
    assert manifest["pinning"]["note"] in io_page
    if env["git_sha"]:
        assert env["git_sha"] in io_page
    assert re.search(r"15 cells: .*13 ok.*1 engine-bound.*1 failed", io_page)
    assert "prefork sync w1 · c=128 — failed: server exited with code 1" in io_page


def test_interrupted_run_without_manifest_still_reports(io_run: Path, tmp_path: Path) -> None:
    partial = tmp_path / "partial"
    shutil.copytree(io_run, partial, ignore=shutil.ignore_patterns("report.html"))
    (partial / "manifest.json").unlink()
    page = build_report(partial).read_text(encoding="utf-8")
    assert "bench report: io_hostile" in page  # the name comes from the cells table


def test_missing_or_empty_folder_is_a_one_line_error(tmp_path: Path) -> None:
    with pytest.raises(ReportError, match="no such run folder"):
        build_report(tmp_path / "nope")
    with pytest.raises(ReportError, match="not a run folder"):
        build_report(tmp_path)


def test_bench_report_command(
    io_run: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "sub" / "r.html"
    assert main(["report", str(io_run), "-o", str(out)]) == 0
    assert capsys.readouterr().out.strip() == f"report: {out}"
    assert out.read_text(encoding="utf-8").startswith("<!DOCTYPE html>")
    assert main(["report", str(tmp_path / "missing")]) == 2
    assert "bench: error:" in capsys.readouterr().err
