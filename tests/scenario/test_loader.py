"""Valid scenarios load into frozen data the runner can use as it is."""

from __future__ import annotations

import dataclasses
import pathlib

import pytest

from fleet.clock import ManualClock
from fleet.codec import ContentFormat
from fleet.device import ObjectTree
from fleet.errors import NotFound
from fleet.model import Path
from fleet.scenario import (
    Churn,
    CountPhase,
    PausePhase,
    Phase,
    RatePhase,
    ScenarioErrors,
    ServerTarget,
    arrival_capacity,
    load_scenario_text,
)
from tests.scenario.conftest import MINIMAL, Load, Problems

USER_OBJECT = """<LWM2M><Object ObjectType="MODefinition">
  <Name>Tank Level</Name><ObjectID>20500</ObjectID><ObjectVersion>1.0</ObjectVersion>
  <MultipleInstances>Multiple</MultipleInstances><Mandatory>Optional</Mandatory>
  <Resources>
    <Item ID="1"><Name>Level</Name><Operations>R</Operations>
      <MultipleInstances>Single</MultipleInstances><Mandatory>Mandatory</Mandatory>
      <Type>Float</Type><RangeEnumeration>0..100</RangeEnumeration><Units>%</Units></Item>
  </Resources>
</Object></LWM2M>"""


def test_defaults_of_a_minimal_scenario(load: Load) -> None:
    scenario = load(MINIMAL)
    assert scenario.server == ServerTarget("127.0.0.1", 5683)
    assert scenario.seed == 0
    assert scenario.duration is None
    assert scenario.phases == ()
    assert scenario.churn is None
    assert scenario.thresholds == ()
    (group,) = scenario.groups
    assert group.name == "group-1"
    assert group.count == 2
    assert group.endpoint(0) == "sim-000000"
    assert group.lwm2m_version == "1.1"
    assert group.lifetime == 86400
    assert group.binding == "U"
    assert group.content_format is None
    assert group.send_enabled is False
    assert set(group.layout.objects) == {0, 1, 3}
    assert scenario.summary() == "2 devices in 1 group, 0 phases"


def test_everything_given(load: Load) -> None:
    scenario = load(
        """
        version: 1
        description: all keys
        server: coap://[::1]:5690
        seed: 99
        duration: 1h30m
        groups:
          - name: meters
            count: 3
            endpoint: "urn:imei:35193454{index:07d}"
            lwm2m_version: 1.1
            lifetime: 10m
            binding: UQ
            format: senml-cbor
            objects:
              3303: [0, 1]
              3: {version: "1.1", instances: [0]}
            values:
              "/3/0/0": ACME
              "/3/0/6": [1, 5]
              "/3303/1/5700": "21.5"
            generators:
              "/3303/0/5700": {kind: random_walk, min: -10, max: 40, step: 0.5, every: 10s}
            send_enabled: true
          - name: trackers
            count: 2
            lwm2m_version: "1.0"
            format: tlv
        phases:
          - {duration: 60s, arrivalRate: 0, rampTo: 1, name: ramp}
          - {pause: 250ms}
          - {duration: 5m, arrivalCount: 4}
        churn: {deregister_rate: 0.5, away: 1m, start: 10m}
        thresholds:
          register_duration: ["p(95)<2s", "p(99.9)<=500ms"]
          request_failed: rate<1%
          send_failed: [{threshold: "rate<0.5", allow_empty: true}, {threshold: "count<3"}]
        """
    )
    assert scenario.description == "all keys"
    assert scenario.server.uri == "coap://[::1]:5690"
    assert scenario.server.address == ("::1", 5690)
    assert scenario.seed == 99
    assert scenario.duration == 5400.0
    meters, trackers = scenario.groups
    assert meters.endpoint(2) == "urn:imei:351934540000002"
    assert meters.lifetime == 600
    assert meters.binding == "UQ"
    assert meters.content_format is ContentFormat.SENML_CBOR
    assert meters.send_enabled is True
    assert meters.layout.objects[3303].instances == (0, 1)
    assert meters.layout.values[Path(3, 0, 6)] == {0: 1, 1: 5}
    assert meters.layout.values[Path(3303, 1, 5700)] == 21.5
    assert meters.generators[Path(3303, 0, 5700)].kind == "random_walk"
    assert trackers.first_index == 3
    assert list(trackers.indexes) == [3, 4]
    assert trackers.endpoint(4) == "sim-000004"
    assert trackers.content_format is ContentFormat.TLV
    assert scenario.phases == (
        RatePhase(60.0, 0.0, 1.0, "ramp"),
        PausePhase(0.25),
        CountPhase(300.0, 4),
    )
    assert scenario.churn == Churn(0.5, 60.0, 600.0)
    assert [
        (t.metric, t.label, t.operator, t.value, t.allow_empty) for t in scenario.thresholds
    ] == [
        ("register_duration", "p(95)", "<", 2.0, False),
        ("register_duration", "p(99.9)", "<=", 0.5, False),
        ("request_failed", "rate", "<", 0.01, False),
        ("send_failed", "rate", "<", 0.5, True),
        ("send_failed", "count", "<", 3.0, False),
    ]
    assert scenario.group_of(0) is meters
    assert scenario.group_of(3) is trackers
    assert scenario.endpoint(1) == "urn:imei:351934540000001"
    with pytest.raises(IndexError):
        scenario.group_of(5)


