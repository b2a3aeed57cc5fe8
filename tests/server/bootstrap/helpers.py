"""Shared bits of the bootstrap tests: an LwM2M server plus a Bootstrap-Server pointing at it."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager
from typing import Any

from fleet.client.bootstrap.configs import single
from fleet.client.bootstrap.rules import SecurityMode
from fleet.client.config import DeviceConfig
from fleet.client.credentials import PatternCredentials, key_lookup
from fleet.client.device import Device
from fleet.client.events import ClientEvent
from fleet.clock import Clock
from fleet.server import Lwm2mServer
from fleet.server.bootstrap import BootstrapServer, ServerAccountSpec
from fleet.server.bootstrap.faults import BootstrapFault, BootstrapFaults
from fleet.server.events import EventKind, ServerEvent

SERVER_PSK = PatternCredentials("{endpoint}", "hex:00112233445566778899aabbccddeeff")
BOOTSTRAP_PSK = PatternCredentials("bs-{endpoint}", "hex:ffeeddccbbaa99887766554433221100")


class Pair:
    """An LwM2M server, a Bootstrap-Server writing its account, and what both reported."""

    def __init__(self, server: Lwm2mServer, bootstrap: BootstrapServer) -> None:
        self.server = server
        self.bootstrap = bootstrap
        self.events: list[ServerEvent] = []
        bootstrap._bus.listen(self.events.append)

    def expect(self, kind: EventKind, endpoint: str | None = None) -> asyncio.Future[ServerEvent]:
        """A future of the Bootstrap-Server's next ``kind`` event (create it before causing it)."""
        return self.bootstrap._bus.expect(kind, endpoint=endpoint)

    def steps(self, endpoint: str) -> list[tuple[str, str | None, str | None]]:
        return [(e.kind.value, e.path, e.code) for e in self.events if e.endpoint == endpoint]


@asynccontextmanager
async def bootstrap_pair(
    *,
    secure: bool = False,
    faults: Iterable[BootstrapFault] = (),
    lifetime: int = 300,
    request_timeout: float = 5.0,
    **options: Any,
) -> AsyncIterator[Pair]:
    """A server (with DTLS-PSK when ``secure``) and a Bootstrap-Server writing its account."""
    psk = key_lookup([SERVER_PSK]) if secure else None
    async with await Lwm2mServer.start(request_timeout=5.0, psk=psk) as server:
        uri = server.secure_uri if secure else server.uri
        assert uri is not None
        spec = ServerAccountSpec(
            uri,
            short_server_id=7,
            lifetime=lifetime,
            binding=options.pop("binding", "U"),
            security=SecurityMode.PRE_SHARED_KEY if secure else SecurityMode.NO_SEC,
            psk=SERVER_PSK if secure else None,
        )
        configs = single([spec], psk=BOOTSTRAP_PSK if secure else None, **options)
        bootstrap = await BootstrapServer.start(
            configs, request_timeout=request_timeout, faults=BootstrapFaults(tuple(faults), seed=1)
        )
        try:
            yield Pair(server, bootstrap)
        finally:
            await bootstrap.stop()


class Log:
    """Client events of some devices."""

    def __init__(self) -> None:
        self.events: list[ClientEvent] = []

    def watch(self, device: Device) -> Device:
        device.add_listener(self.events.append)
        return device

    def of(self, kind: type[Any], endpoint: str | None = None) -> list[Any]:
        return [
            e
            for e in self.events
            if isinstance(e, kind) and (endpoint is None or e.endpoint == endpoint)
        ]


@asynccontextmanager
async def waiting_device(
    secure: bool, endpoint: str, *, clock: Clock | None = None, **config: Any
) -> AsyncIterator[tuple[Pair, Device, Log]]:
    """A device that bootstrapped every step but Finish (a ``fail-finish`` fault) and now waits
    for it, so a test can send single operations; over DTLS-PSK when ``secure`` (the
    operations then go through the bootstrap account's own DTLS session)."""
    async with bootstrap_pair(secure=secure, faults=[BootstrapFault("fail-finish")]) as pair:
        log = Log()
        uri = pair.bootstrap.secure_uri if secure else pair.bootstrap.uri
        assert uri is not None
        psk = BOOTSTRAP_PSK.credentials(0, endpoint) if secure else None
        device = log.watch(
            Device(DeviceConfig(endpoint, bootstrap=uri, bootstrap_psk=psk, **config), clock=clock)
        )
        finish = pair.expect(EventKind.BOOTSTRAP_FINISH, endpoint)  # the fault's "not sent"
        await device.start()
        try:
            await asyncio.wait_for(finish, 10)
            await asyncio.wait_for(pair.bootstrap.wait_for_sessions(), 10)
            if secure:
                dual = pair.bootstrap._dual
                assert dual is not None
                assert dual.identity(device_address(device)) == b"bs-" + endpoint.encode()
            yield pair, device, log
        finally:
            await device.stop()


def device_address(device: Device) -> tuple[str, int]:
    assert device.address is not None
    return device.address
