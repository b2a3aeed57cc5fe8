"""One device's firmware updates: acting on the tree's Object 5 events, reporting back.

:class:`FirmwareClient` belongs to one :class:`~fleet.client.device.Device`
(created when its tree first raises a firmware event). It keeps, per device,
only what a real device would: the digest and size of the package it holds
(or the bytes when ``keep`` is set, bounded by the storage), and the task of
the download or update under way. Object 9 Software Management events go to
its :class:`~.software.SoftwareClient` (same downloads, same settings).

- Package URI written: the URI is checked (:mod:`.uri`: 7 Invalid URI, 9
  Unsupported protocol for schemes not in ``/5/0/8``), then downloaded in the
  background (:mod:`.fetch`: coap, coaps, http, https); the check of every byte
  (:class:`~fleet.device.firmware.package.PackageCheck`) decides Downloaded or
  the failure's result.
- Package pushed: checked at once, inside the Write (the CoAP layer assembled
  its Block1 blocks, bounded by ``max_push``).
- Empty Write: the download under way stops and the package is dropped.
- Update executed: ``update_duration`` seconds in Updating, then ``/3/0/3``
  Firmware Version, ``/5/0/6`` PkgName and ``/5/0/7`` PkgVersion take the
  package's values, State goes Idle with Update Result 1, and the device
  reboots (De-register first or not, per the settings) and registers again
  with the new version.

Faults (:class:`~.settings.FirmwareFault`) bend this: ``hang`` never finishes
downloading (a push too stays in Downloading), ``integrity`` and ``reject`` fail
the check (5, 6), ``lose`` loses the link at a share of the download (4 once the
retries are spent; a push ends with 4 at once),
``brick`` goes away during the update for good, ``fail-update`` ends it with 8.
"""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING, Any, Final

from fleet.client.firmware.download import Pull, awaiting, faulted, lose_after
from fleet.client.firmware.events import FirmwareDownloaded, FirmwareUpdated
from fleet.client.firmware.fetch import fetch
from fleet.client.firmware.settings import (
    DEFAULT_SETTINGS,
    FirmwareSettings,
    supported_protocols,
)
from fleet.client.firmware.software import SOFTWARE_EVENTS, SoftwareClient
from fleet.client.firmware.uri import Target, parse_package_uri
from fleet.device.events import DeviceEvent
from fleet.device.firmware.events import (
    FirmwareReset,
    PackageUriWritten,
    PackageWritten,
    UpdateRequested,
)
from fleet.device.firmware.machine import State, Trigger, UpdateResult
from fleet.device.firmware.objects import (
    FIRMWARE,
    PKG_NAME,
    PKG_VERSION,
    PROTOCOLS,
    advance,
    firmware_state,
)
from fleet.device.firmware.package import PackageCheck, PackageInfo, Verdict

if TYPE_CHECKING:
    from fleet.client.device import Device

_log = logging.getLogger("fleet.client.firmware")

FIRMWARE_EVENTS: Final = (
    PackageUriWritten,
    PackageWritten,
    FirmwareReset,
    UpdateRequested,
    *SOFTWARE_EVENTS,
)
DEVICE_OBJECT, FIRMWARE_VERSION = 3, 3