def _versioned(version: str, lwm2m: str) -> str:
    return USER_OBJECT.replace(
        "<ObjectVersion>1.0</ObjectVersion>",
        f"<ObjectVersion>{version}</ObjectVersion><LWM2MVersion>{lwm2m}</LWM2MVersion>",
    )


def test_object_versions_follow_the_lwm2m_version(load: Load, tmp_path: pathlib.Path) -> None:
    (tmp_path / "defs").mkdir()
    (tmp_path / "defs" / "old.xml").write_text(_versioned("1.0", "1.0"))
    (tmp_path / "defs" / "new.xml").write_text(_versioned("2.0", "1.1"))
    scenario = load(
        """
        version: 1
        objects: [defs]
        groups:
          - {count: 1, lwm2m_version: "1.0", objects: {20500: [0]}}
          - {count: 1, lwm2m_version: "1.1", objects: {20500: [0]}}
          - {count: 1, lwm2m_version: "1.0", objects: {20500: {version: 2.0}}}
        """
    )
    old, new, pinned = scenario.groups
    assert old.layout.objects[20500].version == "1.0"
    assert new.layout.objects[20500].version == "2.0"
    assert pinned.layout.objects[20500].version == "2.0"


def test_the_template_builds_trees_with_the_initial_values(load: Load) -> None:
    scenario = load(
        """
        version: 1
        groups:
          - count: 1
            objects: {3303: [0]}
            values: {"/3/0/0": ACME, "/3303/0/5700": 21}
        """
    )
    group = scenario.groups[0]
    tree = ObjectTree(group.template, clock=ManualClock())
    assert tree.value(Path(3, 0, 0)) == "ACME"
    assert tree.value(Path(3303, 0, 5700)) == 21.0


def test_optional_false_keeps_only_mandatory_and_named_resources(load: Load) -> None:
    scenario = load(
        """
        version: 1
        groups:
          - count: 1
            objects:
              3303: {instances: [0], optional: false}
            values: {"/3303/0/5701": Cel}
        """
    )
    tree = ObjectTree(scenario.groups[0].template, clock=ManualClock())
    assert tree.value(Path(3303, 0, 5701)) == "Cel"
    with pytest.raises(NotFound):
        tree.value(Path(3303, 0, 5602))


def test_generator_on_a_resource_left_out_by_optional_false(problems: Problems) -> None:
    lines = problems(
        """
        version: 1
        groups:
          - count: 1
            objects:
              3303: {instances: [0], optional: false}
            generators:
              "/3303/0/5602": {kind: constant, value: 3}
        """
    )
    assert lines == [
        "s.yaml:7:7: generator for /3303/0/5602: resource 5602 (Max Measured Value) is optional "
        "and object 3303 has optional: false; give it a value or set optional: true"
    ]


