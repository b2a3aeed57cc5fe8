"""Numeric value generators: random_walk, sine, daily and sawtooth.

Each samples its curve every ``every`` seconds from its start (the value
holds between samples) and shapes the result with
:class:`~fleet.device.gen_base.Output` (Integer rounding, Float ``decimals``,
clamping into the resource's range). Bounds a generator reaches by design
(``min``/``max``, ``offset ± amplitude``, counter ``start``/``max``) are
checked against the range when parsed; only noise is clamped at run time.
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
    unit_noise,
)
from fleet.device.gen_params import Params
from fleet.model.definitions import ResourceModel

TAU: Final = 2.0 * math.pi

_EVERY: Final = ParamInfo(
    "every", "duration", "time between two samples (the value holds in between)", default="10s"
)
_DECIMALS: Final = ParamInfo("decimals", "integer", "round Float values to this many decimals")
_NOISE: Final = ParamInfo(
    "noise", "number", "uniform noise added to each sample, at most this much either way", default=0
)


def _bounds(p: Params, out: Output, kind: str) -> tuple[float, float]:
    """``min``/``max`` parameters, defaulting to the resource's numeric range."""
    low = p.maybe_number("min")
    high = p.maybe_number("max")
    if low is None:
        if not math.isfinite(out.low):
            raise GeneratorError(f"{kind} needs min (the resource has no range)", "min")
        low = float(out.low)
    if high is None:
        if not math.isfinite(out.high):
            raise GeneratorError(f"{kind} needs max (the resource has no range)", "max")
        high = float(out.high)
    if not low < high:
        raise GeneratorError(f"max must be greater than min ({low:g})", "max")
    out.check(low, "min")
    out.check(high, "max")
    return low, high


# -- random_walk ----------------------------------------------------------------------------------

RANDOM_WALK: Final = GeneratorInfo(
    "random_walk",
    "a bounded random walk: every step moves by at most `step`, reflected at min and max",
    (
        ParamInfo("min", "number", "lowest value (default: the resource's range)"),
        ParamInfo("max", "number", "highest value (default: the resource's range)"),
        ParamInfo("step", "number", "largest move per step (default: (max-min)/20)"),
        _EVERY,
        ParamInfo("start", "number", "first value (default: random between min and max)"),
        _DECIMALS,
    ),
    NUMBER_TYPES,
)


@dataclass(frozen=True, slots=True)
class RandomWalkSpec(GeneratorSpec):
    low: float
    high: float
    step: float
    every: float
    first: float | None
    out: Output
    kind = "random_walk"

    @classmethod
    def parse(cls, p: Params, resource: ResourceModel) -> RandomWalkSpec:
        out = Output.numeric(cls.kind, resource, p.integer("decimals"))
        low, high = _bounds(p, out, cls.kind)
        step = p.positive("step", (high - low) / 20)
        first = p.maybe_number("start")
        if first is not None and not low <= first <= high:
            raise GeneratorError(f"must be within min..max ({low:g}..{high:g})", "start")
        return cls(low, high, step, p.duration("every", DEFAULT_EVERY), first, out)

    def create(self, rng: random.Random, start: float) -> RandomWalk:
        salt = rng.getrandbits(64)
        first = self.first if self.first is not None else rng.uniform(self.low, self.high)
        return RandomWalk(self, start, salt, first)


class RandomWalk:
    __slots__ = ("first", "k", "salt", "spec", "start", "value")

    def __init__(self, spec: RandomWalkSpec, start: float, salt: int, first: float) -> None:
        self.spec, self.start, self.salt, self.first = spec, start, salt, first
        self.k, self.value = 0, first

    def value_at(self, t: float) -> int | float:
        spec = self.spec
        k = slot(t, self.start, spec.every)
        if k < self.k:
            self.k, self.value = 0, self.first
        value, low, high, step = self.value, spec.low, spec.high, spec.step
        while self.k < k:
            self.k += 1
            value += (2.0 * unit_noise(self.salt, self.k) - 1.0) * step
            if value > high:
                value = max(low, 2 * high - value)
            elif value < low:
                value = min(high, 2 * low - value)
        self.value = value
        return spec.out(value)

    def next_change(self, t: float) -> float:
        return self.start + (slot(t, self.start, self.spec.every) + 1) * self.spec.every


