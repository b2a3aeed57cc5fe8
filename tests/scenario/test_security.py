"""A group's ``security:`` key: patterns and keys files become per-device PSKs, every
problem is reported as file:line:col, and the worked example validates and runs its keys
through to the device configs and the server's key lookup."""

from __future__ import annotations

import pathlib
from collections.abc import Callable

from fleet.client.credentials import KeysFile, PatternCredentials
from fleet.runner.configs import credential_problems, device_config, scenario_key_lookup
from fleet.scenario import load_scenario
from fleet.scenario.security import CHECK_ALL, checked_indexes

from .conftest import SCENARIOS, Load, Problems

HEAD = """
version: 1
server: coaps://127.0.0.1:5684
groups:
"""


def test_patterns_give_each_device_its_identity_and_key(load: Load) -> None:
    scenario = load(
        HEAD
        + """
  - count: 3
    endpoint: "sim-{index:06d}"
    security:
      identity: "sim-{index:06d}"
      key: "hex:00112233{index:024x}"
  - count: 2
    endpoint: "other-{index}"
    security:
      identity: "o-{endpoint}"
      key: "base64:c2VjcmV0"
"""
    )
    first, second = scenario.groups
    assert isinstance(first.security, PatternCredentials)
    config = device_config(scenario, 2)
    assert config.server == "coaps://127.0.0.1:5684" and config.psk is not None
    assert config.psk.identity == b"sim-000002"
    assert config.psk.key == bytes.fromhex("00112233") + (2).to_bytes(12, "big")
    other = device_config(scenario, 4)
    assert other.psk is not None and other.psk.identity == b"o-other-4"
    assert other.psk.key == b"secret"
    lookup = scenario_key_lookup(scenario)
    assert lookup(b"sim-000001") == device_config(scenario, 1).psk.key  # type: ignore[union-attr]
    assert lookup(b"sim-000003") is None  # index 3 is in the other group
    assert lookup(b"o-other-3") == b"secret"
    assert "0011" not in repr(first) and "c2VjcmV0" not in repr(second)


def test_a_keys_file_relative_to_the_scenario(load: Load, write: Callable[[str, str], str]) -> None:
    write("endpoint,identity,key\ndev-0,id-0,hex:0a0b\ndev-1,id-1,base64:DA0=\n", "keys.csv")
    scenario = load(
        HEAD
        + """
  - count: 2
    endpoint: "dev-{index}"
    security:
      keys_file: keys.csv
"""
    )
    assert isinstance(scenario.groups[0].security, KeysFile)
    config = device_config(scenario, 1)
    assert config.psk is not None and (config.psk.identity, config.psk.key) == (b"id-1", b"\x0c\r")
    assert scenario_key_lookup(scenario)(b"id-0") == b"\x0a\x0b"


def test_pattern_problems_point_at_the_key(problems: Problems) -> None:
    found = problems(
        HEAD
        + """
  - count: 2
    security:
      identity: "sim-{imei}"
      key: "00"
  - count: 20
    endpoint: "b-{index}"
    security:
      identity: "b-{index}"
      key: "hex:{index:x}"
  - count: 2
    endpoint: "c-{index}"
    security:
      key: "00"
  - count: 2
    endpoint: "d-{index}"
    security:
      identity: "d"
      key: "00"
      keys_file: k.csv
  - count: 2
    endpoint: "e-{index}"
    security:
      identity: "e-{index}"
      key: "00"
      mode: psk
"""
    )
    assert found[0].startswith("s.yaml:7:17: groups.0.security.identity: identity pattern")
    assert "unknown placeholder {imei}" in found[0]
    # index 2 renders "2": one hex digit is neither hex nor base64
    assert found[1].startswith("s.yaml:13:12: groups.1.security.key: ") and "device 2" in found[1]
    assert found[2] == (
        "s.yaml:17:7: groups.2.security: a security entry needs one of 'identity', 'keys_file'"
    )
    assert found[3] == (
        "s.yaml:21:7: groups.3.security: a security entry has 'identity' and 'keys_file'; keep one"
    )
    assert len(found) == 4  # mode: psk is the PSK form (issue 20), not an unknown key
    assert all("{index:x}" not in line for line in found)  # key patterns are not quoted


def test_keys_file_problems_name_the_scenario_and_the_file_line(
    problems: Problems, write: Callable[[str, str], str], tmp_path: pathlib.Path
) -> None:
    write("endpoint,identity,key\ndev-0,id-0,hex:0a0b\ndev-1,id-1,not*base64\n", "bad.csv")
    found = problems(
        HEAD
        + """
  - count: 2
    endpoint: "dev-{index}"
    security:
      keys_file: bad.csv
  - count: 2
    endpoint: "gone-{index}"
    security:
      keys_file: data/absent.csv
"""
    )
    assert found[0] == (
        f"s.yaml:8:18: groups.0.security.keys_file: {tmp_path / 'bad.csv'}:3: endpoint 'dev-1': "
        "the pre-shared key is neither hex nor base64"
    )
    assert found[1] == (
        "s.yaml:12:18: groups.1.security.keys_file: no keys file 'data/absent.csv' "
        f"(looked for {tmp_path / 'data' / 'absent.csv'})"
    )
    assert len(found) == 2


