"""bench/bench_plan.py's cost model: each resource's demand, the one that binds, the ramp time."""

from __future__ import annotations

import importlib.util
import math
import pathlib
import sys
from types import ModuleType

import pytest

SCRIPT = pathlib.Path(__file__).resolve().parents[2] / "bench" / "bench_plan.py"


@pytest.fixture(scope="module")
def bp() -> ModuleType:
    spec = importlib.util.spec_from_file_location("bench_plan", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["bench_plan"] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


def test_cpu_binds_when_notifications_are_dear(bp: ModuleType) -> None:
    costs = bp.Costs(1e-3, 1e-3, 1e-3, 1024)
    machine = bp.Machine(2, 2**34, cpu_share=0.8, addresses=100)
    # 192,000 devices notifying every 60 s: 3,200/s x 1 ms = 3.2 cores; 1.6 usable per machine
    result = bp.plan(costs, machine, bp.Load(192_000, math.inf, 60, ramp_rate=1_000))
    assert result.steady_cpu == pytest.approx(3.2)
    assert result.machines_by["cpu (steady)"] == 2
    assert result.ramp_cpu == pytest.approx(4.2)  # + 1,000 registrations/s x 1 ms
    assert result.machines_by["cpu (ramp)"] == 3
    assert (result.machines, result.binding) == (3, "cpu (ramp)")
    # 3 x 1.6 = 4.8 cores, 3.2 busy notifying: 1.6 left = 1,600/s, but only 1,000/s offered
    assert result.ramp_seconds == pytest.approx(192.0)
    assert result.devices_per_machine == 64_000


def test_ports_bind_with_one_source_address(bp: ModuleType) -> None:
    result = bp.plan(
        bp.Costs(1e-6, 1e-6, 1e-6, 1024),
        bp.Machine(2, 2**34, addresses=1, ports=25_000),
        bp.Load(100_001, 86_400, 0, ramp_rate=5_000),
    )
    assert result.machines_by["ports"] == 5  # 100,001 sockets / 25,000 per machine
    assert (result.machines, result.binding) == (5, "ports")
    # a day's lifetime: the devices update a tenth of it early, every 77,760 s
    assert result.steady_cpu == pytest.approx(100_001 / 77_760 * 1e-6)


def test_devices_update_their_margin_before_the_lifetime_ends(bp: ModuleType) -> None:
    # lifetime 60 s: the margin is half of it (MAX_TRANSMIT_WAIT is longer), so an Update
    # every 30 s: 20,000 devices send 667 Updates/s (a 2-shard fleet run measured 80,000
    # Updates in its 130 s after the ramp, docs/scale.md)
    result = bp.plan(
        bp.Costs(1e-3, 1e-4, 1e-3, 1024),
        bp.Machine(1, 2**34, cpu_share=1.0, addresses=1),
        bp.Load(20_000, 60, 0, ramp_rate=1_000),
    )
    assert result.steady_cpu == pytest.approx(20_000 / 30 * 1e-4)


def test_memory_binds_for_heavy_devices(bp: ModuleType) -> None:
    # 1,000,000 x 20 KiB = 19.07 GiB > 80 % of 23 GiB = 18.4 GiB
    result = bp.plan(
        bp.Costs(1e-6, 1e-6, 1e-6, 20 * 1024),
        bp.Machine(2, 23 * 2**30, addresses=1_000),
        bp.Load(1_000_000, 86_400, 0, ramp_rate=1),
    )
    assert result.memory_bytes == pytest.approx(20 * 2**30 * 1_000_000 / 2**20)
    assert result.machines_by["memory"] == 2
    assert result.binding == "memory"


def test_whole_numbers_of_machines_are_not_rounded_up(bp: ModuleType) -> None:
    # 168,000 / 60 x 1 ms = 2.8 cores over 1.4 per machine: 2.0000000000000004 in floats
    result = bp.plan(
        bp.Costs(1e-3, 1e-3, 1e-3, 1024),
        bp.Machine(2, 2**34, cpu_share=0.7, addresses=100),
        bp.Load(168_000, math.inf, 60, ramp_rate=0),
    )
    assert result.machines_by["cpu (steady)"] == 2


def test_a_ramp_rate_of_zero_never_registers(bp: ModuleType) -> None:
    result = bp.plan(
        bp.Costs(1e-3, 1e-3, 1e-3, 1024),
        bp.Machine(1, 2**34, cpu_share=1.0, addresses=100),
        bp.Load(60_000, math.inf, 60, ramp_rate=0),  # exactly one core notifying
    )
    assert result.machines == 1 and result.ramp_seconds == math.inf
