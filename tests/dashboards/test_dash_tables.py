"""The summary the figures plot: statuses, labels, merged percentiles, failed cells as NaN."""

from __future__ import annotations

import math

import dash_tables as t
import pandas as pd
import pytest

from bench.dashboards.tables import ordered_series, rate_unit, server_cpu_count, spectrum
from bench.runner.results.labels import config_label, load_label
from bench.runner.results.slo import Slo
from bench.runner.results.status import status_kind, status_reason
from bench.runner.results.summary import merged_histograms, summarize


@pytest.mark.parametrize(
    ("status", "kind", "reason"),
    [
        ("ok", "ok", ""),
        ("engine-bound", "engine-bound", ""),
        ("failed: server exited (code 1)", "failed", "server exited (code 1)"),
        ("skipped: uvicorn not installed", "skipped", "uvicorn not installed"),
        (None, "failed", ""),
        ("weird", "failed", ""),
    ],
)
def test_status_kind_and_reason(status: str | None, kind: str, reason: str) -> None:
    assert status_kind(status) == kind
    assert status_reason(status) == reason


def test_labels_from_columns_when_no_label() -> None:
    row = {"server": "prefork", "worker_class": "thread", "workers": 2, "threads": 8}
    assert config_label(row) == "prefork thread w2×t8"
    assert config_label({**row, "label": "mine"}) == "mine"
    assert load_label({"mode": "closed", "concurrency": 32}) == "c=32"
    assert load_label({"mode": "open", "target_rate": 500.0}) == "500 req/s"
    assert load_label({"mode": "closed", "concurrency": 8, "message_size": 1024}) == "c=8 · 1024 B"


def test_percentiles_come_from_merged_histograms_not_averages() -> None:
    # rep 0: 99 fast + 1 slow; rep 1: 50 fast + 50 slow. Merged p50 is fast (149 of 200
    # at 100 µs); the average of the repetitions' medians would be (100 + 100) / 2 and
    # their p99s (10000 + 10000) / 2 — the merged p90 must be the slow value.
    rows = [
        t.cell_row("X", label="eventloop w1", concurrency=8, repetition=0, p50=100, p99=10_000),
        t.cell_row("X", label="eventloop w1", concurrency=8, repetition=1, p50=100, p99=10_000),
    ]
    hist = t.histograms({("X", 0): [(100, 99), (10_000, 1)], ("X", 1): [(100, 50), (10_000, 50)]})
    row = summarize(t.cells(rows), hist).iloc[0]
    assert bool(row["merged"]) is True
    assert row["p50_us"] == 100
    assert row["p90_us"] == 10_000  # 151st of 200 samples is slow
    assert row["latency_max_us"] == 10_000
    assert row["latency_mean_us"] == pytest.approx((149 * 100 + 51 * 10_000) / 200)


def test_failed_cell_has_no_numbers_and_keeps_its_reason() -> None:
    summary = summarize(t.cells(t.three_configs()), t.histograms({}))
    failed = summary[summary["cell_id"] == "C64"].iloc[0]
    assert failed["status_kind"] == "failed"
    assert failed["status_text"] == "failed: server exited with code 1"
    for column in ("rps", "p50_us", "p99_us", "error_rate", "server_cpu_s"):
        assert math.isnan(failed[column]), column
    assert summary[summary["cell_id"] == "C8"].iloc[0]["status_kind"] == "engine-bound"


def test_partly_failed_cell_uses_the_good_repetitions_and_says_so() -> None:
    rows = [
        t.cell_row("X", label="prefork sync w1", concurrency=8, repetition=0, rps=100.0),
        t.cell_row("X", label="prefork sync w1", concurrency=8, repetition=1, rps=None,
                   status="failed: crashed"),
        t.cell_row("X", label="prefork sync w1", concurrency=8, repetition=2, rps=300.0),
    ]  # fmt: skip
    row = summarize(t.cells(rows), t.histograms({})).iloc[0]
    assert row["status_kind"] == "ok"
    assert "1 of 3 repetitions failed: crashed" in row["status_text"]
    assert (row["rps"], row["rps_min"], row["rps_max"]) == (200.0, 100.0, 300.0)
    assert (row["reps"], row["reps_usable"]) == (3, 2)


def test_slo_verdict_is_recomputed_on_merged_numbers() -> None:
    summary = summarize(t.cells(t.three_configs()), t.histograms({}), Slo({"p99": 10_000.0}))
    verdicts = dict(zip(summary["cell_id"], summary["slo_pass"], strict=True))
    assert verdicts["A8"] is True and verdicts["A64"] is False
    assert verdicts["C64"] is None


def test_series_split_by_message_size_only_when_it_varies() -> None:
    rows = [
        t.cell_row(f"S{size}", label="eventloop w1", concurrency=10, message_size=size)
        for size in (32, 4096)
    ]
    summary = summarize(t.cells(rows), t.histograms({}))
    assert ordered_series(summary) == ["eventloop w1 · 32 B", "eventloop w1 · 4096 B"]
    assert rate_unit(summary) == "msg/s"
    one = summarize(t.cells(rows[:1]), t.histograms({}))
    assert list(one["series"]) == ["eventloop w1"]


def test_spectrum_runs_from_min_to_max() -> None:
    hist = merged_histograms(t.histograms({("X", 0): [(10, 900), (50, 90), (900, 10)]}), [("X", 0)])
    xs, ys = spectrum(hist["X"])
    assert xs[0] == 1.0 and ys[0] == 10  # "1 in 1" is the minimum
    assert ys[-1] == 900 and xs[-1] == 1000  # the max sits at 1 in total
    assert ys == sorted(ys)
    assert ys[xs.index(100.0)] == 50  # p99: 990 of 1000 values are ≤ 50 µs
    assert ys[xs.index(10.0)] == 10  # p90
    assert ys[xs.index(2.0)] == 10  # p50


def test_merged_histograms_only_take_the_given_repetitions() -> None:
    table = t.histograms({("X", 0): [(10, 5)], ("X", 1): [(99, 5)]})
    merged = merged_histograms(table, [("X", 0)])
    assert merged["X"].to_pairs() == [(10, 5)]


def test_server_cpu_count_reads_pinning() -> None:
    summary = pd.DataFrame({"server_cpus": ["0-1", "0", None]})
    assert server_cpu_count(summary) == 1
    assert server_cpu_count(pd.DataFrame({"server_cpus": [None]})) is None


def test_empty_run_summarizes_to_no_rows() -> None:
    summary = summarize(t.cells([]), t.histograms({}))
    assert summary.empty and "series" in summary.columns
