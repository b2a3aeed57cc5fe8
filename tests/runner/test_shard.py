"""The shard's scheduler under a ManualClock with fake devices: arrivals, generators, churn."""

from __future__ import annotations

import asyncio
import random

import pytest

from fleet.client.config import DeviceConfig
from fleet.client.events import ClientEvent, ClientListener, Deregistered, Registered
from fleet.client.registration import RegistrationState
from fleet.clock import Clock, ManualClock
from fleet.metrics import Operation, RunMetrics
from fleet.model.path import Path
from fleet.runner.devices import DeviceLike
from fleet.runner.planning import plan_arrivals
from fleet.runner.shard import Shard
from fleet.scenario import Scenario, load_scenario_text

pytestmark = pytest.mark.asyncio


class FakeDevice:
    """Registers at once on start, de-registers at once on stop; records everything."""

    def __init__(self, config: DeviceConfig, clock: Clock, log: list[tuple[float, str, str]]):
        self.config = config
        self.clock = clock
        self.log = log
        self.values: dict[Path, object] = {}
        self._state = RegistrationState.STOPPED
        self._listeners: list[ClientListener] = []

    @property
    def name(self) -> str:
        return self.config.endpoint

    @property
    def state(self) -> RegistrationState:
        return self._state

    def set_value(self, path: Path, value: object) -> None:
        self.values[path] = value

    def add_listener(self, listener: ClientListener) -> None:
        self._listeners.append(listener)

    def _emit(self, event: ClientEvent) -> None:
        for listener in self._listeners:
            listener(event)

    async def start(self) -> None:
        self.log.append((self.clock.now(), "start", self.name))
        self._state = RegistrationState.REGISTERED
        self._emit(Registered(self.name, self.clock.now(), "/rd/x", self.config.lifetime))

    async def stop(self, *, deregister: bool = True) -> None:
        self.log.append((self.clock.now(), "stop", self.name))
        self._state = RegistrationState.STOPPED
        self._emit(Deregistered(self.name, self.clock.now(), "/rd/x", True, "stopped"))


def make_scenario(extra: str, count: int = 10) -> Scenario:
    return load_scenario_text(
        f"""
version: 1
server: coap://127.0.0.1:5683
seed: 5
duration: 100s
groups:
  - count: {count}
    endpoint: "d{{index}}"
    lifetime: 60s
    objects:
      3303: [0]
    generators:
      "/3303/0/5700": {{kind: random_walk, min: 0, max: 100, step: 1, every: 2s}}
{extra}
"""
    )


def shard_of(scenario: Scenario, clock: ManualClock) -> tuple[Shard, list[tuple[float, str, str]]]:
    log: list[tuple[float, str, str]] = []

    def factory(config: DeviceConfig, clk: Clock, rng: random.Random) -> DeviceLike:
        return FakeDevice(config, clk, log)

    return Shard(scenario, clock=clock, factory=factory), log


async def test_devices_arrive_at_their_planned_times() -> None:
    scenario = make_scenario("phases:\n  - {duration: 10s, arrivalCount: 10}")
    clock = ManualClock(start=100.0)
    shard, log = shard_of(scenario, clock)
    shard.start()
    await clock.advance(20)
    plan = plan_arrivals(scenario.phases, 10, 100.0)
    expected = [(100.0 + t, "start", f"d{i}") for i, t in plan.arrivals()]
    assert [entry for entry in log if entry[1] == "start"] == expected
    assert [t for t, _, _ in expected] == [100.0 + k for k in range(1, 11)]
    assert shard.metrics.operations[Operation.REGISTER].count == 10
    assert shard.metrics.late_operations == 0
    assert shard.states()["registered"] == 10


async def test_nobody_arrives_before_the_time() -> None:
    scenario = make_scenario("phases:\n  - {pause: 5s}\n  - {duration: 5s, arrivalCount: 5}", 5)
    clock = ManualClock()
    shard, log = shard_of(scenario, clock)
    shard.start()
    await clock.advance(4.9)
    assert log == [] and shard.states()["waiting"] == 5
    await clock.advance(1.0)  # the first of 5 over 5 s arrives 1 s into the phase
    assert log == []
    await clock.advance(0.2)
    assert [(t, name) for t, _, name in log] == [(6.0, "d0")]


async def test_generators_are_applied_to_the_trees() -> None:
    scenario = make_scenario("", 3)
    clock = ManualClock()
    shard, _ = shard_of(scenario, clock)
    shard.start()
    await clock.advance(0)
    path = Path.parse("/3303/0/5700")
    devices = [shard.devices[i] for i in range(3)]
    assert all(isinstance(d, FakeDevice) and path in d.values for d in devices)
    first = [d.values[path] for d in devices if isinstance(d, FakeDevice)]
    await clock.advance(20)
    later = [d.values[path] for d in devices if isinstance(d, FakeDevice)]
    assert first != later and shard.applied > 0
    # same seed, same values: a second run replays identically
    clock2 = ManualClock()
    again, _ = shard_of(scenario, clock2)
    again.start()
    await clock2.advance(20)
    assert [d.values[path] for d in again.devices.values() if isinstance(d, FakeDevice)] == later


