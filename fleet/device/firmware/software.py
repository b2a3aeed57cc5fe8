"""Object 9 Software Management: its state machine as one table, and its behaviour.

Update State (``/9/x/7``): 0 Initial, 1 Download Started, 2 Downloaded, 3 Delivered,
4 Installed; Update Result (``/9/x/9``): 0 initial, 1 downloading, 2 installed, 3 downloaded
and verified, 50 not enough storage, 51 out of memory, 52 connection lost, 53 integrity
check failure, 54 unsupported package type, 56 invalid URI, 57 device-defined update error,
58 installation failure, 59 uninstallation failure; Activation State (``/9/x/12``).

:func:`software_transition` answers the next ``(state, result)`` or raises
:class:`~fleet.errors.MethodNotAllowed` (4.05):

- Write Package (``/9/x/2``) or Package URI (``/9/x/3``) in Initial: Download Started (1);
  anywhere else 4.05;
- the download completes: Downloaded; its check passes: Delivered (3); a failure (50..56):
  back to Initial with it;
- Install (``/9/x/4``) in Delivered: Installed (2), not yet active; elsewhere 4.05;
- Activate / Deactivate (``/9/x/10``, ``/9/x/11``) in Installed only (Activation State
  true / false); elsewhere 4.05;
- Uninstall (``/9/x/6``) in Delivered or Installed: Initial (0), inactive; elsewhere 4.05;
- the device's install fails (a fault): back to Delivered with 58 installation failure.

The downloads themselves are the client's (the same machinery as Object 5's):
:class:`SoftwareBehaviour` raises :class:`SoftwareDownloadRequested` /
:class:`SoftwarePackageWritten` and the client reports back with :func:`software_advance`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import Enum, IntEnum
from typing import Final

from fleet.device.arguments import Arguments
from fleet.device.behaviour import Behaviour
from fleet.device.events import DeviceEvent
from fleet.device.store import DeviceStore
from fleet.errors import FleetError, MethodNotAllowed
from fleet.model.definitions import ObjectModel
from fleet.model.path import Path

SOFTWARE: Final = 9
NAME, VERSION, PACKAGE, PACKAGE_URI, INSTALL, UNINSTALL = 0, 1, 2, 3, 4, 6
STATE, RESULT, ACTIVATE, DEACTIVATE, ACTIVE = 7, 9, 10, 11, 12


class SoftwareState(IntEnum):
    INITIAL = 0
    DOWNLOAD_STARTED = 1
    DOWNLOADED = 2
    DELIVERED = 3
    INSTALLED = 4


class SoftwareResult(IntEnum):
    INITIAL = 0
    DOWNLOADING = 1
    INSTALLED = 2
    VERIFIED = 3
    NOT_ENOUGH_STORAGE = 50
    OUT_OF_MEMORY = 51
    CONNECTION_LOST = 52
    INTEGRITY_FAILURE = 53
    UNSUPPORTED_PACKAGE_TYPE = 54
    INVALID_URI = 56
    UPDATE_ERROR = 57
    INSTALL_FAILURE = 58
    UNINSTALL_FAILURE = 59


class SoftwareTrigger(Enum):
    WRITE_PACKAGE = "write package"
    DOWNLOADED = "download complete"
    VERIFIED = "package verified"
    FAILED = "download or check failed"
    INSTALL = "install"
    ACTIVATE = "activate"
    DEACTIVATE = "deactivate"
    UNINSTALL = "uninstall"
    INSTALL_FAILED = "installation failed"


DOWNLOAD_FAILURES: Final = frozenset(
    {
        SoftwareResult.NOT_ENOUGH_STORAGE,
        SoftwareResult.OUT_OF_MEMORY,
        SoftwareResult.CONNECTION_LOST,
        SoftwareResult.INTEGRITY_FAILURE,
        SoftwareResult.UNSUPPORTED_PACKAGE_TYPE,
        SoftwareResult.INVALID_URI,
        SoftwareResult.UPDATE_ERROR,
    }
)


@dataclass(frozen=True, slots=True)
class SoftwareStep:
    state: SoftwareState
    result: SoftwareResult | None
    """``None``: Update Result unchanged."""
    active: bool | None = None
    """``None``: Activation State unchanged."""


_S, _R, _T = SoftwareState, SoftwareResult, SoftwareTrigger
SOFTWARE_TABLE: Final[dict[tuple[SoftwareState, SoftwareTrigger], SoftwareStep]] = {
    (_S.INITIAL, _T.WRITE_PACKAGE): SoftwareStep(_S.DOWNLOAD_STARTED, _R.DOWNLOADING),
    (_S.DOWNLOAD_STARTED, _T.DOWNLOADED): SoftwareStep(_S.DOWNLOADED, None),
    (_S.DOWNLOADED, _T.VERIFIED): SoftwareStep(_S.DELIVERED, _R.VERIFIED),
    (_S.DELIVERED, _T.INSTALL): SoftwareStep(_S.INSTALLED, _R.INSTALLED, False),
    (_S.DELIVERED, _T.UNINSTALL): SoftwareStep(_S.INITIAL, _R.INITIAL, False),
    (_S.INSTALLED, _T.ACTIVATE): SoftwareStep(_S.INSTALLED, None, True),
    (_S.INSTALLED, _T.DEACTIVATE): SoftwareStep(_S.INSTALLED, None, False),
    (_S.INSTALLED, _T.UNINSTALL): SoftwareStep(_S.INITIAL, _R.INITIAL, False),
    # the device's own: an install that failed keeps the package, Delivered again (58)
    (_S.INSTALLED, _T.INSTALL_FAILED): SoftwareStep(_S.DELIVERED, _R.INSTALL_FAILURE, False),
}
SERVER_TRIGGERS: Final = frozenset(
    {_T.WRITE_PACKAGE, _T.INSTALL, _T.ACTIVATE, _T.DEACTIVATE, _T.UNINSTALL}
)


def software_transition(
    state: SoftwareState, trigger: SoftwareTrigger, result: SoftwareResult | None = None
) -> SoftwareStep:
    """The machine after ``trigger`` (see the module docstring)."""
    if trigger is SoftwareTrigger.FAILED:
        if state not in (SoftwareState.DOWNLOAD_STARTED, SoftwareState.DOWNLOADED):
            raise FleetError(f"software: nothing to fail in state {state.name}")
        if result not in DOWNLOAD_FAILURES:
            raise FleetError(f"software: {result!r} is not a download failure")
        return SoftwareStep(SoftwareState.INITIAL, result)
    step = SOFTWARE_TABLE.get((state, trigger))
    if step is not None:
        return step
    if trigger in SERVER_TRIGGERS:
        raise MethodNotAllowed(
            f"/9: {trigger.value} is not allowed in Update State {int(state)} "
            f"{state.name.replace('_', ' ').title()}"
        )
    raise FleetError(f"software: {trigger.value} is not expected in state {state.name}")


def software_advance(
    tree: DeviceStore,
    instance_id: int,
    trigger: SoftwareTrigger,
    result: SoftwareResult | None = None,
) -> SoftwareStep:
    """Run ``trigger`` on instance ``instance_id`` and store State, Result and Activation."""
    value = tree.stored(SOFTWARE, instance_id, STATE)
    step = software_transition(
        SoftwareState(value if isinstance(value, int) else 0), trigger, result
    )
    tree.set_value(Path(SOFTWARE, instance_id, STATE), int(step.state))
    if step.result is not None:
        tree.set_value(Path(SOFTWARE, instance_id, RESULT), int(step.result))
    if step.active is not None:
        tree.set_value(Path(SOFTWARE, instance_id, ACTIVE), step.active)
    return step


@dataclass(frozen=True, slots=True)
class SoftwareDownloadRequested(DeviceEvent):
    """A Package URI was written to ``/9/x/3`` in Initial: download ``uri``."""

    uri: str = ""


@dataclass(frozen=True, slots=True)
class SoftwarePackageWritten(DeviceEvent):
    """A package was pushed to ``/9/x/2`` in Initial (never stored in the tree)."""

    data: bytes = b""


@dataclass(frozen=True, slots=True)
class SoftwareInstalled(DeviceEvent):
    """Install ran: the client sets PkgName and PkgVersion from the package it holds."""


class SoftwareBehaviour(Behaviour):
    """Object 9: the state machine on Write and Execute (see the module docstring)."""

    object_id = SOFTWARE
    computed = frozenset({PACKAGE, PACKAGE_URI})

    def defaults(self, model: ObjectModel) -> Mapping[int, object]:
        return {
            NAME: "",
            VERSION: "",
            PACKAGE: b"",
            PACKAGE_URI: "",
            STATE: 0,
            8: False,
            RESULT: 0,
            ACTIVE: False,
        }

    def accept(
        self, tree: DeviceStore, instance_id: int, resource_id: int, value: object
    ) -> object:
        path = Path(SOFTWARE, instance_id, resource_id)
        software_advance(tree, instance_id, SoftwareTrigger.WRITE_PACKAGE)
        if resource_id == PACKAGE:
            data = bytes(value) if isinstance(value, bytes | bytearray) else b""
            tree.emit(SoftwarePackageWritten(path, data))
            return b""
        uri = value if isinstance(value, str) else ""
        tree.emit(SoftwareDownloadRequested(path, uri))
        return ""

    def execute(
        self, tree: DeviceStore, instance_id: int, resource_id: int, arguments: Arguments
    ) -> DeviceEvent | None:
        trigger = {
            INSTALL: SoftwareTrigger.INSTALL,
            UNINSTALL: SoftwareTrigger.UNINSTALL,
            ACTIVATE: SoftwareTrigger.ACTIVATE,
            DEACTIVATE: SoftwareTrigger.DEACTIVATE,
        }.get(resource_id)
        if trigger is None:
            return None
        software_advance(tree, instance_id, trigger)
        path = Path(SOFTWARE, instance_id, resource_id)
        return SoftwareInstalled(path) if trigger is SoftwareTrigger.INSTALL else None
