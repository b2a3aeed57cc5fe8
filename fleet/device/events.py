"""What a device's tree tells the rest of the client: changed paths and typed events.

A tree calls its *change listeners* with the paths whose values changed after
each operation (one call per operation, never when nothing changed). A path
means "this node and everything below it": ``/3303/0/5700`` is one resource,
``/3`` after a factory reset is the whole object. Creating or deleting an
instance reports the instance path.

*Event listeners* get the typed events below, raised while an operation runs
(the tree has already answered nothing yet). A listener must not do slow work
in the callback: e.g. on :class:`RebootRequested` the client answers the
Execute first, then schedules de-register, a pause and a fresh Register.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from fleet.model.path import ROOT, Path


@dataclass(frozen=True, slots=True)
class DeviceEvent:
    """Something the client (not the tree) has to act on; ``path`` says where it came from."""

    path: Path


@dataclass(frozen=True, slots=True)
class RebootRequested(DeviceEvent):
    """/3/0/4 Reboot was executed: de-register, stay away briefly, register again."""


@dataclass(frozen=True, slots=True)
class FactoryResetDone(DeviceEvent):
    """/3/0/5 Factory Reset was executed: the tree is back to its initial values and instances."""


@dataclass(frozen=True, slots=True)
class SendRequested(DeviceEvent):
    """A Send of ``paths`` was asked for (3442 "Send Data").

    ``content_format`` (a CoAP content-format number) and ``timeout`` (seconds)
    are ``None`` when the Execute arguments did not choose them.
    """

    paths: tuple[Path, ...] = ()
    content_format: int | None = None
    timeout: float | None = None


@dataclass(frozen=True, slots=True)
class RegistrationUpdateRequested(DeviceEvent):
    """/1/x/8 Registration Update Trigger was executed: send an Update now."""


@dataclass(frozen=True, slots=True)
class DisableRequested(DeviceEvent):
    """/1/x/4 Disable was executed: de-register and stay away ``timeout`` seconds (/1/x/5)."""

    timeout: int = 86400


@dataclass(frozen=True, slots=True)
class BootstrapRequested(DeviceEvent):
    """/1/x/9 Bootstrap-Request Trigger was executed."""


@dataclass(frozen=True, slots=True)
class Executed(DeviceEvent):
    """An executable without a dedicated event ran; ``arguments`` as parsed."""

    arguments: Mapping[int, str | None] = field(default_factory=dict)

    def __post_init__(self) -> None:
        object.__setattr__(self, "arguments", MappingProxyType(dict(self.arguments)))


@dataclass(frozen=True, slots=True)
class ObjectsChanged(DeviceEvent):
    """Instances were created or deleted: the Register links changed, send an Update."""

    path: Path = ROOT
    created: tuple[Path, ...] = ()
    deleted: tuple[Path, ...] = ()


ChangeListener = Callable[[tuple[Path, ...]], None]
EventListener = Callable[[DeviceEvent], None]
