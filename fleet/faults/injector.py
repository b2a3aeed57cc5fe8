"""Seeded fault injection: a :class:`FaultPlan` acting on devices through their interceptor seam.

``FaultInjector(plan, seed=..., origin=clock.now())`` then ``injector.install(device, index)``
for each device. Which devices a fault selects (``devices`` ranges, ``fraction``) and which
requests it hits (``probability``, delay jitter) are drawn from the device's own stream
``device_rng(seed, index, "faults")``, so a run replays identically whatever the order
devices are created in. Every injected fault is counted in :class:`FaultCounter` (and passed
to ``on_inject`` listeners) apart from failures caused by the server.
"""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from fleet.client.device import Device
from fleet.client.events import Operation
from fleet.client.site import Verdict
from fleet.device.generators import device_rng
from fleet.faults.plan import Fault, FaultPlan
from fleet.model.path import Path


@dataclass(frozen=True, slots=True)
class Injected:
    """One injected fault: which device, which action, when (seconds from the run's start)."""

    endpoint: str
    index: int
    action: str
    time: float
    operation: Operation | None = None
    path: str | None = None
    code: str | None = None


class FaultCounter:
    """Injected faults by action (``counts["reject"]``) and the ordered log."""

    __slots__ = ("counts", "log")

    def __init__(self) -> None:
        self.counts: Counter[str] = Counter()
        self.log: list[Injected] = []

    def add(self, injected: Injected) -> None:
        self.counts[injected.action] += 1
        self.log.append(injected)

    @property
    def total(self) -> int:
        return sum(self.counts.values())


class FaultInjector:
    """Installs a plan on devices; see the module docstring."""

    def __init__(
        self,
        plan: FaultPlan,
        *,
        seed: int,
        origin: float = 0.0,
        phase_starts: Mapping[str, float] | None = None,
        horizon: float = 365 * 86400.0,
        keep_log: bool = True,
    ) -> None:
        """``origin``: the run's start on the devices' clock; ``phase_starts``: seconds from
        the run's start each phase begins; ``horizon``: last run time a device fault fires."""
        self.plan = plan
        self.seed = seed
        self.origin = origin
        self.phase_starts = dict(phase_starts or {})
        self.horizon = horizon
        self.counter = FaultCounter()
        self.keep_log = keep_log
        self._listeners: tuple[Callable[[Injected], None], ...] = ()

    def add_listener(self, listener: Callable[[Injected], None]) -> None:
        """Call ``listener(injected)`` for each fault injected (e.g. to feed RunMetrics)."""
        self._listeners = (*self._listeners, listener)

    def _phase_start(self, fault: Fault) -> float:
        phase = fault.window.phase
        return 0.0 if phase is None else self.phase_starts[phase]

    def install(self, device: Device, index: int) -> None:
        """Select the faults hitting device ``index`` and hook them in (nothing if none)."""
        rng = device_rng(self.seed, index, "faults")
        chosen: list[Fault] = []
        for fault in self.plan.faults:
            draw = rng.random()  # drawn for every fault so later faults never shift
            if fault.covers_index(index) and draw < fault.fraction:
                chosen.append(fault)
        request_faults = tuple(f for f in chosen if f.per_request)
        if request_faults:
            device.add_interceptor(_Interceptor(self, device, index, request_faults, rng))
        for fault in chosen:
            if not fault.per_request:
                start = self._phase_start(fault)
                for when in fault.window.starts(start, self.horizon):
                    device.clock.call_at(self.origin + when, _fire(self, device, index, fault))

    def record(self, injected: Injected) -> None:
        if self.keep_log:
            self.counter.add(injected)
        else:
            self.counter.counts[injected.action] += 1
        for listener in self._listeners:
            listener(injected)


def _fire(injector: FaultInjector, device: Device, index: int, fault: Fault) -> Callable[[], None]:
    def fire() -> None:
        if device.endpoint is None:
            return  # stopped or already away
        now = device.clock.now()
        if fault.action == "silence":
            device.silence(fault.duration)
        elif fault.action == "flap":
            device.flap(fault.duration or 0.0)
        elif fault.action == "reboot":
            device.reboot_soon(fault.duration)
        injector.record(Injected(device.name, index, fault.action, now - injector.origin))

    return fire


class _Interceptor:
    """The per-device interceptor of the request faults chosen for it."""

    __slots__ = ("device", "faults", "index", "injector", "rng")

    def __init__(
        self,
        injector: FaultInjector,
        device: Device,
        index: int,
        faults: tuple[Fault, ...],
        rng: random.Random,
    ) -> None:
        self.injector = injector
        self.device = device
        self.index = index
        self.faults = faults
        self.rng = rng

    def __call__(self, request: Any, operation: Operation, path: Path | None) -> Verdict | None:
        injector = self.injector
        t = self.device.clock.now() - injector.origin
        for fault in self.faults:
            if not fault.window.active(t, injector._phase_start(fault)):
                continue
            if not fault.matches(operation, path):
                continue
            if fault.probability < 1.0 and self.rng.random() >= fault.probability:
                continue
            verdict = self._verdict(fault)
            injector.record(
                Injected(
                    self.device.name,
                    self.index,
                    fault.action,
                    t,
                    operation,
                    None if path is None else str(path),
                    fault.code,
                )
            )
            return verdict
        return None

    def _verdict(self, fault: Fault) -> Verdict:
        if fault.action == "reject":
            assert fault.code is not None
            return Verdict.answer(fault.code)
        if fault.action == "drop":
            return Verdict.drop()
        if fault.action == "delay":
            jitter = self.rng.uniform(0.0, fault.jitter) if fault.jitter else 0.0
            return Verdict.delay(fault.delay + jitter)
        return Verdict.corrupt()
