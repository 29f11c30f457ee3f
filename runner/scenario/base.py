"""What every scenario model shares: frozen, unknown fields refused naming the allowed ones,
and the unit types (durations, fractions, CPU lists) parsed by ``bench.runner.units``."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, model_validator
from pydantic_core import PydanticCustomError

from bench.runner.units import parse_cpus, parse_duration, parse_fraction

Duration = Annotated[float, BeforeValidator(parse_duration)]
Fraction = Annotated[float, BeforeValidator(parse_fraction)]
Cpus = Annotated[tuple[int, ...], BeforeValidator(parse_cpus)]


class StrictModel(BaseModel):
    """Base of every scenario model: frozen, and unknown fields are errors naming the allowed."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    @model_validator(mode="before")
    @classmethod
    def _reject_unknown(cls, data: Any) -> Any:
        if isinstance(data, dict):
            allowed = list(cls.model_fields)
            for key in data:
                if key not in cls.model_fields:
                    raise PydanticCustomError(
                        "unknown_field",
                        "unknown field '{field}'; allowed: {allowed}",
                        {"field": str(key), "allowed": ", ".join(allowed)},
                    )
        return data