class FirmwareClient:
    """The firmware side of one device (see the module docstring)."""

    __slots__ = ("_device", "_software", "_task", "package", "settings")

    def __init__(self, device: Device, settings: FirmwareSettings | None = None) -> None:
        self._device = device
        self.settings = settings if settings is not None else DEFAULT_SETTINGS
        self.package: PackageInfo | None = None
        """What the device holds after a download (``None`` before, or after a reset)."""
        self._task: asyncio.Future[Any] | None = None
        self._software: SoftwareClient | None = None

    @property
    def software(self) -> SoftwareClient:
        """Object 9 packages (:mod:`.software`; created on first use)."""
        if self._software is None:
            self._software = SoftwareClient(self._device, self.settings)
        return self._software

    # -- the tree's events (inside the operation: nothing slow here) --------------------

    def on_event(self, event: DeviceEvent) -> None:
        if isinstance(event, SOFTWARE_EVENTS):
            self.software.on_event(event)
        elif isinstance(event, PackageUriWritten):
            self._stop_task()
            target = parse_package_uri(event.uri, self._protocols())
            if isinstance(target, UpdateResult):
                self._failed_download(self._device.clock.now(), 0, target)
                return
            self._run(self._pull(target, event.uri))
        elif isinstance(event, PackageWritten):
            self._stop_task()
            self._pushed(event.data)
        elif isinstance(event, FirmwareReset):
            self._stop_task()
            self.package = None
        elif isinstance(event, UpdateRequested):
            self._run(self._update())

    def _protocols(self) -> frozenset[int]:
        """What ``/5/0/8`` lists and the client can do (a server may have rewritten it)."""
        value = self._device.tree.stored(FIRMWARE, 0, PROTOCOLS)
        listed = frozenset(v for v in value.values()) if isinstance(value, dict) else frozenset()
        return listed & supported_protocols(self.settings)

    def _run(self, work: Any) -> None:
        task = asyncio.ensure_future(work)
        self._task = task
        self._device.spawn(awaiting(task))

    def _stop_task(self) -> None:
        task, self._task = self._task, None
        if task is not None and not task.done():
            task.cancel()

    def _new_check(self) -> PackageCheck:
        return PackageCheck(self.settings.rules, keep=self.settings.keep)

    # -- push and pull ------------------------------------------------------------------

    def _pushed(self, data: bytes) -> None:
        started = self._device.clock.now()
        fault = self.settings.fault
        if fault is not None and fault.kind == "hang":
            return  # Downloading for good
        check = self._new_check()
        if fault is not None and fault.kind == "lose":
            check.feed(data[: int(len(data) * fault.at)])
            self._failed_download(
                started, check.received, UpdateResult.CONNECTION_LOST, 1, pushed=True
            )
            return
        check.feed(data)
        self._downloaded(started, self._verdict(check), pushed=True)

    async def _pull(self, target: Target, uri: str) -> None:
        device = self._device
        started = device.clock.now()
        fault = self.settings.fault
        if fault is not None and fault.kind == "hang":
            await asyncio.Event().wait()  # Downloading for good (until reset or stopped)
        pull = Pull(self._new_check())
        result = await fetch(
            device, target, pull, self.settings, self._new_check, lose_after(fault)
        )
        if result is not None:
            self._failed_download(started, pull.check.received, result, pull.losses)
            return
        self._downloaded(started, self._verdict(pull.check), losses=pull.losses)

    def _verdict(self, check: PackageCheck) -> Verdict:
        return faulted(check.finish(), self.settings.fault)

    def _downloaded(
        self, started: float, verdict: Verdict, *, pushed: bool = False, losses: int = 0
    ) -> None:
        if verdict.result is not None:
            self._failed_download(started, verdict.size, verdict.result, losses, pushed=pushed)
            return
        self.package = verdict.info
        advance(self._device.tree, Trigger.DOWNLOADED)
        self._report_download(started, verdict.size, 0, pushed, losses)

    def _failed_download(
        self,
        started: float,
        size: int,
        result: UpdateResult,
        losses: int = 0,
        *,
        pushed: bool = False,
    ) -> None:
        self.package = None
        tree = self._device.tree
        if firmware_state(tree) is State.DOWNLOADING:
            advance(tree, Trigger.DOWNLOAD_FAILED, result)
        self._report_download(started, size, int(result), pushed, losses)

    def _report_download(
        self, started: float, size: int, result: int, pushed: bool, losses: int
    ) -> None:
        device = self._device
        if device.listening:
            injected = result != 0 and self.settings.fault is not None
            device.emit(
                FirmwareDownloaded(
                    device.name, device.clock.now(), started, size, result, pushed, losses, injected
                )
            )

    # -- the update ---------------------------------------------------------------------

    async def _update(self) -> None:
        device = self._device
        clock = device.clock
        settings = self.settings
        began = clock.now()
        await clock.sleep_until(began + settings.update_duration)
        fault = settings.fault
        if fault is not None and fault.kind == "brick":
            _log.info("%s: bricked during the firmware update", device.name)
            await device.go_away(None, "bricked", deregister=False)
            return
        tree = device.tree
        if fault is not None and fault.kind == "fail-update":
            advance(tree, Trigger.UPDATE_FAILED, UpdateResult.UPDATE_FAILED)
            self._report_update(UpdateResult.UPDATE_FAILED, "", began)
            return
        package = self.package
        version = package.version if package is not None else ""
        if package is not None:
            tree.set_value(f"/{DEVICE_OBJECT}/0/{FIRMWARE_VERSION}", version)
            tree.set_value(f"/{FIRMWARE}/0/{PKG_NAME}", package.name)
            tree.set_value(f"/{FIRMWARE}/0/{PKG_VERSION}", version)
        advance(tree, Trigger.UPDATED)
        self.package = None
        self._report_update(UpdateResult.SUCCESS, version, began)
        if settings.reboot:
            delay = settings.reboot_delay
            await device.go_away(
                device.config.reboot_delay if delay is None else delay,
                "firmware update",
                deregister=settings.deregister,
            )

    def _report_update(self, result: UpdateResult, version: str, started: float) -> None:
        device = self._device
        if device.listening:
            injected = result is not UpdateResult.SUCCESS and self.settings.fault is not None
            now = device.clock.now()
            device.emit(FirmwareUpdated(device.name, now, int(result), version, injected, started))
