"""What one device's firmware does, and the faults it can be given.

:class:`FirmwareSettings` is frozen data shared by every device of a group;
a device given a fault carries its own copy with :attr:`FirmwareSettings.fault`
set (see :class:`FirmwareFault`). ``link_speed`` is bytes per second of the
device's downlink (``None``: as fast as the network goes); :data:`LINK_SPEEDS`
names typical ones (``nb-iot`` about 25 kbit/s, so a 1 MiB image takes some
six minutes).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from types import MappingProxyType
from typing import Final

from fleet.client.coap.params import EndpointLimits
from fleet.device.firmware.package import PackageRules
from fleet.errors import FleetError

LINK_SPEEDS: Final[Mapping[str, float]] = MappingProxyType(
    {"nb-iot": 3_000.0, "lte-m": 40_000.0, "gprs": 5_000.0, "lte": 1_000_000.0}
)
"""Named downlink speeds in bytes per second."""
ON_LOSS: Final = ("resume", "restart", "fail")
FAULT_KINDS: Final = ("hang", "integrity", "lose", "reject", "brick", "fail-update")
"""``hang`` stays in Downloading for good; ``integrity`` fails the check of a sound
package (5); ``lose`` loses the connection for good at ``at`` of the download (4 once the
retries are spent); ``reject`` refuses the package type (6); ``brick`` starts the update
and never comes back; ``fail-update`` ends the update with 8."""


class FirmwareConfigError(FleetError, ValueError):
    """Firmware settings that cannot work."""


@dataclass(frozen=True, slots=True)
class FirmwareFault:
    """One way a device's firmware update goes wrong (see :data:`FAULT_KINDS`)."""

    kind: str
    at: float = 0.5
    """``lose`` only: the share of the download after which the link is gone (0..1)."""

    def __post_init__(self) -> None:
        if self.kind not in FAULT_KINDS:
            raise FirmwareConfigError(
                f"firmware fault {self.kind!r}: expected one of {', '.join(FAULT_KINDS)}"
            )
        if not 0.0 <= self.at < 1.0:
            raise FirmwareConfigError(f"firmware fault 'lose' at {self.at!r}: expected 0..<1")


@dataclass(frozen=True, slots=True)
class FirmwareSettings:
    """A device's firmware behaviour (see the module docstring).

    ``storage``: bytes the device can hold (a bigger package ends with Update
    Result 2); ``package_types``: header types accepted (``None``: any);
    ``versions``: SHA-256 (hex) of a headerless image -> its version;
    ``keep``: keep the downloaded bytes (bounded by ``storage``) instead of
    only their digest; ``max_push``: the largest package a Write to
    ``/5/0/0`` may carry (block-wise; beyond it 4.13); ``on_loss``: after a
    lost block ``resume`` from it, ``restart`` from the start, or ``fail`` at
    once (4); ``retries`` losses tolerated, ``retry_delay`` seconds apart;
    ``block_timeout``: seconds one block may take (``None``: CoAP's
    retransmission limits); ``update_duration``: seconds in Updating;
    ``reboot``: reboot after a successful update (``deregister``: with a
    De-register first; ``reboot_delay``: seconds away, ``None`` the device's).
    """

    link_speed: float | None = None
    storage: int = 4 * 1024 * 1024
    package_types: frozenset[str] | None = None
    versions: Mapping[str, str] = field(default_factory=dict)
    keep: bool = False
    max_push: int = 1024 * 1024
    on_loss: str = "resume"
    retries: int = 3
    retry_delay: float = 5.0
    block_timeout: float | None = None
    block_szx: int = 6
    update_duration: float = 5.0
    reboot: bool = True
    deregister: bool = True
    reboot_delay: float | None = None
    fault: FirmwareFault | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "versions", MappingProxyType(dict(self.versions)))
        if self.link_speed is not None and not (
            self.link_speed > 0 and math.isfinite(self.link_speed)
        ):
            raise FirmwareConfigError("link_speed must be a positive number of bytes per second")
        if self.storage < 1 or self.max_push < 16:
            raise FirmwareConfigError("storage must be positive and max_push at least 16 bytes")
        if self.on_loss not in ON_LOSS:
            raise FirmwareConfigError(
                f"on_loss {self.on_loss!r}: expected one of {', '.join(ON_LOSS)}"
            )
        if self.retries < 0:
            raise FirmwareConfigError("retries must not be negative")
        for name in ("retry_delay", "update_duration"):
            value = getattr(self, name)
            if not (value >= 0 and math.isfinite(value)):
                raise FirmwareConfigError(f"{name} must be a non-negative number of seconds")
        if self.block_timeout is not None and not self.block_timeout > 0:
            raise FirmwareConfigError("block_timeout must be positive")
        if not 0 <= self.block_szx <= 6:
            raise FirmwareConfigError("block_szx must be within 0..6 (16..1024 bytes)")

    @property
    def rules(self) -> PackageRules:
        """What the package check accepts."""
        return PackageRules(storage=self.storage, types=self.package_types, versions=self.versions)


DEFAULT_SETTINGS: Final = FirmwareSettings()


def push_limits(settings: FirmwareSettings, limits: EndpointLimits) -> EndpointLimits:
    """``limits`` with room for a pushed package of ``max_push`` bytes (Block1 assembly)."""
    if limits.max_body_size >= settings.max_push:
        return limits
    return replace(limits, max_body_size=settings.max_push)
