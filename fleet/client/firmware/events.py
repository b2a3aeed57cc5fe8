"""What a device reports about its firmware: downloads and updates (client events)."""

from __future__ import annotations

from dataclasses import dataclass

from fleet.client.events import ClientEvent


@dataclass(frozen=True, slots=True)
class FirmwareDownloaded(ClientEvent):
    """A download (pull) or push ended: ``result`` 0 when the package is Downloaded, else its
    Update Result; ``started`` when it began, ``size`` bytes received, ``losses`` blocks lost."""

    started: float
    size: int
    result: int
    pushed: bool = False
    losses: int = 0
    injected: bool = False
    """The failure is the device's firmware fault (on purpose, not the server's doing)."""

    @property
    def duration(self) -> float:
        return self.time - self.started


@dataclass(frozen=True, slots=True)
class FirmwareUpdated(ClientEvent):
    """An update ended with Update Result ``result`` (1: now running ``version``)."""

    result: int
    version: str = ""
    injected: bool = False
    started: float | None = None
    """When Update was executed."""

    @property
    def duration(self) -> float | None:
        return None if self.started is None else self.time - self.started


@dataclass(frozen=True, slots=True)
class SoftwareDownloaded(ClientEvent):
    """An Object 9 download (pull) or push of instance ``instance`` ended: ``result`` is the
    instance's Update Result (3 downloaded and verified, else 50..57); ``started`` when it
    began, ``size`` bytes received, ``losses`` blocks lost."""

    instance: int
    started: float
    size: int
    result: int
    pushed: bool = False
    losses: int = 0
    injected: bool = False
    """The failure is the device's software fault (on purpose, not the server's doing)."""

    @property
    def duration(self) -> float:
        return self.time - self.started


@dataclass(frozen=True, slots=True)
class SoftwareInstallEnded(ClientEvent):
    """Install (``/9/x/4``) of instance ``instance`` ended with Update Result ``result`` (2
    installed, now ``version``; 58 installation failure). Installing takes no device time in
    the model: the duration is that of the Execute (0)."""

    instance: int
    result: int
    version: str = ""
    injected: bool = False
    started: float | None = None

    @property
    def duration(self) -> float | None:
        return None if self.started is None else self.time - self.started
