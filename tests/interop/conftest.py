"""Fixtures for the Node.js interop tests: running lwm2m-node-lib and coap-shepherd servers and
a fake client.

The servers need node and the pinned npm packages (``scripts/install-tools.sh``, run by
``make test``); when they are missing the tests fail and say so rather than skip, so that CI
cannot lose them silently.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
import pytest_asyncio

from tests.interop import shepherd
from tests.interop.fakes import FakeClient
from tests.interop.nodelib import NodeLibServer, missing
from tests.interop.shepherd import ShepherdServer

VALUES = {
    "/3/0/0": b"Open Mobile Alliance",
    "/3442/0/110": b"initial",
    "/3303/0/5700": b"20.0",
}
EXECUTABLES = ("/3442/0/2",)


@pytest_asyncio.fixture
async def nodelib() -> AsyncIterator[NodeLibServer]:
    reason = missing()
    if reason is not None:
        pytest.fail(f"lwm2m-node-lib interop server unavailable: {reason}")
    async with NodeLibServer() as server:
        yield server


@pytest_asyncio.fixture
async def coap_shepherd() -> AsyncIterator[ShepherdServer]:
    reason = shepherd.missing()
    if reason is not None:
        pytest.fail(f"coap-shepherd interop server unavailable: {reason}")
    async with ShepherdServer() as server:
        yield server


@pytest_asyncio.fixture
async def fake() -> AsyncIterator[FakeClient]:
    async with FakeClient("fake1", VALUES, EXECUTABLES) as client:
        yield client
