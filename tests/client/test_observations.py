"""Observe over real UDP with a ManualClock: when notifications go out, what they carry, and end.

Timing is read from the device's NotificationSent events, which are emitted
synchronously as the clock moves (so "nothing before pmin" is exact); the
content from the notifications the fake server receives.
"""

from __future__ import annotations

import pytest

from fleet.client.events import NotificationSent, ObservationEnded
from fleet.clock import ManualClock
from fleet.codec import ContentFormat, decode, decode_composite, encode_composite_request
from fleet.model import Path, flatten

from .fakes import (
    DELETE,
    FETCH,
    POST,
    PUT,
    EventLog,
    FakeServer,
    next_notification,
    registered_device,
)

pytestmark = pytest.mark.asyncio

EP = "dev-1"
SENSOR = "/3303/0/5700"
F = ContentFormat


def sent_times(log: EventLog) -> list[float]:
    return [e.time for e in log.of(NotificationSent)]


async def test_observe_answers_and_notifies_changes(server: FakeServer) -> None:
    log = EventLog()
    async with registered_device(server, EP, log=log) as device:
        observation = server.observe(EP, SENSOR)
        first = await observation.response
        assert first.payload == b"21.0" and first.opt.observe is not None
        assert int(first.opt.content_format) == 0
        device.tree.set_value(SENSOR, 22.5)
        notification = await next_notification(observation)
        assert notification.payload == b"22.5"
        assert notification.opt.observe > first.opt.observe
        (sent,) = log.of(NotificationSent)
        assert sent.paths == (Path(3303, 0, 5700),) and sent.confirmable is False
        device.tree.set_value("/3303/0/5701", "K")  # another resource: nothing
        assert len(log.of(NotificationSent)) == 1


async def test_pmin_holds_back_and_pmax_forces(server: FakeServer) -> None:
    clock = ManualClock()
    log = EventLog()
    async with registered_device(server, EP, clock=clock, log=log) as device:
        written = await server.request(EP, PUT, SENSOR, query=["pmin=10", "pmax=30"])
        assert int(written.code) == 68
        observation = server.observe(EP, SENSOR)
        await observation.response
        await clock.advance(3)
        device.tree.set_value(SENSOR, 23.0)
        await clock.advance(6.9)
        assert sent_times(log) == []  # nothing before pmin
        device.tree.set_value(SENSOR, 24.0)
        await clock.advance(0.1)
        assert sent_times(log) == [10.0]
        assert (await next_notification(observation)).payload == b"24.0"  # the value then
        await clock.advance(29.9)
        assert sent_times(log) == [10.0]
        await clock.advance(0.1)
        assert sent_times(log) == [10.0, 40.0]  # pmax after the last notification
        assert (await next_notification(observation)).payload == b"24.0"


async def test_thresholds_and_step_from_the_observe_query(server: FakeServer) -> None:
    clock = ManualClock()
    log = EventLog()
    async with registered_device(server, EP, clock=clock, log=log) as device:
        observation = server.observe(EP, SENSOR, query=["gt=25", "lt=15"])
        await observation.response
        values = [24.0, 26.0, 27.0, 16.0, 14.0, 14.5]
        for value in values:
            await clock.advance(1)
            device.tree.set_value(SENSOR, value)
        got = [(await next_notification(observation)).payload for _ in range(3)]
        assert got == [b"26.0", b"16.0", b"14.0"]  # crossing gt up, gt down, lt down
        assert sent_times(log) == [2.0, 4.0, 5.0]

        stepping = server.observe(EP, "/3303/0/5602", query=["st=2"])  # max measured
        await stepping.response
        log.events.clear()
        for value in [27.5, 28.9, 29.0, 30.9, 31.0]:
            device.tree.set_value(SENSOR, value)
        assert [(await next_notification(stepping)).payload for _ in range(2)] == [
            b"29.0",
            b"31.0",
        ]


async def test_attribute_inheritance_and_defaults_from_the_server_object(
    server: FakeServer,
) -> None:
    clock = ManualClock()
    log = EventLog()
    async with registered_device(server, EP, clock=clock, log=log, default_pmax=20) as device:
        observation = server.observe(EP, SENSOR)
        await observation.response
        await clock.advance(20)
        assert sent_times(log) == [20.0]  # /1/0/3 Default Maximum Period
        await server.request(EP, PUT, "/3303", query=["pmax=5"])  # object level wins
        await clock.advance(5)
        assert sent_times(log) == [20.0, 25.0]
        await server.request(EP, PUT, "/3303/0/5700", query=["pmax=7"])  # resource level wins
        await clock.advance(7)
        assert sent_times(log) == [20.0, 25.0, 32.0]
        await server.request(EP, PUT, "/3303/0/5700", query=["pmax"])  # removed: object again
        await server.request(EP, PUT, "/3303", query=["pmax"])
        await server.request(EP, PUT, "/1/0/3", payload=b"100", content_format=0)
        await clock.advance(99)
        assert sent_times(log) == [20.0, 25.0, 32.0]
        await clock.advance(1)
        assert sent_times(log) == [20.0, 25.0, 32.0, 132.0]
        assert device.observations.all()[0].attrs.pmax == 100


async def test_observing_an_instance_reports_changes_below_it(server: FakeServer) -> None:
    log = EventLog()
    async with registered_device(server, EP, log=log) as device:
        observation = server.observe(EP, "/3303/0", accept=int(F.SENML_JSON))
        first = await observation.response
        assert int(first.opt.content_format) == F.SENML_JSON
        device.tree.set_value(SENSOR, 30.0)
        notification = await next_notification(observation)
        node = decode(F.SENML_JSON, notification.payload, Path(3303, 0), device.models)
        values = flatten(node, Path(3303, 0))
        assert values[Path(3303, 0, 5700)] == 30.0 and values[Path(3303, 0, 5602)] == 30.0


