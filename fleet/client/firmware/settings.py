"""What one device's firmware does, and the faults it can be given.

:class:`FirmwareSettings` is frozen data shared by every device of a group;
a device given a fault carries its own copy with :attr:`FirmwareSettings.fault`
set (see :class:`FirmwareFault`). ``link_speed`` is bytes per second of the
device's downlink (``None``: as fast as the network goes); :data:`LINK_SPEEDS`
names typical ones (``nb-iot`` about 25 kbit/s, so a 1 MiB image takes some
six minutes).
"""

from __future__ import annotations

import functools
import math
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from types import MappingProxyType
from typing import Final

from fleet.client.coap.dtls import dtls_available
from fleet.client.coap.params import EndpointLimits
from fleet.client.coap.psk import PskCredentials
from fleet.device.firmware.package import PackageRules
from fleet.errors import FleetError

LINK_SPEEDS: Final[Mapping[str, float]] = MappingProxyType(
    {"nb-iot": 3_000.0, "lte-m": 40_000.0, "gprs": 5_000.0, "lte": 1_000_000.0}
)
"""Named downlink speeds in bytes per second."""
ON_LOSS: Final = ("resume", "restart", "fail")
PROTOCOLS: Final[Mapping[int, str]] = MappingProxyType(
    {0: "coap", 1: "coaps", 2: "http", 3: "https"}
)
"""``/5/0/8`` Firmware Update Protocol Support codes the client downloads with, and their
URI schemes."""
FAULT_KINDS: Final = ("hang", "integrity", "lose", "reject", "brick", "fail-update")
SOFTWARE_FAULT_KINDS: Final = ("hang", "integrity", "lose", "reject", "fail-install")
"""Object 9's: the same download faults (Update Result 52, 53, 54 instead of 4, 5, 6), and
``fail-install``: Install ends with 58 Software installation failure (back to Delivered)."""
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
        if self.kind not in FAULT_KINDS and self.kind not in SOFTWARE_FAULT_KINDS:
            kinds = dict.fromkeys((*FAULT_KINDS, *SOFTWARE_FAULT_KINDS))
            raise FirmwareConfigError(
                f"firmware fault {self.kind!r}: expected one of {', '.join(kinds)}"
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
    ``/5/0/0`` may carry (block-wise; beyond it 4.13; the device's CoAP body limit,
    ``limits.max_body_size``, 64 KiB by default, is raised to it, never lowered);
    ``on_loss``: after a lost block ``resume`` from it, ``restart`` from the start, or ``fail`` at
    once (4); ``retries`` losses tolerated, ``retry_delay`` seconds apart;
    ``block_timeout``: seconds one block may take (``None``: CoAP's
    retransmission limits); ``update_duration``: seconds in Updating;
    ``reboot``: reboot after a successful update (``deregister``: with a
    De-register first; ``reboot_delay``: seconds away, ``None`` the device's).
    ``protocols``: the ``/5/0/8`` Firmware Update Protocol Support codes the device
    lists and downloads with (0 CoAP, 1 CoAPS, 2 HTTP 1.1, 3 HTTPS 1.1; ``None``: all
    four, without 1 when the ``dtls`` extra is missing); ``download_psk``: the PSK for
    ``coaps://`` downloads (``None``: the device's own for its LwM2M Server);
    ``https_ca``: a PEM file of the CAs an ``https://`` file server's certificate must
    chain to (``None``: the system's trust store). ``fault`` bends Object 5's updates,
    ``software_fault`` Object 9's (:data:`SOFTWARE_FAULT_KINDS`).
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
    software_fault: FirmwareFault | None = None
    protocols: frozenset[int] | None = None
    download_psk: PskCredentials | None = None
    https_ca: str | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "versions", MappingProxyType(dict(self.versions)))
        if self.fault is not None and self.fault.kind not in FAULT_KINDS:
            raise FirmwareConfigError(f"{self.fault.kind} is an Object 9 (software) fault")
        if self.software_fault is not None and self.software_fault.kind not in (
            SOFTWARE_FAULT_KINDS
        ):
            raise FirmwareConfigError(
                f"{self.software_fault.kind} is not an Object 9 (software) fault: expected "
                f"one of {', '.join(SOFTWARE_FAULT_KINDS)}"
            )
        if self.protocols is not None:
            unknown = sorted(set(self.protocols) - set(PROTOCOLS))
            if unknown:
                raise FirmwareConfigError(
                    f"protocols {unknown}: expected codes of /5/0/8 "
                    "(0 CoAP, 1 CoAPS, 2 HTTP, 3 HTTPS)"
                )
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


def supported_protocols(settings: FirmwareSettings) -> frozenset[int]:
    """The ``/5/0/8`` codes a device with ``settings`` lists (see ``protocols``)."""
    if settings.protocols is not None:
        return settings.protocols
    return _installed()


@functools.cache
def _installed() -> frozenset[int]:
    every = frozenset(PROTOCOLS)
    return every if dtls_available() is None else every - {1}


def push_limits(settings: FirmwareSettings, limits: EndpointLimits) -> EndpointLimits:
    """``limits`` with room for a pushed package of ``max_push`` bytes (Block1 assembly)."""
    if limits.max_body_size >= settings.max_push:
        return limits
    return replace(limits, max_body_size=settings.max_push)
