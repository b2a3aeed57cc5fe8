"""A scenario's top-level ``bootstrap:`` section: the embedded Bootstrap-Server's per-endpoint
configurations, the same shape as a ``--bootstrap-config`` file, checked by ``fleet validate``
with ``file:line:col`` of the offending key."""

from __future__ import annotations

import pathlib
import textwrap

import pytest
from click.testing import CliRunner

from fleet.cli.scenario import validate
from fleet.client.bootstrap.config_reader import load_configs
from fleet.client.bootstrap.rules import SecurityMode
from fleet.codec import ContentFormat
from fleet.runner.configs import device_config
from fleet.scenario import ScenarioErrors, load_scenario_text

SECTION = """\
bootstrap:
  endpoints:
    "meter-*":
      servers:
        - uri: coap://127.0.0.1:5683
          short_server_id: 1
          lifetime: 300
        - uri: coaps://127.0.0.1:5694
          short_server_id: 2
          lifetime: 600
          psk_identity: "{endpoint}"
          psk_key: "hex:00112233445566778899aabbccddeeff"
      format: senml-cbor
    special:
      servers: [{uri: "coap://127.0.0.1:6000"}]
"""
GROUPS = """\
groups:
  - name: meters
    count: 2
    endpoint: "meter-{index:03d}"
    bootstrap: coap://127.0.0.1:5783
"""


def scenario_text(section: str = SECTION) -> str:
    return "version: 1\n" + section + GROUPS


def test_the_section_gives_the_bootstrap_servers_configurations() -> None:
    scenario = load_scenario_text(scenario_text())
    assert scenario.bootstrap is not None
    config = scenario.bootstrap.for_endpoint("meter-001")
    assert config is not None and config.content_format is ContentFormat.SENML_CBOR
    first, second = config.servers
    assert (first.lifetime, second.lifetime) == (300, 600)
    assert second.security is SecurityMode.PRE_SHARED_KEY
    assert scenario.bootstrap.for_endpoint("special") is not None
    assert scenario.bootstrap.for_endpoint("other") is None
    assert load_scenario_text("version: 1\n" + GROUPS).bootstrap is None


def test_a_file_and_the_section_read_the_same(tmp_path: pathlib.Path) -> None:
    file = tmp_path / "bs.yaml"
    file.write_text(textwrap.dedent(SECTION.split("\n", 1)[1]), encoding="utf-8")
    from_file = load_configs(file)
    from_scenario = load_scenario_text(scenario_text()).bootstrap
    assert from_scenario is not None
    assert list(from_file.entries) == list(from_scenario.entries) == ["meter-*", "special"]
    for name in ("meter-1", "special"):
        mine, theirs = from_file.for_endpoint(name), from_scenario.for_endpoint(name)
        assert mine is not None and theirs is not None
        assert [(s.uri, s.lifetime, s.security, s.credentials(name)) for s in mine.servers] == [
            (s.uri, s.lifetime, s.security, s.credentials(name)) for s in theirs.servers
        ]


@pytest.mark.parametrize(
    ("change", "where", "message"),
    [
        (
            ("lifetime: 600", "lifetime: 0"),
            "11:21",
            "bootstrap.endpoints.meter-*.servers.1.lifetime: lifetime must be 1..",
        ),
        (
            ("short_server_id: 2", "short_server_id: 1"),
            "6:9",
            "bootstrap.endpoints.meter-*.servers: short server ids repeat: [1, 1]",
        ),
        (
            ("format: senml-cbor", "colour: red"),
            "14:7",
            "bootstrap.endpoints.meter-*.colour: unknown key 'colour'",
        ),
        (
            ("uri: coaps://127.0.0.1:5694", "uri: coap://127.0.0.1:5694"),
            "9:16",
            "bootstrap.endpoints.meter-*.servers.1.uri: coap://127.0.0.1:5694: security psk "
            "needs a coaps:// URI",
        ),
        (
            ('servers: [{uri: "coap://127.0.0.1:6000"}]', "servers: []"),
            "16:16",
            "bootstrap.endpoints.special.servers: a list of at least one server account",
        ),
    ],
)
def test_problems_are_located_at_the_offending_key(
    change: tuple[str, str], where: str, message: str
) -> None:
    text = scenario_text(SECTION.replace(*change))
    with pytest.raises(ScenarioErrors) as caught:
        load_scenario_text(text, file="s.yaml")
    (error,) = caught.value.errors
    assert error.located().startswith(f"s.yaml:{where}: {message}"), error.located()


def test_fleet_validate_checks_the_section(tmp_path: pathlib.Path) -> None:
    path = tmp_path / "s.yaml"
    path.write_text(scenario_text(SECTION.replace("lifetime: 300", "lifetime: soon")))
    result = CliRunner().invoke(validate, [str(path)])
    assert result.exit_code != 0
    assert f"{path}:8:21: bootstrap.endpoints.meter-*.servers.0.lifetime: expected a whole" in (
        result.output
    )
    path.write_text(scenario_text())
    result = CliRunner().invoke(validate, [str(path)])
    assert result.exit_code == 0, result.output


# -- a group's bootstrap: (where its devices bootstrap from) -------------------------------


def group(bootstrap: str) -> str:
    return (
        f'version: 1\ngroups:\n  - name: g\n    count: 2\n    endpoint: "d-{{index}}"\n{bootstrap}'
    )


@pytest.mark.parametrize(
    ("entry", "where", "message"),
    [
        (
            "    bootstrap: coaps://127.0.0.1:5784\n",
            "6:16",
            "speaks DTLS; give bootstrap: security: with the bootstrap account's pre-shared keys",
        ),
        (
            "    bootstrap:\n      uri: coap://127.0.0.1:5783\n"
            '      security: {identity: "bs-{index}", key: "hex:0011"}\n',
            "8:17",
            "keys need a coaps:// bootstrap server",
        ),
        ("    bootstrap: http://127.0.0.1:5783\n", "6:16", "the scheme must be coap://"),
        (
            "    bootstrap: {uri: coap://127.0.0.1:5783, hold_off: soon}\n",
            "6:55",
            "groups.0.bootstrap.hold_off: 'soon' is not a duration",
        ),
    ],
)
def test_a_groups_bootstrap_server_is_checked(entry: str, where: str, message: str) -> None:
    with pytest.raises(ScenarioErrors) as caught:
        load_scenario_text(group(entry), file="g.yaml")
    (error,) = caught.value.errors
    assert error.located().startswith(f"g.yaml:{where}: ") and message in error.located(), (
        error.located()
    )


def test_a_groups_bootstrap_keys_reach_each_device() -> None:
    entry = (
        "    bootstrap:\n      uri: coaps://127.0.0.1:5784\n"
        '      security: {identity: "bs-{index}", key: "hex:00{index:02x}"}\n'
        "      hold_off: 5s\n"
    )
    scenario = load_scenario_text(group(entry))
    config = device_config(scenario, 1)
    assert config.bootstrap == "coaps://127.0.0.1:5784" and config.bootstrap_hold_off == 5
    assert config.bootstrap_psk is not None
    assert (config.bootstrap_psk.identity, config.bootstrap_psk.key) == (b"bs-1", b"\x00\x01")
    assert config.psk is None  # the server account's keys are the Bootstrap-Server's to write
