"""Value generators over a set of values: constant and step.

They work for every resource type: each value is written as the user would
write it (``21.5``, ``"21.5"``, ``true``, ``"ON"``, ``"3:0"``, ``"hex:0a0b"``)
and checked against the resource's type and range when parsed, so a run never
meets a bad value.

- ``constant``: one value, or one of ``choices`` picked per device by its rng;
- ``step``: holds each of ``levels`` (or ``min``/``max``, a square wave) for
  ``period / len(levels)``, cycling or picking at random. A Boolean steps
  between false and true, an enumerated resource through its members, when no
  levels are given.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Final

from fleet.device.gen_base import (
    NUMBER_TYPES,
    VALUE_TYPES,
    GeneratorError,
    GeneratorInfo,
    GeneratorSpec,
    ParamInfo,
    slot,
    unit_noise,
)
from fleet.device.gen_params import Params, typed_value, typed_values
from fleet.model.definitions import ResourceModel
from fleet.model.ranges import RangeKind
from fleet.model.types import ResourceType
from fleet.model.values import Value

CONSTANT: Final = GeneratorInfo(
    "constant",
    "a value that never changes (or one of `choices`, picked per device)",
    (
        ParamInfo("value", "value", "the value (give value or choices)"),
        ParamInfo("choices", "values", "each device picks one of these at random"),
    ),
    VALUE_TYPES,
)


@dataclass(frozen=True, slots=True)
class ConstantSpec(GeneratorSpec):
    values: tuple[Value, ...]
    kind = "constant"

    @classmethod
    def parse(cls, p: Params, resource: ResourceModel) -> ConstantSpec:
        if p.has("value") == p.has("choices"):
            raise GeneratorError("constant needs either value or choices", "value")
        if p.has("value"):
            return cls((typed_value(resource, p.raw("value"), "value"),))
        return cls(typed_values(resource, p.raw("choices"), "choices"))

    def create(self, rng: random.Random, start: float) -> Constant:
        if len(self.values) == 1:
            return Constant(self.values[0])
        return Constant(rng.choice(self.values))


class Constant:
    __slots__ = ("value",)

    def __init__(self, value: Value) -> None:
        self.value = value

    def value_at(self, t: float) -> Value:
        return self.value

    def next_change(self, t: float) -> float | None:
        return None


STEP: Final = GeneratorInfo(
    "step",
    "holds each level for period/len(levels), in order or at random",
    (
        ParamInfo(
            "levels",
            "values",
            "the values to step through (default: false/true for a Boolean, the members of an "
            "enumerated range)",
        ),
        ParamInfo("min", "number", "low level of a square wave (instead of levels)"),
        ParamInfo("max", "number", "high level of a square wave (instead of levels)"),
        ParamInfo("period", "duration", "time to go through all levels once", required=True),
        ParamInfo(
            "order", "string", "cycle or random", default="cycle", choices=("cycle", "random")
        ),
    ),
    VALUE_TYPES,
)


@dataclass(frozen=True, slots=True)
class StepSpec(GeneratorSpec):
    levels: tuple[Value, ...]
    hold: float
    random_order: bool
    kind = "step"

    @classmethod
    def parse(cls, p: Params, resource: ResourceModel) -> StepSpec:
        levels = _levels(p, resource)
        period = p.duration("period")
        random_order = p.choice("order", ("cycle", "random"), "cycle") == "random"
        return cls(levels, period / len(levels), random_order)

    def create(self, rng: random.Random, start: float) -> Step:
        return Step(self, start, rng.getrandbits(64) if self.random_order else 0)


def _levels(p: Params, resource: ResourceModel) -> tuple[Value, ...]:
    if p.has("levels"):
        if p.has("min") or p.has("max"):
            raise GeneratorError("give either levels or min and max, not both", "levels")
        levels = typed_values(resource, p.raw("levels"), "levels")
    elif p.has("min") or p.has("max"):
        if resource.type not in NUMBER_TYPES:
            raise GeneratorError(
                f"min and max need a numeric resource; {resource.name} is "
                f"{resource.type.value}: use levels",
                "min" if p.has("min") else "max",
            )
        for key in ("min", "max"):
            if not p.has(key):
                raise GeneratorError("a square wave needs both min and max", key)
        levels = (
            typed_value(resource, p.raw("min"), "min"),
            typed_value(resource, p.raw("max"), "max"),
        )
    else:
        levels = _default_levels(resource)
    if len(levels) < 2:
        raise GeneratorError("step needs at least two levels (use constant for one)", "levels")
    return levels


def _default_levels(resource: ResourceModel) -> tuple[Value, ...]:
    if resource.type is ResourceType.BOOLEAN:
        return (False, True)
    range_ = resource.range
    if range_.kind is RangeKind.ENUMERATION:
        if range_.values and not range_.intervals:
            return range_.values
        if resource.type in NUMBER_TYPES and all(i.low == i.high for i in range_.intervals):
            points = [i.low for i in range_.intervals]
            return tuple(typed_value(resource, v, "levels") for v in points)
    raise GeneratorError("step needs levels (or min and max)", "levels")


class Step:
    __slots__ = ("salt", "spec", "start")

    def __init__(self, spec: StepSpec, start: float, salt: int) -> None:
        self.spec, self.start, self.salt = spec, start, salt

    def value_at(self, t: float) -> Value:
        spec = self.spec
        k = slot(t, self.start, spec.hold)
        if spec.random_order:
            return spec.levels[int(unit_noise(self.salt, k) * len(spec.levels))]
        return spec.levels[k % len(spec.levels)]

    def next_change(self, t: float) -> float:
        return self.start + (slot(t, self.start, self.spec.hold) + 1) * self.spec.hold
