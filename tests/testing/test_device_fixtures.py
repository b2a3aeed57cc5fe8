"""The server, device and fleet fixtures, and the request log attached to failing tests."""

from __future__ import annotations

from tests.testing.conftest import Run

DEVICE_TESTS = """
import pytest

@pytest.mark.asyncio
@pytest.mark.lwm2m_device("meter-1", values={"/3/0/0": "ACME"})
async def test_reads_manufacturer(lwm2m_server, lwm2m_device):
    assert lwm2m_device.endpoint == "meter-1"
    result = await lwm2m_server.read("meter-1", "/3/0/0")
    assert result.value == "ACME"
    read = lwm2m_device.received("read", "/3/0/0")
    assert [(e.path, e.code) for e in read] == [("/3/0/0", "2.05")]

@pytest.mark.asyncio
@pytest.mark.lwm2m_device("meter-2")
async def test_wrong_manufacturer(lwm2m_server, lwm2m_device):
    result = await lwm2m_server.read("meter-2", "/3/0/0")
    assert result.value == "Nobody"
"""


def test_device_fixture_passes_and_failing_test_gets_the_exchanges(run: Run) -> None:
    result = run(DEVICE_TESTS)
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines(
        [
            "*_ test_wrong_manufacturer _*",
            "*assert 'lwm2m-fleet' == 'Nobody'*",
            "*- LwM2M exchanges: meter-2 -*",
            "meter-2: 1 request(s) received",
            "  t=* READ /3/0/0 -> 2.05 (* bytes, fmt=0)",
        ]
    )
    result.stdout.no_fnmatch_line("*LwM2M exchanges: meter-1*")


SERVER_TESTS = """
import pytest

@pytest.mark.asyncio
async def test_first(lwm2m_server, lwm2m_device_factory):
    assert lwm2m_server.uri.startswith("coap://127.0.0.1:")
    await lwm2m_device_factory("only-in-first")
    assert [r.endpoint for r in lwm2m_server.registrations()] == ["only-in-first"]

@pytest.mark.asyncio
async def test_second_starts_clean(lwm2m_server):
    assert lwm2m_server.registrations() == []
    assert lwm2m_server.device("only-in-first") is None

@pytest.mark.asyncio
async def test_failing(lwm2m_server):
    assert lwm2m_server.stats()["registered"] == 1
"""


def test_server_fixture_is_fresh_for_each_test(run: Run) -> None:
    result = run(SERVER_TESTS)
    result.assert_outcomes(passed=2, failed=1)
    result.stdout.fnmatch_lines(["*test_failing*", "*assert 0 == 1*"])
    # no device was involved in the failing test: nothing to attach
    result.stdout.no_fnmatch_line("*LwM2M exchanges*")


FLEET_TESTS = """
import pytest

@pytest.mark.asyncio
async def test_fleet(lwm2m_server, lwm2m_fleet):
    fleet = await lwm2m_fleet(3, endpoint="meter-{index}", objects={3303: [0, 1]})
    assert fleet.endpoints == ["meter-0", "meter-1", "meter-2"]
    assert sorted(r.endpoint for r in lwm2m_server.registrations()) == fleet.endpoints
    result = await lwm2m_server.read("meter-1", "/3303/1")
    assert result.ok
    assert [e.path for e in fleet["meter-1"].requests] == ["/3303/1"]
    assert fleet[0].requests == []

@pytest.mark.asyncio
async def test_fleet_expectation_unmet(lwm2m_server, lwm2m_fleet, lwm2m_clock):
    fleet = await lwm2m_fleet(2, endpoint="unit-{index}")
    for device in fleet:
        device.expect("execute", "/3/0/4", within=30)
    await lwm2m_server.execute("unit-0", "/3/0/4")
"""


def test_fleet_factory_and_unmet_expectations_of_a_fleet(run: Run) -> None:
    result = run(FLEET_TESTS)
    result.assert_outcomes(passed=2, errors=1)
    result.stdout.fnmatch_lines(
        [
            "*ERROR at teardown of test_fleet_expectation_unmet*",
            "unmet LwM2M expectations:",
            "unit-1: expected EXECUTE on /3/0/4 within 30 s, not received",
            "unit-1: no requests received",
            "*- LwM2M exchanges: unit-0 -*",
            "  t=* EXECUTE /3/0/4 -> 2.04",
        ]
    )
    result.stdout.no_fnmatch_line("unit-0: expected*")


SCENARIO = """\
version: 1
server: coap://127.0.0.1:5683
groups:
  - name: sensors
    count: 2
    endpoint: "sensor-{index}"
    objects:
      3303: [0]
"""

SCENARIO_TESTS = """
import pytest

@pytest.mark.asyncio
async def test_from_file(lwm2m_server, lwm2m_fleet):
    fleet = await lwm2m_fleet(scenario="fleet.yaml")
    assert fleet.endpoints == ["sensor-0", "sensor-1"]
    assert (await lwm2m_server.read("sensor-1", "/3303/0/5700")).ok

@pytest.mark.asyncio
async def test_missing_file(lwm2m_fleet):
    await lwm2m_fleet(scenario="nope.yaml")
"""


def test_fleet_from_a_scenario_file(run: Run, pytester: object) -> None:
    import pytest

    assert isinstance(pytester, pytest.Pytester)
    pytester.makefile(".yaml", fleet=SCENARIO)
    result = run(SCENARIO_TESTS)
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines(["*test_missing_file*", "*nope.yaml*cannot read the file*"])