def test_security_must_fit_the_server_scheme(problems: Problems) -> None:
    found = problems(
        """
version: 1
server: coap://127.0.0.1
groups:
  - count: 1
    security: {identity: "a-{index}", key: "00"}
"""
    )
    assert len(found) == 1 and "security: needs a coaps:// server" in found[0]
    missing = problems(HEAD + "  - count: 1\n")
    assert len(missing) == 1 and "security:" in missing[0] and "DTLS" in missing[0]


def test_the_worked_example_validates_and_keys_every_device() -> None:
    scenario = load_scenario(SCENARIOS / "dtls-psk.yaml")
    assert scenario.server.uri.startswith("coaps://")
    lookup = scenario_key_lookup(scenario)
    for index in range(scenario.device_count):
        config = device_config(scenario, index)
        assert config.psk is not None
        assert lookup(config.psk.identity) == config.psk.key
    assert {type(group.security) for group in scenario.groups} == {PatternCredentials, KeysFile}


def test_devices_missing_from_the_keys_file_are_found_before_a_run(
    problems: Problems, write: Callable[[str, str], str]
) -> None:
    write("dev-0,id-0,hex:0a0b\n", "keys.csv")
    group = """
  - name: filed
    count: {count}
    endpoint: "dev-{{index}}"
    security:
      keys_file: keys.csv
"""
    found = problems(HEAD + group.format(count=8))
    assert found == [
        "s.yaml:9:18: groups.0.security.keys_file: the group has 8 devices but keys.csv lists 1"
    ]
    write("dev-0,id-0,hex:0a0b\ndev-7,id-7,hex:0a0c\ndev-8,id-8,hex:0a0d\n", "keys.csv")
    found = problems(HEAD + group.format(count=2))
    assert found == ["s.yaml:9:18: groups.0.security.keys_file: keys.csv has no keys for 'dev-1'"]
    assert credential_problems(load_scenario(SCENARIOS / "dtls-psk.yaml")) == []


def test_every_device_of_the_group_is_checked_at_load(problems: Problems) -> None:
    found = problems(
        HEAD
        + """
  - count: 1000
    endpoint: "sim-{index:04d}"
    security:
      identity: "sim-{index:04d}"
      key: "hex:0{index:x}"
"""
    )
    # 0..15 render two hex digits, 16..255 three (odd), 256..999 four: the first, middle
    # (499) and last device alone all pass
    assert found == [
        "s.yaml:9:12: groups.0.security.key: device 16: the pre-shared key is not valid hex "
        "(and 239 more devices)"
    ]


def test_large_groups_check_where_the_index_width_changes() -> None:
    picked = list(checked_indexes(0, 3 * CHECK_ALL))
    assert len(picked) < 200 and picked == sorted(set(picked))
    assert {0, (3 * CHECK_ALL - 1) // 2, 3 * CHECK_ALL - 1} <= set(picked)
    for base in (2, 8, 10, 16):  # each width boundary of the index, both sides
        power = base
        while power < 3 * CHECK_ALL:
            assert {power - 1, power} <= set(picked), (base, power)
            power *= base
    assert list(checked_indexes(7, 5)) == [7, 8, 9, 10, 11]


def test_a_large_group_with_a_width_dependent_key_fails_at_load(problems: Problems) -> None:
    count = 3 * CHECK_ALL  # {index:04x} is 4 hex digits up to 0xffff, 5 from 65536 on
    found = problems(
        HEAD
        + f"""
  - count: {count}
    endpoint: "sim-{{index:07d}}"
    security:
      identity: "sim-{{index:07d}}"
      key: "hex:{{index:04x}}"
"""
    )
    assert found == [
        "s.yaml:9:12: groups.0.security.key: device 65536: the pre-shared key is not valid hex "
        "(and 8 more checked)"
    ]


def test_bad_format_specs_point_at_the_pattern(problems: Problems) -> None:
    found = problems(
        HEAD
        + """
  - count: 2
    endpoint: "a-{index}"
    security:
      identity: "sim-{index:zz}"
      key: "00"
  - count: 2
    endpoint: "b-{index}"
    security:
      identity: "b-{index}"
      key: "hex:00{index:s}"
  - count: 2
    endpoint: "c-{index}"
    security:
      identity: "c-{endpoint:d}"
      key: "00"
"""
    )
    assert found[0].startswith("s.yaml:8:17: groups.0.security.identity: identity pattern ")
    assert "{index:zz} is not a valid format for an integer" in found[0]
    assert found[1].startswith("s.yaml:14:12: groups.1.security.key: key pattern: ")
    assert "{index:s} is not a valid format for an integer" in found[1]
    assert found[2].startswith("s.yaml:18:17: groups.2.security.identity: identity pattern ")
    assert "{endpoint:d} is not a valid format for a text" in found[2]
    assert len(found) == 3
