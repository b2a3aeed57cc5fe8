"""The server's memory stays flat under churn: everything per device is released when it leaves.

25,000 names registered and de-registered once grew the server from 39 to 102 MB: a record per
endpoint was kept forever. Now the records of the last ``retired_records`` ended registrations
stay readable and older ones are released. Checked by allocated bytes (tracemalloc), not by
timing, over real UDP (marked slow: a few thousand round trips).
"""

from __future__ import annotations

import dataclasses
import gc
import tracemalloc

import pytest

from fleet.clock import ManualClock
from fleet.server import Lwm2mServer
from fleet.server.server import SERVER_LIMITS
from tests.server.fakes import FakeDevice

pytestmark = pytest.mark.asyncio
RETIRED = 100
LIMITS = dataclasses.replace(SERVER_LIMITS, dedup_max_entries=RETIRED)
"""A small deduplication cache, so that it is full (flat) after the warm-up too."""


async def _churn(server: Lwm2mServer, device: FakeDevice, first: int, count: int) -> None:
    for index in range(first, first + count):
        name = f"churn-{index:06d}"
        response = await device.register(query=[f"ep={name}", "lt=60", "lwm2m=1.1", "b=U"])
        assert response.code.dotted == "2.01", response
        assert (await device.deregister()).code.dotted == "2.02"


async def _expire(server: Lwm2mServer, clock: ManualClock, device: FakeDevice, first: int) -> None:
    for index in range(first, first + RETIRED):
        response = await device.register(query=[f"ep=lapse-{index:06d}", "lt=60", "b=U"])
        assert response.code.dotted == "2.01"
    await clock.advance(61)
    assert server.registrations() == []


def _allocated() -> int:
    gc.collect()
    return tracemalloc.get_traced_memory()[0]


@pytest.mark.slow
async def test_memory_is_flat_after_register_deregister_churn_and_expiry() -> None:
    clock = ManualClock()
    async with await Lwm2mServer.start(
        clock=clock, limits=LIMITS, retired_records=RETIRED, history=RETIRED
    ) as server:
        device = await FakeDevice.start(server.address, "churn")
        tracemalloc.start()
        try:
            await _churn(server, device, 0, 500)  # warm-up: every bounded table is full
            await _expire(server, clock, device, 0)
            before = _allocated()
            await _churn(server, device, 500, 2000)
            await _expire(server, clock, device, RETIRED)
            grown = _allocated() - before
        finally:
            tracemalloc.stop()
            device.close()
        assert len(server.devices()) == RETIRED  # the last ones stay readable
        assert server.device(f"lapse-{2 * RETIRED - 1:06d}") is not None
        assert server.device("churn-000000") is None  # released
        assert server.counters.deregistrations == 2500
        assert server.counters.expirations == 2 * RETIRED
        # a record per endpoint would be >= 1 KiB each: 2,100 more names -> > 2 MB
        assert grown < 256 * 1024, f"grew by {grown} bytes after 2,100 more names"