def test_user_objects_relative_to_the_file(
    write: object, load: Load, tmp_path: pathlib.Path
) -> None:
    (tmp_path / "defs").mkdir()
    (tmp_path / "defs" / "20500.xml").write_text(USER_OBJECT)
    scenario = load(
        """
        version: 1
        objects: [defs]
        groups:
          - count: 1
            objects: {20500: [0, 1]}
            values: {"/20500/1/1": 42.5}
        """
    )
    assert scenario.objects_dirs == (tmp_path / "defs",)
    assert scenario.groups[0].layout.values[Path(20500, 1, 1)] == 42.5
    assert 20500 in scenario.registry


def test_missing_and_broken_object_folders(
    load: Load, problems: Problems, tmp_path: pathlib.Path
) -> None:
    (tmp_path / "bad").mkdir()
    (tmp_path / "bad" / "1.xml").write_text(
        "<LWM2M><Object><ObjectID>x</ObjectID></Object></LWM2M>"
    )
    lines = problems(
        """
        version: 1
        objects: [nowhere, bad]
        groups:
          - {count: 1, objects: {20500: [0]}}
        """,
        objects_dirs=[tmp_path / "also-missing"],
    )
    assert lines[0] == (
        f"s.yaml:2:11: object definitions folder {str(tmp_path / 'nowhere')!r} does not exist"
    )
    assert lines[1].startswith("s.yaml:2:20: cannot load object definitions: ")
    assert lines[2] == (
        f"--objects {tmp_path / 'also-missing'}: object definitions folder "
        f"{str(tmp_path / 'also-missing')!r} does not exist"
    )
    assert len(lines) == 3  # the unknown object 20500 is not reported on top


CAPACITY_CASES = [
    ([RatePhase(10.0, 2.0)], 20),
    ([RatePhase(10.0, 0.0, 10.0)], 50),
    ([RatePhase(3.0, 0.5)], 1),
    ([RatePhase(0.1, 30.0)], 3),  # binary floats: 0.1 * 30 is 2.9999..., still 3 devices
    ([RatePhase(10.0, 0.7)], 7),
    ([RatePhase(3.0, 0.5), RatePhase(3.0, 0.5)], 3),  # fractions carry over
    ([CountPhase(10.0, 7), PausePhase(10.0), RatePhase(5.0, 1.0, 3.0)], 17),
    ([PausePhase(10.0)], 0),
    ([], 0),
]


@pytest.mark.parametrize(("phases", "expected"), CAPACITY_CASES)
def test_arrival_capacity(phases: list[Phase], expected: int) -> None:
    assert arrival_capacity(phases) == expected


@pytest.mark.parametrize(("phases", "expected"), CAPACITY_CASES[:-1])
def test_arrival_capacity_agrees_with_the_arrival_planner(
    phases: list[Phase], expected: int
) -> None:
    planning = pytest.importorskip("fleet.runner.planning")
    assert planning.plan_arrivals(phases, 10**6).arriving == arrival_capacity(phases)


def test_phases_may_bring_more_than_the_fleet(load: Load) -> None:
    scenario = load(
        """
        version: 1
        groups: [{count: 5}]
        phases: [{duration: 10s, arrivalRate: 100}]
        """
    )
    assert arrival_capacity(scenario.phases) >= scenario.device_count


def test_exactly_enough_capacity(load: Load) -> None:
    scenario = load(
        """
        version: 1
        duration: 41s
        groups: [{count: 30}, {count: 20}]
        phases:
          - {duration: 10s, arrivalRate: 0, rampTo: 4}
          - {pause: 10s}
          - {duration: 20s, arrivalCount: 30}
        """
    )
    assert arrival_capacity(scenario.phases) == scenario.device_count == 50


def test_the_last_device_must_arrive_before_the_run_ends(problems: Problems) -> None:
    lines = problems(
        """
        version: 1
        duration: 10s
        groups: [{count: 10}]
        phases: [{duration: 10s, arrivalRate: 1}]
        """
    )
    assert lines == [
        "s.yaml:2:11: the last device would arrive at 10s, just as the run ends: lengthen "
        "duration or let the phases bring the fleet in sooner"
    ]


