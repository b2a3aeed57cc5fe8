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

import string
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Final

FULL_CHECK_LIMIT: Final = 100_000
SAMPLE: Final = 1_000
MAX_LENGTH: Final = 255


class PatternError(ValueError):
    """An endpoint pattern that cannot be used; the message says why."""


def check_pattern(pattern: str, count: int) -> None:
    """Raise :class:`PatternError` unless ``pattern`` renders ``count`` devices."""
    uses_index = False
    try:
        fields = list(string.Formatter().parse(pattern))
    except ValueError as exc:
        raise PatternError(
            f"{pattern!r} is not a valid pattern ({exc}); write literal braces as {{{{ and }}}}"
        ) from None
    for _, name, spec, conversion in fields:
        if name is None:
            continue
        if name == "":
            raise PatternError(f"{pattern!r} has an empty field {{}}: write {{index}}")
        if name != "index":
            raise PatternError(
                f"{pattern!r} uses {{{name}}}; the only field is {{index}} (e.g. sim-{{index:06d}})"
            )
        if conversion is not None:
            raise PatternError(f"{pattern!r}: {{index!{conversion}}} is not allowed")
        if spec and "{" in spec:
            raise PatternError(f"{pattern!r}: nested fields are not allowed in {{index:{spec}}}")
        uses_index = True
    try:
        sample = pattern.format(index=0)
    except (ValueError, TypeError) as exc:
        raise PatternError(f"{pattern!r} cannot format a device index: {exc}") from None
    if not uses_index and count > 1:
        raise PatternError(
            f"every device would be called {sample!r}: put {{index}} in the pattern "
            "(e.g. sim-{index:06d})"
        )
    if not sample.strip():
        raise PatternError(f"{pattern!r} renders an empty endpoint name")
    if any(ch.isspace() or not ch.isprintable() for ch in sample):
        raise PatternError(
            f"{pattern!r} renders {sample!r}, which has spaces or control characters"
        )


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
