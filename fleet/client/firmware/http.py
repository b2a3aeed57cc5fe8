"""The pull of a package over ``http://`` and ``https://`` (HTTP/1.1), at the link's speed.

:func:`download_http` GETs the package with aiohttp and reads the body in pieces of
the device's block size, feeding each to the
:class:`~fleet.device.firmware.package.PackageCheck` and waiting so that bytes
arrive no faster than ``link_speed`` (the same budget as a ``coap://`` pull). Losses
are handled as for CoAP (``on_loss``, ``retries``, ``retry_delay``): a connection that
fails, closes early or stays silent for ``block_timeout`` seconds of the device's
clock (default :data:`READ_TIMEOUT`) is one loss. ``resume`` asks again with
``Range: bytes=N-`` (and ``If-Range`` with the ETag or Last-Modified the first answer
gave): a ``206 Partial Content`` starting at N carries on, a ``200`` (a server without
ranges, or a changed file) starts the check over from byte 0. ``restart`` always
starts over.

Answers: 200/206 a body; 400, 403, 404, 410, 414 name nothing (7 Invalid URI); any
other status is 4 Connection lost. ``https://`` verifies the server's certificate
against ``https_ca`` (a PEM file) or the system's trust store, and its name (an IP
literal in the certificate's subjectAltName); a certificate that does not verify is 4
at once, without retries (asking again cannot help), and logged with its reason. No
proxy from the environment is used.
"""

from __future__ import annotations

import logging
import ssl
from collections.abc import Callable
from typing import Final

import aiohttp

from fleet.client.coap.blockwise import block_size
from fleet.client.firmware.download import LinkLost, Pull, after_loss
from fleet.client.firmware.settings import FirmwareSettings
from fleet.client.firmware.uri import Target
from fleet.clock import Clock, wait_for
from fleet.device.firmware.machine import UpdateResult
from fleet.device.firmware.package import PackageCheck

_log = logging.getLogger("fleet.client.firmware")

READ_TIMEOUT: Final = 60.0
"""Seconds one read may wait for bytes when ``block_timeout`` is not set."""
NAMES_NOTHING: Final = frozenset({400, 403, 404, 410, 414})
OK, PARTIAL = 200, 206
_LOSSES: Final = (aiohttp.ClientError, TimeoutError, ConnectionError, OSError, LinkLost)


def url_of(target: Target) -> str:
    host = f"[{target.host}]" if ":" in target.host else target.host
    path = "/" + "/".join(target.path)
    query = ("?" + "&".join(target.query)) if target.query else ""
    return f"{target.scheme}://{host}:{target.port}{path}{query}"


def ssl_context(target: Target, settings: FirmwareSettings) -> ssl.SSLContext | bool:
    """What the connector verifies with: a context for ``https://``, ``False`` for http."""
    if target.scheme != "https":
        return False
    return ssl.create_default_context(cafile=settings.https_ca)


def range_request(received: int, validator: str | None) -> dict[str, str]:
    """The headers that resume after ``received`` bytes (none when at the start)."""
    if received <= 0:
        return {}
    headers = {"Range": f"bytes={received}-"}
    if validator is not None:
        headers["If-Range"] = validator
    return headers


def resumes_at(status: int, content_range: str | None, received: int) -> bool:
    """Whether an answer continues after ``received`` bytes (else the body starts at 0)."""
    if status != PARTIAL or content_range is None:
        return False
    unit, _, spec = content_range.partition(" ")
    first = spec.split("-", 1)[0]
    return unit.strip() == "bytes" and first.isdigit() and int(first) == received


class _Fatal(Exception):
    """A failure that asking again cannot mend (a certificate that does not verify)."""


