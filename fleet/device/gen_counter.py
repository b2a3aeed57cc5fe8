"""The ``counter`` value generator: start, start+step, ... one step every ``every``, wrapping.

Arithmetic stays in integers for Integer, Unsigned Integer and Time resources
(exact up to their limits); ``start``, ``step`` and ``max`` must then be whole
numbers. After ``max`` (default: the top of the resource's range or type) the
counter starts over at ``start``.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass
from typing import Final

from fleet.device.gen_base import (
    DEFAULT_EVERY,
    NUMBER_TYPES,
    GeneratorError,
    GeneratorInfo,
    GeneratorSpec,
    Output,
    ParamInfo,
    slot,
)
from fleet.device.gen_params import Params
from fleet.model.definitions import ResourceModel
from fleet.model.types import ResourceType

_EVERY: Final = ParamInfo("every", "duration", "time between two ticks", default="10s")

COUNTER: Final = GeneratorInfo(
    "counter",
    "start, start+step, ... one step every `every`; after max it wraps back to start",
    (
        ParamInfo("start", "number", "first value (default: the range's low end, or 0)"),
        ParamInfo("step", "number", "added at every tick (greater than 0)", default=1),
        _EVERY,
        ParamInfo("max", "number", "wrap back to start after this (default: the range's high end)"),
    ),
    NUMBER_TYPES,
)


@dataclass(frozen=True, slots=True)
class CounterSpec(GeneratorSpec):
    first: int | float
    step: int | float
    every: float
    cycle: int | None
    out: Output
    kind = "counter"

    @classmethod
    def parse(cls, p: Params, resource: ResourceModel) -> CounterSpec:
        out = Output.numeric(cls.kind, resource, None)
        default_start: int | float = 0
        if math.isfinite(out.low) and out.low > 0:
            default_start = out.low
        first = p.exact_number("start", default_start)
        step = p.exact_number("step", 1)
        top: int | float | None = p.exact_number("max", out.high) if p.has("max") else None
        if top is None and math.isfinite(out.high):
            top = out.high
        if out.integer:
            for key, number in (("start", first), ("step", step), ("max", top)):
                if isinstance(number, float):
                    raise GeneratorError(
                        f"resource {resource.id} ({resource.name}) is "
                        f"{resource.type.value}: use a whole number, got {number!r}",
                        key,
                    )
        if step <= 0:
            raise GeneratorError(f"must be greater than 0, got {step!r}", "step")
        out.check(first, "start")
        cycle = None
        if top is not None:
            out.check(top, "max")
            if top < first:
                raise GeneratorError(f"must not be below start ({first!r})", "max")
            if resource.type is ResourceType.FLOAT:
                cycle = math.floor((top - first) / step) + 1
            else:
                cycle = (int(top) - int(first)) // int(step) + 1
        return cls(first, step, p.duration("every", DEFAULT_EVERY), cycle, out)

    def create(self, rng: random.Random, start: float) -> Counter:
        return Counter(self, start)


class Counter:
    __slots__ = ("spec", "start")

    def __init__(self, spec: CounterSpec, start: float) -> None:
        self.spec, self.start = spec, start

    def value_at(self, t: float) -> int | float:
        spec = self.spec
        k = slot(t, self.start, spec.every)
        if spec.cycle is not None:
            k %= spec.cycle
        return spec.out(spec.first + spec.step * k)

    def next_change(self, t: float) -> float:
        return self.start + (slot(t, self.start, self.spec.every) + 1) * self.spec.every
