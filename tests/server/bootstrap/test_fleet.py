"""A scenario whose groups bootstrap, run by the fleet: the ``bootstrap`` row of the summary,
its Prometheus series and thresholds (scenario ``bootstrap:``, LwM2M 1.1 Core 6.1)."""

from __future__ import annotations

import asyncio

import pytest
from prometheus_client import CollectorRegistry, generate_latest

from fleet.client.bootstrap.configs import single
from fleet.clock import ManualClock
from fleet.metrics import Operation, RunMetrics
from fleet.metrics.prometheus import FleetCollector
from fleet.runner.configs import device_config
from fleet.runner.fleet import Fleet
from fleet.scenario import load_scenario_text
from fleet.server import Lwm2mServer
from fleet.server.bootstrap import ServerAccountSpec
from fleet.server.bootstrap.faults import BootstrapFault, BootstrapFaults

pytestmark = pytest.mark.asyncio
DEVICES = 12


def text(bootstrap_uri: str) -> str:
    return f"""
version: 1
server: coap://127.0.0.1:9
seed: 3
duration: 20s
groups:
  - name: meters
    count: {DEVICES}
    endpoint: "m-{{index:03d}}"
    bootstrap: {{uri: "{bootstrap_uri}", timeout: 30s}}
thresholds:
  bootstrap_failed: ["rate<0.1"]
  bootstrap_duration: ["max<1m"]
"""


async def test_a_bootstrapping_fleet_reports_a_bootstrap_row() -> None:
    clock = ManualClock()
    async with await Lwm2mServer.start(clock=clock) as server:
        faults = BootstrapFaults((BootstrapFault("unauthorized", "m-00[0-2]"),), seed=1)
        bootstrap = await server.start_bootstrap(faults=faults)
        scenario = load_scenario_text(text(bootstrap.uri))
        config = device_config(scenario, 0)
        assert config.bootstrap == bootstrap.uri and config.bootstrap_timeout == 30.0
        fleet = Fleet(scenario, clock=clock)
        task = asyncio.ensure_future(fleet.run())
        for _ in range(200):
            await clock.advance(0.25)
            if task.done():
                break
        summary = await asyncio.wait_for(task, 10.0)
    row = summary.operations[Operation.BOOTSTRAP]
    # three devices are refused (4.01) once each, retried 60 s later: after the run
    assert row.count == DEVICES and row.failures == 3
    assert summary.operations[Operation.REGISTER].count == DEVICES - 3
    assert row.failure_reasons == {"4.01 Unauthorized": 3}
    assert faults.fired() == {"unauthorized": 3}
    verdicts = {t.metric: t.passed for t in summary.thresholds}
    # 3 refusals of 12 attempts: a rate of 0.25 fails "rate<0.1"
    assert verdicts == {"bootstrap_failed": False, "bootstrap_duration": True}
    failed = next(t for t in summary.thresholds if t.metric == "bootstrap_failed")
    assert failed.observed == 0.25


async def test_bootstrap_series_for_prometheus() -> None:
    metrics = RunMetrics()
    metrics.record(Operation.BOOTSTRAP, 0.02, ok=True)
    metrics.record(Operation.BOOTSTRAP, 0.5, ok=False, reason="timeout")
    registry = CollectorRegistry()
    registry.register(FleetCollector(lambda: metrics))
    exposed = generate_latest(registry).decode()
    assert 'lwm2m_fleet_bootstrap_total{result="ok"} 1.0' in exposed
    assert 'lwm2m_fleet_bootstrap_total{result="failed"} 1.0' in exposed
    assert "lwm2m_fleet_bootstrap_duration_seconds_count 2.0" in exposed
    assert 'lwm2m_fleet_operations_total{operation="bootstrap",result="ok"} 1.0' in exposed


async def test_a_scenario_fault_rejects_bootstrap_requests_counted_as_injected() -> None:
    clock = ManualClock()
    async with await Lwm2mServer.start(clock=clock) as server:
        bootstrap = await server.start_bootstrap()
        scenario = load_scenario_text(
            text(bootstrap.uri)
            + """faults:
  - {action: reject, code: "5.03", operations: [bootstrap], devices: ["0-3"]}
"""
        )
        fleet = Fleet(scenario, clock=clock)
        task = asyncio.ensure_future(fleet.run())
        for _ in range(200):
            await clock.advance(0.25)
            if task.done():
                break
        summary = await asyncio.wait_for(task, 10.0)
    row = summary.operations[Operation.BOOTSTRAP]
    # four devices' requests are answered 5.03 by the fault, never reaching the server
    assert row.injected == 4 and row.failures == 0 and row.count == DEVICES
    assert bootstrap.counters["requests"] == DEVICES - 4
    assert summary.operations[Operation.REGISTER].count == DEVICES - 4


async def test_forget_on_reboot_reaches_the_device_config() -> None:
    scenario = load_scenario_text(
        text("coap://127.0.0.1:5783").replace("timeout: 30s", "forget_on_reboot: true")
    )
    assert device_config(scenario, 0).bootstrap_forget is True
    assert (
        device_config(load_scenario_text(text("coap://127.0.0.1:5783")), 0).bootstrap_forget
        is False
    )


async def test_devices_that_ignore_finish_are_counted_as_injected() -> None:
    clock = ManualClock()
    async with await Lwm2mServer.start(clock=clock) as server:
        bootstrap = await server.start_bootstrap()
        scenario = load_scenario_text(
            text(bootstrap.uri).replace("timeout: 30s", "timeout: 5s")
            + """faults:
  - {action: drop, operations: [bootstrap-finish], devices: ["0-3"]}
"""
        )
        fleet = Fleet(scenario, clock=clock)
        task = asyncio.ensure_future(fleet.run())
        for _ in range(200):
            await clock.advance(0.25)
            if task.done():
                break
        summary = await asyncio.wait_for(task, 10.0)
    row = summary.operations[Operation.BOOTSTRAP]
    # four devices never answer (nor act on) the Finish: their 5 s wait runs out, injected
    assert row.injected == 4 and row.failures == 0 and row.count == DEVICES
    assert summary.faults == {"drop bootstrap-finish": 4}
    assert summary.operations[Operation.REGISTER].count == DEVICES - 4
    assert bootstrap.counters["requests"] == DEVICES
    assert bootstrap.finished.keys() == {f"m-{i:03d}" for i in range(4, DEVICES)}


async def test_a_register_per_server_account_in_the_summary() -> None:
    clock = ManualClock()
    async with (
        await Lwm2mServer.start(clock=clock) as a,
        await Lwm2mServer.start(clock=clock) as b,
    ):
        specs = [
            ServerAccountSpec(a.uri, short_server_id=1, lifetime=300),
            ServerAccountSpec(b.uri, short_server_id=2, lifetime=600),
        ]
        bootstrap = await a.start_bootstrap(single(specs))
        fleet = Fleet(load_scenario_text(text(bootstrap.uri)), clock=clock)
        task = asyncio.ensure_future(fleet.run())
        for _ in range(200):
            await clock.advance(0.25)
            if task.done():
                break
        summary = await asyncio.wait_for(task, 10.0)
        assert a.registrations() == [] and b.registrations() == []
    # one bootstrap per device, one Register (and De-register) per device and server
    assert summary.operations[Operation.BOOTSTRAP].count == DEVICES
    assert summary.operations[Operation.REGISTER].count == 2 * DEVICES
    assert summary.operations[Operation.REGISTER].failures == 0
    assert summary.operations[Operation.DEREGISTER].count == 2 * DEVICES
