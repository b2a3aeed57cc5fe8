"""One device's live data: the model-checked object tree and the behaviour of the shipped objects.

Build a :class:`TreeTemplate` once per :class:`DeviceLayout` (it checks the
layout against the object definitions and is shared), then one
:class:`ObjectTree` per device. The tree answers Read, Write, Execute, Create,
Delete and Discover on value nodes, tells listeners which paths changed and
emits typed :class:`DeviceEvent` objects (reboot, send, ...) for the client.
No networking and no bytes here.
"""

from fleet.device.arguments import Arguments, format_arguments, parse_arguments
from fleet.device.behaviour import PLAIN, Behaviour
from fleet.device.behaviours import SHIPPED_BEHAVIOURS
from fleet.device.events import (
    BootstrapRequested,
    ChangeListener,
    DeviceEvent,
    DisableRequested,
    EventListener,
    Executed,
    FactoryResetDone,
    ObjectsChanged,
    RebootRequested,
    RegistrationUpdateRequested,
    SendRequested,
)
from fleet.device.layout import (
    SHIPPED_LAYOUT,
    DeviceLayout,
    InitialValues,
    LayoutError,
    ObjectLayout,
)
from fleet.device.random_values import random_instances, random_value
from fleet.device.store import DeviceStore
from fleet.device.template import TreeTemplate
from fleet.device.tree import Link, ObjectTree

__all__ = [
    "PLAIN",
    "SHIPPED_BEHAVIOURS",
    "SHIPPED_LAYOUT",
    "Arguments",
    "Behaviour",
    "BootstrapRequested",
    "ChangeListener",
    "DeviceEvent",
    "DeviceLayout",
    "DeviceStore",
    "DisableRequested",
    "EventListener",
    "Executed",
    "FactoryResetDone",
    "InitialValues",
    "LayoutError",
    "Link",
    "ObjectLayout",
    "ObjectTree",
    "ObjectsChanged",
    "RebootRequested",
    "RegistrationUpdateRequested",
    "SendRequested",
    "TreeTemplate",
    "format_arguments",
    "parse_arguments",
    "random_instances",
    "random_value",
]
