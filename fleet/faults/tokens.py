"""The tokens of a fault entry: codes, path patterns, index ranges, signed durations.

Each parser returns the value or raises ``ValueError`` with a message for people;
:mod:`fleet.faults.rules` and the scenario's declared kinds
(:mod:`fleet.scenario.faults`) both use them, so the file format and the rules agree.
"""

from __future__ import annotations

from fleet.device.gen_base import GeneratorError
from fleet.device.gen_params import parse_duration
from fleet.faults.plan import REJECT_CODES, IndexRange
from fleet.model.path import MAX_ID


def parse_code_text(value: object) -> str:
    """``"4.05"`` or YAML's ``4.05`` -> ``"4.05"``; ``ValueError`` unless a reject code."""
    if isinstance(value, float):
        text = f"{value:.2f}"
    elif isinstance(value, str | int) and not isinstance(value, bool):
        text = str(value)
    else:
        raise ValueError(f"expected a code like 4.05, got {value!r}")
    if text not in REJECT_CODES:
        raise ValueError(f"expected one of {' '.join(REJECT_CODES)}, got {text}")
    return text


def parse_path_pattern(text: object) -> tuple[int | None, ...]:
    """``"/3442/0/*"`` -> ``(3442, 0, None)``; ``ValueError`` when it is not one."""
    if not isinstance(text, str) or not text.startswith("/"):
        raise ValueError(f"{text!r} is not a path pattern like /3442/0/*")
    body = text[1:].rstrip("/")
    if not body:
        return ()
    out: list[int | None] = []
    for segment in body.split("/"):
        if segment == "*":
            out.append(None)
        elif segment.isdigit() and (segment == "0" or segment[0] != "0"):
            if int(segment) > MAX_ID:
                raise ValueError(f"{text!r}: {segment} is beyond the largest id {MAX_ID}")
            out.append(int(segment))
        else:
            raise ValueError(f"{text!r}: {segment!r} is neither an id nor *")
    if len(out) > 4:
        raise ValueError(f"{text!r}: an LwM2M path has at most 4 levels")
    return tuple(out)


def parse_index_range(item: object) -> IndexRange:
    """``250`` -> ``(250, 250)``; ``"0-99"`` -> ``(0, 99)``; ``ValueError`` otherwise."""
    if isinstance(item, int) and not isinstance(item, bool):
        if item < 0:
            raise ValueError(f"{item} is not a device index (0 or more)")
        return (item, item)
    lo, dash, hi = str(item).partition("-")
    if not (isinstance(item, str) and dash and lo.strip().isdigit() and hi.strip().isdigit()):
        raise ValueError(f"{item!r} is not an index or a range like 0-99")
    if int(lo) > int(hi):
        raise ValueError(f"{item!r}: the range is empty")
    return (int(lo), int(hi))


def parse_signed_duration(value: object) -> float:
    """A duration that may be negative (``-1h``, ``-90``): clock skew."""
    original = value
    negative = isinstance(value, str) and value.strip().startswith("-")
    if negative:
        assert isinstance(value, str)
        value = value.strip()[1:]
    elif isinstance(value, int | float) and not isinstance(value, bool) and value < 0:
        return -parse_signed_duration(-value)
    try:
        seconds = parse_duration(value)
    except GeneratorError:
        raise ValueError(f"expected a duration like 1h or -90s, got {original!r}") from None
    return -seconds if negative else seconds


def duration_seconds(value: object) -> float:
    """A duration (``90``, ``1m30s``) in seconds; ``ValueError`` otherwise."""
    try:
        return parse_duration(value)
    except GeneratorError as error:
        raise ValueError(error.message) from None
