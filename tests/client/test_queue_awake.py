"""Queue mode: /1/0/6 (store or discard while asleep), a full store, and staying awake while
an answer is still on its way (a request answered late, a Send awaiting its separate response).

The devices run on a ManualClock; the fake server on the loop clock.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import pytest
from aiocoap import Code, Message

from fleet.client.coap.endpoint import CoapEndpoint
from fleet.client.coap.params import EndpointLimits
from fleet.client.events import NotificationSent, Retransmitted, SendDone, Slept, Woke
from fleet.client.queue import STORED_LIMIT, NotifyAction, QueueRules, notification_action
from fleet.client.registration import update_due
from fleet.client.site import Verdict
from fleet.clock import ManualClock

from .fakes import GET, WAIT, EventLog, FakeServer, next_notification, registered_device

EP = "dev-1"
TEMPERATURE = "/3303/0/5700"
SLEEPY = {"binding": "UQ", "lwm2m_version": "1.0", "awake_time": 10.0, "lifetime": 300}


def test_storing_false_discards_only_what_would_be_stored() -> None:
    waits, wakes = QueueRules(93.0, False), QueueRules(93.0, True)
    assert notification_action(waits, asleep=True, storing=False) is NotifyAction.DISCARD
    assert notification_action(waits, asleep=True, storing=True) is NotifyAction.STORE
    assert notification_action(wakes, asleep=True, storing=False) is NotifyAction.WAKE_AND_SEND
    assert notification_action(waits, asleep=False, storing=False) is NotifyAction.SEND


@pytest.mark.asyncio
async def test_storing_disabled_discards_notifications_due_while_asleep(
    server: FakeServer,
) -> None:
    clock, log = ManualClock(), EventLog()
    async with registered_device(server, EP, clock=clock, log=log, **SLEEPY) as device:
        device.tree.set_value("/1/0/6", False)  # Notification Storing When Disabled or Offline
        observation = server.observe(EP, TEMPERATURE, query=("pmin=0",))
        await observation.response
        await clock.advance(10.0)
        await log.next(Slept)
        device.tree.set_value(TEMPERATURE, 40.0)
        device.tree.set_value(TEMPERATURE, 41.0)
        queue = device.queue
        assert queue is not None and (queue.stored, queue.discarded) == (0, 2)
        await clock.advance(update_due(0.0, 300) - 10.0)
        woke = await log.next(Woke)
        assert (woke.reason, woke.stored) == ("update", 0)
        await server.next("update")
        device.tree.set_value(TEMPERATURE, 42.0)  # awake: sent at once
        assert (await next_notification(observation)).payload == b"42.0"
        assert [e.due for e in log.of(NotificationSent)] == [update_due(0.0, 300)]


@pytest.mark.asyncio
async def test_a_full_store_drops_the_oldest_and_warns_once_per_sleep(
    server: FakeServer, caplog: pytest.LogCaptureFixture
) -> None:
    clock, log = ManualClock(), EventLog()
    async with registered_device(server, EP, clock=clock, log=log, **SLEEPY) as device:
        observation = server.observe(EP, TEMPERATURE, query=("pmin=0",))
        await observation.response
        await clock.advance(10.0)
        await log.next(Slept)
        with caplog.at_level(logging.WARNING, logger="fleet.client.queue"):
            for i in range(STORED_LIMIT + 5):
                device.tree.set_value(TEMPERATURE, float(i))
        queue = device.queue
        assert queue is not None and (queue.stored, queue.overflowed) == (STORED_LIMIT, 5)
        warned = [r for r in caplog.records if r.name == "fleet.client.queue"]
        assert len(warned) == 1 and "dropping the oldest" in warned[0].getMessage()


@pytest.mark.asyncio
async def test_a_late_answer_keeps_the_device_awake_until_it_is_acknowledged(
    server: FakeServer,
) -> None:
    clock, log = ManualClock(), EventLog()
    async with registered_device(
        server, EP, clock=clock, log=log, binding="UQ", awake_time=10.0, lifetime=3000
    ) as device:
        device.add_interceptor(lambda request, operation, path: Verdict.delay(15.0))
        reading = asyncio.ensure_future(server.request(EP, GET, "/3/0/0"))
        await clock.advance(10.0)  # awake_time passes while the answer is still being made
        assert not device.asleep and not log.of(Slept)
        await clock.advance(5.0)  # the separate response goes
        response = await asyncio.wait_for(reading, WAIT)
        assert response.code == Code.CONTENT and response.payload == b"lwm2m-fleet"
        await clock.advance(2.0)  # its ACK arrived while awake: never retransmitted
        assert not log.of(Retransmitted) and not device.asleep
        await clock.advance(10.0)  # then awake_time after the end of the exchange
        assert (await log.next(Slept)).time > 15.0


@pytest.mark.asyncio
async def test_a_send_awaiting_its_separate_response_keeps_the_device_awake() -> None:
    gate: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
    server = FakeServer(endpoint=None)  # type: ignore[arg-type]

    def handle(request: Any) -> Any:
        if tuple(request.opt.uri_path) == ("dp",):
            server._record("send", request, lambda r: None)
            return gate  # an empty ACK now, the response when the test says so
        return server._handle(request)

    limits = EndpointLimits(empty_ack_delay=0.0)
    server.endpoint = await CoapEndpoint.bind("127.0.0.1", handler=handle, limits=limits)
    clock, log = ManualClock(), EventLog()
    try:
        async with registered_device(
            server, EP, clock=clock, log=log, binding="UQ", awake_time=10.0, lifetime=3000
        ) as device:
            sending = asyncio.ensure_future(device.send(["/3/0/0"]))
            await server.next("send")
            endpoint = device.endpoint
            assert endpoint is not None
            for _ in range(200):  # the empty ACK crosses the loopback: nothing to await on
                if not endpoint.outstanding_count:
                    break
                await asyncio.sleep(0.005)
            assert endpoint.outstanding_count == 0 and endpoint.in_flight == 1
            await clock.advance(12.0)
            assert not device.asleep and not log.of(Slept)
            gate.set_result(Message(code=Code.CHANGED))
            done: SendDone = await asyncio.wait_for(sending, WAIT)
            assert done.code == "2.04"
            assert endpoint.in_flight == 0
    finally:
        server.close()
