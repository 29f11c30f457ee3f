"""Exact latency histograms: nearest-rank percentiles, lossless merges."""

from __future__ import annotations

import random

import numpy as np
import pytest

from bench.runner.results.histogram import Histogram, summarize_ns


def test_values_are_truncated_to_microseconds() -> None:
    hist = Histogram.from_ns([1_999, 2_000, 2_001, 10_500])
    assert hist.to_pairs() == [(1, 1), (2, 2), (10, 1)]


def test_nearest_rank_percentiles() -> None:
    hist = Histogram.from_ns([v * 1000 for v in range(1, 101)])  # 1..100 µs
    assert hist.percentile(50) == 50
    assert hist.percentile(99) == 99
    assert hist.percentile(99.9) == 100
    assert hist.percentile(100) == 100
    assert hist.percentile(0) == 1


def test_a_one_percent_tail_sits_exactly_at_the_p99_boundary() -> None:
    # 99 fast and 1 slow: p99 is the last fast value; anything above 99 % is slow.
    hist = Histogram.from_ns([1_000] * 99 + [200_000_000])
    assert hist.percentile(99) == 1
    assert hist.percentile(99.5) == 200_000
    assert hist.fraction_at_or_above(150_000) == pytest.approx(0.01)


def test_merge_equals_recording_everything_in_one() -> None:
    rng = random.Random(7)
    parts = [[rng.randrange(1, 10_000_000) for _ in range(500)] for _ in range(5)]
    merged = Histogram.merge(Histogram.from_ns(p) for p in parts)
    whole = Histogram.from_ns([v for p in parts for v in p])
    assert merged.to_pairs() == whole.to_pairs()
    assert merged.summary() == whole.summary()


def test_percentiles_are_not_averages_of_parts() -> None:
    fast = Histogram.from_ns([1_000] * 100)
    slow = Histogram.from_ns([100_000] * 100)
    merged = Histogram.merge([fast, slow])
    # The average of the two p99s would be 50.5 µs; the merged p99 is a real sample.
    assert merged.percentile(99) == 100


def test_pairs_round_trip() -> None:
    hist = Histogram.from_ns([5_000, 5_000, 7_000, 1_000_000])
    assert Histogram.from_pairs(hist.to_pairs()).to_pairs() == hist.to_pairs()
    assert Histogram.from_pairs([]).total == 0


def test_summary_of_known_values() -> None:
    hist = Histogram.from_ns(np.array([1_000, 2_000, 3_000, 4_000]))
    summary = hist.summary()
    assert summary["min"] == 1 and summary["max"] == 4
    assert summary["mean"] == pytest.approx(2.5)
    assert set(summary) >= {"p50", "p90", "p99", "p999", "p9999", "mean", "min", "max"}


def test_empty_histogram() -> None:
    hist = Histogram.empty()
    assert hist.total == 0
    assert hist.percentile(99) == 0.0
    assert hist.summary()["max"] == 0.0
    assert summarize_ns([]) == {}


def test_from_pairs_of_concatenated_repetitions_is_sorted_and_merged() -> None:
    # Two repetitions' pairs written one after the other: neither sorted nor distinct.
    pairs = [(100, 5), (900, 1), (50, 5), (100, 2), (900, 1)]
    hist = Histogram.from_pairs(pairs)
    assert hist.values.tolist() == [50, 100, 900]
    assert hist.counts.tolist() == [5, 7, 2]
    assert hist.percentile(50) <= hist.percentile(99)
