"""A device whose server is a DNS name: looked up when it connects, again when it reconnects.

The resolver is injected (a name the test owns, answering the fake server's loopback
address), so the lookups are counted: the first connect, a reboot (new socket), an
Update answered 4.04 (the server forgot us, it may have moved), and a name that does
not resolve, which is a failed Register that says so and is retried by the policy.
"""

from __future__ import annotations

import asyncio
import random
import socket
from collections.abc import Sequence

import pytest

from fleet.client.config import DeviceConfig
from fleet.client.device import Device
from fleet.client.events import Registered, RegistrationFailed
from fleet.client.registration import RegistrationState, RetryPolicy
from fleet.clock import ManualClock

from .fakes import POST, EventLog, FakeServer

pytestmark = pytest.mark.asyncio

EP = "named-1"
NAME = "lwm2m.fleet.test"


class Resolver:
    """Answers ``NAME`` with ``answers`` (the current one: the server may move)."""

    def __init__(self, *answers: tuple[str, int]) -> None:
        self.answers = list(answers)
        self.asked: list[tuple[str, int]] = []

    async def __call__(self, host: str, port: int) -> Sequence[tuple[str, int]]:
        self.asked.append((host, port))
        if host != NAME or not self.answers:
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        return self.answers


def named_config(server: FakeServer, resolver: Resolver, **settings: object) -> DeviceConfig:
    port = server.address[1]
    return DeviceConfig(EP, server=f"coap://{NAME}:{port}", resolver=resolver, **settings)  # type: ignore[arg-type]


async def test_a_named_server_is_looked_up_and_registered_with(server: FakeServer) -> None:
    resolver = Resolver(server.address)
    device = Device(named_config(server, resolver), clock=ManualClock(), rng=random.Random(1))
    await device.start()
    try:
        await asyncio.wait_for(device.registered.wait(), 5)
        register = await server.next("register")
        assert register.query[0] == f"ep={EP}"
        assert resolver.asked == [(NAME, server.address[1])]
        assert device.server_address == server.address
    finally:
        await device.stop(deregister=False)


async def test_the_shards_answer_is_used_once_then_the_name_is_asked_again(
    server: FakeServer,
) -> None:
    clock = ManualClock()
    log = EventLog()
    resolver = Resolver(server.address)
    config = named_config(server, resolver, resolved=(server.address,), reboot_delay=5)
    device = Device(config, clock=clock, rng=random.Random(1))
    device.add_listener(log)
    await device.start()
    try:
        await log.next(Registered)
        await server.next("register")
        assert resolver.asked == []  # the shard looked it up already
        await server.request(EP, POST, "/3/0/4")  # reboot: a new socket, a new lookup
        await server.next("deregister")
        await clock.advance(5)
        await server.next("register")
        await log.next(Registered)
        assert resolver.asked == [(NAME, server.address[1])]
    finally:
        await device.stop(deregister=False)


async def test_an_update_answered_404_looks_the_name_up_again(server: FakeServer) -> None:
    clock = ManualClock()
    log = EventLog()
    resolver = Resolver(server.address)
    device = Device(named_config(server, resolver, lifetime=300), clock=clock)
    device.add_listener(log)
    await device.start()
    try:
        await log.next(Registered)
        await server.next("register")
        assert len(resolver.asked) == 1
        server.forget(EP)
        await clock.advance(207)
        assert (await server.next("update")).answer == 132
        await server.next("register")
        await log.next(Registered)
        assert len(resolver.asked) == 2
    finally:
        await device.stop(deregister=False)


async def test_a_name_that_does_not_resolve_fails_the_register_and_retries(
    server: FakeServer,
) -> None:
    clock = ManualClock()
    log = EventLog()
    resolver = Resolver()  # knows nothing yet
    policy = RetryPolicy(retry_count=2, retry_timer=10, sequence_delay=100, sequence_retry_count=1)
    device = Device(named_config(server, resolver, retry=policy), clock=clock)
    device.add_listener(log)
    await device.start()
    try:
        failed = await log.next(RegistrationFailed)
        assert failed.operation == "Register"
        assert f"the name {NAME} does not resolve (Name or service not known)" in failed.reason
        assert device.state is RegistrationState.WAITING_RETRY
        resolver.answers = [server.address]  # the name appears (a Service was created)
        await clock.advance(failed.retry_in)
        await server.next("register")
        await log.next(Registered)
        assert len(resolver.asked) == 2
    finally:
        await device.stop(deregister=False)
