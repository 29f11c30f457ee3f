"""USL fits per family over workers, threads and concurrency, from synthetic run folders."""

from __future__ import annotations

import numpy as np
import pytest
from plan_testkit import Point, write_run

from bench.runner.plan.scaling import family_label, scaling_fits
from bench.runner.plan.usl import peak, usl
from bench.runner.results.store import load_run
from bench.runner.results.summary import summarize

LAM, SIGMA, KAPPA = 120.0, 0.04, 0.002


def _fits(tmp_path, points):
    data = load_run(write_run(tmp_path / "run", points))
    return scaling_fits(summarize(data.cells, data.histograms), data.cells)


def _noisy(n: float, rep: int, rng) -> float:
    return float(usl(n, LAM, SIGMA, KAPPA)) * (1.0 + rng.normal(0.0, 0.02))


def test_recovers_a_known_curve_over_workers(tmp_path):
    rng = np.random.default_rng(7)
    points = []
    for workers in (1, 2, 4, 8, 16, 32, 48):
        for rep in range(3):
            # the best load point of each worker count is the one fitted; a lower one is ignored
            points.append(
                Point(
                    "prefork",
                    workers,
                    256,
                    _noisy(workers, rep, rng),
                    50.0,
                    worker_class="sync",
                    repetition=rep,
                    server_cpus="0-63",
                )
            )
            points.append(Point("prefork", workers, 8, 5.0, 5.0, worker_class="sync",
                                repetition=rep, server_cpus="0-63"))  # fmt: skip
    fits = [f for f in _fits(tmp_path, points) if f.axis == "workers"]
    assert len(fits) == 1
    fit = fits[0]
    assert fit.family == "prefork sync"
    assert len(fit.n) == 21 and min(fit.x) > 50  # the c=8 cells were not used
    assert fit.usable, fit.refusals
    assert fit.fit.sigma == pytest.approx(SIGMA, abs=0.02)
    assert fit.fit.kappa == pytest.approx(KAPPA, rel=0.35)
    assert fit.fit.n_star == pytest.approx(peak(SIGMA, KAPPA), rel=0.2)
    lo, hi = fit.fit.ci["n_star"]
    assert lo <= fit.fit.n_star <= hi


def test_recovers_a_known_curve_over_concurrency(tmp_path):
    rng = np.random.default_rng(11)
    points = [
        Point("eventloop", 1, c, _noisy(c, rep, rng), 10.0, repetition=rep)
        for c in (1, 2, 4, 8, 16, 32, 64)
        for rep in range(2)
    ]
    fits = [f for f in _fits(tmp_path, points) if f.axis == "concurrency"]
    assert [f.family for f in fits] == ["eventloop w1"]
    fit = fits[0]
    assert fit.usable, fit.refusals
    assert fit.fit.lam == pytest.approx(LAM, rel=0.08)
    assert fit.fit.kappa == pytest.approx(KAPPA, rel=0.35)


def test_too_few_values_refuse_without_fitting(tmp_path):
    points = [
        Point("prefork", w, c, 100.0 * w, 10.0, worker_class="sync")
        for w in (1, 2)
        for c in (8, 32, 128)
    ]
    fits = _fits(tmp_path, points)
    workers = next(f for f in fits if f.axis == "workers")
    assert workers.fit is None and not workers.usable
    assert "only 2 distinct workers values" in workers.refusals[0]
    concurrency = [f for f in fits if f.axis == "concurrency"]
    assert len(concurrency) == 2
    assert all("only 3 distinct concurrency values" in f.refusals[0] for f in concurrency)


def test_engine_bound_cells_are_left_out(tmp_path):
    rng = np.random.default_rng(3)
    points = [
        Point(
            "eventloop", 1, c, _noisy(c, 0, rng), 10.0, status="engine-bound" if c == 64 else "ok"
        )
        for c in (1, 2, 4, 8, 16, 64)
    ]
    fit = next(f for f in _fits(tmp_path, points) if f.axis == "concurrency")
    assert 64.0 not in fit.n
    assert any("engine-bound" in note for note in fit.notes)


def test_families_split_by_what_does_not_vary(tmp_path):
    points = [
        Point("prefork", 1, 32, 100.0 * t, 10.0, worker_class="thread", threads=t) for t in (8, 32)
    ] + [Point("eventloop", 1, 32, 900.0, 10.0)]
    fits = _fits(tmp_path, points)
    assert [(f.axis, f.family) for f in fits] == [("threads", "prefork thread w1")]


def test_family_label():
    dims = {"server": "prefork", "worker_class": "thread", "workers": 2, "threads": 8, "loop": None}
    assert family_label(dims, "workers") == "prefork thread t8"
    assert family_label(dims, "threads") == "prefork thread w2"
    assert (
        family_label({"server": "eventloop", "workers": 1, "interface": "wsgi"}, "workers")
        == "eventloop wsgi"
    )