# -- sine -----------------------------------------------------------------------------------------

SINE: Final = GeneratorInfo(
    "sine",
    "offset + amplitude * sin(2 pi (t / period + phase)) + noise",
    (
        ParamInfo("period", "duration", "length of one wave", required=True),
        ParamInfo("amplitude", "number", "half the peak-to-peak height", required=True),
        ParamInfo("offset", "number", "the middle of the wave", default=0),
        _NOISE,
        ParamInfo("phase", "number", "where the wave starts, as a fraction of a period", default=0),
        ParamInfo("random_phase", "boolean", "each device starts at a random phase", default=False),
        ParamInfo("every", "duration", "time between two samples (default: period/20, ≤ 10s)"),
        _DECIMALS,
    ),
    NUMBER_TYPES,
)


@dataclass(frozen=True, slots=True)
class SineSpec(GeneratorSpec):
    period: float
    amplitude: float
    offset: float
    noise: float
    phase: float
    random_phase: bool
    every: float
    out: Output
    kind = "sine"

    @classmethod
    def parse(cls, p: Params, resource: ResourceModel) -> SineSpec:
        out = Output.numeric(cls.kind, resource, p.integer("decimals"))
        period = p.duration("period")
        amplitude = p.not_negative("amplitude")
        offset = p.number("offset", 0.0)
        out.check(offset - amplitude, "amplitude")
        out.check(offset + amplitude, "amplitude")
        every = p.duration("every", min(DEFAULT_EVERY, period / 20))
        return cls(
            period,
            amplitude,
            offset,
            p.not_negative("noise", 0.0),
            p.number("phase", 0.0),
            p.boolean("random_phase", False),
            every,
            out,
        )

    def create(self, rng: random.Random, start: float) -> Sampled:
        salt = rng.getrandbits(64)
        phase = rng.random() if self.random_phase else self.phase
        return Sampled(self, start, salt, phase)

    def sample(self, k: int, salt: int, extra: float) -> float:
        wave = math.sin(TAU * (k * self.every / self.period + extra))
        value = self.offset + self.amplitude * wave
        if self.noise:
            value += self.noise * (2.0 * unit_noise(salt, k) - 1.0)
        return value


class Sampled:
    """A generator whose value at sample ``k`` is a pure function of ``k``."""

    __slots__ = ("extra", "salt", "spec", "start")

    def __init__(
        self, spec: SineSpec | DailySpec | SawtoothSpec, start: float, salt: int, extra: float
    ) -> None:
        self.spec, self.start, self.salt, self.extra = spec, start, salt, extra

    def value_at(self, t: float) -> int | float:
        spec = self.spec
        return spec.out(spec.sample(slot(t, self.start, spec.every), self.salt, self.extra))

    def next_change(self, t: float) -> float:
        return self.start + (slot(t, self.start, self.spec.every) + 1) * self.spec.every


# -- daily ----------------------------------------------------------------------------------------

DAILY: Final = GeneratorInfo(
    "daily",
    "a day curve (temperature-like): lowest 12 hours before the peak hour, plus noise",
    (
        ParamInfo("min", "number", "the coolest value of the day", required=True),
        ParamInfo("max", "number", "the warmest value of the day", required=True),
        ParamInfo(
            "peak_hour", "number", "hour of the day (0..24) of the highest value", default=15
        ),
        _NOISE,
        ParamInfo(
            "time_scale",
            "number",
            "simulated seconds per real second (60: one hour per minute)",
            default=1,
        ),
        ParamInfo("start_hour", "number", "simulated hour of the day at the start", default=0),
        ParamInfo("spread", "number", "each device's curve is shifted by at most this", default=0),
        _EVERY,
        _DECIMALS,
    ),
    NUMBER_TYPES,
)


