"""The ``faults:`` key: each kind of mistake with its file:line:col, and what a good one gives."""

from __future__ import annotations

import math

from fleet.client.events import Operation
from fleet.scenario import json_schema
from tests.scenario.conftest import Load, Problems

HEAD = """
version: 1
duration: 10m
groups:
  - name: meters
    count: 100
    objects: {3303: [0], 3442: [0]}
  - name: valves
    count: 20
phases:
  - {name: ramp, duration: 1m, arrivalRate: 2}
  - {duration: 2m, arrivalRate: 0.5}
faults:
"""


def test_a_code_that_cannot_be_answered(problems: Problems) -> None:
    lines = problems(HEAD + "  - {action: reject, code: 4.10, operations: [write]}\n")
    assert lines == [
        "s.yaml:13:28: faults.0.code: expected one of 4.00 4.01 4.03 4.04 4.05 4.06 4.15 "
        "5.00 5.03, got 4.10"
    ]


def test_a_code_on_an_action_that_takes_none_and_reject_without_one(problems: Problems) -> None:
    lines = problems(HEAD + "  - {action: drop, code: 4.05}\n  - {action: reject}\n")
    assert lines == [
        "s.yaml:13:26: faults.0.code: only reject takes a code, not drop",
        "s.yaml:14:5: faults.1.code: reject needs a code (one of 4.00 4.01 4.03 4.04 4.05 "
        "4.06 4.15 5.00 5.03)",
    ]


def test_an_unknown_operation_gets_a_suggestion(problems: Problems) -> None:
    lines = problems(HEAD + "  - {action: drop, operations: [read, wirte]}\n")
    assert len(lines) == 1
    assert lines[0].startswith("s.yaml:13:39: faults.0.operations.1 must be one of read, write")
    assert lines[0].endswith("got text 'wirte'; did you mean 'write'?")


def test_paths_the_models_or_the_operation_rule_out(problems: Problems) -> None:
    lines = problems(
        HEAD
        + """\
  - action: drop
    operations: [execute]
    paths: ["/3/0/4", "/3/0/0", "/9999/0/1", "/3/0/4711"]
  - action: reject
    code: 4.05
    operations: write
    paths: /3303/0/5700
    groups: valves
"""
    )
    assert lines == [
        "s.yaml:15:23: faults.0.paths.1: /3/0/0: Manufacturer is not executable",
        "s.yaml:15:33: faults.0.paths.2: /9999/0/1: no object 9999 is defined",
        "s.yaml:15:46: faults.0.paths.3: /3/0/4711: object 3 (Device) has no resource 4711",
        "s.yaml:19:12: faults.1.paths.0: /3303/0/5700: Sensor Value cannot be written",
    ]


def test_a_path_to_an_object_no_selected_device_has(problems: Problems) -> None:
    lines = problems(HEAD + "  - {action: drop, paths: [/3303/0/5700], groups: [valves]}\n")
    assert lines == [
        "s.yaml:13:28: faults.0.paths.0: /3303/0/5700: no selected device has object 3303 "
        "(groups: valves)"
    ]


def test_unknown_group_phase_and_ranges_beyond_the_fleet(problems: Problems) -> None:
    lines = problems(
        HEAD
        + """\
  - action: silence
    groups: [meters, pumps]
    devices: [5, "90-150", 120]
    window: {phase: steady, start: 10s}
"""
    )
    assert lines == [
        "s.yaml:14:22: faults.0.groups.1: no group named 'pumps' (groups: meters, valves)",
        "s.yaml:15:18: faults.0.devices.1: 90-150 goes beyond the fleet's last device 119",
        "s.yaml:15:28: faults.0.devices.2: 120 goes beyond the fleet's last device 119",
        "s.yaml:16:21: faults.0.window.phase: no phase named 'steady'",
    ]


def test_windows_that_cannot_open(problems: Problems) -> None:
    lines = problems(
        HEAD
        + """\
  - {action: reboot, duration: 30s, window: {start: 11m}}
  - {action: drop, window: {phase: ramp, start: 2m}}
  - {action: drop, window: {start: 2m, end: 1m}}
  - {action: drop, window: {start: 1m, until: 2m}}
  - {action: drop, window: {every: 1m, for: 2m}}
"""
    )
    assert lines == [
        "s.yaml:13:53: faults.0.window.start: opens at 660 s, when the run (600 s) is over",
        "s.yaml:14:49: faults.1.window.start: phase 'ramp' lasts only 60 s",
        "s.yaml:15:45: faults.2.window.end: must be after window.start",
        "s.yaml:16:40: unknown key 'until' in faults.3.window (fault window)",
        "s.yaml:17:45: faults.4.window.for: needs window.every and must not exceed it",
    ]


def test_keys_that_do_not_fit_the_action(problems: Problems) -> None:
    lines = problems(
        HEAD
        + """\
  - {action: silence, probability: 0.5}
  - {action: corrupt, operations: [register]}
  - {action: reboot}
  - {action: clock-skew, skew: -1x}
  - {action: lose-session}
  - {action: drop, colour: red}
"""
    )
    assert lines == [
        "s.yaml:13:36: faults.0.probability: silence acts on the whole device, not on requests",
        "s.yaml:14:35: faults.1.operations: register/update/deregister (the device's own "
        "requests) take drop, delay or reject, not corrupt",
        "s.yaml:15:5: faults.2.duration: reboot needs a duration (how long the device is away)",
        "s.yaml:16:32: faults.3.skew: expected a duration like 1h or -90s, got '-1x'",
        "s.yaml:17:14: faults.4.action: lose-session needs DTLS: the server is not coaps://",
        "s.yaml:18:20: unknown key 'colour' in faults.5 (fault)",
    ]


def test_a_good_fault_list_becomes_faults_with_run_time_windows(load: Load) -> None:
    scenario = load(
        HEAD
        + """\
  - action: reject
    code: 4.05
    operations: [write]
    paths: ["/3442/0/*"]
    fraction: 0.05
    window: {start: 1m, end: 2m}
  - {action: silence, groups: valves, fraction: 0.01, window: {phase: 1, start: 30s}}
  - {action: drop, operations: [register, read], probability: 0.5}
  - {action: clock-skew, skew: -90s}
"""
    )
    reject, silence, drop, skew = scenario.faults
    assert (reject.code, reject.fraction, reject.window.start, reject.window.end) == (
        "4.05", 0.05, 60.0, 120.0,
    )  # fmt: skip
    assert reject.matches(Operation.WRITE, (3442, 0, 1)) and not reject.matches(
        Operation.READ, (3442, 0, 1)
    )
    assert silence.group_ranges == ((100, 119),) and silence.covers_index(119)
    assert not silence.covers_index(99)
    assert (silence.window.start, silence.window.end, silence.phase) == (90.0, 180.0, "1")
    assert drop.uplink == {"register"} and drop.probability == 0.5
    assert skew.skew == -90.0 and math.isinf(skew.window.end)


def test_the_schema_describes_fault_entries() -> None:
    fault = json_schema()["properties"]["faults"]["items"]  # type: ignore[index]
    assert fault["additionalProperties"] is False
    assert "reject" in fault["properties"]["action"]["enum"]
    assert {"groups", "devices", "window", "spread", "skew"} <= set(fault["properties"])
    assert fault["properties"]["window"]["additionalProperties"] is False
