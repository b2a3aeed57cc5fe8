"""Behaviour of the IPSO sensor objects; today Temperature (3303).

Min Measured Value (5601) and Max Measured Value (5602) start at the Sensor
Value (5700) and follow every change of it; Reset Min and Max Measured Values
(5605) sets both to the current Sensor Value. The Timestamp (5518), when the
instance has it, is the clock's time of the last change of the Sensor Value.
"""

from __future__ import annotations

from collections.abc import Mapping

from fleet.device.arguments import Arguments
from fleet.device.behaviour import Behaviour
from fleet.device.events import DeviceEvent
from fleet.device.store import DeviceStore
from fleet.model.definitions import ObjectModel


class MeasuringSensorBehaviour(Behaviour):
    """An IPSO sensor whose min/max measured values track its sensor value."""

    SENSOR_VALUE, MIN_MEASURED, MAX_MEASURED, RESET_MIN_MAX, TIMESTAMP = (
        5700,
        5601,
        5602,
        5605,
        5518,
    )
    watches = frozenset({SENSOR_VALUE})
    has_ready = True

    def ready(self, tree: DeviceStore, instance_id: int) -> None:
        self._reset(tree, instance_id)
        if tree.stored(self.object_id, instance_id, self.TIMESTAMP) == 0:
            tree.store(self.object_id, instance_id, self.TIMESTAMP, int(tree.clock.wall()))

    def changed(self, tree: DeviceStore, instance_id: int, resource_ids: frozenset[int]) -> None:
        value = tree.stored(self.object_id, instance_id, self.SENSOR_VALUE)
        if not isinstance(value, float):
            return
        low = tree.stored(self.object_id, instance_id, self.MIN_MEASURED)
        if isinstance(low, float) and value < low:
            tree.store(self.object_id, instance_id, self.MIN_MEASURED, value)
        high = tree.stored(self.object_id, instance_id, self.MAX_MEASURED)
        if isinstance(high, float) and value > high:
            tree.store(self.object_id, instance_id, self.MAX_MEASURED, value)
        tree.store(self.object_id, instance_id, self.TIMESTAMP, int(tree.clock.wall()))

    def execute(
        self, tree: DeviceStore, instance_id: int, resource_id: int, arguments: Arguments
    ) -> DeviceEvent | None:
        if resource_id == self.RESET_MIN_MAX:
            self._reset(tree, instance_id)
        return None

    def _reset(self, tree: DeviceStore, instance_id: int) -> None:
        value = tree.stored(self.object_id, instance_id, self.SENSOR_VALUE)
        if isinstance(value, float):
            tree.store(self.object_id, instance_id, self.MIN_MEASURED, value)
            tree.store(self.object_id, instance_id, self.MAX_MEASURED, value)


class TemperatureBehaviour(MeasuringSensorBehaviour):
    """Object 3303: a room-temperature sensor in degrees Celsius."""

    object_id = 3303

    def defaults(self, model: ObjectModel) -> Mapping[int, object]:
        return {5700: 21.0, 5603: -40.0, 5604: 85.0, 5701: "Cel", 6049: 100}
