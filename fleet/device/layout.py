"""What a device is made of: objects, versions, instances and initial values.

A :class:`DeviceLayout` is plain, immutable configuration. It names the
objects a device has (each with the instances it starts with, the object
version to use and whether optional resources are instantiated) and initial
values by path. Values are written in any form :func:`fleet.model.coerce_value`
accepts (``21.5``, ``"21.5"``, ``"hex:0a0b"``, ``"3:0"``); a multiple-instance
resource takes a list (instances 0, 1, ...), a mapping ``{instance: value}`` or
a single value (instance 0), and ``/3/0/11/1`` sets one resource instance.

The layout is compiled once against a model registry into a
:class:`~fleet.device.template.TreeTemplate` that thousands of trees share.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from fleet.errors import LocatedError
from fleet.model.path import Path


class LayoutError(LocatedError):
    """A device layout or initial value that does not fit the object definitions.

    ``item`` is the path (or object id) at fault.
    """


InitialValues = Mapping[str, object] | Mapping[Path, object] | Mapping[str | Path, object]
"""Initial values by path: ``{"/3/0/0": "ACME", "/3303/0/5700": 21.5}``."""


@dataclass(frozen=True, slots=True)
class ObjectLayout:
    """One object of a device: its starting instances, version and optional resources.

    ``version=None`` takes the registry's default version of the object.
    ``optional=False`` instantiates only mandatory resources and the ones
    given an initial value.
    """

    instances: tuple[int, ...] = (0,)
    version: str | None = None
    optional: bool = True

    def __post_init__(self) -> None:
        instances = tuple(sorted(set(self.instances)))
        if len(instances) != len(self.instances):
            raise LayoutError(f"instance ids repeat: {list(self.instances)}")
        for iid in instances:
            if isinstance(iid, bool) or not isinstance(iid, int) or not 0 <= iid < 65535:
                raise LayoutError(f"instance id must be an integer 0..65534, got {iid!r}")
        object.__setattr__(self, "instances", instances)


@dataclass(frozen=True, slots=True)
class DeviceLayout:
    """Objects by id, plus initial values shared by every device of this layout."""

    objects: Mapping[int, ObjectLayout]
    values: InitialValues = field(default_factory=dict)

    def __post_init__(self) -> None:
        object.__setattr__(self, "objects", MappingProxyType(dict(sorted(self.objects.items()))))
        object.__setattr__(self, "values", MappingProxyType(dict(self.values)))

    @classmethod
    def of(
        cls,
        objects: Mapping[int, Iterable[int] | ObjectLayout],
        *,
        versions: Mapping[int, str] | None = None,
        values: InitialValues | None = None,
        optional: bool = True,
    ) -> DeviceLayout:
        """Shorthand: ``DeviceLayout.of({3: [0], 3303: [0, 1]}, versions={3: "1.1"})``."""
        versions = versions or {}
        built: dict[int, ObjectLayout] = {}
        for object_id, spec in objects.items():
            if isinstance(spec, ObjectLayout):
                built[object_id] = spec
            else:
                built[object_id] = ObjectLayout(
                    tuple(spec), versions.get(object_id), optional=optional
                )
        unknown = set(versions) - set(objects)
        if unknown:
            raise LayoutError(f"versions given for objects not in the layout: {sorted(unknown)}")
        return cls(built, values or {})

    def with_values(self, values: InitialValues) -> DeviceLayout:
        """The same layout with more initial values (later ones win)."""
        merged: dict[str | Path, object] = {}
        for source in (self.values, values):
            for key, value in source.items():
                merged[key] = value
        return DeviceLayout(self.objects, merged)


SHIPPED_LAYOUT = DeviceLayout.of({0: [0], 1: [0], 3: [0], 6: [0], 3303: [0], 3442: [0]})
"""Every shipped object with instance 0, each at the registry's default version."""
