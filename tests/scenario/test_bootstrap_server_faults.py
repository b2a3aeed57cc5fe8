"""Server-side bootstrap faults in a scenario's top-level ``bootstrap:`` section (and in a
``--bootstrap-config`` file): ``faults:`` and ``seed:``, checked by ``fleet validate`` at
``file:line:col``, seeded so a run replays."""

from __future__ import annotations

import pathlib

import pytest
from click.testing import CliRunner

from fleet.cli.scenario import validate
from fleet.client.bootstrap.config_reader import load_configs
from fleet.client.bootstrap.server_faults import BootstrapFault
from fleet.scenario import ScenarioErrors, load_scenario_text
from fleet.server.bootstrap.faults import BootstrapFaults

SECTION = """\
version: 1
bootstrap:
  endpoints:
    "*":
      servers: [{uri: "coap://127.0.0.1:5683"}]
  faults:
    - {kind: unauthorized, endpoints: "bad-*"}
    - {kind: slow, seconds: 2.5, probability: 0.5}
    - kind: fail-finish
      endpoints: "nofin-*"
  seed: 42
groups:
  - {name: g, count: 1, endpoint: "d-{index}", bootstrap: "coap://127.0.0.1:5783"}
"""


def test_the_section_carries_faults_and_seed() -> None:
    configs = load_scenario_text(SECTION).bootstrap
    assert configs is not None
    assert configs.faults == (
        BootstrapFault("unauthorized", "bad-*"),
        BootstrapFault("slow", "*", 0.5, 2.5),
        BootstrapFault("fail-finish", "nofin-*"),
    )
    assert configs.seed == 42


def test_a_file_carries_the_same(tmp_path: pathlib.Path) -> None:
    file = tmp_path / "bs.yaml"
    body = SECTION.split("bootstrap:\n", 1)[1].split("groups:", 1)[0]
    file.write_text("\n".join(line[2:] for line in body.splitlines()) + "\n", encoding="utf-8")
    configs = load_configs(file)
    scenario = load_scenario_text(SECTION).bootstrap
    assert scenario is not None
    assert (configs.faults, configs.seed) == (scenario.faults, scenario.seed)


@pytest.mark.parametrize(
    ("change", "where", "message"),
    [
        (
            ("kind: unauthorized", "kind: rude"),
            "7:14",
            "bootstrap.faults.0.kind: bootstrap server fault 'rude' is not one of unauthorized",
        ),
        (
            ("probability: 0.5", "probability: 2"),
            "8:47",
            "bootstrap.faults.1.probability: probability must be between 0 and 1, got 2.0",
        ),
        (
            ("seconds: 2.5, ", ""),
            "8:7",
            "bootstrap.faults.1.seconds: a slow bootstrap server needs seconds > 0",
        ),
        (
            ('endpoints: "nofin-*"', "colour: red"),
            "10:7",
            "bootstrap.faults.2.colour: unknown key 'colour'",
        ),
        (("seed: 42", "seed: soon"), "11:9", "bootstrap.seed: expected a whole number"),
        (
            ("kind: fail-finish", "kind: fail-finish\n      seconds: 3"),
            "10:16",
            "bootstrap.faults.2.seconds: seconds belongs to a slow fault, not fail-finish",
        ),
    ],
)
def test_fault_problems_are_located(change: tuple[str, str], where: str, message: str) -> None:
    with pytest.raises(ScenarioErrors) as caught:
        load_scenario_text(SECTION.replace(*change), file="s.yaml")
    (error,) = caught.value.errors
    assert error.located().startswith(f"s.yaml:{where}: {message}"), error.located()


def test_fleet_validate_names_the_place(tmp_path: pathlib.Path) -> None:
    path = tmp_path / "s.yaml"
    path.write_text(SECTION.replace("kind: unauthorized", "kind: rude"), encoding="utf-8")
    result = CliRunner().invoke(validate, [str(path)])
    assert result.exit_code != 0 and f"{path}:7:14: bootstrap.faults.0.kind" in result.output
    path.write_text(SECTION, encoding="utf-8")
    assert CliRunner().invoke(validate, [str(path)]).exit_code == 0


def test_the_seed_replays_the_draws() -> None:
    configs = load_scenario_text(SECTION).bootstrap
    assert configs is not None
    names = [f"d-{i}" for i in range(40)]

    def slowed(seed: int) -> list[str]:
        faults = BootstrapFaults(configs.faults, seed=seed)
        return [name for name in names if faults.slow(name) > 0]

    first = slowed(configs.seed)
    assert first == slowed(configs.seed)  # the same seed, the same devices slowed
    assert 5 < len(first) < 35  # probability 0.5 over 40 endpoints
    assert first != slowed(configs.seed + 1)
