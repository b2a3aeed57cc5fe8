"""Lost DTLS sessions and handshake storms as the embedded DTLS-PSK server sees them."""

from __future__ import annotations

import asyncio

import pytest

from fleet.client.coap.dtls import dtls_available
from fleet.client.config import DeviceConfig
from fleet.client.credentials import PatternCredentials, key_lookup
from fleet.client.device import Device
from fleet.client.events import ClientEvent, Handshake
from fleet.clock import ManualClock
from fleet.faults import FaultInjector, FaultPlan
from fleet.server import EventKind, Lwm2mServer, ServerEvent

REASON = dtls_available()
pytestmark = [pytest.mark.asyncio, pytest.mark.skipif(REASON is not None, reason=REASON or "")]

KEYS = PatternCredentials("sim-{index:06d}", "hex:00112233{index:024x}")
DEVICES = 6


async def test_a_handshake_storm_is_a_burst_of_new_sessions_and_updates() -> None:
    clock = ManualClock()
    async with await Lwm2mServer.start(clock=clock, psk=key_lookup([KEYS])) as server:
        assert server.secure_uri is not None
        injector = FaultInjector(
            FaultPlan.from_specs([{"action": "handshake-storm", "window": {"start": 10}}]),
            seed=3,
            origin=clock.now(),
        )
        handshakes: list[ClientEvent] = []
        devices = []
        for index in range(DEVICES):
            config = DeviceConfig(
                f"sim-{index:06d}", server=server.secure_uri, psk=KEYS.credentials(index, "")
            )
            device = Device(config, clock=clock)
            device.add_listener(
                lambda e: handshakes.append(e) if isinstance(e, Handshake) else None
            )
            injector.install(device, index)
            devices.append(device)
        try:
            for device in devices:
                await device.start()
                await asyncio.wait_for(device.registered.wait(), 5.0)
            before = server.stats()["dtls"].handshakes
            assert before == DEVICES
            seen: list[ServerEvent] = []
            server.add_listener(seen.append)
            await clock.advance(11.0)
            for _ in range(200):  # loopback handshakes: bounded, each step awaits the loop
                if len([e for e in seen if e.kind is EventKind.UPDATE]) == DEVICES:
                    break
                await clock.advance(0.01)
            updates = sorted(e.endpoint for e in seen if e.kind is EventKind.UPDATE)
            assert updates == [d.name for d in devices]  # each came back over a new session
            assert server.stats()["dtls"].handshakes == before + DEVICES
            assert sum(1 for e in handshakes if isinstance(e, Handshake) and e.ok) == 2 * DEVICES
            assert injector.counter.by_label == {"handshake-storm": DEVICES}
        finally:
            for device in devices:
                await asyncio.wait_for(device.stop(), 5.0)
