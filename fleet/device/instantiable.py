"""Which objects of a registry a device can carry: each added object is laid out on its own
(instance 0, its default version) and one whose definition cannot be instantiated is left out
with the reason, so that one odd file of a large collection (the OMA registry has a readable
resource without a Type) does not stop a device that was given the whole folder.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from fleet.device.layout import DeviceLayout, ObjectLayout
from fleet.device.template import TreeTemplate
from fleet.errors import FleetError
from fleet.model import ModelRegistry


@dataclass(frozen=True, slots=True)
class Skipped:
    """An object left out of a layout: where its definition is and what is wrong with it."""

    object_id: int
    name: str
    source: str
    reason: str

    def line(self) -> str:
        """``skipping object 10482 (Name) from FILE: resource 5 (Read data) has no Type...``"""
        return f"skipping object {self.object_id} ({self.name}) from {self.source}: {self.reason}"


def with_instance_zero(
    registry: ModelRegistry, base: DeviceLayout, object_ids: Iterable[int]
) -> tuple[DeviceLayout, tuple[Skipped, ...]]:
    """``base`` plus instance 0 of every object of ``object_ids`` that can be instantiated,
    and the ones that cannot, each with its reason."""
    objects: dict[int, ObjectLayout] = dict(base.objects)
    skipped: list[Skipped] = []
    for object_id in sorted(object_ids):
        layout = ObjectLayout((0,))
        try:
            TreeTemplate.compile(registry, DeviceLayout({object_id: layout}))
        except FleetError as error:
            model = registry.get(object_id)
            skipped.append(Skipped(object_id, model.name, model.source, str(error)))
            continue
        objects[object_id] = layout
    return DeviceLayout(objects, base.values), tuple(skipped)
