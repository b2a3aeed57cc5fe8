"""Reading a generator spec's parameters: durations, typed numbers and texts, resource values.

:class:`Params` wraps one spec mapping and turns each parameter into the
Python value the generator needs, raising
:class:`~fleet.device.gen_base.GeneratorError` with the parameter's name as
``key`` when it is missing, of the wrong type or out of bounds.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from typing import Final

from fleet.device.gen_base import GeneratorError, GeneratorInfo
from fleet.errors import InvalidValue
from fleet.model.definitions import ResourceModel
from fleet.model.values import Value, coerce_value

_DURATION_PART: Final = re.compile(r"\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)\s*")
_UNITS: Final = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0}


def parse_duration(value: object, key: str | None = None) -> float:
    """Seconds from a number or a text: ``"500ms"``, ``"10s"``, ``"5m"``, ``"1h30m"``, ``"2d"``."""
    if isinstance(value, bool):
        raise GeneratorError(f"expected a duration like 10s or 5m, got {value!r}", key)
    if isinstance(value, int | float):
        seconds = float(value)
    elif isinstance(value, str):
        text = value.strip()
        pos, seconds = 0, 0.0
        while pos < len(text):
            match = _DURATION_PART.match(text, pos)
            if match is None or match.end() == pos:
                raise GeneratorError(
                    f"{value!r} is not a duration (use e.g. 500ms, 10s, 5m, 1h30m, 2d)", key
                )
            seconds += float(match.group(1)) * _UNITS[match.group(2)]
            pos = match.end()
        if not text:
            raise GeneratorError("empty duration", key)
    else:
        raise GeneratorError(f"expected a duration like 10s or 5m, got {value!r}", key)
    if not math.isfinite(seconds) or seconds < 0:
        raise GeneratorError(f"a duration must be finite and not negative, got {value!r}", key)
    return seconds


class Params:
    """Typed access to the parameters of one spec; remembers which keys were read."""

    def __init__(self, kind: str, spec: Mapping[str, object], info: GeneratorInfo) -> None:
        self.kind = kind
        self.spec = spec
        known = {p.name for p in info.parameters} | {"kind"}
        for key in spec:
            if key not in known:
                names = ", ".join(sorted(known - {"kind"}))
                raise GeneratorError(f"unknown parameter of {kind} (known: {names})", str(key))

    def has(self, key: str) -> bool:
        return self.spec.get(key) is not None

    def raw(self, key: str) -> object:
        return self.spec.get(key)

    def number(self, key: str, default: float | None = None) -> float:
        value = self.spec.get(key)
        if value is None:
            if default is None:
                raise GeneratorError(f"{self.kind} needs {key}", key)
            return default
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise GeneratorError(f"expected a number, got {value!r}", key)
        if not math.isfinite(value):
            raise GeneratorError(f"expected a finite number, got {value!r}", key)
        return float(value)

    def maybe_number(self, key: str) -> float | None:
        return self.number(key) if self.has(key) else None

    def exact_number(self, key: str, default: int | float) -> int | float:
        """A number kept as ``int`` when written as one (counters stay exact)."""
        value = self.spec.get(key)
        if value is None:
            return default
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise GeneratorError(f"expected a number, got {value!r}", key)
        if isinstance(value, float) and not math.isfinite(value):
            raise GeneratorError(f"expected a finite number, got {value!r}", key)
        return value

    def integer(self, key: str, default: int | None = None) -> int | None:
        value = self.spec.get(key)
        if value is None:
            return default
        if isinstance(value, bool) or not isinstance(value, int):
            raise GeneratorError(f"expected an integer, got {value!r}", key)
        return value

    def boolean(self, key: str, default: bool) -> bool:
        value = self.spec.get(key)
        if value is None:
            return default
        if not isinstance(value, bool):
            raise GeneratorError(f"expected true or false, got {value!r}", key)
        return value

    def text(self, key: str, default: str | None = None) -> str:
        value = self.spec.get(key)
        if value is None:
            if default is None:
                raise GeneratorError(f"{self.kind} needs {key}", key)
            return default
        if not isinstance(value, str) or not value.strip():
            raise GeneratorError(f"expected a non-empty text, got {value!r}", key)
        return value

    def choice(self, key: str, choices: Sequence[str], default: str) -> str:
        value = self.text(key, default)
        if value not in choices:
            raise GeneratorError(f"expected one of {', '.join(choices)}, got {value!r}", key)
        return value

    def duration(self, key: str, default: float | None = None, *, positive: bool = True) -> float:
        value = self.spec.get(key)
        if value is None:
            if default is None:
                raise GeneratorError(f"{self.kind} needs {key}", key)
            return default
        seconds = parse_duration(value, key)
        if positive and seconds <= 0:
            raise GeneratorError(f"must be longer than 0, got {value!r}", key)
        return seconds

    def positive(self, key: str, default: float | None = None) -> float:
        value = self.number(key, default)
        if value <= 0:
            raise GeneratorError(f"must be greater than 0, got {value!r}", key)
        return value

    def not_negative(self, key: str, default: float | None = None) -> float:
        value = self.number(key, default)
        if value < 0:
            raise GeneratorError(f"must not be negative, got {value!r}", key)
        return value


def typed_value(resource: ResourceModel, value: object, key: str) -> Value:
    """A user-written value of ``resource``'s type, checked against its range."""
    if isinstance(value, list | dict):
        raise GeneratorError(f"expected a single value, got {value!r}", key)
    try:
        return coerce_value(resource, value)
    except InvalidValue as exc:
        raise GeneratorError(str(exc), key) from None


def typed_values(resource: ResourceModel, value: object, key: str) -> tuple[Value, ...]:
    if not isinstance(value, list | tuple) or not value:
        raise GeneratorError(f"expected a non-empty list of values, got {value!r}", key)
    return tuple(typed_value(resource, item, f"{key}[{i}]") for i, item in enumerate(value))
