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
