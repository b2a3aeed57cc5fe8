"""One parameter type for every duration option: ``30s``, ``5m``, ``1h30m`` or bare seconds.

The same words as the scenario's durations (:func:`fleet.scenario.durations.parse_duration`),
so ``--reboot-delay 5``, ``--handshake-timeout 10s``, ``fleet demo --duration 2m`` and
``duration: 2m`` in a file all read alike.
"""

from __future__ import annotations

import contextlib
from typing import Any

import click

from fleet.scenario.durations import EXAMPLES, DurationError, parse_duration


class Duration(click.ParamType[float, Any]):
    """Seconds from ``30s`` / ``5m`` / ``1h`` / ``90``; at least ``minimum`` (``above``:
    strictly more); ``whole``: an ``int`` of whole seconds."""

    name = "duration"

    def __init__(self, minimum: float = 0.0, *, above: bool = False, whole: bool = False) -> None:
        self.minimum = minimum
        self.above = above
        self.whole = whole

    def get_metavar(self, param: click.Parameter, ctx: click.Context | None = None) -> str:
        return "DURATION"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        if isinstance(value, str):  # on a command line, a bare number is seconds
            with contextlib.suppress(ValueError):
                value = float(value)
        if isinstance(value, int | float) and not isinstance(value, bool):
            seconds = float(value)
            if seconds != seconds or seconds in (float("inf"), float("-inf")):
                self.fail(f"{value!r}: a duration must be finite", param, ctx)
        else:
            try:
                seconds = parse_duration(value)
            except DurationError as error:
                self.fail(str(error), param, ctx)
        low = self.minimum
        if seconds < low or (self.above and seconds == low):
            bound = "more than" if self.above else "at least"
            self.fail(f"{value!r}: must be {bound} {low:g} s ({EXAMPLES})", param, ctx)
        if self.whole:
            if not seconds.is_integer():
                self.fail(f"{value!r}: whole seconds only", param, ctx)
            return int(seconds)
        return seconds
