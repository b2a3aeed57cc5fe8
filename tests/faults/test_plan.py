"""Fault entries: parsing, validation messages, windows, and seeded replay."""

from __future__ import annotations

from typing import Any

import pytest

from fleet.client.config import DeviceConfig
from fleet.client.device import Device
from fleet.client.events import Operation
from fleet.clock import ManualClock
from fleet.faults import FaultInjector, FaultPlan, FaultSpecError, Window, validate_fault
from fleet.model.path import Path
from fleet.model.shipped import shipped_registry

REGISTRY = shipped_registry()


@pytest.mark.parametrize(
    ("spec", "key", "words"),
    [
        ({"action": "explode"}, "action", "expected one of"),
        ({"action": "reject"}, "code", "needs a code"),
        ({"action": "reject", "code": "4.10"}, "code", "4.10"),
        ({"action": "drop", "operations": ["frobnicate"]}, "operations", "frobnicate"),
        ({"action": "drop", "paths": ["/3442/x"]}, "paths", "neither an id"),
        ({"action": "drop", "paths": ["/9999"]}, "paths", "no object 9999"),
        ({"action": "drop", "paths": ["/3/0/999"]}, "paths", "no resource 999"),
        (
            {"action": "drop", "operations": ["execute"], "paths": ["/3/0/0"]},
            "paths",
            "not executable",
        ),
        ({"action": "drop", "operations": ["create"], "paths": ["/3442/0"]}, "paths", "Create"),
        (
            {"action": "drop", "operations": ["write"], "paths": ["/3/0/0"]},
            "paths",
            "cannot be written",
        ),
        ({"action": "delay"}, "delay", "positive"),
        ({"action": "reboot"}, "duration", "needs a duration"),
        ({"action": "silence", "operations": ["read"]}, "operations", "whole device"),
        ({"action": "drop", "fraction": 2}, "fraction", "0 to 1"),
        ({"action": "drop", "window": {"start": 60, "end": 30}}, "window.end", "after"),
        ({"action": "drop", "colour": "red"}, "colour", "unknown key"),
        ({"action": "clock-skew"}, "action", "not implemented yet"),
    ],
)
def test_validation_names_the_key_and_says_why(spec: dict[str, Any], key: str, words: str) -> None:
    problems = validate_fault(spec, REGISTRY)
    assert problems and problems[0][0] == key, problems
    assert words in problems[0][1]


def test_a_sound_entry_has_no_problems_and_unknown_phases_are_reported() -> None:
    spec = {
        "action": "reject",
        "code": "4.05",
        "operations": ["write"],
        "paths": ["/3442/0/*"],
        "fraction": 0.05,
        "window": {"phase": "ramp", "start": "1m", "end": "2m"},
    }
    assert validate_fault(spec, REGISTRY) == []
    assert validate_fault(spec, REGISTRY, phases=["steady"]) == [
        ("window.phase", "no phase named 'ramp'")
    ]
    with pytest.raises(FaultSpecError, match=r"faults\[1\]\.code"):
        FaultPlan.from_specs([spec, {"action": "reject", "code": "4.99"}], REGISTRY)


def test_windows_absolute_and_recurring() -> None:
    once = Window(start=60, end=120)
    assert [once.active(t) for t in (59, 60, 119, 120)] == [False, True, True, False]
    every = Window(start=10, every=100, for_s=5)
    assert [every.active(t) for t in (9, 10, 14, 15, 110, 116)] == [
        False, True, True, False, True, False,
    ]  # fmt: skip
    assert every.starts(0.0, 300.0) == [10.0, 110.0, 210.0]
    assert Window(start=5, phase="p").active(106, phase_start=100)


def test_path_patterns_match_what_they_say() -> None:
    fault = FaultPlan.from_specs([{"action": "drop", "paths": ["/3442/0/*", "/3"]}]).faults[0]
    assert fault.matches(Operation.READ, Path(3442, 0, 110))
    assert fault.matches(Operation.READ, Path(3442, 0, 110, 1))  # * covers what is below
    assert fault.matches(Operation.READ, Path(3))
    assert not fault.matches(Operation.READ, Path(3, 0))
    assert not fault.matches(Operation.READ, Path(3442, 0))


def _sequence(seed: int) -> list[tuple[int, str | None]]:
    """Which of 200 devices a plan selects, and which of their reads it hits."""
    plan = FaultPlan.from_specs(
        [
            {"action": "reject", "code": "5.03", "fraction": 0.3, "probability": 0.5},
            {"action": "drop", "devices": ["0-49"], "probability": 0.2},
        ]
    )
    clock = ManualClock()
    injector = FaultInjector(plan, seed=seed)
    config = DeviceConfig("d", server="coap://127.0.0.1:5683")
    hits: list[tuple[int, str | None]] = []
    for index in range(200):
        device = Device(config, clock=clock)
        injector.install(device, index)
        for interceptor in device._interceptors:
            for _ in range(3):
                verdict = interceptor(None, Operation.READ, Path(3, 0, 0))
                if verdict is not None:
                    hits.append((index, "drop" if verdict.dropped else str(verdict.code)))
    return hits


def test_same_seed_same_fault_sequence() -> None:
    first, again, other = _sequence(42), _sequence(42), _sequence(43)
    assert first == again
    assert first != other
    rejected = {index for index, what in first if what == "163"}
    assert 30 < len(rejected) < 90  # about 30 % of 200, hit with probability 1/2 three times
    assert all(index < 50 for index, what in first if what == "drop")
