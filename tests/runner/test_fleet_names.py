"""A fleet whose server is a DNS name: looked up ONCE per shard, not once per device.

The resolver is injected: ``lwm2m.fleet.test`` answers the embedded server's ``::1``, so
this is also an IPv6 fleet, and every device must register there.
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Sequence

import pytest

from fleet.client.uri import UnresolvedName
from fleet.metrics import Operation
from fleet.runner.fleet import Fleet
from fleet.scenario import load_scenario_text
from fleet.server import Lwm2mServer

pytestmark = pytest.mark.asyncio

NAME = "lwm2m.fleet.test"


def _scenario(port: int, count: int = 20) -> str:
    return f"""
version: 1
server: coap://{NAME}:{port}
seed: 1
duration: 1s
groups:
  - count: {count}
    endpoint: "dns-{{index:03d}}"
"""


async def test_the_shard_looks_the_name_up_once_and_every_device_registers() -> None:
    asked: list[tuple[str, int]] = []
    async with await Lwm2mServer.start("::1") as server:

        async def resolver(host: str, port: int) -> Sequence[tuple[str, int]]:
            asked.append((host, port))
            return [server.address] if host == NAME else []

        port = server.address[1]
        scenario = load_scenario_text(_scenario(port))
        summary = await asyncio.wait_for(Fleet(scenario, resolver=resolver).run(), 30)
        register = summary.operations[Operation.REGISTER]
        assert (register.count, register.failures) == (20, 0)
        assert server.counters.registrations == 20
    assert asked == [(NAME, port)]  # once for the shard, not per device


async def test_a_name_that_does_not_resolve_is_raised_before_any_device_starts() -> None:
    async def resolver(host: str, port: int) -> Sequence[tuple[str, int]]:
        return []

    fleet = Fleet(load_scenario_text(_scenario(5683)), resolver=resolver)
    with pytest.raises(UnresolvedName, match=f"the name {NAME} does not resolve"):
        await fleet.run()
    assert fleet.shard is None


def _dead(host: str) -> tuple[str, int]:
    """A UDP port on loopback with nothing bound to it (bound, then closed)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_DGRAM) as probe:
        probe.bind((host, 0))
        return (host, int(probe.getsockname()[1]))


@pytest.mark.parametrize(("live", "dead"), [("127.0.0.1", "::1"), ("::1", "127.0.0.1")])
async def test_every_device_registers_when_the_first_address_is_dead(live: str, dead: str) -> None:
    asked: list[str] = []
    async with await Lwm2mServer.start(live) as server:
        nobody = _dead(dead)

        async def resolver(host: str, port: int) -> Sequence[tuple[str, int]]:
            asked.append(host)
            return [nobody, server.address]  # AAAA then A, or A then AAAA

        scenario = load_scenario_text(_scenario(server.address[1], count=10))
        summary = await asyncio.wait_for(Fleet(scenario, resolver=resolver).run(), 30)
        register = summary.operations[Operation.REGISTER]
        assert server.counters.registrations == 10  # every device, at the second address
        # each device's attempt at the dead address is counted, with its cause
        assert (register.count, register.failures) == (20, 10)
        assert register.failure_reasons == {"port unreachable": 10}
    assert asked == [NAME]  # once for the shard: the devices share its two answers
