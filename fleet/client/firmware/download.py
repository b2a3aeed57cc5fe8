"""The pull of a package over ``coap://`` and ``coaps://``: Block2 block by block, at the
link's speed.

:func:`download_coap` asks the file server for one block at a time (RFC 7959
Block2, the size the device prefers or the smaller one the server picks),
feeds each to a :class:`~fleet.device.firmware.package.PackageCheck` and waits
between blocks so that the bytes arrive no faster than ``link_speed``. A
block that gets no answer (or the endpoint closing under it, e.g. a reboot)
is a loss: with ``on_loss: resume`` the same block is asked again after
``retry_delay``, with ``restart`` the download begins again from block 0 with
a fresh check, with ``fail`` (or once ``retries`` losses are spent) the
download ends with Update Result 4 Connection lost. A representation that
changes between blocks (another ETag) restarts the download. A 4.04 / 4.00 /
4.02 answer means the URI names nothing: 7 Invalid URI; any other error code
is 4. The device's endpoint, which listens to its LwM2M Server only, listens
to the file server too from the first block on. Over ``coaps://`` the blocks travel
over a DTLS session of their own (:mod:`.secure`): ``reconnect`` opens it before the
first block and again after each loss (a failed handshake is a loss too).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Final

from fleet.client.coap.blockwise import block_size
from fleet.client.coap.dtls_errors import DtlsError
from fleet.client.coap.errors import (
    BindError,
    BlockwiseError,
    CoapReset,
    CoapTimeout,
    EndpointClosed,
)
from fleet.client.coap.wire import Message
from fleet.client.firmware.settings import FirmwareFault, FirmwareSettings
from fleet.client.firmware.uri import Target
from fleet.clock import Clock
from fleet.device.firmware.machine import UpdateResult
from fleet.device.firmware.package import PackageCheck, Verdict

GET: Final = 1
CONTENT: Final = 69  # 2.05
NAMES_NOTHING: Final = frozenset({128, 130, 132})  # 4.00 4.02 4.04
LOSSES: Final = (
    CoapTimeout,
    CoapReset,
    EndpointClosed,
    BlockwiseError,
    DtlsError,
    BindError,
    OSError,
)


def lose_after(fault: FirmwareFault | None) -> Callable[[Pull], int | None]:
    """The byte count after which a ``lose`` fault takes the link (``None``: a sound link,
    or while the size is not known yet: from Size2, Content-Length or the header)."""
    if fault is None or fault.kind != "lose":
        return lambda pull: None
    share = fault.at

    def limit(pull: Pull) -> int | None:
        total = pull.total
        if total is None and pull.check.header is not None:
            total = pull.check.header.size
        return None if total is None else int(total * share)

    return limit


def faulted(verdict: Verdict, fault: FirmwareFault | None) -> Verdict:
    """The check's verdict as an ``integrity`` (5) or ``reject`` (6) fault bends a sound one."""
    if verdict.result is not None or fault is None:
        return verdict
    if fault.kind == "integrity":
        return Verdict(UpdateResult.INTEGRITY_FAILURE, verdict.info, verdict.size)
    if fault.kind == "reject":
        return Verdict(UpdateResult.UNSUPPORTED_PACKAGE_TYPE, verdict.info, verdict.size)
    return verdict


class LinkLost(Exception):
    """The link is gone (a ``lose`` fault): every block from here on is lost."""


@dataclass(slots=True)
class Pull:
    """One download's progress: the check it feeds, bytes, losses, the total when known."""

    check: PackageCheck
    losses: int = 0
    total: int | None = None


Endpoint = Callable[[], Any]
"""Answers the device's current CoAP endpoint (``None`` while it has none)."""


