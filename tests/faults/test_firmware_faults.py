"""Firmware fault actions: the seeded selection gives a device's Object 5 its fault, the first
one declared wins, each counted once; other devices keep sound firmware."""

from __future__ import annotations

from fleet.client.config import DeviceConfig
from fleet.client.device import Device
from fleet.clock import ManualClock
from fleet.faults import FaultInjector, FaultPlan


def test_install_gives_the_selected_devices_their_firmware_fault() -> None:
    plan = FaultPlan.from_specs(
        [
            {"action": "firmware-lose", "at": 0.3, "devices": ["0-4"]},
            {"action": "firmware-brick", "devices": ["3-9"]},
        ]
    )
    injector = FaultInjector(plan, seed=1)
    clock = ManualClock()
    faults = {}
    for index in range(12):
        device = Device(DeviceConfig(f"d{index}"), clock=clock)
        injector.install(device, index)
        fault = device.firmware.settings.fault
        faults[index] = None if fault is None else (fault.kind, fault.at)
    assert faults == {
        **{i: ("lose", 0.3) for i in range(5)},
        **{i: ("brick", 0.5) for i in range(5, 10)},
        10: None,
        11: None,
    }
    assert injector.counter.counts == {"firmware-lose": 5, "firmware-brick": 5}
    injector.close()


def test_fraction_is_drawn_from_the_seed() -> None:
    plan = FaultPlan.from_specs([{"action": "firmware-integrity", "fraction": 0.2}])
    chosen = []
    for seed in (7, 7, 8):
        injector = FaultInjector(plan, seed=seed)
        chosen.append([i for i in range(500) if injector.select(i)])
    assert chosen[0] == chosen[1] != chosen[2]
    assert 60 <= len(chosen[0]) <= 140