async def download_http(
    target: Target,
    pull: Pull,
    settings: FirmwareSettings,
    clock: Clock,
    new_check: Callable[[], PackageCheck],
    lose_after: Callable[[Pull], int | None] = lambda pull: None,
) -> UpdateResult | None:
    """Download ``target`` into ``pull.check`` (see the module docstring); ``None`` when
    every byte arrived, else the Update Result of the failure."""
    context = ssl_context(target, settings)
    connector = aiohttp.TCPConnector(ssl=context, force_close=True, limit=1)
    timeout = aiohttp.ClientTimeout(total=None, connect=None, sock_read=None)
    async with aiohttp.ClientSession(
        connector=connector, timeout=timeout, trust_env=False, auto_decompress=False
    ) as session:
        transfer = _Transfer(session, target, pull, settings, clock, new_check, lose_after)
        while True:
            try:
                return await transfer.once()
            except _Fatal as error:
                _log.warning("firmware download from %s failed: %s", url_of(target), error)
                return UpdateResult.CONNECTION_LOST
            except _LOSSES:
                if not await after_loss(pull, settings, clock, new_check):
                    return UpdateResult.CONNECTION_LOST
                transfer.resumed()


class _Transfer:
    """One download's requests: what was received, the validator, the link budget."""

    __slots__ = (
        "began",
        "clock",
        "lose_after",
        "new_check",
        "pull",
        "session",
        "settings",
        "target",
        "validator",
    )

    def __init__(
        self,
        session: aiohttp.ClientSession,
        target: Target,
        pull: Pull,
        settings: FirmwareSettings,
        clock: Clock,
        new_check: Callable[[], PackageCheck],
        lose_after: Callable[[Pull], int | None],
    ) -> None:
        self.session = session
        self.target = target
        self.pull = pull
        self.settings = settings
        self.clock = clock
        self.new_check = new_check
        self.lose_after = lose_after
        self.validator: str | None = None
        self.began = clock.now()

    def resumed(self) -> None:
        """After a loss: the link budget counts from now for what is still to come."""
        self.began = self.clock.now() - self._elapsed(self.pull.check.received)

    def _elapsed(self, received: int) -> float:
        speed = self.settings.link_speed
        return 0.0 if speed is None else received / speed

    async def once(self) -> UpdateResult | None:
        pull, settings = self.pull, self.settings
        self._check_link()
        received = pull.check.received
        headers = range_request(received, self.validator)
        wait = settings.block_timeout if settings.block_timeout is not None else READ_TIMEOUT
        try:
            response = await wait_for(
                self.clock,
                self.session.get(url_of(self.target), headers=headers, allow_redirects=False),
                wait,
            )
        except aiohttp.ClientConnectorCertificateError as error:
            raise _Fatal(f"certificate: {error.certificate_error}") from error
        async with response:
            status = response.status
            if status in NAMES_NOTHING:
                return UpdateResult.INVALID_URI
            if status not in (OK, PARTIAL):
                return UpdateResult.CONNECTION_LOST
            if not resumes_at(status, response.headers.get("Content-Range"), received):
                if received:
                    pull.check = self.new_check()  # the server sends the whole body again
                    self.began = self.clock.now()
                if response.content_length is not None:
                    pull.total = response.content_length
                self.validator = response.headers.get("ETag") or response.headers.get(
                    "Last-Modified"
                )
            return await self._body(response, wait)

    def _check_link(self) -> None:
        limit = self.lose_after(self.pull)
        if limit is not None and self.pull.check.received >= limit:
            raise LinkLost

    async def _body(self, response: aiohttp.ClientResponse, wait: float) -> UpdateResult | None:
        piece = block_size(self.settings.block_szx)
        while True:
            chunk = await wait_for(self.clock, response.content.read(piece), wait)
            if not chunk:
                total = self.pull.total
                if total is not None and self.pull.check.received < total:
                    raise ConnectionResetError("the connection closed before the end")
                return None
            limit = self.lose_after(self.pull)
            if limit is not None and self.pull.check.received + len(chunk) > limit:
                self.pull.check.feed(chunk[: max(0, limit - self.pull.check.received)])
                raise LinkLost
            failed = self.pull.check.feed(chunk)
            if failed is not None:
                return failed
            if self.settings.link_speed is not None:
                await self.clock.sleep_until(self.began + self._elapsed(self.pull.check.received))
