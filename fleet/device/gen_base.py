"""Shared pieces of the value generators: errors, parameter metadata, output shaping, protocol.

A value generator is described by a :class:`GeneratorSpec` (parsed once per
resource of a device template, immutable, shared by every device) and
instantiated per device as a :class:`Generator` (small, ``__slots__``) from the
device's seeded ``random.Random``. Generators are pure functions of time plus
a per-device salt: :func:`unit_noise` turns ``(salt, sample index)`` into a
uniform number without consuming a shared random stream, so the value at a
time never depends on how often it was asked for.

:class:`Output` turns the float a numeric generator computes into a value of
the resource's type (Integer rounding, Float decimals) and clamps it into the
resource's numeric range, so a generated value always passes the tree's checks.
"""

from __future__ import annotations

import math
import random
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import Final, Protocol, runtime_checkable

from fleet.errors import FleetError
from fleet.model.definitions import ResourceModel
from fleet.model.path import Path
from fleet.model.ranges import RangeKind
from fleet.model.types import ResourceType
from fleet.model.values import INT_MAX, INT_MIN, UINT_MAX, Value

DEFAULT_EVERY: Final = 10.0
"""Default sampling interval (seconds) of the time-varying generators."""


class GeneratorError(FleetError):
    """A generator spec that cannot be used; ``key`` names the offending parameter."""

    def __init__(self, message: str, key: str | None = None) -> None:
        self.message = message
        self.key = key
        super().__init__(f"{key}: {message}" if key else message)


# -- parameter metadata ---------------------------------------------------------------------------

PARAM_TYPES: Final = frozenset(
    {"number", "integer", "boolean", "string", "duration", "value", "values", "path", "paths"}
)


@dataclass(frozen=True, slots=True)
class ParamInfo:
    """One parameter of a generator kind.

    ``type`` is one of :data:`PARAM_TYPES`: ``duration`` is a number of seconds
    or a text like ``"500ms"``, ``"10s"``, ``"5m"``, ``"1h30m"``, ``"1d"``;
    ``value`` is a value of the resource's type (native or text form), ``values``
    a list of them; ``path`` an LwM2M path of the same device, ``paths`` one path
    or a list. ``choices``, when set, lists the allowed texts.
    """

    name: str
    type: str
    description: str
    required: bool = False
    default: object = None
    choices: tuple[str, ...] = ()

    def json_schema(self) -> dict[str, object]:
        """A JSON Schema fragment for this parameter (with its description)."""
        schema: dict[str, object] = (
            {"enum": list(self.choices)} if self.choices else dict(_SCHEMAS[self.type])
        )
        schema["description"] = self.description
        if self.default is not None:
            schema["default"] = self.default
        return schema


_DURATION_SCHEMA: Final[dict[str, object]] = {
    "anyOf": [
        {"type": "number", "minimum": 0},
        {"type": "string", "pattern": r"^\s*(\d+(\.\d+)?\s*(ms|s|m|h|d)\s*)+$"},
    ]
}
_VALUE_SCHEMA: Final[dict[str, object]] = {"type": ["number", "integer", "boolean", "string"]}
_SCHEMAS: Final[dict[str, dict[str, object]]] = {
    "number": {"type": "number"},
    "integer": {"type": "integer"},
    "boolean": {"type": "boolean"},
    "string": {"type": "string"},
    "duration": _DURATION_SCHEMA,
    "value": _VALUE_SCHEMA,
    "values": {"type": "array", "items": _VALUE_SCHEMA, "minItems": 1},
    "path": {"type": "string", "pattern": r"^/\d+/\d+/\d+(/\d+)?$"},
    "paths": {
        "anyOf": [
            {"type": "string", "pattern": r"^/\d+/\d+/\d+(/\d+)?$"},
            {"type": "array", "items": {"type": "string"}, "minItems": 1},
        ]
    },
}


@dataclass(frozen=True, slots=True)
class GeneratorInfo:
    """What a generator kind is for, which resource types it fits and its parameters."""

    name: str
    description: str
    parameters: tuple[ParamInfo, ...]
    types: frozenset[ResourceType] = field(default_factory=frozenset)

    def parameter(self, name: str) -> ParamInfo:
        for param in self.parameters:
            if param.name == name:
                return param
        raise KeyError(name)

    def json_schema(self) -> dict[str, object]:
        """JSON Schema of a spec of this kind: ``{"kind": name, ...parameters}``."""
        properties: dict[str, object] = {"kind": {"const": self.name}}
        properties.update({p.name: p.json_schema() for p in self.parameters})
        required = ["kind"] + [p.name for p in self.parameters if p.required]
        return {
            "type": "object",
            "description": self.description,
            "properties": properties,
            "required": required,
            "additionalProperties": False,
        }


