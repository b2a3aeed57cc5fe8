"""``run_demo`` in process: stopping it (what Ctrl-C does) de-registers every device."""

from __future__ import annotations

import asyncio

import pytest

from fleet.demo import DemoOptions, run_demo


@pytest.mark.asyncio
async def test_stop_ends_the_demo_and_every_device_deregisters() -> None:
    stop = asyncio.Event()
    written: list[str] = []

    def write(text: str) -> None:
        written.append(text)
        if '"method":"observe"' in text:  # the last flow answered: "press Ctrl-C"
            stop.set()

    options = DemoOptions(devices=3, duration=None, refresh=0.1, seed=5)
    state = await asyncio.wait_for(run_demo(options, write, stop), 20)
    assert state.registered_ever == state.deregistered == {"demo-001", "demo-002", "demo-003"}
    assert set(state.devices.values()) == {"stopped"}
    assert state.counts["registration"] == 3 and state.counts["deregistration"] == 3
    assert state.counts["response"] == 7
    assert len(state.temperatures) == 3
    assert any(line.startswith("[") for line in written)