@pytest.mark.parametrize(
    ("duration", "count", "phases", "valid"),
    [
        (10.0, 10, [RatePhase(10.0, 1.0)], False),
        (10.5, 10, [RatePhase(10.0, 1.0)], True),
        (10.0, 9, [RatePhase(10.0, 1.0)], True),
        (15.0, 10, [RatePhase(10.0, 1.0), PausePhase(5.0)], True),
        (20.0, 30, [CountPhase(20.0, 30)], False),
        (20.0, 30, [CountPhase(10.0, 20), RatePhase(10.0, 0.5, 1.5)], False),
        (20.0, 29, [CountPhase(10.0, 20), RatePhase(10.0, 0.5, 1.5)], True),
    ],
)
def test_validation_agrees_with_the_planner_on_who_arrives(
    duration: float, count: int, phases: list[Phase], valid: bool
) -> None:
    planning = pytest.importorskip("fleet.runner.planning")
    assert (planning.plan_arrivals(phases, count, duration).missing == 0) is valid
    text = "version: 1\nduration: {}\ngroups: [{{count: {}}}]\nphases: [{}]\n".format(
        duration,
        count,
        ", ".join(_phase_yaml(p) for p in phases),
    )
    try:
        load_scenario_text(text)
    except ScenarioErrors:
        accepted = False
    else:
        accepted = True
    assert accepted is valid


def _phase_yaml(phase: Phase) -> str:
    if isinstance(phase, PausePhase):
        return f"{{pause: {phase.duration}}}"
    if isinstance(phase, CountPhase):
        return f"{{duration: {phase.duration}, arrivalCount: {phase.arrival_count}}}"
    ramp = "" if phase.ramp_to is None else f", rampTo: {phase.ramp_to}"
    return f"{{duration: {phase.duration}, arrivalRate: {phase.arrival_rate}{ramp}}}"


def test_churn_start_after_the_end(problems: Problems) -> None:
    lines = problems(
        """
        version: 1
        duration: 5m
        groups: [{count: 1}]
        churn: {deregister_rate: 1, start: 5m}
        """
    )
    assert lines == ["s.yaml:4:36: churn would start at 5m, when the run (5m) is over"]


def test_group_names_are_unique(problems: Problems) -> None:
    lines = problems("version: 1\ngroups: [{name: a, count: 1}, {name: a, count: 1}]\n")
    assert lines == ["s.yaml:2:38: group name 'a' is already used by groups.0"]


def test_a_file_that_is_not_a_scenario(problems: Problems) -> None:
    assert problems("") == [
        "s.yaml:1:1: the file is empty: a scenario needs at least version: 1 and groups:"
    ]
    assert problems("- 1\n- 2\n") == [
        "s.yaml:1:1: a scenario is a mapping of keys (version:, groups:, ...)"
    ]
    assert problems("version: 1\n") == [
        "s.yaml:1:1: the scenario is missing 'groups': Device groups; device indexes run "
        "through the groups in order."
    ]


def test_unreadable_file(tmp_path: pathlib.Path) -> None:
    from fleet.scenario import ScenarioErrors, load_scenario

    with pytest.raises(ScenarioErrors) as caught:
        load_scenario(tmp_path / "none.yaml")
    assert caught.value.lines() == [
        f"{tmp_path / 'none.yaml'}: cannot read the file: No such file or directory"
    ]


def test_the_scenario_is_frozen(load: Load) -> None:
    scenario = load(MINIMAL)
    with pytest.raises(dataclasses.FrozenInstanceError):
        scenario.seed = 3  # type: ignore[misc]
    with pytest.raises(TypeError):
        scenario.groups[0].layout.values[Path(3, 0, 0)] = "x"  # type: ignore[index]


def test_text_loading_resolves_paths_under_base_dir(tmp_path: pathlib.Path) -> None:
    (tmp_path / "defs").mkdir()
    (tmp_path / "defs" / "20500.xml").write_text(USER_OBJECT)
    text = "version: 1\nobjects: [defs]\ngroups: [{count: 1, objects: {20500: [0]}}]\n"
    scenario = load_scenario_text(text, file="inline", base_dir=tmp_path)
    assert scenario.source == "inline"
    assert 20500 in scenario.groups[0].layout.objects
