"""Durations as scenario files write them: ``250ms``, ``10s``, ``5m``, ``1h30m``, or seconds.

A number is seconds (``90``, ``0.5``). Text is one or more ``<number><unit>``
parts with units ``ms``, ``s``, ``m``, ``h`` and ``d``, largest first
(``1h30m``, ``2m30s``, ``1.5s``); spaces between parts are allowed.
"""

from __future__ import annotations

import math
import re
from typing import Final

UNITS: Final[dict[str, float]] = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0}
_PART: Final = re.compile(r"\s*(\d+(?:\.\d+)?|\.\d+)\s*(ms|s|m|h|d)")
PATTERN: Final = r"^\s*((\d+(\.\d+)?|\.\d+)\s*(ms|s|m|h|d)\s*)+$"
"""The text form, as a regular expression (used in the JSON Schema)."""

EXAMPLES: Final = "250ms, 10s, 5m, 1h, 1h30m or a number of seconds"


class DurationError(ValueError):
    """A value that is not a duration; the message says why."""


def parse_duration(value: object) -> float:
    """Seconds from a number or a text like ``1h30m``; :class:`DurationError` if neither.

    Negative, infinite and NaN durations are refused; zero is allowed (callers
    that need a positive duration check that themselves).
    """
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise DurationError(f"a duration is {EXAMPLES}")
    seconds = float(value) if not isinstance(value, str) else _parse_text(value)
    if not math.isfinite(seconds):
        raise DurationError(f"a duration must be finite, got {value!r}")
    if seconds < 0:
        raise DurationError(f"a duration cannot be negative, got {value!r}")
    return seconds


def _parse_text(text: str) -> float:
    stripped = text.strip()
    position = 0
    total = 0.0
    last_rank = math.inf
    while position < len(stripped):
        match = _PART.match(stripped, position)
        if match is None:
            hint = ""
            if re.fullmatch(r"-?\d+(\.\d+)?", stripped):
                hint = f" (a number alone is seconds: write {stripped} without quotes)"
            elif re.fullmatch(r"\d+(\.\d+)?\s*[a-zA-Z]+", stripped):
                hint = "; the units are ms, s, m, h and d"
            raise DurationError(f"{text!r} is not a duration: use {EXAMPLES}{hint}")
        number, unit = match.groups()
        rank = UNITS[unit]
        if rank >= last_rank:
            raise DurationError(f"{text!r} is not a duration: give each unit once, largest first")
        last_rank = rank
        total += float(number) * rank
        position = match.end()
    if not stripped:
        raise DurationError(f"an empty text is not a duration: use {EXAMPLES}")
    return total


def format_duration(seconds: float) -> str:
    """``90`` -> ``"1m30s"``, ``0.25`` -> ``"250ms"``, ``3600`` -> ``"1h"``."""
    if seconds == 0:
        return "0s"
    if seconds < 1:
        return f"{seconds * 1000:g}ms"
    parts: list[str] = []
    rest = seconds
    for unit in ("d", "h", "m"):
        size = UNITS[unit]
        if rest >= size:
            whole = int(rest // size)
            parts.append(f"{whole}{unit}")
            rest -= whole * size
    if rest > 1e-9 or not parts:
        parts.append(f"{round(rest, 3):g}s")
    return "".join(parts)
