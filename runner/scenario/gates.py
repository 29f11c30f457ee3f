"""Performance gates: which metrics ``bench compare`` judges, how far each may move, how sure.

This is configuration, shared by the scenario file (a ``gates:`` section) and the
``bench compare`` command line (``--max-regression 5%``, ``--metric p99:10%``,
``--alpha 0.05``); the command line wins over the scenario. The statistics that use it
live in ``bench.runner.compare``.

    gates:
      max_regression: 5%        # default allowed change for every metric
      metrics: {p99: 10%, p999: off, error_rate: 0.5%}
      alpha: 0.05               # family-wise false-regression level (Holm)
      min_repetitions: 3

Every metric is relative (a ratio of medians) except ``error_rate``, which is compared in
absolute terms (percentage points of failed requests) and has its own default threshold,
because a ratio from an error rate of 0 means nothing.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, PositiveInt, field_validator

from bench.runner.scenario.event_gates import EventGate, parse_event_gate
from bench.runner.units import parse_fraction


@dataclass(frozen=True, slots=True)
class GateMetric:
    """One metric a gate can judge.

    Attributes:
        name: the key used in scenarios, on the command line and in reports.
        label: how tables and figures title it.
        higher_is_better: True for throughput; False for latencies, errors, memory.
        absolute: compare the difference of medians (not their ratio).
        default_threshold: used instead of ``max_regression`` when the metric has no
            explicit threshold (``None``: ``max_regression`` applies).
        opt_in: judged only when a threshold is set for it (``metrics: {cpu: 10%}``).
    """

    name: str
    label: str
    higher_is_better: bool
    absolute: bool = False
    default_threshold: float | None = None
    opt_in: bool = False


#: The metrics gates judge, in report order.
GATE_METRICS: tuple[GateMetric, ...] = (
    GateMetric("rps", "req/s", higher_is_better=True),
    GateMetric("p50", "p50", higher_is_better=False),
    GateMetric("p99", "p99", higher_is_better=False),
    GateMetric("p999", "p99.9", higher_is_better=False),
    GateMetric("error_rate", "error rate", higher_is_better=False, absolute=True,
               default_threshold=0.001),
    GateMetric("rss", "peak RSS", higher_is_better=False),
    # Server CPU per response: the cost of a request, steady on a contended machine.
    GateMetric("cpu", "CPU/req", higher_is_better=False, opt_in=True),
)  # fmt: skip
#: name -> metric.
METRICS_BY_NAME: dict[str, GateMetric] = {m.name: m for m in GATE_METRICS}
#: Other spellings accepted for metric names.
METRIC_ALIASES: dict[str, str] = {
    "p99.9": "p999", "errors": "error_rate", "req/s": "rps", "cpu_per_request": "cpu",
}  # fmt: skip
#: Words that switch a metric's gate off.
OFF_WORDS: frozenset[str] = frozenset({"off", "none", "no", "false"})

#: Defaults, stated once (docs/ci.md quotes them).
DEFAULT_MAX_REGRESSION = 0.05
DEFAULT_ALPHA = 0.008
DEFAULT_MIN_REPETITIONS = 3


def canonical_metric(name: str) -> str:
    """Return the canonical metric name for ``name`` or an alias; raise ValueError if unknown."""
    key = METRIC_ALIASES.get(name.strip(), name.strip())
    if key not in METRICS_BY_NAME:
        allowed = ", ".join(m.name for m in GATE_METRICS)
        raise ValueError(f"unknown metric {name!r}; allowed: {allowed}")
    return key


def _threshold_or_off(value: object) -> float | None:
    if value is None or value is False:
        return None
    if isinstance(value, str) and value.strip().lower() in OFF_WORDS:
        return None
    return parse_fraction(value)


#: A threshold (``5%``, ``0.05``) or ``off``.
Threshold = Annotated[float | None, BeforeValidator(_threshold_or_off)]
Fraction = Annotated[float, BeforeValidator(parse_fraction)]


class Gates(BaseModel):
    """The rules a comparison is judged by (the scenario's ``gates:`` section)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    max_regression: Fraction = Field(
        default=DEFAULT_MAX_REGRESSION,
        description="allowed relative change for metrics without their own threshold",
    )
    metrics: dict[str, Threshold] = Field(
        default_factory=dict,
        description="per-metric thresholds (metric: 10%), or metric: off to skip it",
    )
    alpha: float = Field(
        default=DEFAULT_ALPHA,
        gt=0.0,
        lt=0.5,
        description="false-regression level of the whole comparison (per gate without Holm)",
    )
    min_repetitions: PositiveInt = Field(
        default=DEFAULT_MIN_REPETITIONS, description="fewer repetitions on a side: inconclusive"
    )
    correction: Literal["holm", "none"] = Field(
        default="holm",
        description="holm: alpha bounds the chance of any false regression in the comparison",
    )
    events: tuple[Annotated[EventGate, BeforeValidator(parse_event_gate)], ...] = Field(
        default=(),
        description="limits on what an event may cost: 'reload errors <= 0' (runner.scenario.event_gates)",
    )

    @field_validator("metrics", mode="before")
    @classmethod
    def _canonical_names(cls, value: Any) -> Any:
        if not isinstance(value, Mapping):
            return value
        out: dict[str, Any] = {}
        for key, threshold in value.items():
            out[canonical_metric(str(key))] = threshold
        return out

    def threshold(self, metric: str) -> float | None:
        """The allowed change for ``metric`` (a fraction), or None when its gate is off."""
        if metric in self.metrics:
            return self.metrics[metric]
        spec = METRICS_BY_NAME[metric]
        if spec.opt_in:
            return None
        return spec.default_threshold if spec.default_threshold is not None else self.max_regression

    def enabled(self) -> tuple[GateMetric, ...]:
        """The metrics judged, in report order."""
        return tuple(m for m in GATE_METRICS if self.threshold(m.name) is not None)

    def overridden(
        self,
        *,
        max_regression: float | None = None,
        metrics: Mapping[str, float | None] | None = None,
        alpha: float | None = None,
        min_repetitions: int | None = None,
        correction: str | None = None,
    ) -> Gates:
        """A copy with the given values replacing these (the command line over the scenario)."""
        data = self.model_dump()
        if max_regression is not None:
            data["max_regression"] = max_regression
        if metrics:
            data["metrics"] = {**data["metrics"], **dict(metrics)}
        if alpha is not None:
            data["alpha"] = alpha
        if min_repetitions is not None:
            data["min_repetitions"] = min_repetitions
        if correction is not None:
            data["correction"] = correction
        return Gates.model_validate(data)


def parse_metric_option(text: str) -> tuple[str, float | None]:
    """Parse ``p99:10%`` (or ``p999:off``) into (canonical metric, threshold or None)."""
    name, sep, value = text.partition(":")
    if not sep or not name.strip() or not value.strip():
        raise ValueError(f"expected METRIC:THRESHOLD like p99:10% or p999:off; got {text!r}")
    return canonical_metric(name), _threshold_or_off(value.strip())
