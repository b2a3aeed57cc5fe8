"""Overrides: flags > environment > file > defaults; ``--set`` anywhere; errors name the source."""

from __future__ import annotations

import pytest

from fleet.scenario import (
    ENVIRONMENT,
    Setting,
    env_settings,
    flag_settings,
    run_settings,
    scale_counts,
)
from tests.scenario.conftest import Load, Problems

FILE = """
version: 1
server: coap://127.0.0.1:5690
seed: 5
duration: 10m
groups:
  - {name: sensors, count: 30, objects: {3303: [0]}}
  - {name: meters, count: 10}
phases:
  - {duration: 1m, arrivalRate: 10}
"""


def test_defaults_then_file(load: Load) -> None:
    scenario = load(FILE)
    assert (scenario.server.port, scenario.seed, scenario.duration) == (5690, 5, 600.0)


def test_environment_overrides_the_file(load: Load) -> None:
    env = {
        "FLEET_SERVER": "coap://127.0.0.1:6000",
        "FLEET_SEED": "42",
        "FLEET_DURATION": "90",
        "FLEET_DEVICES": "8",
    }
    scenario = load(FILE, settings=env_settings(env))
    assert scenario.server.port == 6000
    assert scenario.seed == 42
    assert scenario.duration == 90.0
    assert [g.count for g in scenario.groups] == [6, 2]


def test_flags_override_the_environment(load: Load) -> None:
    env = {"FLEET_SERVER": "coap://127.0.0.1:6000", "FLEET_SEED": "42", "FLEET_DURATION": "1h"}
    settings = run_settings(env, server="coap://127.0.0.1:7000", seed=9, duration="2m")
    scenario = load(FILE, settings=settings)
    assert scenario.server.port == 7000
    assert scenario.seed == 9
    assert scenario.duration == 120.0


def test_order_of_settings_given_does_not_beat_precedence(load: Load) -> None:
    env = env_settings({"FLEET_SEED": "42"})
    flags = flag_settings(seed=9)
    assert load(FILE, settings=[*flags, *env]).seed == 9


def test_empty_environment_variables_count_as_unset() -> None:
    assert env_settings({"FLEET_SEED": "", "FLEET_SERVER": "  ", "OTHER": "x"}) == []
    assert set(ENVIRONMENT) == {"FLEET_SERVER", "FLEET_DEVICES", "FLEET_DURATION", "FLEET_SEED"}


def test_set_replaces_values_anywhere(load: Load) -> None:
    settings = flag_settings(
        sets=[
            "groups.0.count=12",
            "groups.meters.lifetime=5m",
            "groups.sensors.objects.3303=[0, 1]",
            "phases.0.arrivalRate=20",
            "churn.deregister_rate=0.5",
            "thresholds={register_failed: ['rate<0.1']}",
            "description=set from the command line",
        ]
    )
    scenario = load(FILE, settings=settings)
    sensors, meters = scenario.groups
    assert sensors.count == 12
    assert sensors.layout.objects[3303].instances == (0, 1)
    assert meters.lifetime == 300
    assert scenario.phases[0].arrival_rate == 20.0  # type: ignore[union-attr]
    assert scenario.churn is not None and scenario.churn.deregister_rate == 0.5
    assert [str(t) for t in scenario.thresholds] == ["register_failed: rate<0.1"]
    assert scenario.description == "set from the command line"


def test_set_with_an_empty_value_removes_the_key(load: Load) -> None:
    scenario = load(FILE, settings=flag_settings(sets=["duration=", "phases=null"]))
    assert scenario.duration is None
    assert scenario.phases == ()


def test_named_flags_win_over_set(load: Load) -> None:
    scenario = load(FILE, settings=flag_settings(seed=1, sets=["seed=2"]))
    assert scenario.seed == 1


def test_unknown_key_from_set_names_the_flag(problems: Problems) -> None:
    lines = problems(FILE, settings=flag_settings(sets=["groups.0.cuont=5"]))
    assert lines == [
        "--set groups.0.cuont=5: unknown key 'cuont' in groups.0 (group); did you mean 'count'?"
    ]


