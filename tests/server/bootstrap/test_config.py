"""Bootstrap configurations: from YAML/JSON, per endpoint, with errors that say where."""

from __future__ import annotations

import json
import pathlib

import pytest

from fleet.client.bootstrap.config_reader import configs_from
from fleet.client.bootstrap.rules import SecurityMode
from fleet.codec import ContentFormat
from fleet.model.path import Path
from fleet.server.bootstrap import BootstrapConfigError, load_configs
from fleet.server.bootstrap.plan import parse_discover, plan_writes

YAML = """\
endpoints:
  "dev-*":
    servers:
      - uri: coaps://127.0.0.1:5684
        short_server_id: 101
        lifetime: 300
        binding: UQ
        psk_identity: "{endpoint}"
        psk_key: "hex:00112233445566778899aabbccddeeff"
      - uri: coap://127.0.0.1:5683
        short_server_id: 102
    format: senml-cbor
    level: object
    delete: ["/"]
    psk_identity: "bs-{endpoint}"
    psk_key: "hex:0011"
  special:
    servers: [{uri: "coap://127.0.0.1:6000"}]
    discover: false
"""


def test_a_yaml_file_gives_per_endpoint_configurations(tmp_path: pathlib.Path) -> None:
    file = tmp_path / "bs.yaml"
    file.write_text(YAML)
    configs = load_configs(file)
    config = configs.for_endpoint("dev-7")
    assert config is not None and configs.for_endpoint("special") is not None
    assert configs.for_endpoint("other") is None
    first, second = config.servers
    assert first.security is SecurityMode.PRE_SHARED_KEY and second.security is SecurityMode.NO_SEC
    credentials = first.credentials("dev-7")
    assert credentials is not None and credentials.identity == b"dev-7"
    assert config.content_format is ContentFormat.SENML_CBOR and config.delete == (Path(),)
    assert configs.secure and configs.key_for(b"bs-dev-7") == b"\x00\x11"
    assert configs.key_for(b"dev-7") is None  # the server account's key is not the bootstrap's


def test_a_json_file_reads_the_same(tmp_path: pathlib.Path) -> None:
    file = tmp_path / "bs.json"
    file.write_text(json.dumps({"endpoints": {"*": {"servers": [{"uri": "coap://[::1]:5683"}]}}}))
    config = load_configs(file).for_endpoint("anything")
    assert config is not None and config.servers[0].uri == "coap://[::1]:5683"


def test_writes_skip_the_discovered_bootstrap_account() -> None:
    configs = configs_from(
        {
            "endpoints": {
                "*": {
                    "servers": [
                        {"uri": "coap://127.0.0.1:1"},
                        {"uri": "coap://127.0.0.1:2", "short_server_id": 2},
                    ]
                }
            }
        }
    )
    config = configs.for_endpoint("x")
    assert config is not None
    found = parse_discover(b'</>;lwm2m=1.1,</0/0>;ssid=1;uri="coap://f",</0/1>,</1/0>;ssid=1')
    assert found.bootstrap_instance == 1
    paths = [str(step.path) for step in plan_writes(config, "x", found)]
    assert paths == ["/0/0", "/0/2", "/1/0", "/1/1"]
    assert [str(step.path) for step in plan_writes(config, "x")] == ["/0/1", "/0/2", "/1/0", "/1/1"]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "endpoints:\n  a:\n    servers: []\n",
            "bs.yaml:3:14: endpoints.a.servers: a list of at least one",
        ),
        (
            "endpoints:\n  a:\n    servers: [{uri: 'http://x'}]\n",
            "the scheme must be coap:// (NoSec) or coaps://",
        ),
        (
            "endpoints:\n  a:\n    servers: [{uri: 'coaps://127.0.0.1'}]\n",
            "a coaps:// server needs security psk",
        ),
        (
            "endpoints:\n  a:\n    servers: [{uri: 'coap://127.0.0.1', lifetime: 0}]\n",
            "bs.yaml:3:51: endpoints.a.servers.0.lifetime: lifetime must be",
        ),
        (
            "endpoints:\n  a:\n    servers: [{uri: 'coap://127.0.0.1', colour: 1}]\n",
            "bs.yaml:3:41: endpoints.a.servers.0.colour: unknown key 'colour'",
        ),
        (
            "endpoints:\n  a:\n    servers: [{uri: 'coap://127.0.0.1'}]\n    format: xml\n",
            "'xml' is not one of",
        ),
        (
            "endpoints:\n  a:\n    servers: [{uri: 'coap://127.0.0.1', security: rpk}]\n",
            "'rpk' is not one of",
        ),
        ("endpoints: [\n", "bs.yaml:"),
    ],
)
def test_bad_configurations_say_where_and_what(
    tmp_path: pathlib.Path, text: str, message: str
) -> None:
    file = tmp_path / "bs.yaml"
    file.write_text(text)
    with pytest.raises(BootstrapConfigError) as caught:
        load_configs(file)
    assert message in str(caught.value) and "bs.yaml" in str(caught.value)


def test_a_json_file_error_names_line_and_column(tmp_path: pathlib.Path) -> None:
    file = tmp_path / "bs.json"
    file.write_text('{"endpoints": {"*": {\n  "servers": [{"uri": "coap://h", "lifetime": -1}]}}}')
    with pytest.raises(BootstrapConfigError) as caught:
        load_configs(file)
    assert str(caught.value) == (
        f"{file}:2:47: endpoints.*.servers.0.lifetime: lifetime must be 1..4294967295 s, got -1"
    )
