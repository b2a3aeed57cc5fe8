"""ICMP port unreachable on the device's unconnected socket: the exchange ends at once.

Linux reports ICMP errors to an unconnected UDP socket only with ``IP_RECVERR`` /
``IPV6_RECVERR`` (ip(7)); the endpoint then reads its error queue, so a Register to a
port where nothing listens fails in milliseconds instead of after CoAP's 93 s
(RFC 7252 §4.8.2 MAX_TRANSMIT_WAIT), and the queue never takes the receive buffer.
"""

from __future__ import annotations

import asyncio
import socket

import pytest

from fleet.client.coap.endpoint import CoapEndpoint
from fleet.client.coap.errors import CoapTimeout, CoapUnreachable
from fleet.client.coap.params import TransmissionParameters
from fleet.client.coap.wire import Message
from fleet.clock import ManualClock

pytestmark = pytest.mark.asyncio

GET = 1


def _dead(host: str) -> tuple[str, int]:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_DGRAM) as probe:
        probe.bind((host, 0))
        return (host, int(probe.getsockname()[1]))


@pytest.mark.parametrize("host", ["127.0.0.1", "::1"])
async def test_a_port_with_nothing_listening_ends_the_exchange_at_once(host: str) -> None:
    clock = ManualClock()  # never advanced: no retransmission can be what ends it
    endpoint = await CoapEndpoint.bind(host, clock=clock, report_unreachable=True)
    remote = _dead(host)
    try:
        with pytest.raises(CoapUnreachable) as caught:
            await asyncio.wait_for(endpoint.request(Message(code=GET, uri_path=("rd",)), remote), 5)
        where = f"[{host}]" if ":" in host else host
        assert str(caught.value) == f"{where}:{remote[1]}: port unreachable (ICMP)"
        assert caught.value.reason == "port unreachable"
        assert endpoint.outstanding_count == 0
        for _ in range(3):  # again and again: the error queue is read every time
            with pytest.raises(CoapUnreachable):
                await asyncio.wait_for(endpoint.request(Message(code=GET), remote), 5)
    finally:
        endpoint.close()


async def test_without_the_error_queue_only_retransmission_decides() -> None:
    clock = ManualClock()
    params = TransmissionParameters(ack_timeout=1.0, ack_random_factor=1.0, max_retransmit=2)
    endpoint = await CoapEndpoint.bind("127.0.0.1", clock=clock, params=params)
    try:
        exchange = asyncio.ensure_future(endpoint.request(Message(code=GET), _dead("127.0.0.1")))
        await clock.advance(0.0)  # the request is sent
        while not exchange.done():
            deadline = clock.next_deadline()
            assert deadline is not None
            await clock.advance(deadline - clock.now())
        with pytest.raises(CoapTimeout, match=r"after 3 transmissions$"):
            await asyncio.wait_for(exchange, 5)
    finally:
        endpoint.close()
