"""One download, whatever the scheme: ``coap://``, ``coaps://``, ``http://``, ``https://``.

:func:`fetch` picks the transfer for a parsed :class:`~.uri.Target` — Block2 over the
device's own CoAP endpoint (:func:`.download.download_coap`), Block2 over a DTLS-PSK
session of its own (:mod:`.secure`), or HTTP/1.1 (:mod:`.http`) — with the same link
speed, loss handling and streaming check for all of them. Object 5 and Object 9 both
download through it.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TYPE_CHECKING

from fleet.client.firmware.download import Pull, download_coap
from fleet.client.firmware.secure import SecureLink, download_credentials
from fleet.client.firmware.settings import FirmwareSettings
from fleet.client.firmware.uri import Target
from fleet.device.firmware.machine import UpdateResult
from fleet.device.firmware.package import PackageCheck

if TYPE_CHECKING:
    from fleet.client.device import Device

_log = logging.getLogger("fleet.client.firmware")


async def fetch(
    device: Device,
    target: Target,
    pull: Pull,
    settings: FirmwareSettings,
    new_check: Callable[[], PackageCheck],
    lose_after: Callable[[Pull], int | None] = lambda pull: None,
) -> UpdateResult | None:
    """Download ``target`` into ``pull.check`` for ``device``; ``None`` when every byte
    arrived, else the Update Result of the failure."""
    clock = device.clock
    if target.scheme == "coap":
        return await download_coap(
            lambda: device.endpoint, target, pull, settings, clock, new_check, lose_after
        )
    if target.scheme == "coaps":
        credentials = download_credentials(settings, device.config.psk)
        if credentials is None:
            _log.warning("%s: no PSK for a coaps:// download", device.name)
            return UpdateResult.UNSUPPORTED_PROTOCOL
        link = SecureLink(target, credentials, clock)
        try:
            return await download_coap(
                link.endpoint,
                target,
                pull,
                settings,
                clock,
                new_check,
                lose_after,
                reconnect=link.reopen,
            )
        finally:
            link.close()
    # aiohttp is imported only when a device downloads over HTTP (fleet's other commands
    # never load it: tests/http/test_cli.py)
    from fleet.client.firmware.http import download_http

    return await download_http(target, pull, settings, clock, new_check, lose_after)
