"""A device keeps a bounded number of observations (RFC 7641 §4.1), over real UDP.

30,000 Observes used to be stored without bound in the LwM2M layer (the CoAP layer stopped at
256), each new one costing more time and memory forever. Now the bound is the endpoint's
``max_observers`` (``DeviceConfig.limits``): beyond it an Observe is answered as a plain Read
without the Observe option (not established), and observations are released on cancel, on
Reset and on de-registration.
"""

from __future__ import annotations

import asyncio
import gc
import tracemalloc

import pytest

from fleet.client.coap import EndpointLimits
from fleet.client.events import ObservationEnded
from fleet.codec import ContentFormat, encode_composite_request
from fleet.model import Path

from .fakes import FETCH, GET, EventLog, FakeServer, registered_device

pytestmark = pytest.mark.asyncio
EP = "dev-1"
SENSOR = "/3303/0/5700"
LIMIT = 8
PATHS = [Path(3, 0, r) for r in (0, 1, 2, 3, 9, 10, 13, 17, 18)]
"""Observe-Composite of a subset of these is one observation per subset (512 of them)."""


async def observe_subset(server: FakeServer, index: int) -> object:
    """An Observe-Composite of the paths selected by the bits of ``index``."""
    paths = [path for bit, path in enumerate(PATHS) if index >> bit & 1]
    return await server.request(
        EP,
        FETCH,
        "/",
        payload=encode_composite_request(ContentFormat.SENML_CBOR, paths),
        content_format=int(ContentFormat.SENML_CBOR),
        accept=int(ContentFormat.SENML_JSON),
        observe=0,
    )


async def test_observes_beyond_the_limit_are_answered_without_observe(server: FakeServer) -> None:
    log = EventLog()
    limits = EndpointLimits(max_observers=LIMIT)
    async with registered_device(server, EP, log=log, limits=limits) as dev:
        resources = ["/3303/0/5700", "/3303/0/5701", "/3/0/0", "/3/0/1", "/3/0/2", "/3/0/3"]
        observations = [server.observe(EP, path) for path in [*resources, "/3/0/9", "/3/0/10"]]
        firsts = await asyncio.gather(*(o.response for o in observations))
        assert all(f.opt.observe is not None for f in firsts)
        assert len(dev.observations) == LIMIT
        extra = [await server.request(EP, GET, "/3/0/13", observe=0) for _ in range(3 * LIMIT)]
        assert all(r.opt.observe is None and r.code == 69 for r in extra)
        assert len(dev.observations) == LIMIT and dev.observations.refused == 3 * LIMIT
        # a cancelled observation makes room for a new one
        await asyncio.wait_for(observations[0].cancel(), 5.0)
        assert len(dev.observations) == LIMIT - 1
        again = server.observe(EP, "/3/0/17")
        assert (await again.response).opt.observe is not None
        assert len(dev.observations) == LIMIT
        # a Reset ends one too
        log.skip(ObservationEnded)  # the cancel's
        observations[0 + 1].cancel_by_reset()  # observes /3303/0/5701
        dev.tree.set_value("/3303/0/5701", "K")  # its notification is answered with RST
        ended = await log.next(ObservationEnded)  # bounded by asyncio.wait_for
        assert ended.reason == "reset by the server" and ended.paths == (Path(3303, 0, 5701),)
        assert len(dev.observations) == LIMIT - 1
        # a re-Observe of the same path from the same server replaces, even when full
        await server.observe(EP, "/3/0/18").response
        assert len(dev.observations) == LIMIT
        replaced = await server.request(EP, GET, "/3/0/18", observe=0)
        assert replaced.opt.observe is not None and len(dev.observations) == LIMIT
        await dev.stop()  # de-registration releases them all
        assert len(dev.observations) == 0


async def test_the_default_bound_is_the_coap_layers(server: FakeServer) -> None:
    async with registered_device(server, EP) as dev:
        limit = dev.config.limits.max_observers
        assert limit == 256
        answers = [await observe_subset(server, index) for index in range(1, limit + 21)]
        established = [a for a in answers if a.opt.observe is not None]
        assert len(established) == limit and len(dev.observations) == limit


@pytest.mark.slow
async def test_memory_stays_flat_under_an_observe_flood(server: FakeServer) -> None:
    """Beyond the bound, more Observes cost nothing that stays (tracemalloc, not timing)."""
    async with registered_device(server, EP) as dev:
        for index in range(1, 300):  # fill the bound (256) and then some
            await observe_subset(server, index)
        assert len(dev.observations) == 256
        tracemalloc.start()
        try:
            gc.collect()
            before = tracemalloc.get_traced_memory()[0]
            for index in range(300, 511):
                await observe_subset(server, index)
            for _ in range(300):
                await server.request(EP, GET, "/3/0/13", observe=0)
            gc.collect()
            grown = tracemalloc.get_traced_memory()[0] - before
        finally:
            tracemalloc.stop()
        assert len(dev.observations) == 256
        assert dev.observations.refused >= 211 + 300 - 1
        assert grown < 256 * 1024, f"grew by {grown} bytes over 511 refused Observes"
