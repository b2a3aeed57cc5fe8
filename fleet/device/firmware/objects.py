"""The behaviour of Object 5 Firmware Update, joining the pure :mod:`.machine` to the tree.

The tree has already checked each request against the definition; this
behaviour adds the state machine: a Write of ``/5/0/0`` Package or ``/5/0/1``
Package URI, an empty one, and Execute ``/5/0/2`` Update move State
(``/5/0/3``) and Update Result (``/5/0/5``) by :func:`.machine.transition`
and raise a :mod:`firmware event <.events>` for the client, which does the
download, the check and the update and reports back with :func:`advance`.
A refused request (4.05) changes nothing. The pushed package is never
stored in the tree (``/5/0/0`` is write-only and reads as nothing).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

from fleet.device.arguments import Arguments
from fleet.device.behaviour import Behaviour
from fleet.device.events import DeviceEvent
from fleet.device.firmware.events import (
    FirmwareReset,
    PackageUriWritten,
    PackageWritten,
    UpdateRequested,
)
from fleet.device.firmware.machine import State, Step, Trigger, UpdateResult, transition
from fleet.device.store import DeviceStore
from fleet.model.definitions import ObjectModel
from fleet.model.path import Path

FIRMWARE: Final = 5
PACKAGE, PACKAGE_URI, UPDATE, STATE, RESULT, PKG_NAME, PKG_VERSION = 0, 1, 2, 3, 5, 6, 7
PROTOCOLS, DELIVERY = 8, 9
NULL_PACKAGE: Final = b"\x00"
"""A package of one zero byte resets the machine, as an empty one does."""


def firmware_state(tree: DeviceStore, instance_id: int = 0) -> State:
    """``/5/x/3`` as a :class:`~.machine.State`."""
    value = tree.stored(FIRMWARE, instance_id, STATE)
    return State(value if isinstance(value, int) else 0)


def update_result(tree: DeviceStore, instance_id: int = 0) -> UpdateResult:
    """``/5/x/5`` as an :class:`~.machine.UpdateResult`."""
    value = tree.stored(FIRMWARE, instance_id, RESULT)
    return UpdateResult(value if isinstance(value, int) else 0)


def advance(
    tree: DeviceStore,
    trigger: Trigger,
    result: UpdateResult | None = None,
    instance_id: int = 0,
) -> Step:
    """Run ``trigger`` on the machine and store the new State and Update Result."""
    step = transition(firmware_state(tree, instance_id), trigger, result)
    # set_value (not store): outside an operation the change must still reach observers
    tree.set_value(Path(FIRMWARE, instance_id, STATE), int(step.state))
    tree.set_value(Path(FIRMWARE, instance_id, RESULT), int(step.result))
    return step


class FirmwareBehaviour(Behaviour):
    """Object 5: the state machine on Write and Execute (see the module docstring)."""

    object_id = FIRMWARE
    computed = frozenset({PACKAGE, PACKAGE_URI})

    def defaults(self, model: ObjectModel) -> Mapping[int, object]:
        return {
            PACKAGE: b"",
            PACKAGE_URI: "",
            STATE: 0,
            RESULT: 0,
            PKG_NAME: "",
            PKG_VERSION: "",
            PROTOCOLS: [0, 1, 2, 3],  # the client narrows it to what a device can do
            DELIVERY: 2,
        }

    def accept(
        self, tree: DeviceStore, instance_id: int, resource_id: int, value: object
    ) -> object:
        path = Path(FIRMWARE, instance_id, resource_id)
        if resource_id == PACKAGE:
            data = bytes(value) if isinstance(value, bytes | bytearray) else b""
            if data in (b"", NULL_PACKAGE):
                self._reset(tree, instance_id, path)
            else:
                advance(tree, Trigger.WRITE_PACKAGE, instance_id=instance_id)
                tree.emit(PackageWritten(path, data))
            return b""
        uri = value if isinstance(value, str) else ""
        if not uri:
            self._reset(tree, instance_id, path)
            return ""
        advance(tree, Trigger.WRITE_URI, instance_id=instance_id)
        tree.emit(PackageUriWritten(path, uri))
        return uri

    def _reset(self, tree: DeviceStore, instance_id: int, path: Path) -> None:
        advance(tree, Trigger.RESET, instance_id=instance_id)
        tree.emit(FirmwareReset(path))

    def execute(
        self, tree: DeviceStore, instance_id: int, resource_id: int, arguments: Arguments
    ) -> DeviceEvent | None:
        if resource_id != UPDATE:
            return None
        advance(tree, Trigger.EXECUTE_UPDATE, instance_id=instance_id)
        return UpdateRequested(Path(FIRMWARE, instance_id, resource_id))
