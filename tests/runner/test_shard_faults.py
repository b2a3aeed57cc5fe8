"""A fault scenario run end to end: the summary's injected faults against what the server saw."""

from __future__ import annotations

import asyncio

import pytest

from fleet.clock import ManualClock
from fleet.metrics import Operation, Summary
from fleet.runner.fleet import Fleet
from fleet.runner.shard import Shard
from fleet.scenario import Scenario, load_scenario_text
from fleet.server import EventKind, Lwm2mServer, ServerEvent

pytestmark = pytest.mark.asyncio

DEVICES = 16


def scenario(uri: str, seed: int = 11) -> Scenario:
    return load_scenario_text(
        f"""
version: 1
server: {uri}
seed: {seed}
duration: 40s
groups:
  - name: meters
    count: {DEVICES}
    endpoint: "f-{{index:03d}}"
    lifetime: 300
    objects: {{3442: [0]}}
faults:
  - {{action: reboot, fraction: 0.5, duration: 5s, window: {{start: 5s}}, spread: 2s}}
  - {{action: reregister, devices: ["0-3"], window: {{start: 25s}}}}
  - action: reject
    code: 4.05
    operations: [write]
    paths: ["/3442/0/*"]
    window: {{start: 15s, end: 20s}}
  - {{action: delay, delay: 2s, operations: [register], devices: [15]}}
"""
    )


async def run(seed: int) -> tuple[Summary, list[ServerEvent], int]:
    clock = ManualClock()
    async with await Lwm2mServer.start(clock=clock) as server:
        seen: list[ServerEvent] = []
        server.add_listener(seen.append)
        fleet = Fleet(scenario(server.uri, seed), clock=clock)
        task = asyncio.ensure_future(fleet.run())
        rejected = 0
        for step in range(400):
            await clock.advance(0.25)
            if step == 4 * 16:  # 16 s into the run: inside the reject window
                results = await asyncio.gather(
                    *(server.write(f"f-{i:03d}", "/3442/0/110", "x") for i in range(DEVICES))
                )
                rejected = sum(r.code == "4.05" for r in results)
            if task.done():
                break
        summary = await asyncio.wait_for(task, 10.0)
    return summary, seen, rejected


async def test_injected_faults_in_the_summary_match_what_the_server_saw() -> None:
    summary, seen, rejected = await run(11)
    deregistered = [e.endpoint for e in seen if e.kind is EventKind.DEREGISTRATION]
    registered = [e.endpoint for e in seen if e.kind is EventKind.REGISTRATION]
    rebooted = summary.faults.get("reboot", 0)
    assert 0 < rebooted < DEVICES
    late = registered.count("f-015")  # each of its Registers left 2 s late
    assert summary.faults == {
        "reboot": rebooted, "reregister": 4, "reject 4.05": DEVICES, "delay register": late,
    }  # fmt: skip
    assert rejected == DEVICES  # every write in the window was answered 4.05
    # the server saw each reboot leave (and the final stop of everybody) and come back
    assert len(deregistered) == rebooted + DEVICES
    assert len(registered) == DEVICES + rebooted + 4
    write = summary.operations[Operation.WRITE]
    assert (write.count, write.injected, write.failures) == (DEVICES, DEVICES, 0)
    data = Summary.from_json(summary.to_json())
    assert data.faults == summary.faults
    assert "faults (injected on purpose" in summary.table() and "reject 4.05" in summary.table()


def rebooted(seen: list[ServerEvent]) -> list[str]:
    """Endpoints that de-registered twice: a reboot, then the end of the run."""
    gone = [e.endpoint for e in seen if e.kind is EventKind.DEREGISTRATION]
    return sorted({name for name in gone if gone.count(name) == 2})


async def test_the_same_seed_injects_the_same_faults() -> None:
    first, seen, _ = await run(11)
    again, seen_again, _ = await run(11)
    assert first.faults == again.faults
    assert rebooted(seen) == rebooted(seen_again)
    assert len(rebooted(seen)) == first.faults["reboot"]
    others = [rebooted((await run(seed))[1]) for seed in (12, 13)]
    assert any(other != rebooted(seen) for other in others)


async def test_two_shards_inject_what_one_shard_injects() -> None:
    """The same devices get the same faults at the same moments whatever the shard layout."""

    async def layout(parts: list[range]) -> list[tuple[str, float]]:
        clock = ManualClock()
        async with await Lwm2mServer.start(clock=clock) as server:
            seen: list[ServerEvent] = []
            server.add_listener(seen.append)
            scene = scenario(server.uri)
            shards = [Shard(scene, clock=clock, indexes=part) for part in parts]
            start = clock.wall()
            for shard in shards:
                shard.start()
            await clock.advance(20.0)
            end = clock.wall()
            for shard in shards:
                stopping = asyncio.ensure_future(shard.stop())
                await clock.advance(0.5)
                await stopping
        gone = [e for e in seen if e.kind is EventKind.DEREGISTRATION and e.time < end]
        return sorted((e.endpoint, round(e.time - start, 3)) for e in gone)

    whole = await layout([range(DEVICES)])
    split = await layout([range(0, 5), range(5, DEVICES)])
    assert whole == split
    assert 0 < len(whole) < DEVICES and all(5.0 <= t < 7.5 for _, t in whole)  # the wave
