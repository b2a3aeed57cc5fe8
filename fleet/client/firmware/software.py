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
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any, Final

from fleet.client.firmware.download import Pull, awaiting, faulted, lose_after
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
        if isinstance(event, SoftwareDownloadRequested):
            target = parse_package_uri(event.uri, supported_protocols(self.settings))
            if isinstance(target, UpdateResult):
                self._finish(instance, Verdict(target, None, 0))
                return
            task = asyncio.ensure_future(self._pull(instance, target))
            self._tasks[instance] = task
            self._device.spawn(awaiting(task))
        elif isinstance(event, SoftwarePackageWritten):
            if kind == "hang":
                return  # Download Started for good
            if kind == "lose":
                self._finish(instance, Verdict(UpdateResult.CONNECTION_LOST, None, 0))
                return
            check = self._new_check()
            check.feed(event.data)
            self._finish(instance, faulted(check.finish(), fault))
        elif isinstance(event, SoftwareInstalled):
            info = self.packages.get(instance)
            tree = self._device.tree
            if kind == "fail-install":
                software_advance(tree, instance, SoftwareTrigger.INSTALL_FAILED)
                return
            tree.set_value(Path(SOFTWARE, instance, NAME), info.name if info else "")
            tree.set_value(Path(SOFTWARE, instance, VERSION), info.version if info else "")

    def _new_check(self) -> PackageCheck:
        return PackageCheck(self.settings.rules)

    async def _pull(self, instance: int, target: Target) -> None:
        fault = self.settings.software_fault
        if fault is not None and fault.kind == "hang":
            await asyncio.Event().wait()  # Download Started for good (until stopped)
        pull = Pull(self._new_check())
        failed = await fetch(
            self._device, target, pull, self.settings, self._new_check, lose_after(fault)
        )
        self._tasks.pop(instance, None)
        verdict = Verdict(failed, None, 0) if failed else faulted(pull.check.finish(), fault)
        self._finish(instance, verdict)

    def _finish(self, instance: int, verdict: Verdict) -> None:
        tree = self._device.tree
        if verdict.result is not None:
            self.packages.pop(instance, None)
            software_advance(tree, instance, SoftwareTrigger.FAILED, RESULTS[verdict.result])
            return
        assert verdict.info is not None
        self.packages[instance] = verdict.info
        software_advance(tree, instance, SoftwareTrigger.DOWNLOADED)
        software_advance(tree, instance, SoftwareTrigger.VERIFIED)

    def cancel(self) -> None:
        for task in self._tasks.values():
            task.cancel()
        self._tasks.clear()
