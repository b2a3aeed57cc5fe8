"""``fleet server --objects --on-register --concurrency`` and a scenario's ``embedded_server``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from fleet.cli import main
from fleet.client.config import DeviceConfig
from fleet.codec import ContentFormat
from fleet.device.layout import DeviceLayout
from fleet.model.shipped import build_registry
from tests.cli.serving import serve
from tests.server.unmodelled_fixtures import TANK_LAYOUT, TANK_VALUES, tank_dir, tank_registry


async def _serve(tmp_path: Path, lines: list[str], *extra: str) -> tuple[list[Any], str, int]:
    """``fleet server --json`` with ``lines`` as commands and one tank device ``tank-1``."""
    registry = tank_registry(tmp_path)

    def tank(uri: str) -> DeviceConfig:
        return DeviceConfig(
            endpoint="tank-1",
            server=uri,
            lifetime=60,
            layout=TANK_LAYOUT,
            registry=registry,
            values=dict(TANK_VALUES),
        )

    out, err, code = await serve(tmp_path, lines, "--json", *extra, config=tank)
    return [json.loads(line) for line in out.splitlines()], err, code


def _responses(records: list[Any]) -> list[dict[str, Any]]:
    return [
        r["content"]
        for r in records
        if "content" in r and r["content"]["messageType"] == "response"
    ]


@pytest.mark.asyncio
async def test_objects_and_on_register_rules(tmp_path: Path) -> None:
    records, err, code = await _serve(
        tmp_path,
        ["WAIT tank-1 10", "RULES --wait", "* READ /20500/0/2"],
        "--objects",
        str(tank_dir(tmp_path)),
        "--on-register",
        "READ /20500/0",
        "--on-register",
        "OBSERVE /20500/0/1 pmin=1 pmax=10",
        "--concurrency",
        "3",
    )
    assert code == 0, err
    responses = _responses(records)
    read, observe, star = responses[-3:]
    assert (read["method"], read["resourcePath"], read["status"]["code"]) == (
        "read",
        "20500/0",
        200,
    )
    assert read["data"] == {
        "20500/0/0": "north",
        "20500/0/1": 42.5,
        "20500/0/2": 7,
        "20500/0/3": True,
    }  # typed by the model --objects loaded
    assert read["status"]["detail"] is None
    assert observe["method"] == "observe" and observe["data"] == {"20500/0/1": 42.5}
    assert star["data"] == {"20500/0/2": 7}
    said = [r["console"] for r in records if "console" in r]
    assert said[-1] == "* READ /20500/0/2: 1 device, 1 answer: 200 x1"
    rules = next(r for r in records if "on_register" in r)
    assert rules["on_register"] == ["READ /20500/0", "OBSERVE /20500/0/1 pmin=1 pmax=10"]
    assert rules["devices"] == 1 and rules["pool"]["limit"] == 3


def test_a_bad_rule_stops_the_server_before_it_serves() -> None:
    result = CliRunner().invoke(
        main, ["server", "--port", "0", "--on-register", "tank-1 READ /3", "--exit-after-commands"]
    )
    assert result.exit_code == 2
    assert "--on-register: rule 'tank-1 READ /3': unknown operation 'tank-1'" in result.output
    assert "listening" not in result.output


SCENARIO = """version: 1
groups:
  - count: 1
embedded_server:
  concurrency: 4
  on_register:
    - READ /3/0/0
    - OBSERVE /3303/0/5700 pmin=9 pmax=2
"""


def test_validate_places_a_bad_rule(tmp_path: Path) -> None:
    file = tmp_path / "s.yaml"
    file.write_text(SCENARIO, encoding="utf-8")
    result = CliRunner().invoke(main, ["validate", str(file)])
    assert result.exit_code == 2
    assert (
        f"{file}:8:7: embedded_server.on_register[1]: rule 'OBSERVE /3303/0/5700 pmin=9 pmax=2': "
        "pmax (2) must not be less than pmin (9)"
    ) in result.output
    run = CliRunner().invoke(main, ["run", str(file), "--duration", "1s"])
    assert run.exit_code != 0 and "on_register[1]" in run.output  # fleet run judges it alike
    served = CliRunner().invoke(main, ["server", "--port", "0", "--scenario", str(file)])
    assert served.exit_code == 1 and f"{file}:8:7:" in served.output
    assert "listening" not in served.output


def test_validate_accepts_good_rules_and_the_section_is_typed(tmp_path: Path) -> None:
    file = tmp_path / "s.yaml"
    file.write_text(SCENARIO.replace("pmin=9 pmax=2", "pmin=2 pmax=9"), encoding="utf-8")
    assert CliRunner().invoke(main, ["validate", str(file)]).exit_code == 0
    file.write_text(SCENARIO.replace("concurrency: 4", "concurrency: 0"), encoding="utf-8")
    result = CliRunner().invoke(main, ["validate", str(file)])
    assert result.exit_code == 2 and f"{file}:5:16:" in result.output


@pytest.mark.asyncio
async def test_a_scenarios_rules_and_objects_are_served(tmp_path: Path) -> None:
    objects = tank_dir(tmp_path)
    file = tmp_path / "tanks.yaml"
    file.write_text(
        "version: 1\n"
        f"objects: [{objects}]\n"
        "groups:\n  - count: 1\n"
        "embedded_server:\n  on_register: READ /20500/0/1\n",
        encoding="utf-8",
    )
    records, err, code = await _serve(
        tmp_path, ["WAIT tank-1 10", "RULES --wait"], "--scenario", str(file)
    )
    assert code == 0, err
    (read,) = [r for r in _responses(records) if r["resourcePath"] == "20500/0/1"]
    assert read["data"] == {"20500/0/1": 42.5} and read["status"]["detail"] is None


OMA_REGISTRY = Path(__file__).resolve().parents[2].parent / "shared" / "oma-registry"


@pytest.mark.asyncio
async def test_the_oma_registry_as_objects_types_its_objects(tmp_path: Path) -> None:
    """A Humidity sensor (3304, from the OMA registry, not shipped) answering in TLV, which a
    server can read only with the object's definition."""
    registry = build_registry([OMA_REGISTRY / "3304.xml"])

    def humidity(uri: str) -> DeviceConfig:
        return DeviceConfig(
            endpoint="hum-1",
            server=uri,
            lifetime=60,
            layout=DeviceLayout.of({0: [0], 1: [0], 3: [0], 3304: [0]}),
            registry=registry,
            values={"/3304/0/5700": 55.5},
            content_format=ContentFormat.TLV,
        )

    out, err, code = await serve(
        tmp_path,
        ["WAIT hum-1 10", "hum-1 READ /3304/0"],
        "--json",
        "--objects",
        str(OMA_REGISTRY),
        config=humidity,
    )
    assert code == 0, err
    (read,) = [
        r
        for r in _responses([json.loads(line) for line in out.splitlines()])
        if r["resourcePath"] == "3304/0"
    ]
    assert read["data"]["3304/0/5700"] == 55.5 and read["status"]["detail"] is None
