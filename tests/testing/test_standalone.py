"""Without pytest fixtures: ``virtual_device`` as a context manager, the external-server option,
and the small parsers."""

from __future__ import annotations

import pytest

from fleet.client.events import Operation
from fleet.server import Lwm2mServer
from fleet.testing import BackgroundLoop, ExpectationError, SyncServer, virtual_device
from fleet.testing.exchanges import as_code, as_operation
from tests.testing.conftest import Run


@pytest.mark.asyncio
async def test_context_manager_logs_and_verifies() -> None:
    async with await Lwm2mServer.start() as server:
        async with virtual_device("cm-1", server=server.uri, values={"/3/0/0": "X"}) as dev:
            assert dev.is_registered
            expected = dev.expect("read", "/3/0/0", within=5, code="2.05")
            assert (await server.read("cm-1", "/3/0/0")).value == "X"
            assert expected.met_by is dev.requests[0]
        assert not dev.is_registered
        assert server.registration("cm-1") is None


@pytest.mark.asyncio
async def test_context_manager_raises_on_unmet_expectation() -> None:
    async with await Lwm2mServer.start() as server:
        with pytest.raises(ExpectationError) as caught:
            async with virtual_device("cm-2", server=server.uri) as dev:
                dev.expect("delete", "/3303/0", within=0.2)
                await server.read("cm-2", "/3/0/2")
        text = str(caught.value)
        assert "cm-2: expected DELETE on /3303/0 within 0.2 s, not received" in text
        assert "READ /3/0/2 -> 2.05" in text
        assert server.registration("cm-2") is None  # stopped even though it failed


@pytest.mark.asyncio
async def test_expectation_past_false_and_code() -> None:
    async with (
        await Lwm2mServer.start() as server,
        virtual_device("cm-3", server=server.uri) as dev,
    ):
        await server.read("cm-3", "/3/0/0")
        later = dev.expect("read", "/3/0/0", within=5, past=False)
        wrong_code = dev.expect("read", "/3/0/0", within=5, code="4.04")
        assert not later.met and not wrong_code.met
        await server.read("cm-3", "/3/0/0")
        assert later.met and not wrong_code.met
        dev.expectations.remove(wrong_code)
        never = dev.expect("delete", "/3303/0", within=5)
        with pytest.raises(ExpectationError, match=r"expected DELETE on /3303/0 within 5 s"):
            await never.wait(timeout=0.05)
        dev.expectations.remove(never)


@pytest.mark.asyncio
async def test_a_device_that_cannot_register_says_so() -> None:
    async with await Lwm2mServer.start() as server:
        port = server.address[1]
    with pytest.raises(ExpectationError) as caught:  # nobody listens there any more
        async with virtual_device("lost", server=f"coap://127.0.0.1:{port}", timeout=0.3):
            pass
    assert f"lost did not register with coap://127.0.0.1:{port} within 0.3 s" in str(caught.value)


EXTERNAL_TESTS = """
import pytest

@pytest.mark.asyncio
@pytest.mark.lwm2m_device("elsewhere")
async def test_registers_elsewhere(lwm2m_device, lwm2m_server_url):
    assert lwm2m_device.device.config.server == lwm2m_server_url

@pytest.mark.asyncio
@pytest.mark.lwm2m_device("elsewhere-2")
async def test_failing(lwm2m_device, lwm2m_server_url):
    assert lwm2m_device.device.config.server != lwm2m_server_url  # fails on purpose
"""


def test_external_server_from_the_command_line(run: Run) -> None:
    with BackgroundLoop() as loop:
        outside = SyncServer.start(loop)
        seen: list[str] = []
        loop.call(lambda: outside.server.add_listener(lambda event: seen.append(event.endpoint)))
        result = run(EXTERNAL_TESTS, f"--lwm2m-server-url={outside.uri}")
        outside.stop()
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines(["*test_failing*", "*LwM2M exchanges: elsewhere-2*"])
    assert {"elsewhere", "elsewhere-2"} <= set(seen)


def test_external_server_from_the_environment(run: Run, monkeypatch: pytest.MonkeyPatch) -> None:
    with BackgroundLoop() as loop:
        outside = SyncServer.start(loop)
        monkeypatch.setenv("LWM2M_SERVER_URL", outside.uri)
        result = run(EXTERNAL_TESTS, "-k", "registers_elsewhere")
        registered = outside.device("elsewhere")
        outside.stop()
    result.assert_outcomes(passed=1, deselected=1)
    assert registered is not None


def test_parsers() -> None:
    assert as_code("4.05") == 133
    assert as_code("2.04") == 68
    for bad in ("405", "4.5", "0.01", "x.yy"):
        with pytest.raises(ValueError):
            as_code(bad)
    assert as_operation("write-attributes") is Operation.WRITE_ATTRIBUTES
    assert as_operation("Write (partial update)") is Operation.WRITE_PARTIAL
    with pytest.raises(ValueError, match="unknown operation 'wirte'"):
        as_operation("wirte")
