"""Object and resource definitions: what a DDF XML file says, immutable.

:class:`ObjectModel` and :class:`ResourceModel` are plain frozen data; the DDF
loader builds them and nothing changes them afterwards.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from fleet.errors import NotFound
from fleet.model.ranges import Range
from fleet.model.types import Operations, ResourceType


@dataclass(frozen=True, slots=True)
class ResourceModel:
    """One ``<Item>`` of an object: a resource definition."""

    id: int
    name: str
    operations: Operations
    multiple: bool
    mandatory: bool
    type: ResourceType
    range: Range = field(default_factory=Range)
    units: str = ""
    description: str = ""

    @property
    def executable(self) -> bool:
        return self.operations.executable

    @property
    def readable(self) -> bool:
        return self.operations.readable

    @property
    def writable(self) -> bool:
        return self.operations.writable


@dataclass(frozen=True, slots=True)
class ObjectModel:
    """One ``<Object>``: an object definition at one version."""

    id: int
    name: str
    version: str = "1.0"
    lwm2m_version: str = "1.0"
    urn: str = ""
    multiple: bool = True
    mandatory: bool = False
    description: str = ""
    resources: Mapping[int, ResourceModel] = field(default_factory=dict)
    source: str = ""

    def __post_init__(self) -> None:
        ordered = dict(sorted(self.resources.items()))
        object.__setattr__(self, "resources", MappingProxyType(ordered))

    def resource(self, resource_id: int) -> ResourceModel:
        """The definition of one resource, or :class:`NotFound`."""
        try:
            return self.resources[resource_id]
        except KeyError:
            raise NotFound(
                f"object {self.id} ({self.name}) v{self.version} has no resource {resource_id}"
            ) from None

    def __iter__(self) -> Iterator[ResourceModel]:
        return iter(self.resources.values())

    @property
    def mandatory_resources(self) -> tuple[ResourceModel, ...]:
        return tuple(r for r in self if r.mandatory)

    @property
    def key(self) -> tuple[int, str]:
        return (self.id, self.version)
