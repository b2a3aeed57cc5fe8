"""The ``<RangeEnumeration>`` of a resource, parsed as far as it can be.

DDF ranges are free text. We understand numeric bounds (``0..100``, ``-1..1``,
``0.0..1.0``, ``1...63``, ``0-999``), enumerations (``0,1,2``, ``ON;OFF``,
``10 or 26``, ``0..3, 99``, or one ``N: label`` per line) and length bounds for
String and Opaque (``0..255 bytes``, ``1..64``, ``32 bytes``). Anything else is
kept as text and constrains nothing. The raw text is always kept.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import Enum
from typing import Final

from fleet.model.types import ResourceType

_NUM: Final = r"[-+]?\d+(?:\.\d+)?"
_SEPARATOR: Final = r"(?:\.{2,3}|-(?=\d)|\s+to\s+)"
_INTERVAL: Final = re.compile(rf"^\s*({_NUM})\s*{_SEPARATOR}\s*({_NUM})\s*$", re.I)
_SINGLE: Final = re.compile(rf"^\s*({_NUM})\s*$")
_BYTES_SUFFIX: Final = re.compile(r"\s*(?:bytes?|octets?)\s*$", re.I)
# one enumeration member per line, optionally labelled: "0: disabled", "1: FULL_ON", "255"
_LABELLED_LINE: Final = re.compile(rf"^\s*({_NUM})\s*(?::.*)?$")


class RangeKind(Enum):
    NONE = "none"
    NUMERIC = "numeric"
    ENUMERATION = "enumeration"
    LENGTH = "length"
    TEXT = "text"


@dataclass(frozen=True, slots=True)
class Interval:
    """Closed interval ``low..high``."""

    low: int | float
    high: int | float

    def __contains__(self, value: object) -> bool:
        return isinstance(value, int | float) and self.low <= value <= self.high


def _number(text: str) -> int | float:
    return float(text) if "." in text else int(text)


@dataclass(frozen=True, slots=True)
class Range:
    """A parsed range with its raw text.

    ``intervals`` hold numeric bounds (NUMERIC, and the numeric members of an
    ENUMERATION) or length bounds (LENGTH); ``values`` hold the textual members
    of an enumeration.
    """

    raw: str = ""
    kind: RangeKind = RangeKind.NONE
    intervals: tuple[Interval, ...] = ()
    values: tuple[str, ...] = ()

    @property
    def low(self) -> int | float | None:
        return min(i.low for i in self.intervals) if self.intervals else None

    @property
    def high(self) -> int | float | None:
        return max(i.high for i in self.intervals) if self.intervals else None

    def describe(self) -> str:
        """Human text for error messages, e.g. ``"0..100"`` or ``"one of ON, OFF"``."""
        if self.kind is RangeKind.NUMERIC:
            return ", ".join(f"{i.low}..{i.high}" for i in self.intervals)
        if self.kind is RangeKind.LENGTH:
            return "length " + ", ".join(f"{i.low}..{i.high}" for i in self.intervals)
        if self.kind is RangeKind.ENUMERATION:
            members = [
                f"{i.low}..{i.high}" if i.low != i.high else f"{i.low}" for i in self.intervals
            ]
            return "one of " + ", ".join(members + list(self.values))
        return self.raw

    def allows_number(self, value: int | float) -> bool:
        if self.kind in (RangeKind.NUMERIC, RangeKind.ENUMERATION) and self.intervals:
            if self.kind is RangeKind.ENUMERATION and self.values:
                return any(value in i for i in self.intervals) or str(value) in self.values
            return any(value in i for i in self.intervals)
        return True

    def allows_length(self, length: int) -> bool:
        if self.kind is RangeKind.LENGTH:
            return any(length in i for i in self.intervals)
        return True

    def allows_text(self, value: str) -> bool:
        if self.kind is RangeKind.ENUMERATION and self.values and not self.intervals:
            return value in self.values
        return True


def parse_range(raw: str | None, type_: ResourceType) -> Range:
    """Parse a ``<RangeEnumeration>`` text for a resource of type ``type_``."""
    text = (raw or "").strip()
    if not text:
        return Range()
    if type_ in (ResourceType.STRING, ResourceType.OPAQUE):
        length = _parse_length(text)
        if length is not None:
            return Range(text, RangeKind.LENGTH, length)
        if type_ is ResourceType.STRING:
            members = _split_members(text)
            if members and len(members) > 1 and all(_looks_like_token(m) for m in members):
                return Range(text, RangeKind.ENUMERATION, (), tuple(members))
        return Range(text, RangeKind.TEXT)
    if type_.is_numeric:
        interval = _parse_interval(text)
        if interval is not None:
            return Range(text, RangeKind.NUMERIC, (interval,))
        labelled = _parse_labelled(text)
        if labelled is not None:
            return labelled
        members = _split_members(text)
        if members:
            intervals: list[Interval] = []
            for member in members:
                parsed = _parse_interval(member)
                if parsed is None:
                    return Range(text, RangeKind.TEXT)
                intervals.append(parsed)
            if len(intervals) == 1:
                return Range(text, RangeKind.NUMERIC, tuple(intervals))
            return Range(text, RangeKind.ENUMERATION, tuple(intervals))
        return Range(text, RangeKind.TEXT)
    return Range(text, RangeKind.TEXT)


def _parse_labelled(text: str) -> Range | None:
    """One number per line, each optionally labelled (``0: RELEASED``, ``1: PRESSED``)."""
    lines = [line for line in text.splitlines() if line.strip()]
    if len(lines) < 2:
        return None
    points: list[Interval] = []
    for line in lines:
        match = _LABELLED_LINE.match(line)
        if match is None:
            return None
        value = _number(match.group(1))
        points.append(Interval(value, value))
    return Range(text, RangeKind.ENUMERATION, tuple(points))


def _parse_interval(text: str) -> Interval | None:
    match = _INTERVAL.match(text)
    if match:
        low, high = _number(match.group(1)), _number(match.group(2))
        if low > high:
            return None
        return Interval(low, high)
    match = _SINGLE.match(text)
    if match:
        value = _number(match.group(1))
        return Interval(value, value)
    return None


def _parse_length(text: str) -> tuple[Interval, ...] | None:
    body = _BYTES_SUFFIX.sub("", text)
    had_suffix = body != text
    interval = _parse_interval(body)
    if interval is None or isinstance(interval.low, float) or isinstance(interval.high, float):
        # "10 or 26 Bytes", "16,32,48": several exact lengths
        members = _split_members(body)
        if not members or (not had_suffix and len(members) < 2):
            return None
        intervals = [_parse_interval(m) for m in members]
        if any(i is None or isinstance(i.low, float) for i in intervals):
            return None
        return tuple(i for i in intervals if i is not None) or None
    if interval.low < 0:
        return None
    if not had_suffix and interval.low == interval.high:
        # a bare "255" on a String is ambiguous; treat as maximum length
        return (Interval(0, interval.high),)
    return (interval,)


def _split_members(text: str) -> list[str]:
    parts = re.split(r"\s*(?:,|;|\bor\b)\s*", text)
    return [p.strip() for p in parts if p.strip()]


def _looks_like_token(text: str) -> bool:
    return bool(re.fullmatch(r"[\w.+-]{1,32}", text))