async def download_coap(
    current_endpoint: Endpoint,
    target: Target,
    pull: Pull,
    settings: FirmwareSettings,
    clock: Clock,
    new_check: Callable[[], PackageCheck],
    lose_after: Callable[[Pull], int | None] = lambda pull: None,
    reconnect: Callable[[], Awaitable[None]] | None = None,
) -> UpdateResult | None:
    """Download ``target`` into ``pull.check``; ``None`` when every byte arrived, else the
    Update Result of the failure. ``lose_after(pull)`` is the byte count after which the
    link is gone for good (a fault), ``None`` for a sound link; ``reconnect()`` (coaps)
    opens the session that ``current_endpoint`` then answers."""
    szx = settings.block_szx
    number = 0
    etag: bytes | None = None
    began = clock.now()
    connect = reconnect is not None
    while True:
        try:
            if connect and reconnect is not None:
                await reconnect()
                connect = False
            limit = lose_after(pull)
            if limit is not None and pull.check.received >= limit:
                raise LinkLost
            response = await _block(current_endpoint(), target, number, szx, settings)
        except (LinkLost, *LOSSES):
            connect = reconnect is not None
            if not await after_loss(pull, settings, clock, new_check):
                return UpdateResult.CONNECTION_LOST
            if pull.check.received == 0:  # restarted
                number, etag = 0, None
            began = clock.now() - _elapsed(pull.check.received, settings)
            continue
        code = int(response.code)
        if code != CONTENT:
            if code in NAMES_NOTHING:
                return UpdateResult.INVALID_URI
            return UpdateResult.CONNECTION_LOST
        opt = response.opt
        if number == 0 and opt.size2 is not None:
            pull.total = int(opt.size2)
        block2 = opt.block2
        if block2 is None:  # the whole body in one answer
            return pull.check.feed(bytes(response.payload))
        if etag is None:
            etag = opt.etag
        elif opt.etag != etag or block2.block_number != number:
            pull.check, number, etag, began = new_check(), 0, None, clock.now()
            continue
        failed = pull.check.feed(bytes(response.payload))
        if failed is not None:
            return failed
        if settings.link_speed is not None:
            await clock.sleep_until(began + _elapsed(pull.check.received, settings))
        if not block2.more:
            return None
        szx = min(szx, block2.size_exponent)
        number = pull.check.received // block_size(szx)


async def after_loss(
    pull: Pull, settings: FirmwareSettings, clock: Clock, new_check: Callable[[], PackageCheck]
) -> bool:
    """Count a loss: ``False`` when the download ends with it (``on_loss: fail``, or the
    ``retries`` are spent), else ``True`` after ``retry_delay``, with a fresh check for
    ``on_loss: restart`` (every transfer resumes from ``pull.check.received``)."""
    pull.losses += 1
    if settings.on_loss == "fail" or pull.losses > settings.retries:
        return False
    await clock.sleep_until(clock.now() + settings.retry_delay)
    if settings.on_loss == "restart":
        pull.check = new_check()
    return True


def _elapsed(received: int, settings: FirmwareSettings) -> float:
    return 0.0 if settings.link_speed is None else received / settings.link_speed


async def _block(
    endpoint: Any, target: Target, number: int, szx: int, settings: FirmwareSettings
) -> Any:
    if endpoint is None:
        raise EndpointClosed("the device has no socket (rebooting)")
    remote = (target.host, target.port)
    peers = endpoint.peers
    if peers is not None and remote not in peers:
        endpoint.peers = peers | {remote}  # the device listens to its file server too
    request = Message(code=GET)
    if target.path:
        request.opt.uri_path = target.path
    if target.query:
        request.opt.uri_query = target.query
    request.opt.block2 = (number, False, szx)
    if number == 0:
        request.opt.size2 = 0
    return await endpoint.request(
        request,
        remote,
        timeout=settings.block_timeout,
        reassemble=False,
    )


async def awaiting(task: asyncio.Future[Any]) -> None:
    """Wait for ``task``, a download or update of a device (a cancelled one ends quietly)."""
    try:
        await task
    except asyncio.CancelledError:
        if not task.cancelled():
            raise
