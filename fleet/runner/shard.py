"""One shard of a run: the devices of an index range on ONE event loop with ONE scheduler.

A :class:`Shard` owns a contiguous range of device indexes. Its scheduler is
a single :class:`~fleet.clock.Clock` timer (:mod:`fleet.runner.timeline`), always set
to the earliest of:

- the next *run event* on its heap: a device arrives (planned by
  :func:`~fleet.runner.planning.plan_arrivals`), leaves or comes back (churn,
  :func:`~fleet.runner.planning.churn_schedule`);
- the next value-generator deadline of its
  :class:`~fleet.device.generators.GeneratorSet` (every generator of every
  device of the shard on one heap); due values go into the device trees with
  ``tree.set_value``, which notifies observers like any change.

Run time ``t`` is seconds since :meth:`Shard.start`. Every random choice is
drawn from :func:`~fleet.device.generators.device_rng` of the run seed and
the device index: stream ``"device"`` (CoAP message ids, tokens, the tree),
``"values"`` (the device's generators, in path order), ``"churn"``. A run
therefore replays the same whatever the shard layout.

Faults. A scenario with ``faults:`` gets one
:class:`~fleet.faults.FaultInjector` per shard, started with the shard
(``origin``: the run's start) and seeded with the run seed: each arriving
device gets its faults installed before it starts, drawn from its own stream
``"faults"``, so the same seed injects the same faults whatever the shard
layout. Every injected fault goes to ``RunMetrics.fault_injected`` under its
label (``reject 4.05``, ``silence``, ``drop register``...), counted apart from
the failures the server caused; :meth:`Shard.stop` cancels the device faults
still to come. Faults need real devices (:class:`~fleet.client.device.Device`);
a custom factory's other devices get none.

Groups. A scenario of several device groups counts every device's operations
twice: in the run's metrics and in its group's (``RunMetrics.group``), for the
summary's per-group rows; a scenario of one group pays nothing for it.

A scheduled step that runs later than due by more than
``RunMetrics.late_after`` is counted late (``RunMetrics.started``): the
process was saturated, not the server slow.

A device that cannot be configured or built (:func:`device_config` or the factory
raises a :class:`~fleet.errors.FleetError`, e.g. no key for it) is logged and
counted as a failed Register; the other devices still arrive.

:meth:`Shard.stop` ends the run: no more arrivals or churn, then the devices still present
leave as :mod:`fleet.runner.leaving` says (``drain``, ``stop_concurrency``).
"""

from __future__ import annotations

import asyncio
import logging
import math
from collections import Counter
from collections.abc import Coroutine, Iterator
from typing import Any

from fleet.client.device import Device
from fleet.client.registration import RegistrationState
from fleet.client.uri import Address, Resolver
from fleet.clock import Clock
from fleet.device.generators import GeneratorSet, device_compact_rng, device_rng
from fleet.errors import FleetError
from fleet.faults import FaultInjector, FaultPlan, Injected
from fleet.metrics import Operation, RunMetrics
from fleet.metrics.views import FIRMWARE_DEVICES
from fleet.runner.configs import device_config
from fleet.runner.devices import DeviceFactory, DeviceLike, client_device
from fleet.runner.events import MetricsBridge
from fleet.runner.leaving import DEREGISTER_GRACE, STOP_CONCURRENCY, deregister_all, settle
from fleet.runner.planning import ArrivalPlan, churn_schedule, plan_arrivals
from fleet.runner.timeline import Step, Timeline
from fleet.scenario import Scenario
from fleet.scenario.firmware import FIRMWARE_OBJECT, SOFTWARE_OBJECT

_log = logging.getLogger("fleet.runner")

WAITING = "waiting"
"""Device state of an index that has not started yet: not arrived, or arrived and its start
still to come (never "stopped", which is a device that ran)."""
AWAY = "away"
"""Device state of a device churn took away for a while."""

