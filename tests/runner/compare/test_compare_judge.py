"""judge(): cells tables in, verdicts out — matching, failures, thresholds, the exit code."""

from __future__ import annotations

import numpy as np
import pytest
from compare_testkit import REPS, CellSpec, rows

from bench.runner.compare import Outcome, judge, summarize
from bench.runner.compare.decide import evaluate
from bench.runner.compare.judge import STATUS_METRIC, Verdict
from bench.runner.errors import UsageError
from bench.runner.exit_codes import ExitCode
from bench.runner.scenario.gates import Gates


def by_key(verdicts: list[Verdict]) -> dict[tuple[str, str], Verdict]:
    return {(v.cell_id, v.metric): v for v in verdicts}


def test_compare_judge_catches_a_slowdown_and_blames_the_right_metrics() -> None:
    verdicts = judge(rows(seed=1), rows(slowdown=0.15, seed=2), Gates())
    got = by_key(verdicts)
    for cell in ("c1", "c2"):
        for metric in ("rps", "p50", "p99", "p999"):
            v = got[(cell, metric)]
            assert v.outcome == Outcome.REGRESSED, v.reason
            assert v.p_value is not None and v.p_value <= 0.05
            assert v.lower is not None and v.upper is not None and v.lower <= v.change <= v.upper
        assert got[(cell, "error_rate")].outcome == Outcome.UNCHANGED
        assert got[(cell, "rss")].outcome == Outcome.UNCHANGED
    rps = got[("c1", "rps")]
    assert rps.change is not None and rps.change < -0.1  # req/s went down
    assert rps.reason.startswith("fell ")
    assert "Holm-adjusted p" in rps.reason
    assert summarize(verdicts, Gates()).exit_code == 1


def test_compare_judge_same_distribution_passes() -> None:
    verdicts = judge(rows(seed=3), rows(seed=4), Gates())
    assert not [v for v in verdicts if v.outcome == Outcome.REGRESSED]
    summary = summarize(verdicts, Gates())
    assert summary.exit_code == 0 and summary.passed
    assert summary.family == 10  # 2 cells × 5 metrics; the all-zero error rates are left out


def test_compare_judge_improvement_is_not_a_failure() -> None:
    verdicts = judge(rows(slowdown=0.2, seed=5), rows(seed=6), Gates())
    got = by_key(verdicts)
    assert got[("c1", "rps")].outcome == Outcome.IMPROVED
    assert got[("c1", "p99")].outcome == Outcome.IMPROVED
    assert summarize(verdicts, Gates()).exit_code == 0


def test_compare_judge_small_change_within_threshold_is_unchanged() -> None:
    # 3 % slower with almost no noise: significant, but inside the 5 % threshold.
    verdicts = judge(rows(noise=0.002, seed=7), rows(slowdown=0.03, noise=0.002, seed=8), Gates())
    got = by_key(verdicts)
    assert got[("c1", "p50")].outcome == Outcome.UNCHANGED
    assert "within ±5%" in got[("c1", "p50")].reason
    # ... and a regression once the threshold is 2 %.
    strict = Gates(max_regression="2%")
    got = by_key(judge(rows(noise=0.002, seed=7), rows(slowdown=0.03, noise=0.002, seed=8), strict))
    assert got[("c1", "p50")].outcome == Outcome.REGRESSED


def test_compare_judge_per_metric_thresholds_and_off() -> None:
    gates = Gates(metrics={"p99": "30%", "p999": "off"})
    got = by_key(judge(rows(seed=9), rows(slowdown=0.15, seed=10), gates))
    assert got[("c1", "p99")].outcome == Outcome.UNCHANGED  # 15 % < 30 %
    assert got[("c1", "p50")].outcome == Outcome.REGRESSED
    assert ("c1", "p999") not in got


def test_compare_judge_too_few_repetitions_says_how_many() -> None:
    verdicts = judge(rows(reps=2, seed=11), rows(reps=2, slowdown=0.3, seed=12), Gates())
    p50 = by_key(verdicts)[("c1", "p50")]
    assert p50.outcome == Outcome.INCONCLUSIVE
    assert p50.needed is not None and p50.needed >= 3
    assert f"run ≥ {p50.needed} per side" in p50.reason
    # 3 vs 3 per cell, 10 gates: p >= 1/20 cannot pass Holm's first step (0.0008); 7 vs 7 can.
    verdicts = judge(rows(reps=3, seed=13), rows(reps=3, slowdown=0.3, seed=14), Gates())
    p50 = by_key(verdicts)[("c1", "p50")]
    assert p50.outcome == Outcome.INCONCLUSIVE and p50.needed == 7
    assert summarize(verdicts, Gates()).exit_code == 0
    assert summarize(verdicts, Gates(), strict=True).exit_code == 1


def test_compare_judge_nothing_decided_is_its_own_exit_code() -> None:
    verdicts = judge(rows(reps=1, seed=11), rows(reps=1, seed=12), Gates())
    assert {v.outcome for v in verdicts} == {Outcome.INCONCLUSIVE}
    summary = summarize(verdicts, Gates())
    assert summary.exit_code == ExitCode.INCONCLUSIVE and not summary.passed
    assert summary.decided == 0
    assert summarize(verdicts, Gates(), allow_inconclusive=True).exit_code == ExitCode.OK
    assert summarize(verdicts, Gates(), strict=True).exit_code == ExitCode.FAILED
    # One decided gate is enough: the rest being inconclusive is not "nothing decided".
    one = judge(rows(reps=3, seed=13), rows(reps=3, slowdown=0.3, seed=14), Gates())
    assert summarize(one, Gates()).decided > 0
    assert summarize(one, Gates()).exit_code == ExitCode.OK


