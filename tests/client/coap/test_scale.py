"""Many endpoints in one process: each its own port, nothing running while idle."""

from __future__ import annotations

import asyncio

import pytest
from aiocoap import Message
from aiocoap.numbers.codes import Code

from fleet.client.coap import BindError, CoapEndpoint

pytestmark = pytest.mark.asyncio


async def test_500_endpoints_get_500_distinct_ports_and_all_answer() -> None:
    endpoints = [
        await CoapEndpoint.bind(
            "127.0.0.1", handler=lambda r: Message(code=Code.CONTENT, payload=b"ok")
        )
        for _ in range(500)
    ]
    client = await CoapEndpoint.bind("127.0.0.1")
    try:
        ports = {endpoint.address[1] for endpoint in endpoints}
        assert len(ports) == 500
        assert 0 not in ports
        tasks_before = len(asyncio.all_tasks())
        responses = await asyncio.gather(
            *(client.request(Message(code=Code.GET), e.address) for e in endpoints[::50])
        )
        assert {r.payload for r in responses} == {b"ok"}
        assert len(asyncio.all_tasks()) == tasks_before  # no task per endpoint
    finally:
        client.close()
        for endpoint in endpoints:
            endpoint.close()


async def test_binding_a_taken_port_is_a_bind_error() -> None:
    first = await CoapEndpoint.bind("127.0.0.1")
    try:
        with pytest.raises(BindError) as caught:
            await CoapEndpoint.bind("127.0.0.1", first.address[1])
        assert caught.value.errno is not None
    finally:
        first.close()


async def test_close_is_idempotent_and_reported() -> None:
    endpoint = await CoapEndpoint.bind("::1")
    assert not endpoint.closed
    endpoint.close()
    endpoint.close()
    assert endpoint.closed and "closed" in repr(endpoint)
