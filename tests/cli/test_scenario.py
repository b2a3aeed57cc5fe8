"""``fleet validate``, ``fleet schema`` and ``fleet init`` through click's test runner."""

from __future__ import annotations

import json
import pathlib

import click
import pytest
from click.testing import CliRunner

from fleet.cli.scenario import EXIT_INVALID_SCENARIO, init, schema, validate
from fleet.scenario import STARTER, json_schema

SCENARIOS = pathlib.Path(__file__).resolve().parents[2] / "scenarios"

GOOD = "version: 1\ngroups: [{count: 3}, {count: 2}]\nphases: [{duration: 10s, arrivalRate: 1}]\n"
BAD = "version: 1\ngroups:\n  - count: 3\n    lifetmie: 60\n  - {count: zero}\n"


@pytest.fixture(autouse=True)
def _no_fleet_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: pathlib.Path) -> None:
    for name in ("FLEET_SERVER", "FLEET_DEVICES", "FLEET_DURATION", "FLEET_SEED"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)


def run(command: click.Command, *args: str, env: dict[str, str] | None = None) -> tuple[int, str]:
    result = CliRunner().invoke(command, list(args), env=env)
    if result.exception and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result.exit_code, result.output


def test_validate_ok() -> None:
    pathlib.Path("good.yaml").write_text(GOOD)
    code, out = run(validate, "good.yaml")
    assert (code, out) == (0, "good.yaml: ok, 5 devices in 2 groups, 1 phase\n")


def test_validate_reports_every_problem_and_exits_2() -> None:
    pathlib.Path("good.yaml").write_text(GOOD)
    pathlib.Path("bad.yaml").write_text(BAD)
    code, out = run(validate, "good.yaml", "bad.yaml", "missing.yaml")
    assert code == EXIT_INVALID_SCENARIO == 2
    assert out.splitlines() == [
        "good.yaml: ok, 5 devices in 2 groups, 1 phase",
        "bad.yaml:4:5: unknown key 'lifetmie' in groups.0 (group); did you mean 'lifetime'?",
        "bad.yaml:5:13: groups.1.count must be a whole number, got text 'zero'",
        "bad.yaml: 2 problems",
        "missing.yaml: cannot read the file: No such file or directory",
        "missing.yaml: 1 problem",
    ]


def test_validate_applies_flags_and_environment() -> None:
    pathlib.Path("good.yaml").write_text(GOOD)
    code, out = run(validate, "good.yaml", "--devices", "8", env={"FLEET_SEED": "x"})
    assert code == 2
    assert out.splitlines() == [
        "FLEET_SEED: seed must be a whole number, got text 'x'",
        "good.yaml: 1 problem",
    ]
    code, out = run(validate, "good.yaml", "--devices", "8", "--seed", "3", env={"FLEET_SEED": "x"})
    assert (code, out) == (0, "good.yaml: ok, 8 devices in 2 groups, 1 phase\n")
    code, out = run(validate, "good.yaml", "--set", "groups.0.count=100")
    assert code == 2
    assert out.splitlines()[0] == (
        "good.yaml:3:1: the phases bring in at most 10 devices but the groups have 102: "
        "lengthen the phases, raise their rates or counts, or lower the group counts"
    )


def test_validate_with_user_objects() -> None:
    pathlib.Path("defs").mkdir()
    (pathlib.Path("defs") / "20500.xml").write_text(
        """<LWM2M><Object ObjectType="MODefinition"><Name>Tank</Name><ObjectID>20500</ObjectID>
        <MultipleInstances>Multiple</MultipleInstances><Mandatory>Optional</Mandatory>
        <Resources><Item ID="1"><Name>Level</Name><Operations>R</Operations>
        <MultipleInstances>Single</MultipleInstances><Mandatory>Mandatory</Mandatory>
        <Type>Float</Type></Item></Resources></Object></LWM2M>"""
    )
    pathlib.Path("tank.yaml").write_text(
        "version: 1\ngroups: [{count: 1, objects: {20500: [0]}}]\n"
    )
    assert run(validate, "tank.yaml")[0] == 2
    assert run(validate, "tank.yaml", "--objects", "defs") == (
        0,
        "tank.yaml: ok, 1 device in 1 group, 0 phases\n",
    )


def test_validate_the_examples() -> None:
    files = sorted(str(p) for p in SCENARIOS.glob("*.yaml"))
    code, out = run(validate, *files)
    assert code == 0, out
    assert len(out.splitlines()) == len(files)


def test_schema_prints_the_json_schema() -> None:
    code, out = run(schema)
    assert code == 0
    assert json.loads(out) == json_schema()


def test_schema_to_a_file() -> None:
    code, _ = run(schema, "-o", "scenario.schema.json")
    assert code == 0
    assert json.loads(pathlib.Path("scenario.schema.json").read_text()) == json_schema()


def test_init_writes_a_starter_that_validates() -> None:
    code, _ = run(init)
    assert code == 0
    assert pathlib.Path("scenario.yaml").read_text() == STARTER
    assert run(validate, "scenario.yaml") == (
        0,
        "scenario.yaml: ok, 20 devices in 1 group, 2 phases\n",
    )


def test_init_refuses_to_overwrite_without_force() -> None:
    target = pathlib.Path("mine.yaml")
    target.write_text("keep me")
    code, out = run(init, "mine.yaml")
    assert code == 1
    assert "mine.yaml already exists; use --force to overwrite it" in out
    assert target.read_text() == "keep me"
    assert run(init, "mine.yaml", "--force")[0] == 0
    assert target.read_text() == STARTER


def test_init_to_stdout() -> None:
    code, out = run(init, "-")
    assert (code, out) == (0, STARTER)
    assert not pathlib.Path("-").exists()
