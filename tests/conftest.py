"""The event loop the whole suite runs on: ``--event-loop asyncio|uvloop`` [FLEET_TEST_LOOP].

``asyncio`` (the default) or ``uvloop`` becomes the event loop policy before any
test runs, so pytest-asyncio's tests and fixtures, ``asyncio.run`` and
``asyncio.new_event_loop`` in tests all use it; it is also put into
``FLEET_LOOP`` (unless set already) so that ``fleet`` commands the tests start,
in process or as subprocesses, run on the same loop. ``make test`` runs the
whole suite on asyncio and the client, server, acceptance, command and demo tests again on
uvloop.
"""

from __future__ import annotations

import asyncio
import os

import pytest

from fleet.runner.loops import LoopUnavailable, policy


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--event-loop",
        choices=("asyncio", "uvloop"),
        default=os.environ.get("FLEET_TEST_LOOP", "asyncio"),
        help="event loop of the tests and of the fleet commands they run [FLEET_TEST_LOOP]",
    )


def pytest_configure(config: pytest.Config) -> None:
    name: str = config.getoption("--event-loop")
    try:
        asyncio.set_event_loop_policy(policy(name))
    except LoopUnavailable as exc:
        raise pytest.UsageError(f"--event-loop {name}: {exc}") from None
    os.environ.setdefault("FLEET_LOOP", name)


def pytest_report_header(config: pytest.Config) -> str:
    name = config.getoption("--event-loop")
    return f"event loop: {name} (fleet commands: FLEET_LOOP={os.environ.get('FLEET_LOOP')})"
