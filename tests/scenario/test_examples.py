"""The worked examples in scenarios/ and the starter all pass validation."""

from __future__ import annotations

import pathlib

import pytest

from fleet.model import Path
from fleet.scenario import STARTER, arrival_capacity, load_scenario, load_scenario_text
from tests.scenario.conftest import SCENARIOS

EXAMPLES = sorted(SCENARIOS.glob("*.yaml"))


def test_the_four_examples_are_there() -> None:
    assert {p.name for p in EXAMPLES} >= {
        "smoke.yaml",
        "onboarding-storm.yaml",
        "soak-churn.yaml",
        "temperature-observed.yaml",
    }


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.name)
def test_every_example_validates(path: pathlib.Path) -> None:
    scenario = load_scenario(path)
    assert scenario.device_count > 0
    assert scenario.description
    if scenario.phases:
        assert arrival_capacity(scenario.phases) >= scenario.device_count
    assert path.read_text().startswith("# yaml-language-server: $schema=./scenario.schema.json")


def test_what_each_example_shows() -> None:
    smoke = load_scenario(SCENARIOS / "smoke.yaml")
    assert smoke.device_count <= 10 and smoke.phases == ()
    storm = load_scenario(SCENARIOS / "onboarding-storm.yaml")
    assert storm.device_count >= 1000
    assert storm.groups[0].endpoint(0) == "urn:imei:351934540000000"
    assert {g.lwm2m_version for g in storm.groups} == {"1.0", "1.1"}
    soak = load_scenario(SCENARIOS / "soak-churn.yaml")
    assert soak.churn is not None and soak.duration is not None and soak.duration >= 3600
    observed = load_scenario(SCENARIOS / "temperature-observed.yaml")
    kinds = {spec.kind for g in observed.groups for spec in g.generators.values()}
    assert {"daily", "linked", "replay"} <= kinds
    assert Path(3303, 1, 5700) in observed.groups[0].generators
    faults = load_scenario(SCENARIOS / "faults-demo.yaml")
    assert faults.summary() == "200 devices in 2 groups, 2 phases, 4 faults"
    reject, silence, reboot, lost = faults.faults
    assert (reject.code, reject.fraction, reject.window.start, reject.window.end) == (
        "4.05", 0.05, 60.0, 120.0,
    )  # fmt: skip
    assert reject.paths == ((3442, 0, None),)
    assert (silence.action, silence.fraction) == ("silence", 0.01)
    assert (reboot.action, reboot.window.start, reboot.group_ranges) == (
        "reboot",
        180.0,
        ((0, 149),),
    )
    assert lost.uplink == {"update"}


def test_the_starter_validates_and_explains_itself() -> None:
    scenario = load_scenario_text(STARTER, file="scenario.yaml")
    assert scenario.summary() == "20 devices in 1 group, 2 phases"
    assert STARTER.startswith("# yaml-language-server: $schema=./scenario.schema.json\n")
    for words in ("fleet validate", "fleet schema", "FLEET_SERVER", "--set", "arrivalCount"):
        assert words in STARTER
