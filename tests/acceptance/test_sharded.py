"""End to end: one fleet in slices on 2 simulated machines of 2 worker processes each.

Every slice runs real devices against the embedded server; the machines'
summaries are merged by ``fleet merge``; the merged counts must be what the
server saw, and every device identity must appear exactly once.
"""

from __future__ import annotations

import asyncio
import json
import pathlib
from collections import Counter
from typing import Any

import pytest
from click.testing import CliRunner

from fleet.cli.merge import merge
from fleet.metrics import Operation, Summary
from fleet.runner.planning import machine_slice
from fleet.runner.worker import ScenarioSource
from fleet.runner.workers import WorkerPool
from fleet.scenario import load_scenario_text
from fleet.server import Lwm2mServer
from fleet.server.directory import Registration

pytestmark = [pytest.mark.asyncio, pytest.mark.slow]

DEVICES = 48
MACHINES = 2
WORKERS = 2


def scenario_text(uri: str) -> str:
    return f"""
version: 1
server: {uri}
seed: 11
duration: 2s
groups:
  - name: sensors
    count: {DEVICES}
    endpoint: "shard-{{index:04d}}"
    lifetime: 60s
    objects:
      3303: [0]
    generators:
      "/3303/0/5700": {{kind: random_walk, min: 18, max: 26, step: 0.5, every: 1s}}
phases:
  - {{duration: 1s, arrivalCount: {DEVICES}}}
thresholds:
  register_failed: ["rate==0"]
  deregister_failed: ["rate==0"]
"""


async def test_two_machines_of_two_workers_merge_to_what_the_server_saw(
    tmp_path: pathlib.Path,
) -> None:
    seen: list[tuple[str, str]] = []

    async def note(server: Any, registration: Registration) -> None:
        seen.append((registration.endpoint, registration.address[0]))

    async with await Lwm2mServer.start() as server:
        server.add_on_register(note)
        text = scenario_text(server.uri)
        scenario = load_scenario_text(text)
        pools = [
            WorkerPool(
                scenario,
                ScenarioSource(text),
                workers=WORKERS,
                indexes=machine_slice(DEVICES, machine, MACHINES),
                # the second machine spreads its devices over two loopback addresses
                addresses=("127.0.0.1", "127.0.0.2") if machine else (),
            )
            for machine in range(MACHINES)
        ]
        summaries = await asyncio.wait_for(asyncio.gather(*(p.run() for p in pools)), 90)
        counters = server.counters
        assert server.registrations() == []  # every device de-registered at the end

    files = []
    for machine, summary in enumerate(summaries):
        assert summary.devices == DEVICES // MACHINES and summary.shards == WORKERS
        path = tmp_path / f"summary-{machine}.json"
        path.write_text(summary.dumps(), encoding="utf-8")
        files.append(str(path))
    scenario_file = tmp_path / "scenario.yaml"
    scenario_file.write_text(text, encoding="utf-8")
    out = tmp_path / "merged.json"
    result = CliRunner().invoke(
        merge, [*files, "--scenario", str(scenario_file), "--summary-json", str(out), "--ascii"]
    )
    assert result.exit_code == 0, result.output
    merged = Summary.loads(out.read_text(encoding="utf-8"))

    names = Counter(endpoint for endpoint, _ in seen)
    assert names == Counter(f"shard-{i:04d}" for i in range(DEVICES))  # unique, none missing
    addresses = {address for endpoint, address in seen if int(endpoint[-4:]) >= DEVICES // 2}
    assert addresses == {"127.0.0.1", "127.0.0.2"}
    assert {address for endpoint, address in seen if int(endpoint[-4:]) < DEVICES // 2} == {
        "127.0.0.1"
    }

    register = merged.operations[Operation.REGISTER]
    deregister = merged.operations[Operation.DEREGISTER]
    assert register.count == counters.registrations == DEVICES and register.failures == 0
    assert deregister.count == counters.deregistrations == DEVICES
    assert merged.operations[Operation.UPDATE].count == counters.updates
    assert merged.devices == DEVICES and merged.shards == MACHINES * WORKERS
    assert merged.device_states == {"stopped": DEVICES}
    # exact merge: the histograms of the parts add up to the merged one, sample for sample
    parts = [s.operations[Operation.REGISTER].durations for s in summaries]
    assert register.durations.count == sum(p.count for p in parts) == DEVICES
    assert register.durations.buckets() == sorted(
        (Counter(dict(parts[0].buckets())) + Counter(dict(parts[1].buckets()))).items()
    )
    assert [t["status"] for t in json.loads(out.read_text())["thresholds"]] == ["passed"] * 2
