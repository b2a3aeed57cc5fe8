"""One device's Object 9 Software Management packages, on the firmware download machinery.

:class:`SoftwareClient` (owned by the device's
:class:`~fleet.client.firmware.driver.FirmwareClient`) acts on the Object 9 events of
:mod:`fleet.device.firmware.software`: a Package URI is downloaded with
:func:`~fleet.client.firmware.fetch.fetch` (coap, coaps, http, https; the same link speed,
loss handling and streaming check as firmware), a pushed package is checked at once; a
sound package makes the instance Downloaded, then Delivered (3), a failure sends it back to
Initial with the Object 9 code (50 not enough storage, 51 out of memory, 52 connection
lost, 53 integrity check failure, 54 unsupported package type, 56 invalid URI, 57 for an
unsupported protocol). Install sets PkgName and PkgVersion (``/9/x/0``, ``/9/x/1``) from
the package's header. Per instance it keeps the package's header only, never its bytes.

Faults (``settings.software_fault``, the ``software-*`` actions): ``hang`` stays in Download
Started, ``integrity`` 53 and ``reject`` 54 for a sound package, ``lose`` loses the link at
a share of the download (52 once the retries are spent; a push 52 at once), ``fail-install``
ends Install with 58 installation failure (back to Delivered).

Each download that ends (delivered or failed) and each Install is reported to the device's
listeners (:class:`~.events.SoftwareDownloaded`, :class:`~.events.SoftwareInstallEnded`):
the run's ``software_download`` and ``software_install`` metrics.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any, Final

from fleet.client.firmware.download import Pull, awaiting, faulted, lose_after
from fleet.client.firmware.events import SoftwareDownloaded, SoftwareInstallEnded
from fleet.client.firmware.fetch import fetch
from fleet.client.firmware.settings import FirmwareSettings, supported_protocols
from fleet.client.firmware.uri import Target, parse_package_uri
from fleet.device.events import DeviceEvent
from fleet.device.firmware.machine import UpdateResult
from fleet.device.firmware.package import PackageCheck, PackageInfo, Verdict
from fleet.device.firmware.software import (
    NAME,
    SOFTWARE,
    VERSION,
    SoftwareDownloadRequested,
    SoftwareInstalled,
    SoftwarePackageWritten,
    SoftwareResult,
    SoftwareTrigger,
    software_advance,
)
from fleet.model.path import Path

if TYPE_CHECKING:
    from fleet.client.device import Device

SOFTWARE_EVENTS: Final = (SoftwareDownloadRequested, SoftwarePackageWritten, SoftwareInstalled)
RESULTS: Final = {
    UpdateResult.NOT_ENOUGH_FLASH: SoftwareResult.NOT_ENOUGH_STORAGE,
    UpdateResult.OUT_OF_RAM: SoftwareResult.OUT_OF_MEMORY,
    UpdateResult.CONNECTION_LOST: SoftwareResult.CONNECTION_LOST,
    UpdateResult.INTEGRITY_FAILURE: SoftwareResult.INTEGRITY_FAILURE,
    UpdateResult.UNSUPPORTED_PACKAGE_TYPE: SoftwareResult.UNSUPPORTED_PACKAGE_TYPE,
    UpdateResult.INVALID_URI: SoftwareResult.INVALID_URI,
    UpdateResult.UNSUPPORTED_PROTOCOL: SoftwareResult.UPDATE_ERROR,
}
"""Object 5 failure codes (what the download machinery answers) -> Object 9's."""


