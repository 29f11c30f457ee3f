"""The plan end to end on a synthetic run: build_plan, markdown, self-contained HTML."""

from __future__ import annotations

import re

import numpy as np
import pytest
from plan_testkit import Point, SearchRecord, write_run

from bench.dashboards.plan.markdown import render_markdown
from bench.dashboards.plan.page import render_html, write_reports
from bench.runner.errors import UsageError
from bench.runner.plan.analysis import build_plan
from bench.runner.plan.usl import usl
from bench.runner.results.slo import Slo

SLO = Slo({"p99": 100_000.0}, 0.001)


def _run(tmp_path):
    rng = np.random.default_rng(5)
    points = []
    for workers in (1, 2, 4, 8, 16):
        for rep in range(2):
            rps = float(usl(workers, 100.0, 0.05, 0.003)) * (1 + rng.normal(0, 0.01))
            points.append(Point("prefork", workers, 64, rps, 80.0, worker_class="sync",
                                repetition=rep, server_cpus="0-15"))  # fmt: skip
    points += [
        Point("eventloop", 1, 8, 400.0, 20.0),
        Point("eventloop", 1, 64, 1500.0, 60.0),
        Point("eventloop", 1, 256, 1600.0, 300.0),
    ]
    steps = [
        (100, 10),
        (200, 12),
        (400, 20),
        (800, 40),
        (1600, 90),
        (3200, 500),
        (2400, 150),
        (2000, 110),
    ]
    search = SearchRecord(Point("eventloop", 2, 1600, 1600.0, 90.0, mode="search"), steps)
    return write_run(tmp_path / "run", points, [search])


def test_plan_of_a_synthetic_run(tmp_path):
    plan = build_plan(_run(tmp_path), SLO, target_rps=5000.0, headroom=0.2)
    caps = {c.config: c for c in plan.capacities}
    assert caps["eventloop w2"].source == "search"
    assert caps["eventloop w2"].capacity_rps == pytest.approx(1600.0)
    assert caps["eventloop w1"].capacity_rps == pytest.approx(1500.0)
    rec = plan.recommendation
    # 5000 / (1600 × 0.8) = 3.9 → 4 instances; eventloop w1: 5000 / 1200 → 5
    assert rec.recommended.config == "eventloop w2" and rec.recommended.instances == 4
    assert rec.runner_up.config == "eventloop w1" and rec.runner_up.instances == 5
    workers = [f for f in plan.fits if f.axis == "workers" and f.family == "prefork sync"]
    assert workers and workers[0].usable, workers[0].refusals


def test_markdown_report(tmp_path):
    plan = build_plan(_run(tmp_path), SLO, target_rps=5000.0, headroom=0.2)
    text = render_markdown(plan)
    assert text.startswith("# Capacity plan: synthetic")
    assert "eventloop w2 sustains 1,600 req/s within p99 ≤ 100 ms" in text
    assert "needs 4 instances" in text and "Runner-up: eventloop w1 (5 instances)" in text
    assert "| 1 (recommended) | eventloop w2 |" in text
    assert "## Scalability (Universal Scalability Law)" in text
    assert re.search(r"\| prefork sync \| workers \| 10 \(5 distinct\) \|.*\| usable \|", text)
    beyond = next(line for line in text.splitlines() if "worker scaling beyond" in line)
    assert "eventloop w2" in beyond and "prefork" not in beyond  # prefork had 16 CPUs
    assert "ceil(target / (capacity × (1 − headroom)))" in text


def test_html_report_is_self_contained_and_escaped(tmp_path):
    run = _run(tmp_path)
    plan = build_plan(run, SLO, target_rps=None, headroom=0.3)
    page = render_html(plan)
    assert page.startswith("<!DOCTYPE html>")
    assert not re.search(r"<script[^>]+src=", page)  # plotly inlined, nothing fetched
    assert page.count('class="card"') >= 5
    assert 'id="usl-workers"' in page and 'id="capacity"' in page
    assert "ranked by capacity" in page
    md, html_path = write_reports(plan, tmp_path / "out")
    assert md.read_text().startswith("# Capacity plan")
    assert html_path.read_text() == page


def test_strings_from_the_run_are_escaped(tmp_path):
    point = Point("eventloop", 1, 8, 400.0, 20.0)
    run = write_run(tmp_path / "run", [point], scenario="x<script>alert(1)</script>")
    page = render_html(build_plan(run, SLO))
    assert "<script>alert(1)</script>" not in page
    assert "x&lt;script&gt;" in page


def test_not_a_run_folder(tmp_path):
    with pytest.raises(UsageError, match="no such run folder"):
        build_plan(tmp_path / "missing", SLO)
    (tmp_path / "empty").mkdir()
    with pytest.raises(UsageError, match=r"no cells\.parquet"):
        build_plan(tmp_path / "empty", SLO)
