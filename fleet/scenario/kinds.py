"""Declarative value kinds: each one checks a value *and* describes itself in JSON Schema.

The scenario format is declared once (:mod:`fleet.scenario.spec`) with these
kinds; the same declaration checks files (reporting through a
:class:`Context`, every problem with its mark) and produces the published
JSON Schema, so the two cannot drift apart.

``check`` returns the converted value (a duration as float seconds, a record
as a dict with defaults filled in) or :data:`INVALID` after reporting. This
module holds the base, the context and the single-value kinds; lists,
mappings and records are in :mod:`fleet.scenario.containers`.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Final

from fleet.client.uri import UriError
from fleet.scenario.durations import EXAMPLES, PATTERN, DurationError, parse_duration
from fleet.scenario.problems import KeyPath, Problems, SourceMap, describe, suggest

JSON = dict[str, object]


class _Invalid:
    def __repr__(self) -> str:
        return "INVALID"


INVALID: Final = _Invalid()
"""What ``check`` returns after reporting a problem."""
NO_DEFAULT: Final = _Invalid()
"""A field default meaning "none given"."""


def label(path: KeyPath) -> str:
    """A key path as ``--set`` writes it: ``groups.0.count``; the root is ``the scenario``."""
    return ".".join(str(part) for part in path) if path else "the scenario"


class Context:
    """Where checks report problems; knows the marks of the document."""

    def __init__(self, source: SourceMap, problems: Problems) -> None:
        self.source = source
        self.problems = problems

    def error(self, path: KeyPath, message: str, *, at_key: bool = False) -> _Invalid:
        mark = self.source.key(path) if at_key else self.source.value(path)
        self.problems.add(mark, message)
        return INVALID


class Kind:
    """Base: a kind of value. Subclasses define :meth:`schema` and :meth:`check`."""

    def schema(self) -> JSON:
        raise NotImplementedError

    def check(self, value: object, path: KeyPath, ctx: Context) -> object:
        raise NotImplementedError

    def wrong(self, value: object, path: KeyPath, ctx: Context, expected: str) -> _Invalid:
        return ctx.error(path, f"{label(path)} must be {expected}, got {describe(value)}")


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


@dataclass(frozen=True)
class Integer(Kind):
    minimum: int | None = None
    maximum: int | None = None

    def schema(self) -> JSON:
        result: JSON = {"type": "integer"}
        if self.minimum is not None:
            result["minimum"] = self.minimum
        if self.maximum is not None:
            result["maximum"] = self.maximum
        return result

    def check(self, value: object, path: KeyPath, ctx: Context) -> object:
        if not _is_int(value):
            if isinstance(value, float) and value.is_integer():
                value = int(value)
            else:
                return self.wrong(value, path, ctx, "a whole number")
        assert isinstance(value, int)
        return _in_range(value, self.minimum, self.maximum, path, ctx)


def _in_range(
    value: float, low: float | None, high: float | None, path: KeyPath, ctx: Context
) -> object:
    if low is not None and value < low:
        return ctx.error(path, f"{label(path)} must be at least {low:g}, got {value:g}")
    if high is not None and value > high:
        return ctx.error(path, f"{label(path)} must be at most {high:g}, got {value:g}")
    return value


@dataclass(frozen=True)
class Number(Kind):
    minimum: float | None = None
    maximum: float | None = None
    positive: bool = False
    """Above zero (an exclusive minimum of 0)."""

    def schema(self) -> JSON:
        result: JSON = {"type": "number"}
        if self.positive:
            result["exclusiveMinimum"] = 0
        if self.minimum is not None:
            result["minimum"] = self.minimum
        if self.maximum is not None:
            result["maximum"] = self.maximum
        return result

    def check(self, value: object, path: KeyPath, ctx: Context) -> object:
        if isinstance(value, bool) or not isinstance(value, int | float) or math.isnan(value):
            return self.wrong(value, path, ctx, "a number")
        number = float(value)
        if self.positive and number <= 0:
            return ctx.error(path, f"{label(path)} must be above 0, got {number:g}")
        return _in_range(number, self.minimum, self.maximum, path, ctx)


@dataclass(frozen=True)
class Text(Kind):
    pattern: str | None = None
    """A regular expression the whole text must match."""
    hint: str = ""
    """What the pattern means, for messages."""

    def schema(self) -> JSON:
        result: JSON = {"type": "string", "minLength": 1}
        if self.pattern is not None:
            result["pattern"] = self.pattern
        return result

    def check(self, value: object, path: KeyPath, ctx: Context) -> object:
        if not isinstance(value, str):
            return self.wrong(value, path, ctx, "a text")
        if not value.strip():
            return ctx.error(path, f"{label(path)} must not be empty")
        if self.pattern is not None and not re.search(self.pattern, value):
            return ctx.error(path, f"{label(path)} must be {self.hint}, got {value!r}")
        return value


@dataclass(frozen=True)
class Boolean(Kind):
    def schema(self) -> JSON:
        return {"type": "boolean"}

    def check(self, value: object, path: KeyPath, ctx: Context) -> object:
        if not isinstance(value, bool):
            return self.wrong(value, path, ctx, "true or false")
        return value


@dataclass(frozen=True)
class Choice(Kind):
    """One of a few texts. ``numbers`` also accepts YAML numbers (``1.1`` for ``"1.1"``)."""

    choices: tuple[str, ...]
    numbers: bool = False

    def schema(self) -> JSON:
        if self.numbers:
            return {"enum": [*self.choices, *(float(c) for c in self.choices)]}
        return {"enum": list(self.choices)}

    def check(self, value: object, path: KeyPath, ctx: Context) -> object:
        text = value
        if self.numbers and isinstance(value, int | float) and not isinstance(value, bool):
            text = f"{float(value):.1f}"
        if isinstance(text, str) and text in self.choices:
            return text
        options = ", ".join(self.choices)
        hint = suggest(text, self.choices) if isinstance(text, str) else ""
        return ctx.error(
            path, f"{label(path)} must be one of {options}, got {describe(value)}{hint}"
        )


@dataclass(frozen=True)
class Duration(Kind):
    """A duration (number of seconds or ``10s``-style text) as float seconds."""

    positive: bool = True
    whole: bool = False
    """Whole seconds only (returned as ``int``)."""
    maximum: float | None = None
    """The longest duration allowed, in seconds (``None``: no bound)."""

    def schema(self) -> JSON:
        number: JSON = {"type": "integer" if self.whole else "number"}
        number["exclusiveMinimum" if self.positive else "minimum"] = 0
        if self.maximum is not None:
            number["maximum"] = self.maximum
        return {"anyOf": [number, {"type": "string", "pattern": PATTERN}]}

    def check(self, value: object, path: KeyPath, ctx: Context) -> object:
        try:
            seconds = parse_duration(value)
        except DurationError as exc:
            if isinstance(value, str):
                return ctx.error(path, f"{label(path)}: {exc}")
            return self.wrong(value, path, ctx, f"a duration ({EXAMPLES})")
        if self.positive and seconds <= 0:
            return ctx.error(path, f"{label(path)} must be longer than 0 s, got {value!r}")
        if self.maximum is not None and seconds > self.maximum:
            limit = int(self.maximum) if float(self.maximum).is_integer() else self.maximum
            return ctx.error(path, f"{label(path)} must be at most {limit} s, got {value!r}")
        if self.whole:
            if not float(seconds).is_integer():
                return ctx.error(path, f"{label(path)} must be whole seconds, got {value!r}")
            return int(seconds)
        return seconds


@dataclass(frozen=True)
class AnyValue(Kind):
    """Any YAML value; a later check gives it meaning."""

    def schema(self) -> JSON:
        return {}

    def check(self, value: object, path: KeyPath, ctx: Context) -> object:
        return value


@dataclass(frozen=True)
class Custom(Kind):
    """A kind defined by a function: ``parse(value)`` returns the result or raises ValueError."""

    parse: Callable[[object], object]
    json_schema: JSON

    def schema(self) -> JSON:
        return dict(self.json_schema)

    def check(self, value: object, path: KeyPath, ctx: Context) -> object:
        try:
            return self.parse(value)
        except UriError as exc:  # the same words as every command: "server URI 'x': why"
            return ctx.error(path, f"{label(path)} URI {exc.uri!r}: {exc.problem}")
        except ValueError as exc:
            return ctx.error(path, f"{label(path)}: {exc}")
