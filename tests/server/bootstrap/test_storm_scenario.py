"""``scenarios/bootstrap-storm.yaml`` itself, run with 40 devices instead of 2,000.

The file is loaded as ``fleet run`` loads it, with the overrides a user has: the device
count (``FLEET_DEVICES``) and ``--set`` for the addresses (the embedded servers listen on
free ports here, not on 5683/5783/5784). Its top-level ``bootstrap:`` section is what the
Bootstrap-Server writes (as ``fleet server --bootstrap-port N --scenario FILE`` serves it):
the meters bootstrap over plain CoAP, the gauges over DTLS-PSK with their own bootstrap keys;
every device powers on at once, bootstraps, then registers at the LwM2M server.
"""

from __future__ import annotations

import asyncio

import pytest

from fleet.metrics import Operation
from fleet.runner.fleet import Fleet
from fleet.scenario import Setting, load_scenario
from fleet.server import Lwm2mServer
from tests.client.dtls.helpers import requires_dtls
from tests.scenario.conftest import SCENARIOS

pytestmark = [pytest.mark.asyncio, requires_dtls]
STORM = SCENARIOS / "bootstrap-storm.yaml"
DEVICES = 40
WAIT = 60.0


def _set(text: str) -> Setting:
    return Setting("set", text, "test")


async def test_the_storm_scenario_bootstraps_then_registers_every_device() -> None:
    async with await Lwm2mServer.start(request_timeout=10.0) as server:
        written = [
            _set(f"bootstrap.endpoints.{pattern}.servers.0.uri={server.uri}")
            for pattern in ("meter-*", "gauge-*")
        ]
        section = load_scenario(STORM, settings=written).bootstrap
        assert section is not None and section.secure  # the gauges' entry names keys
        bootstrap = await server.start_bootstrap(section)
        assert bootstrap.secure_uri is not None
        scenario = load_scenario(
            STORM,
            settings=[
                Setting("devices", str(DEVICES), "test"),
                Setting("server", server.uri, "test"),
                _set(f"groups.0.bootstrap={bootstrap.uri}"),
                _set(f"groups.1.bootstrap.uri={bootstrap.secure_uri}"),
            ],
        )
        assert [g.count for g in scenario.groups] == [DEVICES // 2, DEVICES // 2]
        names = [f"meter-{i:06d}" for i in range(20)] + [f"gauge-{i:06d}" for i in range(20, 40)]
        fleet = Fleet(scenario)
        stop = asyncio.Event()
        task = asyncio.ensure_future(fleet.run(stop))
        try:
            registrations = await asyncio.gather(
                *(server.wait_for_registration(name, WAIT) for name in names)
            )
            await bootstrap.wait_for_sessions()
        finally:
            stop.set()
            summary = await asyncio.wait_for(task, WAIT)
    assert all(r.lifetime == 600 for r in registrations)  # the section's account
    assert bootstrap.counters["finished"] == DEVICES and bootstrap.counters["rejected"] == 0
    assert sorted(bootstrap.finished) == sorted(names)
    # none refused: the gauges' entry names a bootstrap PSK, which the server requires over
    # DTLS with that identity (else 4.01), so each gauge came over DTLS-PSK
    row = summary.operations[Operation.BOOTSTRAP]
    assert (row.count, row.failures) == (DEVICES, 0)
    register = summary.operations[Operation.REGISTER]
    assert (register.count, register.failures) == (DEVICES, 0)
    assert len(summary.thresholds) == 3  # the file's bootstrap and register thresholds
    assert all(line.passed for line in summary.thresholds), summary.table()
