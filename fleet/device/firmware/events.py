"""What the firmware objects ask the client to do (the parts that take time)."""

from __future__ import annotations

from dataclasses import dataclass

from fleet.device.events import DeviceEvent


@dataclass(frozen=True, slots=True)
class PackageUriWritten(DeviceEvent):
    """A Package URI was written in Idle: the state is Downloading; download ``uri``."""

    uri: str = ""


@dataclass(frozen=True, slots=True)
class PackageWritten(DeviceEvent):
    """A package was pushed (the Write's whole body, reassembled from its Block1 blocks).

    The client checks it at once and keeps at most its digest (or the bytes,
    bounded by its storage); the tree stores nothing of it.
    """

    data: bytes = b""


@dataclass(frozen=True, slots=True)
class FirmwareReset(DeviceEvent):
    """An empty Write reset the state machine: stop any download, drop the package."""


@dataclass(frozen=True, slots=True)
class UpdateRequested(DeviceEvent):
    """Update (``/5/0/2``) was executed in Downloaded: the state is Updating."""
