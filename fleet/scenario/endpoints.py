"""Endpoint name patterns: ``sim-{index:06d}``, ``urn:imei:35193454{index:07d}``.

A pattern is a Python format string whose only field is ``index`` (the
device's global index), with an optional format spec. :func:`check_pattern`
refuses anything else; :func:`find_clashes` looks for two devices that would
get the same endpoint name, within a group or across groups. Fleets up to
:data:`FULL_CHECK_LIMIT` devices are rendered whole; bigger ones are checked
on the first and last :data:`SAMPLE` indexes of every group, where patterns
that overlap meet.
"""

from __future__ import annotations

import re
import string
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Final

FULL_CHECK_LIMIT: Final = 100_000
SAMPLE: Final = 1_000
MAX_LENGTH: Final = 255
"""The longest endpoint name (and pattern, and width in a pattern's format spec)."""
_DIGITS: Final = re.compile(r"\d+")


class PatternError(ValueError):
    """An endpoint pattern that cannot be used; the message says why."""


def check_pattern(pattern: str, count: int) -> None:
    """Raise :class:`PatternError` unless ``pattern`` renders ``count`` devices."""
    uses_index = False
    if len(pattern) > 2 * MAX_LENGTH:
        raise PatternError(
            f"{_shown(pattern)} is longer than {2 * MAX_LENGTH} characters (the limit);"
            f" an endpoint name has at most {MAX_LENGTH}"
        )
    try:
        fields = list(string.Formatter().parse(pattern))
    except ValueError as exc:
        raise PatternError(
            f"{_shown(pattern)} is not a valid pattern ({exc});"
            " write literal braces as {{ and }}"
        ) from None
    for _, name, spec, conversion in fields:
        if name is None:
            continue
        if name == "":
            raise PatternError(f"{_shown(pattern)} has an empty field {{}}: write {{index}}")
        if name != "index":
            raise PatternError(
                f"{_shown(pattern)} uses {{{_shown(name)[1:-1]}}}; the only field is {{index}}"
                " (e.g. sim-{index:06d})"
            )
        if conversion is not None:
            raise PatternError(f"{_shown(pattern)}: {{index!{conversion}}} is not allowed")
        if spec and "{" in spec:
            raise PatternError(
                f"{_shown(pattern)}: nested fields are not allowed in {{index:{_shown(spec)}}}"
            )
        for run in _DIGITS.findall(spec or ""):
            if len(run) > 3 or int(run) > MAX_LENGTH:  # no int() of a million digits
                shown = run if len(run) <= 12 else f"{run[:12]}... ({len(run)} digits)"
                raise PatternError(
                    f"{_shown(pattern)}: width {shown} is more than {MAX_LENGTH},"
                    " the longest endpoint name (the limit)"
                )
        uses_index = True
    try:
        sample = pattern.format(index=0)
    except (ValueError, TypeError) as exc:
        raise PatternError(f"{_shown(pattern)} cannot format a device index: {exc}") from None
    if not uses_index and count > 1:
        raise PatternError(
            f"every device would be called {_shown(sample)}: put {{index}} in the pattern "
            "(e.g. sim-{index:06d})"
        )
    if not sample.strip():
        raise PatternError(f"{_shown(pattern)} renders an empty endpoint name")
    if any(ch.isspace() or not ch.isprintable() for ch in sample):
        raise PatternError(
            f"{_shown(pattern)} renders {_shown(sample)}, which has spaces or control characters"
        )


def _shown(text: str, limit: int = 60) -> str:
    """``text`` quoted for a message, cut to ``limit`` characters (a pattern can be huge)."""
    if len(text) <= limit:
        return repr(text)
    return repr(text[:limit]) + f"... ({len(text)} characters)"


@dataclass(frozen=True, slots=True)
class Range:
    """One group's devices: its position, pattern and global indexes."""

    group: int
    pattern: str
    first: int
    count: int


@dataclass(frozen=True, slots=True)
class Clash:
    """Device ``index`` of group ``group`` gets the endpoint device ``other_index`` has."""

    group: int
    index: int
    endpoint: str
    other_group: int
    other_index: int


def _indexes(item: Range, full: bool) -> Iterator[int]:
    last = item.first + item.count
    if full or item.count <= 2 * SAMPLE:
        yield from range(item.first, last)
        return
    yield from range(item.first, item.first + SAMPLE)
    yield from range(last - SAMPLE, last)


def find_clashes(ranges: Sequence[Range]) -> list[Clash]:
    """The first clash found per group (at most one per group), in group order."""
    full = sum(r.count for r in ranges) <= FULL_CHECK_LIMIT
    owners: dict[str, tuple[int, int]] = {}
    clashes: list[Clash] = []
    for item in ranges:
        reported = False
        for index in _indexes(item, full):
            name = item.pattern.format(index=index)
            owner = owners.get(name)
            if owner is None:
                owners[name] = (item.group, index)
            elif not reported:
                clashes.append(Clash(item.group, index, name, owner[0], owner[1]))
                reported = True
    return clashes


def too_long(pattern: str, first: int, count: int) -> str | None:
    """The longest rendered name if it is over :data:`MAX_LENGTH` characters, else ``None``."""
    longest = max(
        (pattern.format(index=i) for i in (first, first + count - 1)), key=len, default=""
    )
    return longest if len(longest) > MAX_LENGTH else None