_OPERATION = {Step.ARRIVE: Operation.REGISTER, Step.LEAVE: Operation.DEREGISTER}


class Shard:
    """The devices of ``indexes`` (default: all) of a scenario (see the module docstring)."""

    def __init__(
        self,
        scenario: Scenario,
        *,
        clock: Clock,
        metrics: RunMetrics | None = None,
        indexes: range | None = None,
        plan: ArrivalPlan | None = None,
        factory: DeviceFactory = client_device,
        drain: float = 5.0,
        stop_concurrency: int = STOP_CONCURRENCY,
        server_addresses: tuple[Address, ...] | None = None,
        resolver: Resolver | None = None,
    ) -> None:
        self.scenario = scenario
        self.server_addresses = server_addresses
        """Every numeric address the server's name resolved to, preferred first (once per
        shard, by :class:`~fleet.runner.fleet.Fleet`); ``None``: each device looks it up."""
        self.resolver = resolver
        self.stop_concurrency = stop_concurrency
        """At most this many devices de-register at the same time when the run ends."""
        self.clock = clock
        self.metrics = metrics if metrics is not None else RunMetrics()
        self.bridge = MetricsBridge(self.metrics)
        self.group_bridges: dict[str, MetricsBridge] = (
            {g.name: MetricsBridge(self.metrics.group(g.name)) for g in scenario.groups}
            if len(scenario.groups) > 1
            else {}
        )
        """With several device groups: one more listener per group, counting its devices."""
        self.indexes = indexes if indexes is not None else range(scenario.device_count)
        self.plan = plan or plan_arrivals(scenario.phases, scenario.device_count, scenario.duration)
        self.factory = factory
        self.drain = drain
        self.devices: dict[int, DeviceLike] = {}
        """Every device that arrived, by index (away ones included)."""
        self.could_not_start = 0
        """Devices whose configuration was refused or whose start failed (logged each)."""
        self.deregister_grace = DEREGISTER_GRACE
        """At the end: give the De-registers up when none finished for this long."""
        self.cut: asyncio.Event | None = None
        """Set (a second Ctrl-C): the De-registers still waiting are given up at once."""
        self.away: set[int] = set()
        self.arrived = 0
        """Devices that arrived so far (those that could not start included)."""
        self.phase_arrivals: Counter[int] = Counter()
        """Devices that arrived, by the position of their phase (for the summary)."""
        self._starting: set[int] = set()
        self.generators = GeneratorSet()
        self.started_at: float | None = None
        self.applied = 0
        """Generator values put into device trees so far."""
        self._timeline = Timeline(clock, self._fire)
        self._arrivals: Iterator[tuple[int, float]] = iter(())
        self._churn: dict[int, Iterator[tuple[float, float]]] = {}
        self._last: dict[int, asyncio.Future[None]] = {}
        self._tasks: set[asyncio.Future[None]] = set()
        self._stopping = False
        self.injector: FaultInjector | None = None
        """The scenario's faults at work (``None`` without faults or before :meth:`start`)."""

    # -- time ---------------------------------------------------------------------------

    def run_time(self) -> float:
        """Seconds since :meth:`start`."""
        return 0.0 if self.started_at is None else self.clock.now() - self.started_at

    @property
    def churn_start(self) -> float:
        churn = self.scenario.churn
        if churn is None or churn.start is None:
            return self.plan.end
        return churn.start

    # -- lifecycle ----------------------------------------------------------------------

    def start(self) -> None:
        """Begin the run now: arrivals at their planned times from here on."""
        if self.started_at is not None:
            raise FleetError("the shard is already running")
        self.started_at = self.clock.now()
        if self.scenario.faults:
            duration = self.scenario.duration
            self.injector = FaultInjector(
                FaultPlan(self.scenario.faults),
                seed=self.scenario.seed,
                origin=self.started_at,
                horizon=duration if duration is not None else math.inf,
                keep_log=False,
            )
            self.injector.add_listener(self._injected)
        self._arrivals = self.plan.arrivals(self.indexes)
        self._next_arrival()
        self._reschedule()

    async def stop(self) -> None:
        """End the run: stop scheduling, let exchanges finish, de-register every device."""
        self._stopping = True
        if self.injector is not None:
            self.injector.close()
        self._timeline.close()
        pending = list(self._last.values())
        if pending:
            await asyncio.wait(pending)
        present = [i for i in self.devices if i not in self.away]
        await settle([self.devices[i] for i in present], self.clock, self.drain)
        now = self.clock.now()
        for index in present:
            device = self.devices[index]
            if device.state is RegistrationState.REGISTERING:
                # never answered before the end: the server failed this Register
                self.bridge.unfinished(device.name, Operation.REGISTER, now)
                group = self.group_bridges.get(self.scenario.group_of(index).name)
                if group is not None:
                    group.unfinished(device.name, Operation.REGISTER, now)
        await deregister_all(
            [self.devices[i] for i in present],
            self.bridge,
            self.clock,
            concurrency=self.stop_concurrency,
            grace=self.deregister_grace,
            cut=self.cut,
        )
        self.away.update(present)

    def states(self) -> Counter[str]:
        """How many devices of the shard are in each state (``waiting``, ``away`` included)."""
        counts: Counter[str] = Counter()
        for index, device in self.devices.items():
            if index in self.away and not self._stopping:
                counts[AWAY] += 1
            elif index in self._starting and device.state is RegistrationState.STOPPED:
                counts[WAITING] += 1
            else:
                counts[device.state.value] += 1
        counts[WAITING] += len(self.indexes) - len(self.devices)
        return counts

    def update_device_metrics(self) -> None:
        """Put the current device counts by state into the metrics (for Prometheus, summary)."""
        self.metrics.set_devices({k: v for k, v in self.states().items() if k != WAITING})

    # -- the scheduler ------------------------------------------------------------------

    def _next_arrival(self) -> None:
        arrival = next(self._arrivals, None)
        if arrival is not None:
            index, when = arrival
            self._timeline.push(when, Step.ARRIVE, index)

    def _reschedule(self) -> None:
        if self._stopping or self.started_at is None:
            return
        self._timeline.arm(self.started_at, self.generators.next_deadline())

    def _fire(self) -> None:
        if self._stopping:
            return
        now = self.run_time()
        for when, step, index in self._timeline.due(now):
            operation = _OPERATION.get(step, Operation.REGISTER)
            self.metrics.started(operation, when, now)
            if self.group_bridges:
                self.metrics.group(self.scenario.group_of(index).name).started(operation, when, now)
            if step is Step.ARRIVE:
                self._arrive(index, now)
                self._next_arrival()
            elif step is Step.LEAVE:
                self._leave(index, now)
            else:
                self._back(index, now)
        self._apply_generators(now)
        self._reschedule()

    def _apply_generators(self, now: float) -> None:
        for key, path, value in self.generators.due(now):
            device = self.devices.get(key) if isinstance(key, int) else None
            if device is None:
                continue
            try:
                device.set_value(path, value)
                self.applied += 1
            except FleetError as error:
                _log.warning(
                    "%s: generator value %r for %s refused: %s", device.name, value, path, error
                )

    # -- what happens to a device -------------------------------------------------------

    def _arrive(self, index: int, now: float) -> None:
        scenario = self.scenario
        self.arrived += 1
        segment = self.plan.phase_of(index)
        if segment is not None:
            self.phase_arrivals[segment.index] += 1
        group = scenario.group_of(index)
        try:
            device = self.factory(
                device_config(
                    scenario, index, resolved=self.server_addresses, resolver=self.resolver
                ),
                self.clock,
                device_compact_rng(scenario.seed, index, "device"),
            )
        except FleetError as error:  # e.g. no key for it: this device fails, the rest go on
            _log.error("device %d (group %s): cannot start: %s", index, group.name, error)
            self._not_started(group.name, "cannot start")
            return
        self.devices[index] = device
        if FIRMWARE_OBJECT in group.template.plans:  # a campaign's completion counts it
            self.metrics.firmware_count(FIRMWARE_DEVICES)
        if SOFTWARE_OBJECT in group.template.plans:  # likewise for Object 9
            self.metrics.software_count(FIRMWARE_DEVICES)
        values_rng = device_rng(scenario.seed, index, "values")
        for path in sorted(group.generators):
            generator = group.generators[path].create(values_rng, now)
            self.generators.schedule(index, path, generator, now)
        for path, value in self.generators.values(index):
            try:
                device.set_value(path, value)
            except FleetError as error:
                _log.warning(
                    "%s: initial value %r for %s refused: %s", device.name, value, path, error
                )
        device.add_listener(self.bridge)
        group_bridge = self.group_bridges.get(group.name)
        if group_bridge is not None:
            device.add_listener(group_bridge)
        if self.injector is not None and isinstance(device, Device):
            self.injector.install(device, index)
        self._start_device(index)
        churn = scenario.churn
        if churn is not None and churn.deregister_rate > 0:
            end = scenario.duration if scenario.duration is not None else math.inf
            schedule = churn_schedule(
                churn,
                scenario.device_count,
                device_rng(scenario.seed, index, "churn"),
                max(now, self.churn_start),
                end,
            )
            self._churn[index] = schedule
            self._next_churn(index)

    def _injected(self, injected: Injected) -> None:
        self.metrics.fault_injected(injected.label)

    def _next_churn(self, index: int) -> None:
        schedule = self._churn.get(index)
        step = next(schedule, None) if schedule is not None else None
        if step is None:
            self._churn.pop(index, None)
            return
        leave, back = step
        self._timeline.push(leave, Step.LEAVE, index)
        self._timeline.push(back, Step.BACK, index)

    def _leave(self, index: int, now: float) -> None:
        device = self.devices[index]
        self.away.add(index)
        self.bridge.began(device.name, Operation.DEREGISTER, self.clock.now())
        self._chain(index, device.stop(deregister=True))

    def _back(self, index: int, now: float) -> None:
        self.away.discard(index)
        self._start_device(index)
        self._next_churn(index)

    def _start_device(self, index: int) -> None:
        device = self.devices[index]
        self.bridge.began(device.name, Operation.REGISTER, self.clock.now())
        self._starting.add(index)
        self._chain(index, self._start(index, device, self.scenario.group_of(index).name))

    async def _start(self, index: int, device: DeviceLike, group: str) -> None:
        try:
            await device.start()
        except (OSError, FleetError) as error:
            _log.error("%s: cannot start: %s", device.name, error)
            self._not_started(group)
        finally:
            self._starting.discard(index)

    def _not_started(self, group: str, reason: str | None = None) -> None:
        """A device could not be built or started: a failed Register (its group's too)."""
        self.metrics.record(Operation.REGISTER, None, ok=False, reason=reason)
        if group in self.group_bridges:
            self.metrics.group(group).record(Operation.REGISTER, None, ok=False, reason=reason)
        self.bridge.errors += 1
        self.could_not_start += 1

    def _chain(self, index: int, work: Coroutine[Any, Any, None]) -> None:
        """Run ``work`` after the device's previous step (a stop before a start)."""
        previous = self._last.get(index)

        async def step() -> None:
            if previous is not None and not previous.done():
                await asyncio.wait([previous])
            await work

        task = asyncio.ensure_future(step())
        self._last[index] = task
        self._tasks.add(task)
        task.add_done_callback(lambda done: self._done(index, done))

    def _done(self, index: int, task: asyncio.Future[None]) -> None:
        self._tasks.discard(task)
        if self._last.get(index) is task:
            del self._last[index]
        if not task.cancelled() and task.exception() is not None:
            _log.error("device %d: step failed", index, exc_info=task.exception())
