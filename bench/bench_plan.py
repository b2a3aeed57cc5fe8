"""Planning past one machine: a cost model of the fleet and how many machines a fleet needs.

A pure simulation (no sockets, nothing started): from measured costs — CPU seconds per
registration, per Update and per notification, resident memory per device — and the size of
one machine, it prints what each resource demands for a fleet of ``--devices`` (1,000,000 by
default) and how many machines of this size it takes, naming the resource that binds.

Steady state: every device sends one Update per ``lifetime`` less the device's update margin
(``fleet.client.registration.update_margin``: a tenth of the lifetime, at least CoAP's
MAX_TRANSMIT_WAIT, at most half: every 30 s for a lifetime of 60 s, every 77,760 s for a day)
and one notification per ``period`` (pmin = pmax);
the ramp registers the fleet at ``--ramp-rate`` arrivals per second (all machines together).
Usable capacity per machine is ``--cpu-share`` of its cores (the rest: kernel, the parent,
the metrics endpoint, bursts) and ``--memory-share`` of its memory; UDP ports are unique per
source address (``--addresses`` per machine, ``--ports`` each: the ephemeral range).

The defaults are the figures of docs/scale.md (2026-12-02, 2 cores, 23 GiB): 0.91 ms CPU per
registration (bench_scale: 1,096 registrations per CPU-second), 14.5 KiB RSS per device (all
processes); the costs of an Update and of a notification default to that of a registration
unless given (measure them with bench_scale --idle and bench_notify; the output says which
figures are assumed).

    .venv/bin/python bench/bench_plan.py [--devices 1000000] [--cpu-per-registration-ms 0.91]
        [--cpu-per-update-ms X] [--cpu-per-notification-ms X] [--kib-per-device 14.5]
        [--cores 2] [--memory-gib 23] [--lifetime 86400] [--period 60] [--ramp-rate 5000]
        [--json FILE]
"""

from __future__ import annotations

import argparse
import json
import math
from dataclasses import asdict, dataclass

from fleet.client.registration import update_margin


@dataclass(frozen=True)
class Costs:
    """What one device costs (measured on one machine)."""

    cpu_per_registration: float  # seconds
    cpu_per_update: float  # seconds
    cpu_per_notification: float  # seconds
    bytes_per_device: float


@dataclass(frozen=True)
class Machine:
    """One machine and how much of it the fleet may use."""

    cores: int
    memory_bytes: float
    cpu_share: float = 0.8
    memory_share: float = 0.8
    addresses: int = 1
    ports: int = 28_232 - 1_024  # ephemeral range, less what the rest of the machine needs


@dataclass(frozen=True)
class Load:
    """The fleet: how many devices and how often each speaks."""

    devices: int
    lifetime: float  # seconds between Updates
    period: float  # seconds between notifications (0: not observed)
    ramp_rate: float  # registrations per second, all machines together


@dataclass(frozen=True)
class Plan:
    """What the fleet demands, per resource, and the machines it takes."""

    steady_cpu: float  # cores busy in steady state (Updates and notifications)
    ramp_cpu: float  # cores busy while the fleet registers at ramp_rate
    memory_bytes: float
    machines_by: dict[str, int]
    machines: int
    binding: str
    ramp_seconds: float  # how long registering the fleet takes on that many machines
    devices_per_machine: int


def _machines(demand: float, per_machine: float) -> int:
    """Machines for ``demand`` (a rounding error above a whole number does not add one)."""
    return math.ceil(demand / per_machine - 1e-9)


def update_interval(lifetime: float) -> float:
    """Seconds between a device's Updates: the fleet's devices update ``update_margin`` early."""
    return lifetime if math.isinf(lifetime) else lifetime - update_margin(lifetime)


