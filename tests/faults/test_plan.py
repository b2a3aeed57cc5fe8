"""Fault entries: parsing, validation messages, windows, and seeded replay."""

from __future__ import annotations

from typing import Any

import pytest

from fleet.client.config import DeviceConfig
from fleet.client.device import Device
from fleet.client.events import Operation
from fleet.clock import ManualClock
from fleet.faults import (
    FaultEnv,
    FaultInjector,
    FaultPlan,
    FaultSpecError,
    Injected,
    Window,
    read_fault,
    validate_fault,
)
from fleet.model.path import Path
from fleet.model.shipped import shipped_registry

REGISTRY = shipped_registry()


@pytest.mark.parametrize(
    ("spec", "key", "words"),
    [
        ({"action": "explode"}, "action", "expected one of"),
        ({"action": "reject"}, "code", "needs a code"),
        ({"action": "reject", "code": "4.10"}, "code", "4.10"),
        ({"action": "drop", "operations": ["frobnicate"]}, "operations.0", "frobnicate"),
        ({"action": "drop", "paths": ["/3442/x"]}, "paths.0", "neither an id"),
        ({"action": "drop", "paths": ["/3", "/9999"]}, "paths.1", "no object 9999"),
        ({"action": "drop", "paths": "/3/0/999"}, "paths", "no resource 999"),
        (
            {"action": "drop", "operations": ["execute"], "paths": ["/3/0/0"]},
            "paths.0",
            "not executable",
        ),
        ({"action": "drop", "operations": ["create"], "paths": ["/3442/0"]}, "paths.0", "Create"),
        (
            {"action": "drop", "operations": ["write"], "paths": ["/3/0/0"]},
            "paths.0",
            "cannot be written",
        ),
        ({"action": "delay"}, "delay", "positive"),
        ({"action": "reboot"}, "duration", "needs a duration"),
        ({"action": "silence", "operations": ["read"]}, "operations", "whole device"),
        ({"action": "drop", "fraction": 2}, "fraction", "0 to 1"),
        ({"action": "drop", "window": {"start": 60, "end": 30}}, "window.end", "after"),
        ({"action": "drop", "colour": "red"}, "colour", "unknown key"),
        ({"action": "clock-skew"}, "skew", "needs skew"),
        ({"action": "reboot", "skew": "1h", "duration": 5}, "skew", "only clock-skew"),
        ({"action": "corrupt", "operations": ["register"]}, "operations", "drop, delay or"),
        ({"action": "drop", "operations": ["update"], "paths": ["/3"]}, "paths", "register/update"),
        ({"action": "reject", "code": "4.05", "duration": 5}, "duration", "per request"),
        ({"action": "silence", "spread": "1s", "probability": 0.5}, "probability", "whole"),
        ({"action": "drop", "spread": "1s"}, "spread", "device actions"),
        ({"action": "drop", "devices": ["9-3"]}, "devices.0", "empty"),
        ({"action": "drop", "window": {"every": "1m", "for": "2m"}}, "window.for", "exceed"),
        ({"action": "drop", "window": {"when": 3}}, "window.when", "unknown key"),
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
    assert every.next_start(0.0, 0.0, 300.0) == 10.0
    assert every.next_start(0.0, 10.5, 300.0) == every.following(10.0, 0.0, 300.0) == 110.0
    assert every.next_start(0.0, 210.5, 300.0) is None
    assert once.next_start(0.0, 61.0, 300.0) is None  # a start already past is missed
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


def test_uplink_operations_and_signed_skew_are_parsed() -> None:
    plan = FaultPlan.from_specs(
        [
            {"action": "reject", "code": 4.03, "operations": ["register", "write"]},
            {"action": "clock-skew", "skew": "-1h30m"},
            {"action": "reject", "code": "5.03", "operations": "update"},
        ]
    )
    mixed, skew, update_only = plan.faults
    assert mixed.uplink == {"register"} and mixed.code == "4.03"
    assert mixed.matches(Operation.WRITE_PARTIAL, Path(3, 0, 0))
    assert not mixed.matches(Operation.READ, Path(3, 0, 0))
    assert skew.skew == -5400.0
    assert update_only.operations == frozenset() and update_only.uplink == {"update"}


def test_context_checks_fleet_size_groups_security_and_run_length() -> None:
    env = FaultEnv(
        REGISTRY,
        phases={"ramp": (60.0, 120.0)},
        groups={"meters": (0, 99)},
        device_count=100,
        secure=False,
        run_end=600.0,
    )
    fault, problems = read_fault(
        {
            "action": "lose-session",
            "devices": [5, "90-120"],
            "groups": ["meters", "valves"],
            "window": {"start": "11m"},
        },
        env,
    )
    assert fault is None
    assert dict(problems) == {
        "devices.1": "90-120 goes beyond the fleet's last device 99",
        "groups.1": "no group named 'valves' (groups: meters)",
        "action": "lose-session needs DTLS: the server is not coaps://",
        "window.start": "opens at 660 s, when the run (600 s) is over",
    }


def test_a_phase_window_is_resolved_to_run_time_and_ends_with_its_phase() -> None:
    env = FaultEnv(REGISTRY, phases={"ramp": (60.0, 120.0)})
    fault, problems = read_fault({"action": "drop", "window": {"phase": "ramp", "start": 10}}, env)
    assert problems == [] and fault is not None
    assert (fault.window.start, fault.window.end, fault.phase) == (70.0, 120.0, "ramp")
    assert (
        not fault.window.active(69.9) and fault.window.active(70) and not fault.window.active(120)
    )
    _, late = read_fault({"action": "drop", "window": {"phase": "ramp", "start": "2m"}}, env)
    assert late == [("window.start", "phase 'ramp' lasts only 60 s")]


def test_labels_name_the_action_the_uplink_operation_and_the_code() -> None:
    assert Injected("d", 0, "reject", 1.0, Operation.WRITE, "/3442/0/1", "4.05").label == (
        "reject 4.05"
    )
    assert Injected("d", 0, "drop", 1.0, "register").label == "drop register"
    assert Injected("d", 0, "reboot", 1.0).label == "reboot"