class SoftwareClient:
    """The Object 9 side of one device (see the module docstring)."""

    __slots__ = ("_device", "_tasks", "packages", "settings")

    def __init__(self, device: Device, settings: FirmwareSettings) -> None:
        self._device = device
        self.settings = settings
        self.packages: dict[int, PackageInfo] = {}
        """The delivered package of each instance (its header)."""
        self._tasks: dict[int, asyncio.Future[Any]] = {}

    def on_event(self, event: DeviceEvent) -> None:
        instance = event.path[1]
        fault = self.settings.software_fault
        kind = None if fault is None else fault.kind
        now = self._device.clock.now()
        if isinstance(event, SoftwareDownloadRequested):
            target = parse_package_uri(event.uri, supported_protocols(self.settings))
            if isinstance(target, UpdateResult):
                self._finish(instance, Verdict(target, None, 0), now)
                return
            task = asyncio.ensure_future(self._pull(instance, target))
            self._tasks[instance] = task
            self._device.spawn(awaiting(task))
        elif isinstance(event, SoftwarePackageWritten):
            if kind == "hang":
                return  # Download Started for good
            if kind == "lose":
                lost = Verdict(UpdateResult.CONNECTION_LOST, None, 0)
                self._finish(instance, lost, now, pushed=True, losses=1)
                return
            check = self._new_check()
            check.feed(event.data)
            self._finish(instance, faulted(check.finish(), fault), now, pushed=True)
        elif isinstance(event, SoftwareInstalled):
            info = self.packages.get(instance)
            tree = self._device.tree
            if kind == "fail-install":
                software_advance(tree, instance, SoftwareTrigger.INSTALL_FAILED)
                self._report_install(instance, SoftwareResult.INSTALL_FAILURE, "", now)
                return
            version = info.version if info else ""
            tree.set_value(Path(SOFTWARE, instance, NAME), info.name if info else "")
            tree.set_value(Path(SOFTWARE, instance, VERSION), version)
            self._report_install(instance, SoftwareResult.INSTALLED, version, now)

    def _new_check(self) -> PackageCheck:
        return PackageCheck(self.settings.rules)

    async def _pull(self, instance: int, target: Target) -> None:
        started = self._device.clock.now()
        fault = self.settings.software_fault
        if fault is not None and fault.kind == "hang":
            await asyncio.Event().wait()  # Download Started for good (until stopped)
        pull = Pull(self._new_check())
        failed = await fetch(
            self._device, target, pull, self.settings, self._new_check, lose_after(fault)
        )
        self._tasks.pop(instance, None)
        if failed:
            verdict = Verdict(failed, None, pull.check.received)
        else:
            verdict = faulted(pull.check.finish(), fault)
        self._finish(instance, verdict, started, losses=pull.losses)

    def _finish(
        self,
        instance: int,
        verdict: Verdict,
        started: float,
        *,
        pushed: bool = False,
        losses: int = 0,
    ) -> None:
        tree = self._device.tree
        if verdict.result is not None:
            self.packages.pop(instance, None)
            result = RESULTS[verdict.result]
            software_advance(tree, instance, SoftwareTrigger.FAILED, result)
        else:
            assert verdict.info is not None
            self.packages[instance] = verdict.info
            software_advance(tree, instance, SoftwareTrigger.DOWNLOADED)
            software_advance(tree, instance, SoftwareTrigger.VERIFIED)
            result = SoftwareResult.VERIFIED
        device = self._device
        if device.listening:
            injected = verdict.result is not None and self.settings.software_fault is not None
            device.emit(
                SoftwareDownloaded(
                    device.name,
                    device.clock.now(),
                    instance,
                    started,
                    verdict.size,
                    int(result),
                    pushed,
                    losses,
                    injected,
                )
            )

    def _report_install(
        self, instance: int, result: SoftwareResult, version: str, started: float
    ) -> None:
        device = self._device
        if device.listening:
            injected = result is not SoftwareResult.INSTALLED
            injected = injected and self.settings.software_fault is not None
            now = device.clock.now()
            device.emit(
                SoftwareInstallEnded(
                    device.name, now, instance, int(result), version, injected, started
                )
            )

    def cancel(self) -> None:
        for task in self._tasks.values():
            task.cancel()
        self._tasks.clear()