@dataclass(frozen=True, slots=True)
class DailySpec(GeneratorSpec):
    low: float
    high: float
    peak_hour: float
    noise: float
    time_scale: float
    start_hour: float
    spread: float
    every: float
    out: Output
    kind = "daily"

    @classmethod
    def parse(cls, p: Params, resource: ResourceModel) -> DailySpec:
        out = Output.numeric(cls.kind, resource, p.integer("decimals"))
        low, high = p.number("min"), p.number("max")
        if not low < high:
            raise GeneratorError(f"max must be greater than min ({low:g})", "max")
        spread = p.not_negative("spread", 0.0)
        out.check(low - spread, "spread" if spread else "min")
        out.check(high + spread, "spread" if spread else "max")
        hours = {k: p.number(k, d) for k, d in (("peak_hour", 15.0), ("start_hour", 0.0))}
        for key, hour in hours.items():
            if not 0 <= hour < 24:
                raise GeneratorError(f"must be an hour in 0..24, got {hour:g}", key)
        return cls(
            low,
            high,
            hours["peak_hour"],
            p.not_negative("noise", 0.0),
            p.positive("time_scale", 1.0),
            hours["start_hour"],
            spread,
            p.duration("every", DEFAULT_EVERY),
            out,
        )

    def create(self, rng: random.Random, start: float) -> Sampled:
        salt = rng.getrandbits(64)
        shift = rng.uniform(-self.spread, self.spread) if self.spread else 0.0
        return Sampled(self, start, salt, shift)

    def hour(self, k: int) -> float:
        """The simulated hour of the day (0..24) at sample ``k``."""
        return (self.start_hour + k * self.every * self.time_scale / 3600.0) % 24.0

    def sample(self, k: int, salt: int, extra: float) -> float:
        middle, half = (self.low + self.high) / 2, (self.high - self.low) / 2
        value = middle + half * math.cos(TAU * (self.hour(k) - self.peak_hour) / 24.0) + extra
        if self.noise:
            value += self.noise * (2.0 * unit_noise(salt, k) - 1.0)
        return value


# -- sawtooth -------------------------------------------------------------------------------------

SAWTOOTH: Final = GeneratorInfo(
    "sawtooth",
    "rises linearly from min to max over each period, then drops back (or the reverse)",
    (
        ParamInfo("min", "number", "start of each ramp (default: the resource's range)"),
        ParamInfo("max", "number", "end of each ramp (default: the resource's range)"),
        ParamInfo("period", "duration", "length of one ramp", required=True),
        ParamInfo("direction", "string", "up or down", default="up", choices=("up", "down")),
        ParamInfo("every", "duration", "time between two samples (default: period/20, ≤ 10s)"),
        _DECIMALS,
    ),
    NUMBER_TYPES,
)


@dataclass(frozen=True, slots=True)
class SawtoothSpec(GeneratorSpec):
    low: float
    high: float
    period: float
    down: bool
    every: float
    out: Output
    kind = "sawtooth"

    @classmethod
    def parse(cls, p: Params, resource: ResourceModel) -> SawtoothSpec:
        out = Output.numeric(cls.kind, resource, p.integer("decimals"))
        low, high = _bounds(p, out, cls.kind)
        period = p.duration("period")
        down = p.choice("direction", ("up", "down"), "up") == "down"
        return cls(
            low, high, period, down, p.duration("every", min(DEFAULT_EVERY, period / 20)), out
        )

    def create(self, rng: random.Random, start: float) -> Sampled:
        return Sampled(self, start, 0, 0.0)

    def sample(self, k: int, salt: int, extra: float) -> float:
        fraction = math.fmod(k * self.every, self.period) / self.period
        if self.down:
            fraction = 1.0 - fraction
        return self.low + (self.high - self.low) * fraction