def plan(costs: Costs, machine: Machine, load: Load) -> Plan:
    """The machines ``load`` needs: the largest demand of CPU (steady and ramp), memory, ports."""
    updates = load.devices / update_interval(load.lifetime)
    notifications = load.devices / load.period if load.period > 0 else 0.0
    steady = updates * costs.cpu_per_update + notifications * costs.cpu_per_notification
    ramp = steady + load.ramp_rate * costs.cpu_per_registration
    usable_cores = machine.cores * machine.cpu_share
    memory = load.devices * costs.bytes_per_device
    by = {
        "cpu (steady)": _machines(steady, usable_cores),
        "cpu (ramp)": _machines(ramp, usable_cores),
        "memory": _machines(memory, machine.memory_bytes * machine.memory_share),
        "ports": _machines(load.devices, machine.addresses * machine.ports),
    }
    machines = max(1, *by.values())
    binding = max(by, key=lambda name: by[name])
    spare = machines * usable_cores - steady  # cores left for registering while the rest run
    rate = min(load.ramp_rate, spare / costs.cpu_per_registration) if spare > 0 else 0.0
    return Plan(
        steady_cpu=steady,
        ramp_cpu=ramp,
        memory_bytes=memory,
        machines_by=by,
        machines=machines,
        binding=binding,
        ramp_seconds=load.devices / rate if rate > 0 else math.inf,
        devices_per_machine=math.ceil(load.devices / machines),
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--devices", type=int, default=1_000_000)
    parser.add_argument("--cpu-per-registration-ms", type=float, default=0.91)
    parser.add_argument("--cpu-per-update-ms", type=float, default=None)
    parser.add_argument("--cpu-per-notification-ms", type=float, default=None)
    parser.add_argument("--kib-per-device", type=float, default=14.5, help="RSS, all processes")
    parser.add_argument("--cores", type=int, default=2)
    parser.add_argument("--memory-gib", type=float, default=23.0)
    parser.add_argument("--cpu-share", type=float, default=0.8)
    parser.add_argument("--memory-share", type=float, default=0.8)
    parser.add_argument("--addresses", type=int, default=1, help="source addresses per machine")
    parser.add_argument("--lifetime", type=float, default=86_400.0, help="seconds")
    parser.add_argument("--period", type=float, default=60.0, help="pmin = pmax; 0: no observe")
    parser.add_argument("--ramp-rate", type=float, default=5_000.0, help="registrations/s")
    parser.add_argument("--json", type=argparse.FileType("w"), help="also write the plan here")
    args = parser.parse_args()

    registration = args.cpu_per_registration_ms / 1e3
    assumed = [
        name
        for name, given in (
            ("Update", args.cpu_per_update_ms),
            ("notification", args.cpu_per_notification_ms),
        )
        if given is None
    ]
    costs = Costs(
        cpu_per_registration=registration,
        cpu_per_update=(args.cpu_per_update_ms or args.cpu_per_registration_ms) / 1e3,
        cpu_per_notification=(args.cpu_per_notification_ms or args.cpu_per_registration_ms) / 1e3,
        bytes_per_device=args.kib_per_device * 1024,
    )
    machine = Machine(
        args.cores, args.memory_gib * 2**30, args.cpu_share, args.memory_share, args.addresses
    )
    load = Load(args.devices, args.lifetime, args.period, args.ramp_rate)
    result = plan(costs, machine, load)

    print(
        f"{load.devices:,} devices: an Update every {update_interval(load.lifetime):g} s"
        f" (lifetime {load.lifetime:g} s), "
        + (f"a notification every {load.period:g} s" if load.period > 0 else "not observed")
        + f"; registered at {load.ramp_rate:,.0f}/s"
    )
    print(
        f"costs: {costs.cpu_per_registration * 1e3:.3f} ms CPU per registration, "
        f"{costs.cpu_per_update * 1e3:.3f} per Update, "
        f"{costs.cpu_per_notification * 1e3:.3f} per notification, "
        f"{args.kib_per_device:g} KiB per device"
        + (f" (assumed equal to a registration: {', '.join(assumed)})" if assumed else "")
    )
    print(
        f"machine: {machine.cores} cores ({machine.cpu_share:.0%} usable), "
        f"{args.memory_gib:g} GiB ({machine.memory_share:.0%} usable), "
        f"{machine.addresses} source address(es) of {machine.ports:,} ports\n"
    )
    print(f"{'resource':<16}{'demand':>22}{'machines':>10}")
    demands = {
        "cpu (steady)": f"{result.steady_cpu:.2f} cores",
        "cpu (ramp)": f"{result.ramp_cpu:.2f} cores",
        "memory": f"{result.memory_bytes / 2**30:.1f} GiB",
        "ports": f"{load.devices:,} sockets",
    }
    for name, count in result.machines_by.items():
        print(f"{name:<16}{demands[name]:>22}{count:>10}")
    print(
        f"\n{result.machines} machine(s) of this size ({result.binding} binds), "
        f"{result.devices_per_machine:,} devices each; registering the fleet takes "
        f"{result.ramp_seconds:,.0f} s"
    )
    if args.json is not None:
        json.dump(
            {"costs": asdict(costs), "machine": asdict(machine), "load": asdict(load)}
            | {"plan": asdict(result)},
            args.json,
            indent=1,
        )
        args.json.close()


if __name__ == "__main__":
    main()
