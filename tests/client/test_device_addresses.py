"""A server name with several addresses (A and AAAA): each is tried, in the resolver's order.

The resolver is injected and answers the test's name with loopback addresses: one where
nothing listens (the kernel answers an ICMP port unreachable at once), one where a socket
reads nothing (no answer: CoAP's retransmissions run out on the device's ManualClock), and
one where the fake server is. The device must move on to the next address at once, say
which address it moves to, and register where the server is; when every address fails it
is one failure for the retry policy, and the retry looks the name up again.

Then the answer changes under a registered device (the server moved: a pod restarted,
a Service re-pointed): a reboot, a flap and an Update answered 4.04 each look the name
up again and reach the server at its new address.
"""

from __future__ import annotations

import random
import socket
from collections.abc import Iterator, Sequence

import pytest
import pytest_asyncio

from fleet.cli.device import describe
from fleet.client.config import DeviceConfig
from fleet.client.device import Device
from fleet.client.events import Registered, RegistrationFailed
from fleet.client.registration import RegistrationState, RetryPolicy
from fleet.clock import ManualClock

from .fakes import POST, EventLog, FakeServer

pytestmark = pytest.mark.asyncio

EP = "multi-1"
NAME = "lwm2m.multi.test"
Address = tuple[str, int]


class Resolver:
    """Answers ``NAME`` with ``answers`` (a list the test changes: the server moves)."""

    def __init__(self, *answers: Address) -> None:
        self.answers = list(answers)
        self.asked = 0

    async def __call__(self, host: str, port: int) -> Sequence[Address]:
        assert host == NAME
        self.asked += 1
        return list(self.answers)


def _dead(host: str) -> Address:
    """A UDP port on loopback with nothing bound to it (bound, then closed)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_DGRAM) as probe:
        probe.bind((host, 0))
        return (host, int(probe.getsockname()[1]))


@pytest.fixture
def mute() -> Iterator[Address]:
    """A socket that reads nothing: datagrams are taken by the kernel, never answered."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind(("127.0.0.1", 0))
        yield ("127.0.0.1", int(sock.getsockname()[1]))


@pytest_asyncio.fixture
async def server6() -> object:
    server = await FakeServer.start("::1")
    yield server
    server.close()


def _device(resolver: Resolver, clock: ManualClock, **settings: object) -> tuple[Device, EventLog]:
    config = DeviceConfig(EP, server=f"coap://{NAME}", resolver=resolver, **settings)  # type: ignore[arg-type]
    device = Device(config, clock=clock, rng=random.Random(3))
    log = EventLog()
    device.add_listener(log)
    return device, log


@pytest.mark.parametrize("order", ["AAAA first", "A first"])
async def test_a_dead_first_address_is_left_at_once_for_the_next(
    server: FakeServer, server6: FakeServer, order: str
) -> None:
    live, dead = (server, _dead("::1")) if order == "AAAA first" else (server6, _dead("127.0.0.1"))
    resolver = Resolver(dead, live.address)
    device, log = _device(resolver, ManualClock())  # never advanced: ICMP alone ends it
    await device.start()
    try:
        failed = await log.next(RegistrationFailed)
        shown_dead = f"[{dead[0]}]:{dead[1]}" if ":" in dead[0] else f"{dead[0]}:{dead[1]}"
        host, port = live.address
        shown_live = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
        assert failed.cause == "port unreachable"
        assert failed.reason == (
            f"CoapUnreachable: {shown_dead}: port unreachable (ICMP); "
            f"trying {shown_live} (address 2 of 2)"
        )
        assert failed.retry_in == 0.0 and not failed.final
        registered = await log.next(Registered)
        assert registered.server == live.address
        assert (await live.next("register")).query[0] == f"ep={EP}"
        assert device.server_address == live.address and device.is_registered
        assert resolver.asked == 1
    finally:
        await device.stop(deregister=False)


async def test_an_address_that_never_answers_is_left_after_the_retransmissions(
    server: FakeServer, mute: Address
) -> None:
    clock = ManualClock()
    resolver = Resolver(mute, server.address)
    device, log = _device(resolver, clock)
    await device.start()
    try:
        for _ in range(60):  # CoAP gives up after ~93 s of retransmissions (RFC 7252 4.8.2)
            if log.of(RegistrationFailed):
                break
            await clock.advance(5)
        failed = await log.next(RegistrationFailed, timeout=1)
        assert failed.cause == "timeout" and failed.retry_in == 0.0
        assert failed.reason.endswith(
            f"; trying {server.address[0]}:{server.address[1]} (address 2 of 2)"
        )
        assert (await log.next(Registered)).server == server.address
        assert device.state is RegistrationState.REGISTERED
    finally:
        await device.stop(deregister=False)


