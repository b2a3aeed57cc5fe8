"""The event loop choice (fleet.runner.loops): auto, asyncio, uvloop; an error without uvloop."""

from __future__ import annotations

import asyncio
import os
import random
import sys

import pytest

from fleet.client.config import DeviceConfig
from fleet.clock import Clock
from fleet.runner import loops
from fleet.runner.loops import LoopUnavailable, loop_name, resolve
from fleet.runner.worker import ScenarioSource
from fleet.runner.workers import WorkerError, WorkerPool
from fleet.scenario import load_scenario_text

from .test_workers import TEXT, WAIT, StandIn, until_registered

uvloop = pytest.importorskip("uvloop")  # the `fast` extra; scripts/install-tools.sh installs it


@pytest.fixture
def without_uvloop(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "uvloop", None)  # `import uvloop` raises ImportError


async def _kind() -> str:
    loop = asyncio.get_running_loop()
    assert (loop_name(loop) == "uvloop") == isinstance(loop, uvloop.Loop)
    return loop_name(loop)


def test_each_name_runs_its_loop() -> None:
    assert loops.run(_kind(), "uvloop") == "uvloop"
    assert loops.run(_kind(), "asyncio") == "asyncio"
    assert loops.run(_kind(), "auto") == "uvloop"  # installed here


def test_auto_is_asyncio_without_uvloop(without_uvloop: None) -> None:
    assert resolve("auto") == "asyncio"
    assert loops.run(_kind(), "auto") == "asyncio"


def test_uvloop_asked_but_missing_says_how_to_get_it(without_uvloop: None) -> None:
    coroutine = _kind()
    with pytest.raises(
        LoopUnavailable, match=r"uvloop is not installed \(pip install 'lwm2m-fleet\[fast\]'"
    ):
        loops.run(coroutine, "uvloop")
    assert coroutine.cr_frame is None  # closed, so no "never awaited" warning


def test_an_unknown_name_is_refused() -> None:
    with pytest.raises(LoopUnavailable, match="unknown event loop 'trio'"):
        resolve("trio")


def test_policy_makes_loops_of_the_kind() -> None:
    made = loops.policy("uvloop").new_event_loop()
    try:
        assert loop_name(made) == "uvloop"
    finally:
        made.close()
    made = loops.policy("asyncio").new_event_loop()
    try:
        assert loop_name(made) == "asyncio"
    finally:
        made.close()


@pytest.mark.asyncio
async def test_the_suite_runs_on_the_loop_it_was_asked_for(request: pytest.FixtureRequest) -> None:
    assert await _kind() == request.config.getoption("--event-loop")


def uvloop_only(config: DeviceConfig, clock: Clock, rng: random.Random) -> StandIn:
    if loop_name(asyncio.get_running_loop()) != "uvloop":
        os._exit(4)  # the worker tells us its loop by dying
    return StandIn(config)


@pytest.mark.slow
@pytest.mark.asyncio
async def test_worker_processes_run_on_the_chosen_loop() -> None:
    scenario = load_scenario_text(TEXT)
    pool = WorkerPool(
        scenario,
        ScenarioSource(TEXT),
        workers=2,
        factory=uvloop_only,
        report_every=0.05,
        loop="uvloop",
    )
    stop = asyncio.Event()
    running = asyncio.ensure_future(pool.run(stop))
    await asyncio.wait_for(until_registered(pool, 30), WAIT)
    stop.set()
    summary = await asyncio.wait_for(running, WAIT)
    assert summary.devices == 30
    on_asyncio = WorkerPool(
        scenario, ScenarioSource(TEXT), workers=1, factory=uvloop_only, loop="asyncio"
    )
    with pytest.raises(WorkerError, match="exited with status 4"):
        await asyncio.wait_for(on_asyncio.run(), WAIT)
