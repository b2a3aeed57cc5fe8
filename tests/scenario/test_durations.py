"""Durations: units, compounds, numbers, and what is refused."""

from __future__ import annotations

import pytest

from fleet.scenario.durations import DurationError, format_duration, parse_duration


@pytest.mark.parametrize(
    ("value", "seconds"),
    [
        ("250ms", 0.25),
        ("10s", 10.0),
        ("5m", 300.0),
        ("1h", 3600.0),
        ("1d", 86400.0),
        ("1h30m", 5400.0),
        ("2m 30s", 150.0),
        ("1.5s", 1.5),
        (".5s", 0.5),
        ("1m500ms", 60.5),
        (90, 90.0),
        (0.5, 0.5),
        (0, 0.0),
        (" 10s ", 10.0),
    ],
)
def test_parse(value: object, seconds: float) -> None:
    assert parse_duration(value) == pytest.approx(seconds)


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("10", "a number alone is seconds: write 10 without quotes"),
        ("10 minutes", "the units are ms, s, m, h and d"),
        ("10x", "the units are ms, s, m, h and d"),
        ("30s1m", "give each unit once, largest first"),
        ("1m1m", "give each unit once, largest first"),
        ("", "an empty text is not a duration"),
        ("-5s", "is not a duration"),
        (-5, "cannot be negative"),
        (float("inf"), "must be finite"),
        (True, "a duration is"),
        ([1], "a duration is"),
    ],
)
def test_refused(value: object, message: str) -> None:
    with pytest.raises(DurationError) as caught:
        parse_duration(value)
    assert message in str(caught.value)


@pytest.mark.parametrize(
    ("seconds", "text"),
    [
        (0, "0s"),
        (0.25, "250ms"),
        (10, "10s"),
        (90, "1m30s"),
        (3600, "1h"),
        (5400, "1h30m"),
        (90061.5, "1d1h1m1.5s"),
    ],
)
def test_format_round_trips(seconds: float, text: str) -> None:
    assert format_duration(seconds) == text
    assert parse_duration(text) == pytest.approx(seconds)
