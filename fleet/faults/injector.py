"""Seeded fault injection: a :class:`FaultPlan` acting on devices through their seams.

``FaultInjector(plan, seed=..., origin=clock.now())`` then ``injector.install(device, index)``
for each device. Which devices a fault selects (``groups``, ``devices`` ranges, ``fraction``),
when a device action fires within ``spread``, which requests a fault hits (``probability``)
and delay jitter are drawn from the device's own stream ``device_rng(seed, index, "faults")``,
so a run replays identically whatever the order devices are created in or the shard they
live in.

- request faults (drop, delay, reject, corrupt, duplicate) plug into the device's
  interceptor seam (:meth:`~fleet.client.device.Device.add_interceptor`); with
  ``operations: [register, update, deregister]`` they act on the device's own Register /
  Update / De-register through its uplink seam;
- device faults fire on the device's clock each time their window opens (plus the
  device's spread offset), and only on a registered device: silence, reboot, flap,
  deregister (de-register, come back after ``duration`` if given), reregister (a fresh
  Register while registered), clock-skew (/3/0/13 moves by ``skew``), lose-session (the
  DTLS session is gone: a new socket and handshake at once, then an Update) and
  handshake-storm (the same, named for many devices at once); firmware actions
  (``firmware-hang``, ``-integrity``, ``-lose``, ``-reject``, ``-brick``, ``-fail-update``)
  are given to the device's Object 5 when it is installed and hold for the whole run
  (counted once per device). Each device fault holds one
  timer per device, its next start (a start already past when the device arrives is
  missed); a recurring window arms the following start each time it fires.

:meth:`FaultInjector.forget` unhooks one device, :meth:`FaultInjector.close` every device
(the run ends): interceptors removed, timers cancelled (a ``deregister`` fault's way back
too), so the final De-registers go out untouched.

Every injected fault is counted in :class:`FaultCounter` and passed to listeners
(``add_listener``; the runner feeds ``RunMetrics.fault_injected(injected.label)``), apart
from failures caused by the server.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from typing import Any

from fleet.client.device import Device
from fleet.client.events import Operation
from fleet.client.firmware.settings import FirmwareFault
from fleet.client.registration import RegistrationState
from fleet.client.site import Verdict
from fleet.clock import TimerHandle
from fleet.device.generators import device_rng
from fleet.errors import FleetError
from fleet.faults.plan import Fault, FaultPlan
from fleet.model.path import Path

_log = logging.getLogger("fleet.faults")

_LIVE = (RegistrationState.REGISTERED, RegistrationState.UPDATING)


@dataclass(frozen=True, slots=True)
class Injected:
    """One injected fault: which device, which action, when (seconds from the run's start)."""

    endpoint: str
    index: int
    action: str
    time: float
    operation: Operation | str | None = None
    """The server request hit, or ``"register"`` / ``"update"`` for an uplink fault."""
    path: str | None = None
    code: str | None = None

    @property
    def label(self) -> str:
        """The name summaries and metrics count it under: ``reject 4.05``, ``drop register``."""
        parts = [self.action]
        if isinstance(self.operation, str):
            parts.append(self.operation)
        if self.code is not None:
            parts.append(self.code)
        return " ".join(parts)


class FaultCounter:
    """Injected faults by action (``counts["reject"]``), by label, and the ordered log."""

    __slots__ = ("by_label", "counts", "log")

    def __init__(self) -> None:
        self.counts: Counter[str] = Counter()
        self.by_label: Counter[str] = Counter()
        self.log: list[Injected] = []

    def add(self, injected: Injected, *, keep: bool = True) -> None:
        self.counts[injected.action] += 1
        self.by_label[injected.label] += 1
        if keep:
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
        the run's start each phase begins (for windows not yet resolved); ``horizon``: last
        run time a device fault fires."""
        self.plan = plan
        self.seed = seed
        self.origin = origin
        self.phase_starts = dict(phase_starts or {})
        self.horizon = horizon
        self.counter = FaultCounter()
        self.keep_log = keep_log
        self._listeners: tuple[Callable[[Injected], None], ...] = ()
        self._hooks: dict[int, _Hooks] = {}
        self._tasks: set[asyncio.Future[None]] = set()

    def add_listener(self, listener: Callable[[Injected], None]) -> None:
        """Call ``listener(injected)`` for each fault injected (e.g. to feed RunMetrics)."""
        self._listeners = (*self._listeners, listener)

    def phase_start(self, fault: Fault) -> float:
        phase = fault.window.phase
        return 0.0 if phase is None else self.phase_starts[phase]

    def select(self, index: int) -> list[tuple[Fault, float]]:
        """The faults hitting device ``index`` with its spread offset, and its random stream
        positioned after these draws (see :meth:`install`)."""
        return self._select(index, device_rng(self.seed, index, "faults"))

    def _select(self, index: int, rng: random.Random) -> list[tuple[Fault, float]]:
        chosen: list[tuple[Fault, float]] = []
        for fault in self.plan.faults:
            draw = rng.random()  # drawn for every fault so later faults never shift
            offset = rng.random() * fault.spread
            if fault.covers_index(index) and draw < fault.fraction:
                chosen.append((fault, offset))
        return chosen

    def install(self, device: Device, index: int) -> None:
        """Select the faults hitting device ``index`` and hook them in (nothing if none).

        Each device fault arms only its next start from now on (a start already past when
        the device arrives is missed, as by a device that was not there); a recurring one
        arms the following start when it fires."""
        self.forget(index)
        rng = device_rng(self.seed, index, "faults")
        chosen = self._select(index, rng)
        hooks = _Hooks(device)
        served = tuple(f for f, _ in chosen if f.per_request and f.operations != frozenset())
        if served:
            hooks.interceptor = _Interceptor(self, device, index, served, rng)
            device.add_interceptor(hooks.interceptor)
        uplink = tuple(f for f, _ in chosen if f.per_request and f.uplink)
        if uplink:
            hooks.uplink = _Uplink(self, device, index, uplink, rng)
            device.add_uplink_interceptor(hooks.uplink)
        self._hooks[index] = hooks
        for prefix in ("firmware-", "software-"):  # Object 5's and 9's: the first declared wins
            firmware = next((f for f, _ in chosen if f.action.startswith(prefix)), None)
            if firmware is not None:
                give_firmware_fault(device, firmware)
                self.record(Injected(device.name, index, firmware.action, 0.0))
        after = device.clock.now() - self.origin
        for slot, (fault, offset) in enumerate(chosen):
            if not fault.per_request and not fault.firmware:
                first = fault.window.next_start(
                    self.phase_start(fault), after - offset, self.horizon
                )
                self._arm(index, slot, fault, offset, first)

    def _arm(self, index: int, slot: int, fault: Fault, offset: float, when: float | None) -> None:
        """Arm device fault ``slot`` of device ``index`` at run time ``when`` (+ offset)."""
        hooks = self._hooks.get(index)
        if hooks is None or when is None:
            return
        device = hooks.device

        def fire() -> None:
            hooks.timers.pop(slot, None)
            following = fault.window.following(when, self.phase_start(fault), self.horizon)
            self._arm(index, slot, fault, offset, following)
            _fire(self, device, index, fault)

        hooks.timers[slot] = device.clock.call_at(self.origin + when + offset, fire)

    def pending(self, index: int) -> int:
        """How many timers the injector holds for device ``index`` (one per device fault at
        most, plus a ``deregister`` fault's way back)."""
        hooks = self._hooks.get(index)
        return 0 if hooks is None else len(hooks.timers) + len(hooks.backs)

    def forget(self, index: int) -> None:
        """Unhook device ``index``: cancel its device faults still to come (a ``deregister``
        fault's way back too) and remove the interceptors installed on it."""
        hooks = self._hooks.pop(index, None)
        if hooks is not None:
            hooks.remove()

    def close(self) -> None:
        """The run ends: unhook every device (see :meth:`forget`), so the final De-registers
        go out untouched, and cancel the device actions under way."""
        for index in list(self._hooks):
            self.forget(index)
        for task in list(self._tasks):
            task.cancel()

    def record(self, injected: Injected) -> None:
        self.counter.add(injected, keep=self.keep_log)
        for listener in self._listeners:
            listener(injected)

    def spawn(self, work: Any) -> None:
        task: asyncio.Future[None] = asyncio.ensure_future(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)


def give_firmware_fault(device: Device, fault: Fault) -> None:
    """Make ``device``'s firmware updates fail as the firmware action ``fault`` says."""
    firmware = device.firmware
    if fault.action.startswith("software-"):
        software = FirmwareFault(fault.action.removeprefix("software-"), fault.at)
        firmware.settings = replace(firmware.settings, software_fault=software)
        firmware.software.settings = firmware.settings
        return
    kind = fault.action.removeprefix("firmware-")
    firmware.settings = replace(firmware.settings, fault=FirmwareFault(kind, fault.at))


def _fire(injector: FaultInjector, device: Device, index: int, fault: Fault) -> None:
    """Do a device action now if the device is registered, and record it."""
    if device.endpoint is None or device.state not in _LIVE:
        return  # stopped, away or unregistered: nothing to do to it
    now = device.clock.now()
    try:
        act(injector, device, fault, index)
    except FleetError as error:
        _log.warning("%s: %s fault not injected: %s", device.name, fault.action, error)
        return
    injector.record(Injected(device.name, index, fault.action, now - injector.origin))


def act(injector: FaultInjector, device: Device, fault: Fault, index: int | None = None) -> None:
    """Do a device action to ``device`` (installed as ``index``, if it is) now."""
    action = fault.action
    if action == "silence":
        device.silence(fault.duration)
    elif action == "flap":
        device.flap(fault.duration or 0.0)
    elif action == "reboot":
        device.reboot_soon(fault.duration)
    elif action == "deregister":
        hooks = injector._hooks.get(index) if index is not None else None
        injector.spawn(_deregister(device, fault.duration, hooks))
    elif action == "reregister":
        device.registrar.cancel()
        device.registrar.start()
    elif action == "clock-skew":
        device.skew_clock(fault.skew)
    elif action in ("lose-session", "handshake-storm"):
        device.lose_session()


async def _deregister(device: Device, away: float | None, hooks: _Hooks | None) -> None:
    """De-register (socket kept); register again after ``away`` seconds if given. The timer
    of the way back is kept in ``hooks`` (the device's, if installed) so that
    :meth:`FaultInjector.forget` and :meth:`~FaultInjector.close` cancel it."""
    await device.registrar.deregister("fault")
    if away is None or (hooks is not None and hooks.removed):
        return

    def back() -> None:
        if hooks is not None:
            hooks.backs.discard(timer)
        if device.endpoint is not None and device.state is RegistrationState.STOPPED:
            device.registrar.start()

    timer = device.clock.call_at(device.clock.now() + away, back)
    if hooks is not None:
        hooks.backs.add(timer)


class _Hooks:
    """What the injector installed on one device: interceptors and armed timers."""

    __slots__ = ("backs", "device", "interceptor", "removed", "timers", "uplink")

    def __init__(self, device: Device) -> None:
        self.device = device
        self.interceptor: _Interceptor | None = None
        self.uplink: _Uplink | None = None
        self.timers: dict[int, TimerHandle] = {}
        """The next start of each device fault (by its place in the device's selection)."""
        self.backs: set[TimerHandle] = set()
        """``deregister`` faults' way back (register again after ``duration``)."""
        self.removed = False

    def remove(self) -> None:
        self.removed = True
        for timer in (*self.timers.values(), *self.backs):
            timer.cancel()
        self.timers.clear()
        self.backs.clear()
        if self.interceptor is not None:
            self.device.remove_interceptor(self.interceptor)
        if self.uplink is not None:
            self.device.remove_uplink_interceptor(self.uplink)


_UPLINK_NAMES = {
    "Register": "register",
    "Update": "update",
    "De-register": "deregister",
    "Bootstrap-Request": "bootstrap",
}


class _PerDevice:
    """What a per-device interceptor holds: its injector, device, index, faults and rng."""

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


class _Uplink(_PerDevice):
    """The per-device uplink interceptor: faults on the device's own Register / Update."""

    __slots__ = ()

    def __call__(self, operation: str) -> Verdict | None:
        name = _UPLINK_NAMES.get(operation)
        if name is None:
            return None
        injector = self.injector
        t = self.device.clock.now() - injector.origin
        for fault in self.faults:
            if name not in fault.uplink or not fault.window.active(t, injector.phase_start(fault)):
                continue
            if fault.probability < 1.0 and self.rng.random() >= fault.probability:
                continue
            verdict = _verdict(fault, self.rng)
            injector.record(
                Injected(self.device.name, self.index, fault.action, t, name, None, fault.code)
            )
            return verdict
        return None


class _Interceptor(_PerDevice):
    """The per-device interceptor of the request faults chosen for it."""

    __slots__ = ()

    def __call__(self, request: Any, operation: Operation, path: Path | None) -> Verdict | None:
        injector = self.injector
        t = self.device.clock.now() - injector.origin
        for fault in self.faults:
            if not fault.window.active(t, injector.phase_start(fault)):
                continue
            if not fault.matches(operation, path):
                continue
            if fault.probability < 1.0 and self.rng.random() >= fault.probability:
                continue
            verdict = _verdict(fault, self.rng)
            shown = None if path is None else str(path)
            hit: Operation | str = operation
            if operation is Operation.BOOTSTRAP_FINISH:
                hit = "bootstrap-finish"  # counted as "drop bootstrap-finish", like uplinks
            injector.record(
                Injected(self.device.name, self.index, fault.action, t, hit, shown, fault.code)
            )
            return verdict
        return None


def _verdict(fault: Fault, rng: random.Random) -> Verdict:
    """What a request fault answers (delay jitter drawn from the device's stream)."""
    if fault.action == "reject":
        assert fault.code is not None
        return Verdict.answer(fault.code)
    if fault.action == "drop":
        return Verdict.drop()
    if fault.action == "delay":
        jitter = rng.uniform(0.0, fault.jitter) if fault.jitter else 0.0
        return Verdict.delay(fault.delay + jitter)
    if fault.action == "duplicate":
        return Verdict.duplicate()
    return Verdict.corrupt()
