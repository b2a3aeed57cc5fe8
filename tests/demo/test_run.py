"""``run_demo`` in process: stopping it (what Ctrl-C does) de-registers every device."""

from __future__ import annotations

import asyncio

import pytest
from click.testing import CliRunner

from fleet.cli import main
from fleet.demo import DemoOptions, run_demo
from fleet.server.platform.rules import parse_rule


@pytest.mark.asyncio
async def test_stop_ends_the_demo_and_every_device_deregisters() -> None:
    stop = asyncio.Event()
    written: list[str] = []

    def write(text: str) -> None:
        written.append(text)
        if '"method":"observe"' in text:  # the last flow answered: "press Ctrl-C"
            stop.set()

    options = DemoOptions(devices=3, duration=None, refresh=0.1, seed=5)
    state = await asyncio.wait_for(run_demo(options, write, stop), 20)
    assert state.registered_ever == state.deregistered == {"demo-001", "demo-002", "demo-003"}
    assert set(state.devices.values()) == {"stopped"}
    assert state.counts["registration"] == 3 and state.counts["deregistration"] == 3
    assert state.counts["response"] == 7
    assert len(state.temperatures) == 3
    assert any(line.startswith("[") for line in written)


@pytest.mark.asyncio
async def test_web_serves_the_api_over_the_demo_fleet(monkeypatch: pytest.MonkeyPatch) -> None:
    import aiohttp

    from fleet.server.http.launch import HttpOptions

    opened: list[str] = []
    monkeypatch.setattr("fleet.demo.run.webbrowser.open", opened.append)
    stop = asyncio.Event()
    flowed = asyncio.Event()
    seen: dict[str, object] = {}

    def write(text: str) -> None:
        if '"method":"exec"' in text:  # the flows of the second device ran: both registered
            flowed.set()

    async def probe() -> None:
        await flowed.wait()
        url = opened[0]
        async with aiohttp.ClientSession() as session:
            async with session.get(url + "fleet/api/devices") as reply:
                seen["rows"] = (await reply.json())["devices"]
            api = url + "device-management-orchestrator/v3/default"
            async with session.get(api + "/demo-001?ty=13&rcn=8") as reply:
                seen["info"] = (await reply.json())["node"]["deviceInfo"][0]
        stop.set()

    options = DemoOptions(devices=2, refresh=0.1, seed=5, web=HttpOptions(0), open_browser=True)
    task = asyncio.ensure_future(probe())
    state = await asyncio.wait_for(run_demo(options, write, stop), 30)
    await task
    assert opened[0].startswith("http://127.0.0.1:") and opened[0].endswith("/")
    assert f"web console {opened[0]}" in state.server
    rows = seen["rows"]
    assert isinstance(rows, list) and [r["state"] for r in rows] == ["registered"] * 2
    assert all(r["faults"]["device"] == "registered" for r in rows)
    info = seen["info"]
    assert isinstance(info, dict) and info["manufacturer"] == "lwm2m-fleet demo"
    assert info["location"].startswith("geo:52.")


@pytest.mark.asyncio
async def test_the_demo_fleet_bootstraps_first() -> None:
    stop = asyncio.Event()

    def write(text: str) -> None:
        if '"method":"observe"' in text:
            stop.set()

    options = DemoOptions(devices=3, refresh=0.1, seed=5, bootstrap=True, lifetime=120)
    state = await asyncio.wait_for(run_demo(options, write, stop), 20)
    assert state.counts["bootstrap-request"] == 3 and state.counts["bootstrap-finish"] == 3
    assert state.registered_ever == {"demo-001", "demo-002", "demo-003"}
    assert state.counts["response"] == 7  # the flows ran against the bootstrapped devices
    assert "bootstrap coap://" in state.server


@pytest.mark.asyncio
async def test_on_register_rules_run_against_every_demo_device() -> None:
    stop = asyncio.Event()
    answered: set[str] = set()

    def write(text: str) -> None:
        if '"resourcePath":"3/0/17"' in text:  # the rule's read (no flow reads /3/0/17)
            answered.add(text.split('"nodeResourceName":"')[1].split('"')[0])
            if len(answered) == 3:
                stop.set()

    rule = parse_rule("READ /3/0/17")
    options = DemoOptions(devices=3, refresh=0.1, seed=5, on_register=(rule,))
    await asyncio.wait_for(run_demo(options, write, stop), 20)
    assert answered == {"demo-001", "demo-002", "demo-003"}


def test_demo_refuses_a_bad_rule_and_rules_for_another_server() -> None:
    bad = CliRunner().invoke(main, ["demo", "--on-register", "demo-001 READ /3"])
    assert bad.exit_code == 2 and "--on-register: rule 'demo-001 READ /3'" in bad.output
    other = ["demo", "--server", "coap://127.0.0.1:5683", "--on-register", "READ /3"]
    elsewhere = CliRunner().invoke(main, other)
    assert elsewhere.exit_code == 2 and "not with --server" in elsewhere.output
