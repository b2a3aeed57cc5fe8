"""On-register rules and ``*`` commands: every device gets the command, boundedly."""

from __future__ import annotations

import asyncio

import pytest

from fleet.server import Lwm2mServer
from fleet.server.errors import BadRule
from fleet.server.platform import Console
from fleet.server.platform.rules import parse_rule, rule_problem
from tests.platform.conftest import WAIT, DeviceFactory, Recorder, kind_is
from tests.server.fakes import FakeDevice

pytestmark = pytest.mark.asyncio


async def test_a_rule_is_any_console_command_without_the_endpoint() -> None:
    rule = parse_rule("  OBSERVE /3303/0/5700 pmin=1 pmax=10 ")
    assert rule.text == "OBSERVE /3303/0/5700 pmin=1 pmax=10"
    assert rule.commands[0].attributes == {"pmin": 1, "pmax": 10}
    assert len(parse_rule("READ /3/0/0; WRITE /3442/0/110 Hi; EXECUTE /3442/0/2").commands) == 3
    assert parse_rule('{"method": "GET", "path": "/6"}').commands[0].path == "/6"


@pytest.mark.parametrize(
    ("text", "why"),
    [
        ("", "an empty rule"),
        ("dev1 READ /3", "unknown operation 'dev1'"),
        ("dev1 READ /3", "a rule is a command without the endpoint"),
        ("READ /3/x", "bad path '/3/x'"),
        ("OBSERVE /3303/0/5700 pmin=10 pmax=1", "pmax (1) must not be less than pmin (10)"),
        ("OBSERVE /3303/0/5700 every=3", "unknown observe parameter 'every'"),
        ("WRITE /3442/0/110", "no value"),
        ("READ /3; FROB /3", "unknown operation 'FROB' in 'FROB /3'"),
    ],
)
async def test_a_bad_rule_says_what_is_wrong(text: str, why: str) -> None:
    with pytest.raises(BadRule) as caught:
        parse_rule(text)
    assert why in str(caught.value)
    assert rule_problem(text) == str(caught.value)


async def test_rules_run_for_every_device_as_it_registers_and_again_on_re_register(
    server: Lwm2mServer, console: Console, recorder: Recorder, make_device: DeviceFactory
) -> None:
    rules = console.add_rules(
        [parse_rule("OBSERVE /3303/0/5700 pmin=0 pmax=30"), parse_rule("READ /3/0/0")]
    )
    devices = [await make_device(f"dev{n}", lifetime=60) for n in range(3)]
    for n in range(3):
        answer = await recorder.until(
            lambda m, ep=f"dev{n}": kind_is("response", ep)(m) and m["content"]["method"] == "read"
        )
        assert answer["content"]["data"] == {"3/0/0": "lwm2m-fleet"}
    observed = [m for m in recorder.of_type("response") if m["content"]["method"] == "observe"]
    assert sorted(m["content"]["nodeResourceName"] for m in observed) == ["dev0", "dev1", "dev2"]
    assert all(m["content"]["status"]["code"] == 200 for m in observed)
    # the observation is live: a change is notified with the rule's chain labels
    note = recorder.expect(kind_is("notify", "dev1"))
    devices[1].tree.set_value("/3303/0/5700", 31.5)
    notified = await asyncio.wait_for(note, WAIT)
    assert notified["content"]["dataValue"] == 31.5
    dev1_observe = next(m for m in observed if m["content"]["nodeResourceName"] == "dev1")
    assert notified["labels"] == dev1_observe["labels"]
    # registering again ends the observation: the rule observes again (200, not 409)
    again = recorder.expect(
        lambda m: (
            kind_is("response", "dev1")(m)
            and m["content"]["method"] == "observe"
            and all(m is not seen for seen in observed)
        )
    )
    await devices[1].reboot(delay=0)
    reobserved = await asyncio.wait_for(again, WAIT)
    assert reobserved["content"]["status"]["code"] == 200
    await asyncio.wait_for(console.pool.drain(), WAIT)
    assert rules.runs == 4
    assert console.pool.stats.peak <= console.pool.limit


async def test_a_rule_runs_with_bounded_concurrency(
    server: Lwm2mServer, recorder: Recorder, make_device: DeviceFactory
) -> None:
    console = Console(server, recorder.emit, say=recorder.said.append, timeout=1.0, concurrency=2)
    console.add_rules([parse_rule("READ /3/0/0")])
    try:
        for n in range(6):
            await make_device(f"b{n}", lifetime=60)
        await asyncio.wait_for(console.pool.drain(), WAIT)
        reads = [m for m in recorder.of_type("response") if m["content"]["method"] == "read"]
        assert len(reads) == 6
        assert console.pool.stats.peak <= 2 and console.pool.stats.done == 6
    finally:
        console.close()


async def test_star_runs_the_command_for_every_registered_endpoint(
    console: Console, recorder: Recorder, make_device: DeviceFactory
) -> None:
    for n in range(3):
        await make_device(f"s{n}", lifetime=60)
    messages = await console.run_line("* READ /3/0/0; READ /3/0/99")
    assert sorted(m["content"]["nodeResourceName"] for m in messages) == sorted(
        ["s0", "s0", "s1", "s1", "s2", "s2"]
    )
    assert recorder.said[-1] == "* READ /3/0/0; READ /3/0/99: 3 devices, 6 answers: 200 x3, 404 x3"
    await console.run_line("*")
    assert "the command is missing" in recorder.said[-1]


async def test_star_with_nobody_registered_says_so(console: Console, recorder: Recorder) -> None:
    assert await console.run_line("* READ /3") == []
    assert recorder.said[-1] == "* READ /3: no registered device"


async def test_rules_command_reports_the_rules_and_the_pool(
    console: Console, recorder: Recorder, make_device: DeviceFactory
) -> None:
    console.add_rules([parse_rule("READ /3/0/1")])
    await make_device("r1", lifetime=60)
    await console.run_line("RULES --wait")
    report = recorder.said[-1]
    assert report["on_register"] == ["READ /3/0/1"] and report["devices"] == 1
    assert report["pool"]["done"] == 1 and report["pool"]["limit"] == console.pool.limit


async def test_a_registration_burst_never_has_more_than_the_limit_in_flight() -> None:
    """12 devices register at once; their answers are held: exactly 3 requests are out."""
    gate = asyncio.Event()
    in_flight = 0
    three_out = asyncio.Event()

    async def hold() -> None:
        nonlocal in_flight
        in_flight += 1
        if in_flight == 3:
            three_out.set()
        await gate.wait()

    async with await Lwm2mServer.start(request_timeout=WAIT) as server:
        recorder = Recorder()
        console = Console(server, recorder.emit, timeout=WAIT, concurrency=3)
        console.add_rules([parse_rule("READ /3/0/0")])
        devices = [await FakeDevice.start(server.address, f"f{n}") for n in range(12)]
        try:
            for device in devices:
                device.before_answer = hold
            await asyncio.gather(*(device.register() for device in devices))
            await asyncio.wait_for(three_out.wait(), WAIT)
            asked = sum(1 for device in devices if device.seen)
            assert asked == 3 and in_flight == 3
            assert console.pool.stats.running == 3 and console.pool.stats.waiting == 9
            gate.set()
            await asyncio.wait_for(console.pool.drain(), WAIT)
            assert all(len(device.seen) == 1 for device in devices)
            stats = console.pool.stats
            assert (stats.queued, stats.done, stats.peak, stats.failed) == (12, 12, 3, 0)
            assert len(recorder.of_type("response")) == 12
        finally:
            console.close()
            for device in devices:
                device.close()
