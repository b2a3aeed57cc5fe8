"""The server's memory stays flat under the abuse it refuses (issue 21), as under churn
(test_memory.py) and hostile datagrams (tests/fuzz): DTLS handshakes of identities it does
not know (refused with an alert at once), and plain-CoAP strangers updating, de-registering
and re-registering the name of a DTLS registration (refused by the binding rules). What a
third batch allocates beyond the second is bounded (tracemalloc, not timing), over real UDP
and DTLS; marked slow (a few hundred handshakes)."""

from __future__ import annotations

import gc
import logging
import tracemalloc
from collections.abc import Awaitable, Callable

import pytest

from fleet.client.coap.dtls import DtlsHandshakeError, open_dtls_client
from fleet.client.coap.psk import PskCredentials
from fleet.client.config import DeviceConfig
from fleet.client.credentials import key_lookup
from fleet.client.device import Device
from fleet.clock import ManualClock
from fleet.server import Lwm2mServer
from tests.client.dtls.helpers import requires_dtls
from tests.server.fakes import FakeDevice
from tests.server.test_dtls import KEYS, registered, within
from tests.server.test_memory import LIMITS

pytestmark = [pytest.mark.asyncio, pytest.mark.slow, requires_dtls]
BATCH = 150
GROWTH = 256 * 1024


async def _grown(abuse: Callable[[int], Awaitable[None]]) -> int:
    """Bytes the third of three batches of ``abuse`` left allocated beyond the second."""
    tracemalloc.start()
    try:
        marks = []
        for batch in range(3):  # the first fills every bounded table (history, dedup)
            await abuse(batch)
            gc.collect()
            marks.append(tracemalloc.get_traced_memory()[0])
        return marks[2] - marks[1]
    finally:
        tracemalloc.stop()


async def test_refused_handshakes_and_strangers_leave_the_server_flat(
    caplog: pytest.LogCaptureFixture,
) -> None:
    # each refusal is a WARNING: kept by pytest's capture, it would be this test's growth
    caplog.set_level(logging.ERROR, logger="fleet.server")
    clock = ManualClock()
    async with await Lwm2mServer.start(
        clock=clock,
        psk=key_lookup([KEYS]),
        dtls_port=0,
        request_timeout=5.0,
        limits=LIMITS,
        history=100,
    ) as server:
        assert server.secure_address is not None and server.secure_uri is not None
        device = Device(
            DeviceConfig("sim-000001", server=server.secure_uri, psk=KEYS.credentials(1, "")),
            clock=clock,
        )
        stranger = await FakeDevice.start(server.address, "sim-000001")
        try:
            await registered(server, device)
            record = server.registration("sim-000001")
            assert record is not None
            location = record.location_path

            async def abuse(batch: int) -> None:
                for index in range(BATCH):
                    nobody = PskCredentials.of(f"nobody-{batch}-{index}", "hex:00")
                    with pytest.raises(DtlsHandshakeError, match="DTLS alert"):
                        await within(
                            open_dtls_client(
                                "127.0.0.1", server.secure_address, nobody, clock=ManualClock()
                            )
                        )
                    stranger.location = location
                    assert (await stranger.update()).code.dotted == "4.00"
                    assert (await stranger.deregister()).code.dotted == "4.00"
                    assert (await stranger.register()).code.dotted == "4.03"

            grown = await _grown(abuse)
        finally:
            stranger.close()
            await within(device.stop())
        stats = server.stats()
        assert stats["dtls"].failed_handshakes >= 3 * BATCH
        assert (
            server.counters.refused_context >= 3 * 2 * BATCH
        )  # Updates and De-registers  # every stranger's request refused
        assert grown < GROWTH, f"the server grew by {grown} bytes over the second batch"
