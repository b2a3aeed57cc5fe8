"""Expectations, fault injection, the manual clock and the synchronous face, through pytester."""

from __future__ import annotations

from tests.testing.conftest import Run

EXPECTATION_TESTS = """
import pytest

@pytest.mark.asyncio
@pytest.mark.lwm2m_device("dev-ok")
async def test_write_expected(lwm2m_server, lwm2m_device):
    expected = lwm2m_device.expect(operation="write", path="/3442/0/110", within=5)
    assert (await lwm2m_server.write("dev-ok", "/3442/0/110", "hello")).ok
    exchange = await expected
    assert (exchange.name, exchange.code, exchange.payload) == ("write", "2.04", b"hello")
    assert lwm2m_device.value("/3442/0/110") == "hello"

@pytest.mark.asyncio
@pytest.mark.lwm2m_device("dev-failed")
async def test_failed_anyway(lwm2m_device):
    lwm2m_device.expect(operation="write", path="/3442/0/110", within=60)
    assert lwm2m_device.requests, "nothing was asked"

@pytest.mark.asyncio
@pytest.mark.lwm2m_device("dev-late")
async def test_write_never_comes(lwm2m_server, lwm2m_device):
    lwm2m_device.expect(operation="write", path="/3442/0/110", within=0.3)
    await lwm2m_server.read("dev-late", "/3442/0/110")
"""


def test_unmet_expectation_fails_at_teardown_with_the_log(run: Run) -> None:
    result = run(EXPECTATION_TESTS)
    # a test that already failed is not also failed (nor held 60 s) for its expectations
    result.assert_outcomes(passed=2, failed=1, errors=1)
    result.stdout.no_fnmatch_line("*expected WRITE on /3442/0/110 within 60 s*")
    result.stdout.fnmatch_lines(
        [
            "*ERROR at teardown of test_write_never_comes*",
            "unmet LwM2M expectations:",
            "dev-late: expected WRITE on /3442/0/110 within 0.3 s, not received",
            "dev-late: 1 request(s) received",
            "  t=* READ /3442/0/110 -> 2.05*",
            "*- LwM2M exchanges: dev-late -*",
        ]
    )
    result.stdout.no_fnmatch_line("*dev-ok*")


FAULT_TESTS = """
import pytest

@pytest.mark.asyncio
@pytest.mark.lwm2m_device("dev-f")
async def test_rejects_one_write(lwm2m_server, lwm2m_device):
    fault = lwm2m_device.inject_fault(operation="write", path="/3442/0/110", code="4.05")
    first = await lwm2m_server.write("dev-f", "/3442/0/110", "no")
    second = await lwm2m_server.write("dev-f", "/3442/0/110", "yes")
    assert (first.code, second.code) == ("4.05", "2.04")
    assert lwm2m_device.value("/3442/0/110") == "yes"
    assert [e.faulted for e in lwm2m_device.requests] == [True, False]
    assert fault.spent and fault.hits == lwm2m_device.requests[:1]

@pytest.mark.asyncio
@pytest.mark.lwm2m_device("dev-g")
async def test_platform_assumes_success(lwm2m_server, lwm2m_device):
    lwm2m_device.inject_fault("write", code="5.03", times=2)
    await lwm2m_server.write("dev-g", "/3442/0/110", "a")
    result = await lwm2m_server.write("dev-g", "/3442/0/110", "b")
    assert result.ok, result.reason
"""


def test_fault_injection(run: Run) -> None:
    result = run(FAULT_TESTS)
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines(
        [
            "*AssertionError: Service Unavailable*",
            "*- LwM2M exchanges: dev-g -*",
            "  t=* WRITE /3442/0/110 fmt=0 payload=b'a' -> 5.03 [[]injected fault]",
            "  t=* WRITE /3442/0/110 fmt=0 payload=b'b' -> 5.03 [[]injected fault]",
        ]
    )


CLOCK_TESTS = """
import pytest

@pytest.mark.asyncio
async def test_pmin_pmax(lwm2m_clock, lwm2m_server, lwm2m_device_factory):
    device = await lwm2m_device_factory("sensor", values={"/3303/0/5700": 20.0})
    handle = await lwm2m_server.observe("sensor", "/3303/0/5700", pmin=2, pmax=10)
    await device.set_value("/3303/0/5700", 21.5)
    await lwm2m_clock.advance(1.5)
    assert handle.pending() == []          # pmin holds the change back
    await lwm2m_clock.advance(0.5)
    assert (await handle.next(timeout=5)).value == 21.5
    await lwm2m_clock.advance(10)          # nothing changed: pmax sends anyway
    assert (await handle.next(timeout=5)).value == 21.5
    assert lwm2m_clock.now() == 12

@pytest.mark.asyncio
async def test_expects_change_before_pmin(lwm2m_clock, lwm2m_server, lwm2m_device_factory):
    device = await lwm2m_device_factory("sensor-2")
    handle = await lwm2m_server.observe("sensor-2", "/3303/0/5700", pmin=5)
    await device.set_value("/3303/0/5700", 30.0)
    await lwm2m_clock.advance(4)
    assert len(handle.pending()) == 1
"""


def test_manual_clock_drives_observation_timing(run: Run) -> None:
    result = run(CLOCK_TESTS)
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines(
        [
            "*test_expects_change_before_pmin*",
            "*assert 0 == 1*",
            "*- LwM2M exchanges: sensor-2 -*",
            "  t=0.000 OBSERVE /3303/0/5700 ?pmin=5 -> 2.05*",
        ]
    )


SYNC_TESTS = """
import pytest

@pytest.mark.lwm2m_device("plain", values={"/3/0/1": "Model-X"})
def test_sync(lwm2m_server_sync, lwm2m_device_sync):
    assert lwm2m_server_sync.read("plain", "/3/0/1").value == "Model-X"
    expected = lwm2m_device_sync.expect("execute", "/3/0/4")
    assert lwm2m_server_sync.execute("plain", "/3/0/4").ok
    assert expected.met
    assert [e.name for e in lwm2m_device_sync.requests] == ["read", "execute"]

def test_sync_observation(lwm2m_server_sync, lwm2m_device_factory_sync):
    device = lwm2m_device_factory_sync("obs", values={"/3303/0/5700": 1.0})
    observation = lwm2m_server_sync.observe("obs", "/3303/0/5700")
    device.set_value("/3303/0/5700", 2.0)
    assert observation.next(timeout=5).value == 2.0

@pytest.mark.lwm2m_device("plain-2")
def test_sync_failing(lwm2m_server_sync, lwm2m_device_sync):
    lwm2m_device_sync.inject_fault("read", "/3/0/1", code="4.04")
    assert lwm2m_server_sync.read("plain-2", "/3/0/1").ok
"""


def test_synchronous_face(run: Run) -> None:
    result = run(SYNC_TESTS)
    result.assert_outcomes(passed=2, failed=1)
    result.stdout.fnmatch_lines(
        [
            "*_ test_sync_failing _*",
            "*- LwM2M exchanges: plain-2 -*",
            "  t=* READ /3/0/1 -> 4.04 [[]injected fault]",
        ]
    )
