"""``fleet demo`` end to end, non-interactive: a small fleet registers, the example flows
print their received messages, every device de-registers, the summary says so."""

from __future__ import annotations

import json
import pathlib

from click.testing import CliRunner

from fleet.cli.demo import demo


def test_a_short_demo_runs_the_flows_and_deregisters_everyone() -> None:
    result = CliRunner().invoke(
        demo, ["--devices", "5", "--duration", "3", "--time-scale", "60", "--seed", "3"]
    )
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    messages = [json.loads(line) for line in lines if line.startswith("{")]
    seen = {(m["content"].get("method"), m["content"]["resourcePath"]) for m in messages}
    for expected in [
        ("read", "3"),
        ("read", "6"),
        ("write", "3442/0/110"),
        ("read", "3442/0/110"),
        ("exec", "3442/0/2"),
        ("read", "3442/0/160"),
        ("observe", "3303/0/5602"),
    ]:
        assert expected in seen
    assert all(m["content"]["status"]["code"] == 200 for m in messages if "status" in m["content"])
    readback = [
        m
        for m in messages
        if m["content"].get("method") == "read" and m["content"]["resourcePath"] == "3442/0/110"
    ]
    assert readback[0]["content"]["data"] == {"3442/0/110": "Hello"}
    assert any(line.startswith("[") and "devices:" in line for line in lines)
    assert "devices: 5 started, 5 registered, 5 de-registered" in lines
    assert any(
        line.startswith("received messages:") and "deregistration 5" in line for line in lines
    )


def test_a_bad_server_uri_is_refused() -> None:
    result = CliRunner().invoke(demo, ["--server", "http://nowhere", "--duration", "1"])
    assert result.exit_code == 2
    assert "Error: server URI 'http://nowhere': the scheme must be" in result.output


def test_bootstrap_needs_the_embedded_servers() -> None:
    result = CliRunner().invoke(
        demo, ["--bootstrap", "--server", "coap://127.0.0.1:5683", "--duration", "1"]
    )
    assert result.exit_code == 2 and "--bootstrap runs the embedded servers" in result.output


def test_a_scenario_is_refused_saying_where_its_bootstrap_section_is_served(
    tmp_path: pathlib.Path,
) -> None:
    # the demo has no scenario to honour: it says so instead of running without the section
    path = tmp_path / "s.yaml"
    path.write_text(
        "version: 1\nbootstrap:\n  endpoints:\n    '*': {servers: [{uri: 'coap://h:1'}]}\n"
        "groups: [{name: g, count: 1, endpoint: 'd-{index}', bootstrap: 'coap://h:2'}]\n",
        encoding="utf-8",
    )
    result = CliRunner().invoke(demo, ["--bootstrap", "--scenario", str(path), "--duration", "1"])
    assert result.exit_code == 2
    assert "fleet demo takes no scenario" in result.output
    assert "fleet server --bootstrap-port N --scenario FILE" in result.output
    assert "a scenario's bootstrap: section" in CliRunner().invoke(demo, ["--help"]).output
