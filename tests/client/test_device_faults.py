"""Device hooks for fault injection: failing binds and handshakes, lost sessions, clock skew,
duplicated answers, retransmission events."""

from __future__ import annotations

import random
from typing import Any

import pytest

import fleet.client.connection as connection_module
from fleet.client.coap.dtls import DtlsHandshakeError
from fleet.client.coap.wire import Message, encode
from fleet.client.device import Device
from fleet.client.events import Registered, RegistrationFailed, Retransmitted, Updated
from fleet.client.registration import RegistrationState
from fleet.client.site import Verdict
from fleet.clock import ManualClock
from fleet.model.path import Path

from .fakes import GET, EventLog, FakeServer, device_config, raw_replies, registered_device

pytestmark = pytest.mark.asyncio
EP = "dev-1"
CON = 0


class FlakyOpen:
    """``open_endpoint`` failing the first ``failures`` times, recording its arguments."""

    def __init__(self, failures: int) -> None:
        self.failures = failures
        self.calls: list[dict[str, Any]] = []
        self.real = connection_module.open_endpoint

    async def __call__(self, config: Any, remote: Any, **kwargs: Any) -> Any:
        self.calls.append(kwargs)
        if len(self.calls) <= self.failures:
            raise DtlsHandshakeError("handshake with 127.0.0.1 failed: no answer")
        return await self.real(config, remote, **kwargs)


async def test_a_failed_handshake_at_start_is_a_retried_register(
    server: FakeServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    flaky = FlakyOpen(failures=2)
    monkeypatch.setattr(connection_module, "open_endpoint", flaky)
    clock, log = ManualClock(), EventLog()
    device = Device(device_config(server, EP), clock=clock, rng=random.Random(1))
    device.add_listener(log)
    await device.start()  # does not raise
    try:
        first = await log.next(RegistrationFailed)
        assert "DtlsHandshakeError" in first.reason and first.started is None
        assert device.state is RegistrationState.WAITING_RETRY and device.endpoint is None
        assert first.retry_in is not None
        await clock.advance(first.retry_in)
        second = await log.next(RegistrationFailed)
        assert second.attempt == first.attempt + 1
        assert second.retry_in is not None and second.retry_in > first.retry_in  # backoff
        await clock.advance(second.retry_in)
        await log.next(Registered)
        assert len(flaky.calls) == 3 and device.is_registered
        assert server.client(EP).address == device.address
    finally:
        await device.stop(deregister=False)


async def test_a_session_lost_under_the_device_rebinds_and_updates(
    server: FakeServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    flaky = FlakyOpen(failures=0)
    monkeypatch.setattr(connection_module, "open_endpoint", flaky)
    clock, log = ManualClock(), EventLog()
    async with registered_device(server, EP, clock=clock, log=log) as device:
        old = device.address
        flaky.calls[-1]["on_lost"]("peer sent close_notify")
        await clock.advance(0.0)  # the new socket is opened from a clock timer
        await server.next("update")
        await log.next(Updated)
        assert device.address != old and server.client(EP).address == device.address
        assert server.count("register") == 1


async def test_lose_session_on_plain_udp_comes_back_from_a_new_port(server: FakeServer) -> None:
    clock, log = ManualClock(), EventLog()
    async with registered_device(server, EP, clock=clock, log=log) as device:
        old = device.address
        device.lose_session()
        await clock.advance(0.0)
        await server.next("update")
        await log.next(Updated)
        assert device.address != old and device.is_registered


async def test_a_rebind_that_fails_is_retried_as_a_register(
    server: FakeServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    clock, log = ManualClock(), EventLog()
    async with registered_device(server, EP, clock=clock, log=log) as device:
        monkeypatch.setattr(connection_module, "open_endpoint", FlakyOpen(failures=1))
        device.flap(5.0)
        await clock.advance(5.0)
        failed = await log.next(RegistrationFailed)
        assert failed.operation == "Update" and "DtlsHandshakeError" in failed.reason
        assert failed.retry_in is not None and not device.is_registered
        await clock.advance(failed.retry_in)
        await server.next("register")
        await log.next(Registered)


async def test_skew_clock_moves_current_time(server: FakeServer) -> None:
    clock = ManualClock()
    async with registered_device(server, EP, clock=clock) as device:
        before = int((await server.request(EP, GET, "/3/0/13")).payload)
        device.skew_clock(-3600)
        after = int((await server.request(EP, GET, "/3/0/13")).payload)
        assert before == int(clock.wall()) and after == before - 3600
        device.skew_clock(7200.4)
        node = device.tree.read(Path(3, 0, 13))
        assert node.value == int(clock.wall()) + 3600  # type: ignore[union-attr]


async def test_a_duplicate_verdict_reaches_the_server_twice_and_it_copes(
    server: FakeServer,
) -> None:
    clock = ManualClock()
    # any_source: raw_replies pokes the device from a bare socket, not the server's
    async with registered_device(server, EP, clock=clock, any_source=True) as device:
        device.add_interceptor(lambda request, operation, path: Verdict.duplicate())
        response = await server.request(EP, GET, "/3/0/0")  # the server copes with it
        assert response.payload == b"lwm2m-fleet"
        # on the wire: the same answer twice, byte for byte
        options = Message(code=GET, uri_path=("3", "0", "1")).opt
        assert device.address is not None
        datagram = encode(CON, GET, 4243, b"two", options, b"")
        first, second = await raw_replies(device.address, datagram, 2)
        assert first == second and first[2:4] == (4243).to_bytes(2, "big")
        assert first.endswith(b"fleet-virtual-device")


async def test_retransmissions_of_the_device_become_events(server: FakeServer) -> None:
    clock, log = ManualClock(), EventLog()
    async with registered_device(server, EP, clock=clock, log=log, lifetime=300) as device:
        # nobody answers the next Update any more: the socket is there (no ICMP port
        # unreachable) but ignores every datagram
        server.endpoint.asleep = True
        device.request_update()
        await clock.advance(0.0)
        for _ in range(3):
            deadline = clock.next_deadline()
            assert deadline is not None
            await clock.advance(deadline - clock.now())
        events = log.of(Retransmitted)
        assert len(events) >= 2 and events[0].remote == server.address
