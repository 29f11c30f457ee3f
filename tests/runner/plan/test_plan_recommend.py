"""The recommendation: instances with headroom, ranking, exclusions, explanation."""

from __future__ import annotations

from dataclasses import replace

import pytest

from bench.runner.plan.capacity import Capacity, PointVerdict
from bench.runner.plan.recommend import explain, instances_needed, recommend


def _cap(config: str, rps: float | None, cpu: float | None = 0.5, lower: bool = False) -> Capacity:
    point = PointVerdict(
        "id", "c=8", 8.0, 10.0, 10.0, 500_000.0, 0.0, False, False, "p99 500 ms > 100 ms"
    )
    return Capacity(
        config=config,
        dims={"server": config.split()[0], "workers": 1},
        source="closed",
        capacity_rps=rps,
        spread=None,
        lower_bound=lower,
        bound_reason="the SLO still held at the highest load measured" if lower else "",
        at=None,
        above=None,
        cpu_s_per_1k=cpu,
        rss_peak_bytes=40e6,
        server_cpus=1,
        points=(point,),
    )


@pytest.mark.parametrize(
    "target, capacity, headroom, expected",
    [
        (2000, 1000, 0.0, 2),
        (2000, 1000, 0.5, 4),  # exactly 4, not 5 by rounding
        (2000, 1000, 0.3, 3),  # 2000 / 700 = 2.86
        (2001, 1000, 0.0, 3),
        (10, 1000, 0.3, 1),
        (0, 1000, 0.3, 1),
    ],
)
def test_instances_needed(target, capacity, headroom, expected):
    assert instances_needed(target, capacity, headroom) == expected


@pytest.mark.parametrize("args", [(100, 0, 0.3), (100, 10, 1.0), (100, 10, -0.1), (-1, 10, 0.3)])
def test_instances_needed_rejects(args):
    with pytest.raises(ValueError):
        instances_needed(*args)


def test_fewest_instances_wins_then_cpu():
    caps = [
        _cap("prefork sync w1", 300.0, cpu=0.4),
        _cap("eventloop w1", 900.0, cpu=0.6),
        _cap("prefork thread w1", 880.0, cpu=0.5),
        _cap("prefork sync w2", None),
    ]
    rec = recommend(caps, target_rps=2000.0, headroom=0.3)
    # 2000 / (900 × 0.7) = 3.2 → 4; 2000 / (880 × 0.7) = 3.25 → 4; 2000 / 210 → 10
    assert [o.instances for o in rec.ranked] == [4, 4, 10]
    assert rec.recommended.config == "prefork thread w1"  # same instances, less CPU
    assert rec.runner_up.config == "eventloop w1"
    assert rec.recommended.planned_rps == pytest.approx(616.0)
    assert rec.recommended.cpu_cores_total == pytest.approx(1.0)  # 0.5 cores per 1,000 req/s
    assert rec.excluded[0][0] == "prefork sync w2"
    assert "no measured load" in rec.excluded[0][1]
    text = explain(rec, "p99 ≤ 100 ms")
    assert "prefork thread w1 sustains 880 req/s" in text
    assert "needs 4 instances" in text
    assert (
        "Runner-up: eventloop w1 (the same number of instances, but more CPU per request)" in text
    )


def test_without_target_highest_capacity_wins():
    rec = recommend([_cap("a w1", 300.0), _cap("b w1", 900.0, lower=True)], None, 0.3)
    assert rec.recommended.config == "b w1" and rec.recommended.instances is None
    text = explain(rec, "p99 ≤ 100 ms")
    assert "(a lower bound)" in text and "Runner-up: a w1 (300 req/s)" in text


def test_headroom_changes_the_count():
    caps = [_cap("a w1", 1000.0)]
    assert recommend(caps, 2000.0, 0.0).recommended.instances == 2
    assert recommend(caps, 2000.0, 0.6).recommended.instances == 5


def test_nothing_to_recommend():
    rec = recommend([_cap("a w1", None)], 2000.0, 0.3)
    assert rec.recommended is None and rec.runner_up is None
    assert "No configuration met" in explain(rec, "p99 ≤ 1 ms")
    with pytest.raises(ValueError):
        recommend([], 1.0, 1.5)


def test_the_repetitions_spread_gives_an_instance_range():
    noisy = replace(_cap("a w1", 500.0), spread=(200.0, 1000.0))
    option = recommend([noisy], 2000.0, 0.0).recommended
    assert option.instances == 4
    assert option.instances_range == (2, 10)
    assert option.instances_text == "4 (2–10 over the repetitions)"
    assert "(2–10 at the repetitions' best and worst throughput)" in explain(
        recommend([noisy], 2000.0, 0.0), "p99 ≤ 1 s"
    )