def test_bad_values_from_flags_and_environment_name_their_source(problems: Problems) -> None:
    settings = [
        *env_settings({"FLEET_SEED": "abc", "FLEET_SERVER": "ftp://127.0.0.1"}),
        *flag_settings(duration="soon", sets=["groups.0.count=-1"]),
    ]
    lines = problems(FILE, settings=settings)
    assert lines == [
        "--duration: duration: 'soon' is not a duration: use 250ms, 10s, 5m, 1h, 1h30m or a "
        "number of seconds",
        "--set groups.0.count=-1: groups.0.count must be at least 1, got -1",
        "FLEET_SEED: seed must be a whole number, got text 'abc'",
        "FLEET_SERVER: server URI 'ftp://127.0.0.1': the scheme must be coap:// (NoSec) or "
        "coaps:// (DTLS-PSK), got ftp://",
    ]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("seed", "write --set key.path=value (e.g. --set groups.0.count=50)"),
        ("groups..count=1", "write --set key.path=value (e.g. --set groups.0.count=50)"),
        ("groups.7.count=1", "groups has 2 item(s); there is no item 7"),
        ("groups.heaters.count=1", "groups has no item named 'heaters' (use its index or name)"),
        ("seed.value=1", "seed is integer 5, not a mapping"),
        ("groups.0=", "a list item cannot be removed with --set (groups)"),
        ("seed=[1, 2", None),
    ],
)
def test_set_mistakes(problems: Problems, text: str, message: str | None) -> None:
    lines = problems(FILE, settings=flag_settings(sets=[text]))
    assert len(lines) == 1
    if message is None:
        assert lines[0].startswith(f"--set {text}: invalid YAML: ")
    else:
        assert lines[0] == f"--set {text}: {message}"


def test_devices_scales_the_groups(load: Load) -> None:
    assert [g.count for g in load(FILE, settings=flag_settings(devices=40)).groups] == [30, 10]
    assert [g.count for g in load(FILE, settings=flag_settings(devices=100)).groups] == [75, 25]
    assert [g.count for g in load(FILE, settings=flag_settings(devices=2)).groups] == [1, 1]


def test_devices_checks_phases_against_the_new_size(problems: Problems) -> None:
    lines = problems(FILE, settings=flag_settings(devices=1000))
    assert lines == [
        "s.yaml:8:1: the phases bring in at most 600 devices but the groups have 1000: "
        "lengthen the phases, raise their rates or counts, or lower the group counts"
    ]


def test_bad_devices(problems: Problems) -> None:
    assert problems(FILE, settings=flag_settings(devices=1)) == [
        "--devices: 1 devices cannot fill 2 groups (each needs at least one device)"
    ]
    assert problems(FILE, settings=env_settings({"FLEET_DEVICES": "many"})) == [
        "FLEET_DEVICES: the number of devices must be a whole number >= 1, got text 'many'"
    ]


@pytest.mark.parametrize(
    ("counts", "total", "expected"),
    [
        ([10], 7, [7]),
        ([30, 10], 40, [30, 10]),
        ([1, 1, 1], 10, [4, 3, 3]),
        ([100, 1], 10, [9, 1]),
        ([1, 1, 998], 3, [1, 1, 1]),
        ([5, 5], 11, [6, 5]),
    ],
)
def test_scale_counts(counts: list[int], total: int, expected: list[int]) -> None:
    result = scale_counts(counts, total)
    assert result == expected
    assert sum(result) == total
    assert min(result) >= 1


def test_unknown_setting_target(problems: Problems) -> None:
    assert problems(FILE, settings=[Setting("colour", "red", "--colour")]) == [
        "--colour: unknown setting 'colour'"
    ]


def test_set_reaches_an_unnamed_group_by_its_default_name(load: Load) -> None:
    text = "version: 1\ngroups: [{count: 1}, {count: 1}]\n"
    scenario = load(text, settings=flag_settings(sets=["groups.group-2.count=4"]))
    assert [g.count for g in scenario.groups] == [1, 4]
    assert [g.name for g in scenario.groups] == ["group-1", "group-2"]


def test_flag_values_arrive_as_text_like_the_environment(load: Load) -> None:
    # click hands `--duration 90 --seed 7 --devices 4` over as strings
    scenario = load(FILE, settings=flag_settings(duration="90", seed="7", devices="4"))
    assert scenario.duration == 90.0
    assert scenario.seed == 7
    assert sum(g.count for g in scenario.groups) == 4