NUMBER_TYPES: Final = frozenset(
    {ResourceType.INTEGER, ResourceType.UNSIGNED_INTEGER, ResourceType.FLOAT, ResourceType.TIME}
)
VALUE_TYPES: Final = frozenset(t for t in ResourceType if t is not ResourceType.NONE)


def require_types(kind: str, resource: ResourceModel, types: frozenset[ResourceType]) -> None:
    if resource.type not in types:
        names = ", ".join(sorted(t.value for t in types))
        raise GeneratorError(
            f"{kind} cannot drive resource {resource.id} ({resource.name}) of type "
            f"{resource.type.value} (it fits {names})",
            "kind",
        )


# -- output shaping -------------------------------------------------------------------------------


class Output:
    """Turns a computed float into a value of the resource's type, clamped into its range."""

    __slots__ = ("decimals", "high", "integer", "low", "resource")

    def __init__(self, resource: ResourceModel, decimals: int | None = None) -> None:
        self.resource = resource
        self.integer = resource.type is not ResourceType.FLOAT
        self.decimals = decimals
        low: float = -math.inf
        high: float = math.inf
        if resource.type is ResourceType.UNSIGNED_INTEGER:
            low, high = 0, UINT_MAX
        elif self.integer:
            low, high = INT_MIN, INT_MAX
        rng = resource.range
        if rng.kind is RangeKind.NUMERIC and rng.low is not None and rng.high is not None:
            low, high = max(low, rng.low), min(high, rng.high)
        self.low, self.high = low, high

    @classmethod
    def numeric(cls, kind: str, resource: ResourceModel, decimals: int | None) -> Output:
        """The output of a numeric generator; refuses non-numeric and enumerated resources."""
        require_types(kind, resource, NUMBER_TYPES)
        if resource.range.kind is RangeKind.ENUMERATION:
            raise GeneratorError(
                f"resource {resource.id} ({resource.name}) only allows "
                f"{resource.range.describe()}: use constant or step with levels",
                "kind",
            )
        if decimals is not None and not 0 <= decimals <= 15:
            raise GeneratorError(f"must be 0..15, got {decimals}", "decimals")
        return cls(resource, decimals)

    def check(self, value: float, key: str) -> None:
        """Refuse at parse time a bound the generator would reach but the resource forbids."""
        if not self.low <= value <= self.high:
            raise GeneratorError(
                f"{value:g} is outside the range of resource {self.resource.id} "
                f"({self.resource.name}): {self.describe()}",
                key,
            )

    def describe(self) -> str:
        return f"{self.low:g}..{self.high:g}"

    def __call__(self, value: float) -> int | float:
        if isinstance(value, int) and self.integer:
            return int(min(max(value, self.low), self.high))
        if self.integer:
            number = math.floor(value + 0.5) if math.isfinite(value) else 0
            return int(min(max(number, self.low), self.high))
        if self.decimals is not None:
            value = round(value, self.decimals)
        return float(min(max(value, self.low), self.high))


# -- determinism ----------------------------------------------------------------------------------

_MASK: Final = (1 << 64) - 1
_UNIT: Final = 1.0 / (1 << 53)


def unit_noise(salt: int, index: int) -> float:
    """A uniform number in [0, 1) from ``(salt, index)`` (splitmix64): no shared stream consumed."""
    z = (salt + (index + 1) * 0x9E3779B97F4A7C15) & _MASK
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & _MASK
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & _MASK
    return ((z ^ (z >> 31)) >> 11) * _UNIT


def slot(t: float, start: float, every: float) -> int:
    """The index k of the sample period holding ``t``: ``start + k*every <= t`` (k >= 0).

    Corrected for float rounding so that ``slot(start + (k+1)*every) == k+1``
    always holds: a deadline computed from a slot lands in the next slot.
    """
    if t <= start:
        return 0
    k = int((t - start) // every)
    if start + (k + 1) * every <= t:
        k += 1
    elif k > 0 and start + k * every > t:
        k -= 1
    return k


# -- the two faces of a generator ---------------------------------------------------------------


@runtime_checkable
class Generator(Protocol):
    """One resource's value over time, for one device.

    ``value_at(t)`` is the value at time ``t`` (monotonic clock seconds; asking
    with non-decreasing ``t`` is cheapest). ``next_change(t)`` is the earliest
    time after ``t`` at which the value may change, or ``None`` if it never
    changes on its own.
    """

    def value_at(self, t: float) -> Value: ...

    def next_change(self, t: float) -> float | None: ...


class GeneratorSpec(ABC):
    """A parsed, validated generator for one resource; immutable and shared by all devices."""

    kind: str = ""

    @property
    def inputs(self) -> tuple[Path, ...]:
        """Paths of the same device this generator reads (``linked`` only)."""
        return ()

    @abstractmethod
    def create(self, rng: random.Random, start: float) -> Generator:
        """A generator for one device, whose run of values begins at ``start``."""
