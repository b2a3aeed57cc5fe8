"""Immutable value nodes: snapshots of part of a device's tree.

A node is what a Read answers or a Write carries: a single resource, one
resource instance, a multiple-instance resource, an object instance, an
object, or (LwM2M 1.1 composite operations) a set of nodes at several paths.
Nodes hold Python values (see :mod:`fleet.model.values`); codecs turn them into
bytes and back, the device tree produces and consumes them.

Every node can be flattened to ``{Path: value}`` of its leaves; a
multiple-instance resource with no instances has no leaves, which is why nodes,
not flat maps, are what codecs exchange.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from fleet.model.path import Path
from fleet.model.values import Value


def _frozen_map(items: Mapping[int, Any]) -> Mapping[int, Any]:
    return MappingProxyType(dict(sorted(items.items())))


@dataclass(frozen=True, slots=True)
class SingleResource:
    """A single-instance resource and its value (``/3/0/0``)."""

    id: int
    value: Value

    def leaves(self, base: Path) -> Iterator[tuple[Path, Value]]:
        yield base, self.value


@dataclass(frozen=True, slots=True)
class ResourceInstance:
    """One instance of a multiple-instance resource (``/3/0/11/0``)."""

    id: int
    value: Value

    def leaves(self, base: Path) -> Iterator[tuple[Path, Value]]:
        yield base, self.value


@dataclass(frozen=True, slots=True)
class MultiResource:
    """A multiple-instance resource: resource instance id -> value (may be empty)."""

    id: int
    instances: Mapping[int, Value] = field(default_factory=dict)

    def __post_init__(self) -> None:
        object.__setattr__(self, "instances", _frozen_map(self.instances))

    def leaves(self, base: Path) -> Iterator[tuple[Path, Value]]:
        for ri, value in self.instances.items():
            yield base.child(ri), value


ResourceNode = SingleResource | MultiResource


@dataclass(frozen=True, slots=True)
class ObjectInstance:
    """An object instance: resource id -> resource node."""

    id: int
    resources: Mapping[int, ResourceNode] = field(default_factory=dict)

    def __post_init__(self) -> None:
        object.__setattr__(self, "resources", _frozen_map(self.resources))

    def leaves(self, base: Path) -> Iterator[tuple[Path, Value]]:
        for rid, node in self.resources.items():
            yield from node.leaves(base.child(rid))


@dataclass(frozen=True, slots=True)
class ObjectNode:
    """An object: instance id -> object instance (may be empty)."""

    id: int
    instances: Mapping[int, ObjectInstance] = field(default_factory=dict)

    def __post_init__(self) -> None:
        object.__setattr__(self, "instances", _frozen_map(self.instances))

    def leaves(self, base: Path) -> Iterator[tuple[Path, Value]]:
        for iid, node in self.instances.items():
            yield from node.leaves(base.child(iid))


Node = SingleResource | ResourceInstance | MultiResource | ObjectInstance | ObjectNode


@dataclass(frozen=True, slots=True)
class Composite:
    """LwM2M 1.1 composite content: nodes at several paths (Read/Write/Observe-Composite).

    ``nodes`` maps each requested path to the node found there (for a Read) or
    to the node to write. A path may also map to ``None`` in a composite Read
    request, where only the paths matter.
    """

    nodes: Mapping[Path, Node | None] = field(default_factory=dict)

    def __post_init__(self) -> None:
        object.__setattr__(self, "nodes", MappingProxyType(dict(sorted(self.nodes.items()))))

    def leaves(self) -> Iterator[tuple[Path, Value]]:
        for path, node in self.nodes.items():
            if node is not None:
                yield from node.leaves(path)


def flatten(node: Node | Composite, path: Path | None = None) -> dict[Path, Value]:
    """``{Path: value}`` of every leaf; ``path`` is where ``node`` sits (not for composites)."""
    if isinstance(node, Composite):
        return dict(node.leaves())
    if path is None:
        raise TypeError("flatten() needs the node's path")
    return dict(node.leaves(path))


_KINDS_AT_LEVEL: dict[int, tuple[type, ...]] = {
    1: (ObjectNode,),
    2: (ObjectInstance,),
    3: (SingleResource, MultiResource),
    4: (ResourceInstance,),
}


def node_path_matches(node: Node, path: Path) -> bool:
    """True when ``node`` is the kind of node that can sit at ``path``."""
    kinds = _KINDS_AT_LEVEL.get(len(path))
    return kinds is not None and isinstance(node, kinds) and node.id == path[-1]