async def test_observe_composite(server: FakeServer) -> None:
    log = EventLog()
    async with registered_device(server, EP, log=log) as device:
        paths = [Path(3303, 0, 5700), Path(3, 0, 9)]
        observation = server.observe(
            EP,
            "/",
            method=FETCH,
            payload=encode_composite_request(F.SENML_CBOR, paths),
            content_format=int(F.SENML_CBOR),
            accept=int(F.SENML_JSON),
        )
        first = await observation.response
        assert flatten(decode_composite(F.SENML_JSON, first.payload, device.models)) == {
            Path(3303, 0, 5700): 21.0,
            Path(3, 0, 9): 87,
        }
        device.tree.set_value("/3/0/9", 50)
        notification = await next_notification(observation)
        values = flatten(decode_composite(F.SENML_JSON, notification.payload, device.models))
        assert values == {Path(3303, 0, 5700): 21.0, Path(3, 0, 9): 50}
        assert log.of(NotificationSent)[0].paths == tuple(paths)


async def test_a_second_observe_of_the_same_path_replaces_the_first(server: FakeServer) -> None:
    log = EventLog()
    async with registered_device(server, EP, log=log) as device:
        first = server.observe(EP, SENSOR)
        await first.response
        second = server.observe(EP, SENSOR)
        await second.response
        assert len(device.observations) == 1
        assert device.observations.all()[0].token == second.token
        device.tree.set_value(SENSOR, 19.0)
        assert (await next_notification(second)).payload == b"19.0"
        assert len(log.of(NotificationSent)) == 1
        assert device.endpoint is not None and device.endpoint.stats().observers == 1


async def test_cancel_by_observe_1(server: FakeServer) -> None:
    log = EventLog()
    async with registered_device(server, EP, log=log) as device:
        observation = server.observe(EP, SENSOR)
        await observation.response
        answer = await observation.cancel(timeout=5)
        assert answer.payload == b"21.0" and answer.opt.observe is None
        assert len(device.observations) == 0
        assert log.of(ObservationEnded)[0].reason == "cancelled (Observe=1)"
        device.tree.set_value(SENSOR, 19.0)
        assert log.of(NotificationSent) == []


async def test_cancel_by_reset(server: FakeServer) -> None:
    log = EventLog()
    async with registered_device(server, EP, log=log) as device:
        observation = server.observe(EP, SENSOR)
        await observation.response
        observation.cancel_by_reset()  # the server forgets; its next notification gets RST
        device.tree.set_value(SENSOR, 19.0)
        ended = await log.next(ObservationEnded)
        assert ended.reason == "reset by the server"
        assert len(device.observations) == 0
        device.tree.set_value(SENSOR, 18.0)
        assert len(log.of(NotificationSent)) == 1


async def test_deleting_the_observed_instance_ends_with_404(server: FakeServer) -> None:
    async with registered_device(server, EP) as device:
        created = await server.request(EP, POST, "/3303")
        location = "/" + "/".join(created.opt.location_path)
        observation = server.observe(EP, location)
        await observation.response
        await server.request(EP, DELETE, location)
        final = await next_notification(observation)
        assert int(final.code) == 132
        assert not observation.active and len(device.observations) == 0


async def test_deregistration_drops_every_observation(server: FakeServer) -> None:
    async with registered_device(server, EP) as device:
        for path in (SENSOR, "/3/0", "/3442/0/110"):
            await server.observe(EP, path).response
        assert len(device.observations) == 3
        await device.stop()
        assert len(device.observations) == 0


@pytest.mark.parametrize(
    ("settings", "query", "confirmable"),
    [
        ({}, [], False),
        ({"confirmable_notifications": True}, [], True),
        ({"lwm2m_version": "1.2"}, ["con=1"], True),
        ({"lwm2m_version": "1.2", "confirmable_notifications": True}, ["con=0"], False),
    ],
)
async def test_confirmable_or_not(
    server: FakeServer, settings: dict[str, object], query: list[str], confirmable: bool
) -> None:
    log = EventLog()
    async with registered_device(server, EP, log=log, **settings) as device:  # type: ignore[arg-type]
        observation = server.observe(EP, SENSOR, query=query)
        await observation.response
        device.tree.set_value(SENSOR, 40.0)
        assert (await next_notification(observation)).payload == b"40.0"
        assert log.of(NotificationSent)[0].confirmable is confirmable


async def test_a_daily_confirmable_notification(server: FakeServer) -> None:
    clock = ManualClock()
    log = EventLog()
    async with registered_device(server, EP, clock=clock, log=log) as device:
        observation = server.observe(EP, SENSOR, query=["pmax=3600"])
        await observation.response
        await clock.advance(86400)
        kinds = [e.confirmable for e in log.of(NotificationSent)]
        assert len(kinds) == 24 and kinds[:23] == [False] * 23 and kinds[23] is True
        assert device.observations.all()[0].con_at == 86400.0


async def test_the_first_answer_is_numbered_1(server: FakeServer) -> None:
    async with registered_device(server, EP) as device:
        first = await server.observe(EP, SENSOR).response
        assert first.opt.observe == 1  # node-coap 0.22 (lwm2m-node-lib) drops a 0
        device.tree.set_value(SENSOR, 1.0)
        assert device.endpoint is not None and device.endpoint.stats().observers == 1