async def test_every_address_failing_is_one_failure_then_the_name_is_looked_up_again(
    server: FakeServer,
) -> None:
    clock = ManualClock()
    resolver = Resolver(_dead("::1"), _dead("127.0.0.1"))
    policy = RetryPolicy(retry_count=3, retry_timer=30, sequence_delay=100, sequence_retry_count=1)
    device, log = _device(resolver, clock, retry=policy)
    await device.start()
    try:
        moved = await log.next(RegistrationFailed)
        assert moved.retry_in == 0.0 and "(address 2 of 2)" in moved.reason
        failed = await log.next(RegistrationFailed)
        assert failed.retry_in == 30 and "trying" not in failed.reason
        assert (failed.attempt, device.state) == (1, RegistrationState.WAITING_RETRY)
        resolver.answers = [server.address]  # the server is back, at another address
        await clock.advance(30)
        assert (await log.next(Registered)).server == server.address
        assert resolver.asked == 2  # the retry looked the name up again
    finally:
        await device.stop(deregister=False)


async def test_a_literal_is_the_only_address_and_keeps_its_socket() -> None:
    clock = ManualClock()
    dead = _dead("127.0.0.1")
    config = DeviceConfig(EP, server=f"coap://{dead[0]}:{dead[1]}")
    device = Device(config, clock=clock, rng=random.Random(3))
    log = EventLog()
    device.add_listener(log)
    await device.start()
    try:
        failed = await log.next(RegistrationFailed)
        assert failed.retry_in == 60 and "trying" not in failed.reason
        assert device.endpoint is not None  # the same socket retries: nothing to look up
    finally:
        await device.stop(deregister=False)


# -- the server moves: a reconnect finds it at its new address ----------------------------


@pytest_asyncio.fixture
async def other() -> object:
    server = await FakeServer.start()
    yield server
    server.close()


async def _registered_at(
    server: FakeServer, clock: ManualClock, **settings: object
) -> tuple[Device, EventLog, Resolver]:
    resolver = Resolver(server.address)
    device, log = _device(resolver, clock, **settings)
    await device.start()
    await log.next(Registered)
    await server.next("register")
    return device, log, resolver


async def test_a_reboot_goes_to_the_new_address(server: FakeServer, other: FakeServer) -> None:
    clock = ManualClock()
    device, log, resolver = await _registered_at(server, clock, reboot_delay=5)
    try:
        resolver.answers = [other.address]
        await server.request(EP, POST, "/3/0/4")
        await server.next("deregister")  # left the old address
        await clock.advance(5)
        await other.next("register")
        assert (await log.next(Registered)).server == other.address
        assert resolver.asked == 2 and server.count("register") == 1
    finally:
        await device.stop(deregister=False)


async def test_a_flap_goes_to_the_new_address(server: FakeServer, other: FakeServer) -> None:
    clock = ManualClock()
    device, log, resolver = await _registered_at(server, clock)
    try:
        resolver.answers = [other.address]
        device.flap(10)
        await clock.advance(10)
        update = await other.next("update")  # back with an Update, at the new address
        assert update.answer == 132  # that server does not know the device: 4.04
        await other.next("register")
        assert (await log.next(Registered)).server == other.address
        assert server.count("update") == 0
    finally:
        await device.stop(deregister=False)


async def test_an_update_answered_404_goes_to_the_new_address(
    server: FakeServer, other: FakeServer
) -> None:
    clock = ManualClock()
    device, log, resolver = await _registered_at(server, clock, lifetime=300)
    try:
        resolver.answers = [other.address]
        server.forget(EP)
        await clock.advance(207)
        assert (await server.next("update")).answer == 132
        await other.next("register")
        assert (await log.next(Registered)).server == other.address
        assert resolver.asked == 2
    finally:
        await device.stop(deregister=False)


async def test_fleet_device_logs_which_address_it_moves_to_and_registers_with(
    server: FakeServer,
) -> None:
    dead = _dead("::1")
    device, log = _device(Resolver(dead, server.address), ManualClock())
    await device.start()
    try:
        lines = [describe(await log.next(RegistrationFailed)), describe(await log.next(Registered))]
    finally:
        await device.stop(deregister=False)
    host, port = server.address
    assert lines == [
        f"Register failed: CoapUnreachable: [::1]:{dead[1]}: port unreachable (ICMP); "
        f"trying {host}:{port} (address 2 of 2)",  # no "retry in 0 s": it goes at once
        f"registered at /rd/1 with {host}:{port} (lifetime 86400 s)",
    ]
