"""The ``linked`` value generator: a value derived from other resources of the same device.

No expression language and no ``eval``: ``op`` is one of a fixed set, applied
to the current values of the ``source`` paths, then ``value * scale + offset``
(numeric results only):

==========  ===================================================================
``copy``    the (single) source's value, converted to the target's type if needed
``max``     the largest value any source has had since the device started
``min``     the smallest value any source has had since the device started
``max_of``  the largest of the sources' current values
``min_of``  the smallest of the sources' current values
``sum``     the sum of the sources' current values
``mean``    the mean of the sources' current values
``above``   true while the (first) source is above ``threshold`` (Boolean)
``below``   true while the (first) source is below ``threshold`` (Boolean)
==========  ===================================================================

A linked generator never changes on its own (``next_change`` is ``None``);
:class:`~fleet.device.gen_set.GeneratorSet` feeds it the sources' values as
they change (``feed``). Numeric results are shaped (rounded, clamped) like
the other generators'. Whether the source paths exist in the device is for
the scenario loader to check (it knows the layout): see ``inputs``.
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
    Output,
    ParamInfo,
    require_types,
)
from fleet.device.gen_params import Params
from fleet.errors import InvalidValue, PathError
from fleet.model.definitions import ResourceModel
from fleet.model.path import Level, Path
from fleet.model.types import ResourceType
from fleet.model.values import Value, check_value, coerce_value, default_value

OPS: Final = ("copy", "max", "min", "max_of", "min_of", "sum", "mean", "above", "below")
_BOOLEAN_OPS: Final = frozenset({"above", "below"})
_RUNNING: Final = frozenset({"max", "min"})

LINKED: Final = GeneratorInfo(
    "linked",
    "derived from other resources of the same device (copy, running max/min, max_of, min_of, "
    "sum, mean, above/below a threshold), then value * scale + offset",
    (
        ParamInfo(
            "source", "paths", "path(s) of the same device, e.g. /3303/0/5700", required=True
        ),
        ParamInfo("op", "string", "how to derive the value", default="copy", choices=OPS),
        ParamInfo("scale", "number", "multiply numeric results by this", default=1),
        ParamInfo("offset", "number", "then add this", default=0),
        ParamInfo("threshold", "number", "the threshold of above / below"),
        ParamInfo("decimals", "integer", "round Float results to this many decimals"),
    ),
    VALUE_TYPES,
)


@dataclass(frozen=True, slots=True)
class LinkedSpec(GeneratorSpec):
    sources: tuple[Path, ...]
    op: str
    scale: float
    offset: float
    threshold: float
    initial: Value
    out: Output | None
    resource: ResourceModel
    kind = "linked"

    @property
    def inputs(self) -> tuple[Path, ...]:
        return self.sources

    @classmethod
    def parse(cls, p: Params, resource: ResourceModel) -> LinkedSpec:
        sources = _sources(p.raw("source"))
        op = p.choice("op", OPS, "copy")
        if op in ("copy", "above", "below") and len(sources) != 1:
            raise GeneratorError(f"{op} takes exactly one source", "source")
        threshold = 0.0
        out: Output | None = None
        if op in _BOOLEAN_OPS:
            require_types(f"linked {op}", resource, frozenset({ResourceType.BOOLEAN}))
            threshold = p.number("threshold")
        else:
            if p.has("threshold"):
                raise GeneratorError(f"only above and below use a threshold, not {op}", "threshold")
            if op != "copy" or resource.type in NUMBER_TYPES:
                out = Output.numeric(f"linked {op}", resource, p.integer("decimals"))
        scale, offset = p.number("scale", 1.0), p.number("offset", 0.0)
        if out is None and (scale != 1.0 or offset != 0.0):
            raise GeneratorError("scale and offset apply to numeric results only", "scale")
        initial = default_value(resource)
        return cls(sources, op, scale, offset, threshold, initial, out, resource)

    def create(self, rng: random.Random, start: float) -> Linked:
        return Linked(self)


def _sources(raw: object) -> tuple[Path, ...]:
    items = raw if isinstance(raw, list | tuple) else [raw]
    if not items:
        raise GeneratorError("needs at least one path", "source")
    paths: list[Path] = []
    for item in items:
        if not isinstance(item, str):
            raise GeneratorError(f"expected a path like /3303/0/5700, got {item!r}", "source")
        try:
            path = Path.parse(item)
        except PathError as exc:
            raise GeneratorError(str(exc), "source") from None
        if path.level < Level.RESOURCE:
            raise GeneratorError(f"{item!r} is not a resource path", "source")
        paths.append(path)
    return tuple(paths)


def _number(value: Value) -> float | None:
    if isinstance(value, bool):
        return float(value)
    if isinstance(value, int | float):
        return float(value)
    return None


def _convert(resource: ResourceModel, value: Value) -> Value | None:
    """A copied value in the target's type (text forms converted), or None when it cannot be."""
    try:
        return check_value(resource, value)
    except InvalidValue:
        pass
    text = str(value).lower() if isinstance(value, bool) else str(value)
    try:
        return coerce_value(resource, text)
    except InvalidValue:
        return None


class Linked:
    """One device's derived value; ``feed`` it the sources' values."""

    __slots__ = ("current", "extreme", "spec", "value")

    def __init__(self, spec: LinkedSpec) -> None:
        self.spec = spec
        self.current: list[Value | None] = [None] * len(spec.inputs)
        self.value: Value = spec.initial
        self.extreme: float | None = None

    def feed(self, path: Path, value: Value) -> bool:
        """Take a source's new value; True when the derived value changed."""
        spec = self.spec
        changed = False
        for i, source in enumerate(spec.inputs):
            if source == path:
                self.current[i] = value
                changed = True
        if not changed:
            return False
        result = self._derive(value)
        if result is None or (result == self.value and type(result) is type(self.value)):
            return False
        self.value = result
        return True

    def _derive(self, latest: Value) -> Value | None:
        spec, op = self.spec, self.spec.op
        if op == "copy":
            if spec.out is None:
                return _convert(spec.resource, latest)
            number = _number(latest)
            return None if number is None else spec.out(number * spec.scale + spec.offset)
        if op in _BOOLEAN_OPS:
            number = _number(self.current[0]) if self.current[0] is not None else None
            if number is None:
                return None
            return number > spec.threshold if op == "above" else number < spec.threshold
        numbers = [n for n in (_number(v) for v in self.current if v is not None) if n is not None]
        if not numbers:
            return None
        assert spec.out is not None
        if op in _RUNNING:
            number = _number(latest)
            if number is None:
                return None
            extreme = self.extreme
            if extreme is None or (number > extreme if op == "max" else number < extreme):
                self.extreme = extreme = number
            return spec.out(extreme * spec.scale + spec.offset)
        if op == "max_of":
            result = max(numbers)
        elif op == "min_of":
            result = min(numbers)
        elif op == "sum":
            result = sum(numbers)
        else:
            result = sum(numbers) / len(numbers)
        return spec.out(result * spec.scale + spec.offset)

    def value_at(self, t: float) -> Value:
        return self.value

    def next_change(self, t: float) -> float | None:
        return None
