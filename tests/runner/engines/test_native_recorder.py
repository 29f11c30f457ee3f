"""The recorder folds 100 ms slices into seconds without losing or double-counting."""

from __future__ import annotations

from bench.runner.engines.native.recorder import Recorder
from bench.runner.results.histogram import Histogram


def test_slices_fold_into_seconds_exactly() -> None:
    rec = Recorder()
    everything: list[int] = []
    for second in range(2):
        for slice_ in range(10):
            values = [(second * 10 + slice_ + 1) * 1000] * (slice_ + 1)
            rec.samples.extend(values)
            everything += values
            rec.fold_slice()
        rec.close_second(float(second), 1.0, errors_total=second)
    assert [s.requests for s in rec.seconds] == [55, 55]
    assert [s.errors for s in rec.seconds] == [0, 1]
    assert rec.requests_total == 110
    merged = Histogram.merge(s.histogram for s in rec.seconds)
    assert merged.to_pairs() == Histogram.from_ns(everything).to_pairs()
    assert not rec.samples


def test_close_second_folds_what_is_left() -> None:
    rec = Recorder()
    rec.samples.extend([5_000, 6_000])
    assert rec.has_unclosed(0)
    second = rec.close_second(0.0, 0.5, errors_total=3)
    assert (second.requests, second.errors, second.span_s) == (2, 3, 0.5)
    assert not rec.has_unclosed(3)
    assert rec.has_unclosed(4)  # a new error since


def test_counting_without_recording() -> None:
    rec = Recorder()
    rec.fold_slice(unrecorded=7)
    second = rec.close_second(0.0, 1.0, errors_total=0, unrecorded=3)
    assert second.requests == 10
    assert second.histogram.total == 0


def test_lag_is_folded_and_discard_forgets_the_warmup() -> None:
    rec = Recorder()
    rec.samples.append(1_000)
    rec.lag_samples.extend([2_000, 3_000])
    rec.fold_lag()
    assert rec.lag.total == 2
    rec.discard()
    assert rec.lag.total == 0 and not rec.samples
