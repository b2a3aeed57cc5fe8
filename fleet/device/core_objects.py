"""Behaviour of the core objects: Security (0), Server (1), Device (3) and Location (6).

- Security: plausible defaults only (NoSec mode); a LwM2M Server never sees it.
- Server: Disable (4), Registration Update Trigger (8) and Bootstrap-Request
  Trigger (9) become events for the client; defaults follow the specification
  (lifetime 86400 s, disable timeout 86400 s, binding ``U``).
- Device: Reboot (4) asks the client to reboot (de-register, pause, register);
  Factory Reset (5) restores the whole tree to its initial values and instances;
  Reset Error Code (12) leaves one error code 0 (no error); Current Time (13)
  follows the device's clock, and writing it sets the device's clock offset.
  The stored slot of /3/0/13 is that offset in seconds; an initial value other
  than 0 is read as the time the device starts at. UTC Offset (14) and
  Timezone (15) are plain writable values.
- Location: plausible coordinates; its Timestamp (5) starts at the clock's time.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

from fleet.device.arguments import Arguments
from fleet.device.behaviour import Behaviour
from fleet.device.events import (
    BootstrapRequested,
    DeviceEvent,
    DisableRequested,
    FactoryResetDone,
    RebootRequested,
    RegistrationUpdateRequested,
)
from fleet.device.store import DeviceStore
from fleet.model.definitions import ObjectModel
from fleet.model.path import Path

DEFAULT_DISABLE_TIMEOUT: Final = 86400


class SecurityBehaviour(Behaviour):
    """Object 0: defaults for a NoSec account of a LwM2M Server."""

    object_id = 0

    def defaults(self, model: ObjectModel) -> Mapping[int, object]:
        return {1: False, 2: 3, 10: 1, 11: 0}


class ServerBehaviour(Behaviour):
    """Object 1: executables become client events."""

    object_id = 1
    DISABLE, DISABLE_TIMEOUT, UPDATE_TRIGGER, BOOTSTRAP_TRIGGER = 4, 5, 8, 9

    def defaults(self, model: ObjectModel) -> Mapping[int, object]:
        return {0: 1, 1: 86400, 5: DEFAULT_DISABLE_TIMEOUT, 6: True, 7: "U", 22: "U"}

    def execute(
        self, tree: DeviceStore, instance_id: int, resource_id: int, arguments: Arguments
    ) -> DeviceEvent | None:
        path = Path(self.object_id, instance_id, resource_id)
        if resource_id == self.UPDATE_TRIGGER:
            return RegistrationUpdateRequested(path)
        if resource_id == self.DISABLE:
            timeout = tree.stored(self.object_id, instance_id, self.DISABLE_TIMEOUT)
            if not isinstance(timeout, int) or isinstance(timeout, bool):
                timeout = DEFAULT_DISABLE_TIMEOUT
            return DisableRequested(path, timeout)
        if resource_id == self.BOOTSTRAP_TRIGGER:
            return BootstrapRequested(path)
        return None


class DeviceBehaviour(Behaviour):
    """Object 3: reboot, factory reset, error codes and a clock that can be set."""

    object_id = 3
    REBOOT, FACTORY_RESET, ERROR_CODE, RESET_ERROR_CODE, CURRENT_TIME = 4, 5, 11, 12, 13
    computed = frozenset({CURRENT_TIME})
    has_ready = True

    def defaults(self, model: ObjectModel) -> Mapping[int, object]:
        return {
            0: "lwm2m-fleet",
            1: "fleet-virtual-device",
            2: "FLEET-0000000000",
            3: "1.0.0",
            6: [1, 5],  # internal battery, USB
            7: [3800, 5000],  # mV
            8: [125, 900],  # mA
            9: 87,
            10: 15360,  # KiB
            11: [0],
            13: 0,  # clock offset, see the module docstring
            14: "+00:00",
            15: "Etc/UTC",
            16: "U",
            17: "virtual sensor",
            18: "1.0",
            19: "1.0.0",
            20: 0,  # normal
            21: 32768,  # KiB
            22: [],
        }

    def ready(self, tree: DeviceStore, instance_id: int) -> None:
        start = tree.stored(self.object_id, instance_id, self.CURRENT_TIME, raw=True)
        if isinstance(start, int) and start != 0:
            offset = start - int(tree.clock.wall())
            tree.store(self.object_id, instance_id, self.CURRENT_TIME, offset)

    def accept(
        self, tree: DeviceStore, instance_id: int, resource_id: int, value: object
    ) -> object:
        assert isinstance(value, int)
        return value - int(tree.clock.wall())

    def compute(
        self, tree: DeviceStore, instance_id: int, resource_id: int, stored: object
    ) -> object:
        assert isinstance(stored, int)
        return int(tree.clock.wall()) + stored

    def execute(
        self, tree: DeviceStore, instance_id: int, resource_id: int, arguments: Arguments
    ) -> DeviceEvent | None:
        path = Path(self.object_id, instance_id, resource_id)
        if resource_id == self.REBOOT:
            return RebootRequested(path)
        if resource_id == self.FACTORY_RESET:
            tree.factory_reset()
            return FactoryResetDone(path)
        if resource_id == self.RESET_ERROR_CODE:
            tree.store(self.object_id, instance_id, self.ERROR_CODE, [0])
        return None


class LocationBehaviour(Behaviour):
    """Object 6: a plausible position, timestamped when the device starts."""

    object_id = 6
    TIMESTAMP = 5
    has_ready = True

    def defaults(self, model: ObjectModel) -> Mapping[int, object]:
        return {0: 48.1374, 1: 11.5755, 2: 519.0, 3: 10.0, 6: 0.0}

    def ready(self, tree: DeviceStore, instance_id: int) -> None:
        if tree.stored(self.object_id, instance_id, self.TIMESTAMP) == 0:
            tree.store(self.object_id, instance_id, self.TIMESTAMP, int(tree.clock.wall()))
