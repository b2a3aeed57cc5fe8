"""``fleet server --bootstrap-port`` with server-side faults from the scenario's ``bootstrap:``
section and from ``--bootstrap-fault``: they fire, and the closing report (stderr and
``--bootstrap-summary-json``) counts what the Bootstrap-Server did and the faults injected."""

from __future__ import annotations

import asyncio
import json
import re
import sys
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from fleet.cli.bootstrap_options import bootstrap_from_options
from fleet.cli.server import server
from fleet.client.bootstrap.driver import BootstrapState
from fleet.client.bootstrap.server_faults import BootstrapFault
from fleet.client.config import DeviceConfig
from fleet.client.device import Device
from fleet.client.events import BootstrapFailed
from fleet.server import Lwm2mServer

RUN = [sys.executable, "-c", "from fleet.cli.server import server; server()"]
WAIT = 20.0

pytestmark = pytest.mark.asyncio

SCENARIO = """\
version: 1
bootstrap:
  endpoints:
    "*":
      servers: [{uri: "SERVER", short_server_id: 4, lifetime: 222}]
  faults:
    - {kind: unauthorized, endpoints: "bad-*"}
  seed: 3
groups:
  - {name: g, count: 1, endpoint: "good-{index}", bootstrap: "coap://127.0.0.1:5783"}
"""


def failed_once(device: Device) -> asyncio.Future[Any]:
    future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
    device.add_listener(
        lambda e: isinstance(e, BootstrapFailed) and not future.done() and future.set_result(e)
    )
    return future


async def test_scenario_and_option_faults_fire_and_are_counted(tmp_path: Path) -> None:
    async with await Lwm2mServer.start() as elsewhere:
        scenario = tmp_path / "s.yaml"
        scenario.write_text(SCENARIO.replace("SERVER", elsewhere.uri), encoding="utf-8")
        summary = tmp_path / "bs-summary.json"
        process = await asyncio.create_subprocess_exec(
            *RUN,
            *("--port", "0", "--bootstrap-port", "0", "--scenario", str(scenario)),
            *("--bootstrap-fault", "fail-finish,endpoints=nofin-*"),
            *("--bootstrap-summary-json", str(summary), "--json"),
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        assert process.stderr is not None and process.stdout is not None
        devices: list[Device] = []
        try:
            first = (await asyncio.wait_for(process.stderr.readline(), WAIT)).decode()
            second = (await asyncio.wait_for(process.stderr.readline(), WAIT)).decode()
            found = re.search(r"bootstrap server listening on (coap://\S+)", second)
            assert found, first + second
            uri = found.group(1)
            devices += [Device(DeviceConfig(n, bootstrap=uri)) for n in ("bad-0", "nofin-0")]
            bad, nofin = devices
            refused = failed_once(bad)
            await asyncio.gather(*(d.start() for d in devices))
            event = await asyncio.wait_for(refused, WAIT)
            assert event.reason == "answered 4.01"
            good = Device(DeviceConfig("good-0", bootstrap=uri))
            devices.append(good)
            await good.start()
            registration = await elsewhere.wait_for_registration("good-0", WAIT)
            assert registration.lifetime == 222  # the section's account
            seen: list[tuple[str, str, str | None]] = []
            wanted = {("good-0", "bootstrap-finish", "2.04"), ("nofin-0", "bootstrap-finish", None)}
            while not wanted <= set(seen):  # the console's lines, as the server reports them
                line = await asyncio.wait_for(process.stdout.readline(), WAIT)
                assert line, "the server ended early"
                content = json.loads(line).get("content")
                if content is not None:
                    seen.append(
                        (content["nodeResourceName"], content["messageType"], content.get("code"))
                    )
            assert ("bad-0", "bootstrap-request", "4.01") in seen
            # every step but Finish reached nofin-0: it holds the account and waits for Finish
            assert nofin.tree.instances(1) == [0]
            assert nofin.bootstrap is not None
            assert nofin.bootstrap.state is BootstrapState.WAITING
        finally:
            process.terminate()
            _, err = await asyncio.wait_for(process.communicate(), WAIT)
            await asyncio.gather(*(d.stop(deregister=False) for d in devices))
        assert await process.wait() == 130, err.decode()  # SIGTERM, as every fleet command
    text = err.decode()
    assert "fleet bootstrap server: 3 requests, 2 accepted, 1 rejected, 1 finished, 1 failed" in (
        text
    )
    assert "faults (injected on purpose): 2: unauthorized 1, fail-finish 1" in text
    document = json.loads(summary.read_text(encoding="utf-8"))
    assert document == {
        "bootstrap_server": {
            "requests": 3,
            "accepted": 2,
            "rejected": 1,
            "finished": 1,
            "failed": 1,
            "faults": {"unauthorized": 1, "fail-finish": 1},
        }
    }


@pytest.mark.parametrize(
    ("fault", "message"),
    [
        ("rude", "'rude' is not one of unauthorized"),
        ("slow", "a slow bootstrap server needs seconds > 0"),
        ("unauthorized,probability=often", "probability must be a number, got 'often'"),
        ("unauthorized,endpoints", "'endpoints' is not name=value"),
        ("unauthorized,colour=red", "unknown key 'colour'"),
    ],
)
async def test_bad_fault_options_are_refused(fault: str, message: str) -> None:
    result = CliRunner().invoke(server, ["--bootstrap-port", "0", "--bootstrap-fault", fault])
    assert result.exit_code == 2 and message in result.output, result.output
    assert "--bootstrap-fault" in result.output


async def test_a_fault_without_a_bootstrap_port_is_refused() -> None:
    result = CliRunner().invoke(server, ["--bootstrap-fault", "unauthorized"])
    assert result.exit_code == 2 and "need --bootstrap-port" in result.output


async def test_option_faults_follow_the_files_and_the_seed_option_wins(tmp_path: Path) -> None:
    config = tmp_path / "bs.yaml"
    config.write_text(
        "endpoints:\n  '*': {servers: [{uri: 'coap://127.0.0.1:9'}]}\n"
        "faults: [{kind: no-config, endpoints: 'x-*'}]\nseed: 5\n",
        encoding="utf-8",
    )
    options = bootstrap_from_options(
        0, config, 0, None, None, None, ("slow,seconds=1.5,probability=0.25",), None
    )
    assert options is not None
    configs = options.configs("coap://127.0.0.1:5683")
    assert configs.faults == (
        BootstrapFault("no-config", "x-*"),
        BootstrapFault("slow", "*", 0.25, 1.5),
    )
    assert configs.seed == 5
    seeded = bootstrap_from_options(0, config, 0, None, None, None, (), 9)
    assert seeded is not None and seeded.configs("coap://127.0.0.1:5683").seed == 9
