"""``fleet server`` as a process: a commands file drives it, a real device answers, and the
printed received messages (``--json``: one per line; default: pretty JSON) are checked."""

from __future__ import annotations

import json
import re
import socket
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from fleet.cli.server import load_server_scenario, psk_lookup, server
from fleet.client.coap.dtls import dtls_available
from fleet.client.coap.psk import PskCredentials
from tests.cli.serving import serve as _run


@pytest.mark.asyncio
async def test_scripted_session_prints_one_json_message_per_line(tmp_path: Path) -> None:
    out, err, code = await _run(
        tmp_path,
        [
            "WAIT dev1 10",
            "dev1 READ /3",
            "dev1 WRITE /3442/0/110 Hello; RD /3442/0/110",
            "dev1 EXECUTE /3442/0/2",
            "dev1 WRITE /3442/0/110",
            "dev1 UNOBSERVE /3303/0/5602",
            "INFO dev1",
        ],
        "--json",
    )
    assert code == 0, err
    records: list[dict[str, Any]] = [json.loads(line) for line in out.splitlines()]
    messages = [r for r in records if "content" in r]
    assert messages[0]["content"]["messageType"] == "registration"
    responses = [m["content"] for m in messages if m["content"]["messageType"] == "response"]
    assert [(r["method"], r["resourcePath"], r["status"]["code"]) for r in responses] == [
        ("read", "3", 200),
        ("write", "3442/0/110", 200),
        ("read", "3442/0/110", 200),
        ("exec", "3442/0/2", 200),
        ("write", "3442/0/110", 400),
        ("unobserve", "3303/0/5602", 404),
    ]
    assert responses[0]["data"]["3/0/0"] == "lwm2m-fleet"
    assert responses[2]["data"] == {"3442/0/110": "Hello"}
    info = records[-1]["deviceInfo"]
    assert info["deviceLabel"] == "dev1" and info["location"].startswith("geo:")


@pytest.mark.asyncio
async def test_pretty_output_is_multi_line_json(tmp_path: Path) -> None:
    out, err, code = await _run(tmp_path, ["WAIT dev1 10", "dev1 READ /3/0/0"])
    assert code == 0, err
    decoder = json.JSONDecoder()
    text, found = out.strip(), []
    while text:
        value, end = decoder.raw_decode(text)
        found.append(value)
        text = text[end:].strip()
    assert len(out.splitlines()) > len(found)  # indented, several lines each
    response = found[-1]
    assert response["content"]["data"] == {"3/0/0": "lwm2m-fleet"}
    assert response["labels"][0].startswith("outgoing_msgRN:")


def test_a_port_in_use_is_a_clean_error() -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as taken:
        taken.bind(("127.0.0.1", 0))
        port = taken.getsockname()[1]
        result = CliRunner().invoke(server, ["--port", str(port), "--exit-after-commands"])
    assert result.exit_code == 1
    assert "cannot serve" in result.output


@pytest.mark.asyncio
@pytest.mark.slow
@pytest.mark.skipif(dtls_available() is not None, reason=dtls_available() or "")
async def test_dtls_with_keys_from_a_file_and_from_the_environment(tmp_path: Path) -> None:
    keys = tmp_path / "keys.csv"
    keys.write_text("endpoint,identity,key\ndev1,dev1-id,hex:0a0b0c0d\n", encoding="utf-8")
    for psk, options, env in (
        (PskCredentials(b"dev1-id", b"\x0a\x0b\x0c\x0d"), ["--psk-keys", str(keys)], None),
        (
            PskCredentials(b"lab", b"secret-key"),
            [],
            {"FLEET_PSK_IDENTITY": "lab", "FLEET_PSK_KEY": "base64:c2VjcmV0LWtleQ=="},
        ),
    ):
        out, err, code = await _run(
            tmp_path,
            ["WAIT dev1 10", "dev1 READ /3/0/0"],
            "--json",
            "--dtls-port",
            "0",
            *options,
            psk=psk,
            env=env,
        )
        assert code == 0, err
        assert re.search(r"listening on coap://\S+ and coaps://127.0.0.1:\d+", err), err
        records = [json.loads(line) for line in out.splitlines()]
        assert records[0]["content"]["messageType"] == "registration"
        assert records[-1]["content"]["data"] == {"3/0/0": "lwm2m-fleet"}
        assert "0a0b0c0d" not in out + err and "c2VjcmV0" not in out + err
        assert "secret-key" not in out + err


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["--psk-identity", "lab"], "--psk-identity and --psk-key go together"),
        (["--psk-identity", "lab", "--psk-key", "hex:0"], "not valid hex"),
    ],
)
def test_bad_psk_options(arguments: list[str], message: str) -> None:
    result = CliRunner().invoke(server, [*arguments, "--exit-after-commands"])
    assert result.exit_code != 0 and message in result.output


def test_a_bad_keys_file_names_its_line(tmp_path: Path) -> None:
    keys = tmp_path / "keys.csv"
    keys.write_text("dev1,id,hex:0102\ndev2,id2\n", encoding="utf-8")
    result = CliRunner().invoke(server, ["--psk-keys", str(keys), "--exit-after-commands"])
    assert result.exit_code == 1 and f"{keys}:2: expected 3 columns" in result.output


def test_keys_from_a_scenario_and_a_single_value_together() -> None:
    scenario = Path(__file__).resolve().parents[2] / "scenarios" / "dtls-psk.yaml"
    lookup = psk_lookup((), load_server_scenario(scenario), "lab", "hex:0102")
    assert lookup is not None
    assert lookup(b"lab") == b"\x01\x02"
    assert lookup(b"sim-000003") == bytes.fromhex("00112233") + (3).to_bytes(12, "big")
    assert lookup(b"field-0012-id") == b"field-key-0012"  # from the scenario's keys file
    assert lookup(b"sim-000010") is None  # index 10 belongs to the keys-file group
    assert psk_lookup((), None, None, None) is None