async def test_churn_deregisters_and_registers_again() -> None:
    churn = "churn:\n  deregister_rate: 1\n  away: 5s\n  start: 10s"
    scenario = make_scenario(churn, 10)
    clock = ManualClock()
    shard, log = shard_of(scenario, clock)
    shard.start()
    await clock.advance(9.9)
    assert [kind for _, kind, _ in log] == ["start"] * 10
    await clock.advance(50)
    stops = [(t, name) for t, kind, name in log if kind == "stop"]
    assert stops and all(t >= 10 for t, _ in stops)
    for t, name in stops:  # everyone who left came back 5 s later (unless the run ended)
        if t + 5 <= clock.now():
            assert (t + 5, "start", name) in log
    metrics = shard.metrics
    assert metrics.operations[Operation.DEREGISTER].count == len(stops)
    assert metrics.operations[Operation.REGISTER].count == 10 + sum(
        1 for t, _ in stops if t + 5 <= clock.now()
    )
    await shard.stop()
    assert all(d.state is RegistrationState.STOPPED for d in shard.devices.values())


async def test_a_saturated_process_counts_late_starts() -> None:
    scenario = make_scenario("phases:\n  - {duration: 10s, arrivalCount: 10}")
    clock = ManualClock()
    metrics = RunMetrics(late_after=1.0)
    shard, log = shard_of(scenario, clock)
    shard.metrics = metrics
    shard.bridge.metrics = metrics
    shard.start()
    clock.advance_sync(0)
    clock._now = 5.5  # the loop was blocked: the timers fire late
    await clock.advance(0)
    assert metrics.operations[Operation.REGISTER].late == 4  # due at 1..5, started at 5.5
    assert len([e for e in log if e[1] == "start"]) == 5


async def test_stop_deregisters_every_present_device() -> None:
    scenario = make_scenario("phases:\n  - {duration: 10s, arrivalCount: 10}")
    clock = ManualClock()
    shard, log = shard_of(scenario, clock)
    shard.start()
    await clock.advance(4.5)
    await shard.stop()
    assert sorted(name for _, kind, name in log if kind == "stop") == [f"d{i}" for i in range(4)]
    await clock.advance(10)
    assert len([e for e in log if e[1] == "start"]) == 4  # nobody arrives after the stop


class SilentServerDevice(FakeDevice):
    """Starts registering and never hears back (a server that does not answer)."""

    async def start(self) -> None:
        self.log.append((self.clock.now(), "start", self.name))
        self._state = RegistrationState.REGISTERING


async def test_registers_unanswered_at_the_end_count_as_failures() -> None:
    scenario = make_scenario("phases:\n  - {duration: 10s, arrivalCount: 10}")
    clock = ManualClock()
    log: list[tuple[float, str, str]] = []
    metrics = RunMetrics()

    def factory(config: DeviceConfig, clk: Clock, rng: random.Random) -> DeviceLike:
        return SilentServerDevice(config, clk, log)

    shard = Shard(scenario, clock=clock, factory=factory, metrics=metrics, drain=1.0)
    shard.start()
    await clock.advance(4.5)
    stopping = asyncio.ensure_future(shard.stop())
    await clock.advance(2.0)  # past the drain
    await stopping
    register = metrics.operations[Operation.REGISTER]
    assert (register.count, register.failures) == (4, 4)
    assert register.durations.count == 4  # each from its arrival to the end of the drain


async def test_at_the_end_at_most_stop_concurrency_devices_deregister_at_once() -> None:
    gate, reached = asyncio.Event(), asyncio.Event()
    in_flight: list[int] = [0]
    peak: list[int] = [0]
    log: list[tuple[float, str, str]] = []

    class SlowLeaver(FakeDevice):
        async def stop(self, *, deregister: bool = True) -> None:
            in_flight[0] += 1
            peak[0] = max(peak[0], in_flight[0])
            if in_flight[0] == 3:
                reached.set()
            await gate.wait()
            in_flight[0] -= 1
            await super().stop(deregister=deregister)

    clock = ManualClock()
    shard = Shard(
        make_scenario("", count=10),
        clock=clock,
        factory=lambda config, clk, rng: SlowLeaver(config, clk, log),
        stop_concurrency=3,
    )
    shard.start()
    await clock.advance(1)
    stopping = asyncio.ensure_future(shard.stop())
    await asyncio.wait_for(reached.wait(), 5)
    gate.set()
    await stopping
    assert peak[0] == 3
    assert sum(1 for _, what, _ in log if what == "stop") == 10
