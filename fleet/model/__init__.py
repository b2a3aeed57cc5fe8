"""What a device IS: paths, definitions, values and value nodes. Pure, no I/O but the loader."""

from fleet.model.definitions import ObjectModel, ResourceModel
from fleet.model.nodes import (
    Composite,
    MultiResource,
    Node,
    ObjectInstance,
    ObjectNode,
    ResourceInstance,
    SingleResource,
    flatten,
)
from fleet.model.path import ROOT, Level, Path
from fleet.model.ranges import Range, RangeKind, parse_range
from fleet.model.registry import ModelRegistry
from fleet.model.types import Operations, ResourceType
from fleet.model.values import ObjectLink, Value, check_value, coerce_value

__all__ = [
    "ROOT",
    "Composite",
    "Level",
    "ModelRegistry",
    "MultiResource",
    "Node",
    "ObjectInstance",
    "ObjectLink",
    "ObjectModel",
    "ObjectNode",
    "Operations",
    "Path",
    "Range",
    "RangeKind",
    "ResourceInstance",
    "ResourceModel",
    "ResourceType",
    "SingleResource",
    "Value",
    "check_value",
    "coerce_value",
    "flatten",
    "parse_range",
]
