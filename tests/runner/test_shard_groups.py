"""Per-group counts: a scenario of several device groups counts each group apart, exactly."""

from __future__ import annotations

import pytest

from fleet.clock import ManualClock
from fleet.metrics import Operation, Summary
from fleet.scenario import load_scenario_text

from .test_shard import shard_of

pytestmark = pytest.mark.asyncio

TWO_GROUPS = """
version: 1
server: coap://127.0.0.1:5683
seed: 5
duration: 100s
groups:
  - name: meters
    count: 3
    endpoint: "m{index}"
  - name: sensors
    count: 5
    endpoint: "s{index}"
"""


async def test_each_group_counts_its_own_devices_and_the_groups_add_up() -> None:
    clock = ManualClock()
    shard, _ = shard_of(load_scenario_text(TWO_GROUPS), clock)
    shard.start()
    await clock.advance(5)
    await shard.stop()
    metrics = shard.metrics
    assert set(metrics.groups) == {"meters", "sensors"}
    for op in (Operation.REGISTER, Operation.DEREGISTER):
        assert [metrics.groups[g].stats(op).count for g in ("meters", "sensors")] == [3, 5]
        assert metrics.stats(op).count == 8
    summary = Summary.from_metrics(metrics, duration=5.0)
    again = Summary.loads(summary.dumps())
    assert again.groups["sensors"][Operation.REGISTER].count == 5
    merged = Summary.merge_all([again, again])
    assert merged.groups["meters"][Operation.DEREGISTER].count == 6
    lines = summary.table().splitlines()
    start = lines.index("per group")
    rows = [line.split()[:3] for line in lines[start + 2 : start + 6]]
    assert rows == [
        ["meters", "register", "3"],
        ["meters", "deregister", "3"],
        ["sensors", "register", "5"],
        ["sensors", "deregister", "5"],
    ]


async def test_one_group_has_no_group_rows() -> None:
    one = TWO_GROUPS.split("  - name: sensors")[0]
    clock = ManualClock()
    shard, _ = shard_of(load_scenario_text(one), clock)
    shard.start()
    await clock.advance(5)
    assert shard.metrics.groups == {} and shard.group_bridges == {}
    summary = Summary.from_metrics(shard.metrics, duration=5.0)
    assert "per group" not in summary.table()
    assert summary.to_json()["groups"] == {}
