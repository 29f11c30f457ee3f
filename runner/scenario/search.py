"""The scenario's search settings: ``load: {mode: search, slo: {...}, search: {...}}``.

These pydantic models are the user-facing schema of the SLO search; they turn into the
plain values the search works with (``bench.runner.results.slo.Slo`` and
``bench.runner.results.search.SearchConfig``).

Example::

    load:
      engine: native
      mode: search
      slo: {p99: 100ms, error_rate: 0.1%}
      search: {start_rate: 200, precision: 5%, max_steps: 12}
      duration: 5s
      warmup: 1s
"""

from __future__ import annotations

from pydantic import Field, model_validator

from bench.runner.results.search import SearchConfig
from bench.runner.results.slo import DEFAULT_ERROR_RATE, LATENCY_KEYS, Slo
from bench.runner.scenario.base import Duration, Fraction, StrictModel

_Model = StrictModel


class SearchSlo(_Model):
    """The objective the search holds: ONE latency percentile limit, and an error rate.

    Exactly one of ``p50`` … ``p9999`` is given (a search step measures one percentile
    against one limit); ``error_rate`` defaults to 0.1%.
    """

    p50: Duration | None = None
    p90: Duration | None = None
    p99: Duration | None = None
    p999: Duration | None = None
    p9999: Duration | None = None
    error_rate: Fraction = DEFAULT_ERROR_RATE

    @model_validator(mode="after")
    def _one_percentile(self) -> SearchSlo:
        given = [k for k in LATENCY_KEYS if getattr(self, k) is not None]
        if len(given) != 1:
            raise ValueError(
                "the search needs exactly one latency limit (p50, p90, p99, p999 or p9999); "
                f"got {', '.join(given) or 'none'}"
            )
        if getattr(self, given[0]) <= 0:
            raise ValueError(f"{given[0]} must be more than 0")
        return self

    @property
    def percentile(self) -> str:
        """The limited percentile's key (``"p99"``)."""
        return next(k for k in LATENCY_KEYS if getattr(self, k) is not None)

    def to_slo(self) -> Slo:
        """The search's plain SLO (latency in µs)."""
        seconds = getattr(self, self.percentile)
        return Slo({self.percentile: float(seconds) * 1e6}, self.error_rate)


class SearchSettings(_Model):
    """How the search moves (see ``bench.runner.results.search``): start, growth, bounds, precision."""

    start_rate: float = Field(default=100.0, gt=0, description="first arrival rate (req/s)")
    growth: float = Field(default=2.0, gt=1.0, description="factor between bracketing steps")
    min_rate: float = Field(default=1.0, gt=0, description="give up below this rate")
    max_rate: float = Field(default=1_000_000.0, gt=0, description="never go above this rate")
    precision: Fraction = Field(default=0.05, description="stop when the bracket is this narrow")
    max_steps: int = Field(default=14, ge=2, le=64, description="measured windows at most")
    min_achieved: Fraction = Field(
        default=0.95, description="a step whose sends fell below this share of the rate fails"
    )

    @model_validator(mode="after")
    def _check(self) -> SearchSettings:
        if self.min_rate > self.max_rate:
            raise ValueError("min_rate is above max_rate")
        if not self.min_rate <= self.start_rate <= self.max_rate:
            raise ValueError("start_rate must lie between min_rate and max_rate")
        if self.precision <= 0:
            raise ValueError("precision must be more than 0 (e.g. 5%)")
        return self

    def to_config(self) -> SearchConfig:
        """The search's plain configuration."""
        return SearchConfig(
            start_rate=self.start_rate,
            growth=self.growth,
            min_rate=self.min_rate,
            max_rate=self.max_rate,
            precision=self.precision,
            max_steps=self.max_steps,
            min_achieved=self.min_achieved,
        )
