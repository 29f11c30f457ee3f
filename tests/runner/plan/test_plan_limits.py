"""The limits a plan states: cores, workers beyond the CPU set, engine-bound, noise, fits."""

from __future__ import annotations

from plan_testkit import Point, write_run

from bench.runner.plan.capacity import capacities
from bench.runner.plan.limits import limits, machine_limit
from bench.runner.plan.scaling import scaling_fits
from bench.runner.results.slo import Slo
from bench.runner.results.steps import read_steps
from bench.runner.results.store import load_run
from bench.runner.results.summary import summarize


def _limits(tmp_path, points):
    run = write_run(tmp_path / "run", points)
    data = load_run(run)
    summary = summarize(data.cells, data.histograms)
    caps = capacities(summary, read_steps(run), Slo({"p99": 100_000.0}))
    fits = scaling_fits(summary, data.cells)
    return {(lim.kind, lim.text) for lim in limits(data.manifest, summary, data.cells, caps, fits)}


def _kinds(found):
    return {kind for kind, _ in found}


def test_machine_and_pinning_are_stated():
    limit = machine_limit(
        {
            "environment": {"cpu": {"logical": 2, "model": "X"}},
            "pinning": {"mode": "auto", "server_cpus": "0", "engine_cpus": "1"},
        }
    )
    assert limit is not None
    assert "2 logical CPUs (X)" in limit.text and "server pinned to CPU 0" in limit.text
    unpinned = machine_limit({"environment": {"cpu": {"logical": 2}}, "pinning": {"mode": "none"}})
    assert "shared the CPUs" in unpinned.text
    assert machine_limit({}) is None


def test_workers_beyond_the_server_cpus_cannot_show_scaling(tmp_path):
    found = _limits(
        tmp_path,
        [Point("prefork", w, 8, 100.0 * w, 10.0, worker_class="sync") for w in (1, 2)],
    )
    texts = [t for k, t in found if k == "cores" and "beyond" in t]
    assert len(texts) == 1
    assert "prefork sync w2" in texts[0] and "prefork sync w1," not in texts[0]


def test_engine_bound_lower_bounds_closed_loop_and_refusals(tmp_path):
    found = _limits(
        tmp_path,
        [
            Point("eventloop", 1, 8, 900.0, 10.0),
            Point("eventloop", 1, 32, 1000.0, 20.0, status="engine-bound", little_ratio=0.5),
            Point("eventloop", 1, 128, 950.0, 300.0),
        ],
    )
    kinds = _kinds(found)
    assert {"engine-bound", "lower bound", "closed loop", "usl refused", "little's law"} <= kinds
    engine = next(t for k, t in found if k == "engine-bound")
    assert "eventloop w1 · c=32" in engine


def test_one_repetition_says_the_noise_is_unmeasured(tmp_path):
    found = _limits(tmp_path, [Point("eventloop", 1, 8, 900.0, 10.0)])
    assert any(k == "noise" and "one repetition" in t for k, t in found)


def test_noisy_repetitions_are_reported(tmp_path):
    points = [
        Point("eventloop", 1, 8, rps, 10.0, repetition=i)
        for i, rps in enumerate((600.0, 900.0, 1200.0))
    ]
    found = _limits(tmp_path, points)
    assert any(k == "noise" and "noisy" in t for k, t in found)
    quiet = _limits(
        tmp_path / "q",
        [Point("eventloop", 1, 8, r, 10.0, repetition=i) for i, r in enumerate((900.0, 905.0))],
    )
    assert "noise" not in _kinds(quiet)