def test_compare_judge_error_rate_is_absolute() -> None:
    base = rows(seed=15, error_rate=0.0)
    tiny = rows(seed=16, error_rate=0.0002)  # +0.02 pp: below the 0.1 pp default
    assert by_key(judge(base, tiny, Gates()))[("c1", "error_rate")].outcome == Outcome.UNCHANGED
    many = rows(seed=16, error_rate=0.02)  # +2 pp on every repetition
    v = by_key(judge(base, many, Gates()))[("c1", "error_rate")]
    assert v.outcome == Outcome.REGRESSED
    assert "pp" in v.reason


def test_compare_judge_candidate_that_always_fails_regresses() -> None:
    failed = {("c2", r): "failed: server did not start" for r in range(REPS)}
    verdicts = judge(rows(seed=17), rows(seed=18, status=failed), Gates())
    status = by_key(verdicts)[("c2", STATUS_METRIC)]
    assert status.outcome == Outcome.REGRESSED
    assert "server did not start" in status.reason
    assert ("c2", "rps") not in by_key(verdicts)
    assert summarize(verdicts, Gates()).exit_code == 1


def test_compare_judge_partial_failures_are_noted_and_not_counted_as_numbers() -> None:
    failed = {("c1", REPS - 1): "failed: engine error: connect refused"}
    verdicts = judge(rows(seed=19), rows(seed=20, status=failed), Gates())
    rps = by_key(verdicts)[("c1", "rps")]
    assert rps.n_candidate == REPS - 1 and rps.n_baseline == REPS
    assert any(f"1 of {REPS} candidate repetitions failed" in n for n in rps.notes)


def test_compare_judge_missing_and_new_cells() -> None:
    extra = CellSpec("c3", "gunicorn sync w1", "gunicorn")
    base = rows(seed=21)
    cand = rows(seed=22, cells=(CellSpec("c1", "prefork sync w1"), extra))
    got = by_key(judge(base, cand, Gates()))
    assert got[("c2", STATUS_METRIC)].outcome == Outcome.INCONCLUSIVE
    assert "not in the candidate" in got[("c2", STATUS_METRIC)].reason
    assert got[("c3", STATUS_METRIC)].reason == "new cell, no baseline"
    assert got[("c1", "rps")].outcome == Outcome.UNCHANGED


def test_compare_judge_no_common_cell_is_bad_input() -> None:
    other = rows(cells=(CellSpec("zz", "other"),))
    with pytest.raises(UsageError, match="no cell of the candidate matches"):
        judge(rows(), other, Gates())
    with pytest.raises(UsageError, match="no column"):
        judge(rows().drop(columns=["status"]), rows(), Gates())


def test_compare_judge_engine_bound_is_noted() -> None:
    verdicts = judge(rows(seed=23), rows(seed=24, engine_bound=True), Gates())
    rps = by_key(verdicts)[("c1", "rps")]
    assert any(f"engine-bound in {REPS} of {REPS}" in n for n in rps.notes)


def test_compare_judge_agrees_with_the_vectorized_decision() -> None:
    # The power tests run decide.evaluate on arrays; judge must decide exactly the same
    # on the same numbers, arranged as tables.
    cells = tuple(CellSpec(f"k{i}", f"cell {i}") for i in range(12))
    gates = Gates()
    base = rows(cells=cells, seed=25, noise=0.05)
    cand = rows(cells=cells, seed=26, noise=0.05, slowdown=0.06)
    verdicts = judge(base, cand, gates)
    metrics = list(gates.enabled())
    columns = {"rps": "rps", "p50": "p50_us", "p99": "p99_us", "p999": "p999_us"}
    columns |= {"error_rate": "error_rate", "rss": "server_rss_peak_bytes"}

    def array(df: object) -> np.ndarray:
        out = np.empty((len(cells) * len(metrics), REPS))
        for i, cell in enumerate(cells):
            part = df[df["cell_id"] == cell.cell_id].sort_values("repetition")  # type: ignore[index]
            for j, m in enumerate(metrics):
                out[i * len(metrics) + j] = part[columns[m.name]].astype(float).to_numpy()
        return out

    ev = evaluate(
        array(base),
        array(cand),
        metrics * len(cells),
        [gates.threshold(m.name) or 0.0 for m in metrics] * len(cells),
        gates,
    )
    assert [int(v.outcome) for v in verdicts] == [int(o) for o in ev.outcome]
    outcomes = {v.outcome for v in verdicts}
    assert len(outcomes) >= 2  # a family that exercises more than one branch


def test_compare_judge_a_metric_without_values_is_inconclusive() -> None:
    cand = rows(seed=27)
    cand["server_rss_peak_bytes"] = None
    v = by_key(judge(rows(seed=28), cand, Gates()))[("c1", "rss")]
    assert v.outcome == Outcome.INCONCLUSIVE
    assert v.reason == "no peak RSS values in the candidate (the column is empty)"
