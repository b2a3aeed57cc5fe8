"""Benchmark: is a fleet's RSS growth under Updates a leak or a one-off high-water mark?

Runs ``--devices`` devices (default 15,000: one process stays under an open-file limit of
20,000) **in this process** (one :class:`~fleet.runner.fleet.Fleet`, no workers, so the heap
can be inspected) against the lean responder of ``bench_scale.py`` in its own process, with a
short ``--lifetime`` so that the idle fleet sends Updates all the time. At each of the
``--at`` minutes after the ramp (default 2, 5, 10, 20) it prints:

- the process's RSS and the bytes Python's allocator holds (``tracemalloc``'s traced total
  with ``--trace``, which starts tracing before the first device exists);
- ``gc`` counts: live objects tracked by the collector, and collections per generation;
- the asyncio tasks alive (a device's exchange in flight is one) and the Updates so far;

and with ``--trace`` (printed after the run: comparing snapshots takes minutes and would
stall the fleet) the ten source lines whose traced memory grew most between snapshots. A
leak grows at every step by about the same amount per Update; a high-water mark grows once
(the ramp, a backlog under load) and then stays.

Bounded: the ramp (``--ramp-timeout``), the run (the last ``--at`` minute), the stop. The
devices bind 127.0.0.2 (``--source-address``); the responder listens on 127.0.0.1:``--port``.

    .venv/bin/python bench/bench_rss.py [--devices 15000] [--lifetime 60] [--at 2,5,10,20] [--trace]
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import os
import sys
import time
import tracemalloc

from bench_scale import rss_of, scenario_text
from child import start_child

from fleet.clock import LoopClock
from fleet.metrics import Operation
from fleet.runner import loops
from fleet.runner.devices import fleet_device
from fleet.runner.fleet import Fleet
from fleet.runner.limits import SourceAddresses
from fleet.scenario import load_scenario_text


def snapshot() -> tracemalloc.Snapshot:
    """The traced heap without tracemalloc's own bookkeeping."""
    return tracemalloc.take_snapshot().filter_traces(
        [tracemalloc.Filter(False, tracemalloc.__file__)]
    )


def heap_line(label: str, updates: int, started: float) -> str:
    counts = gc.get_count()
    traced = tracemalloc.get_traced_memory()[0] if tracemalloc.is_tracing() else 0
    stats = gc.get_stats()
    return (
        f"{label:>9}  t={time.monotonic() - started:7.0f}s"
        f"  RSS {rss_of(os.getpid()) / 2**20:7.1f} MiB"
        f"  traced {traced / 2**20:7.1f} MiB  gc objects {len(gc.get_objects()):>9}"
        f"  collections {'/'.join(str(s['collections']) for s in stats)}"
        f"  pending {counts}  tasks {len(asyncio.all_tasks())}  Updates {updates}"
    )


async def run(args: argparse.Namespace) -> int:
    text = scenario_text(args.port, args.devices, args.rate, args.lifetime, 86_400.0, 1.0)
    scenario = load_scenario_text(text)
    loop = asyncio.get_running_loop()
    factory = SourceAddresses(tuple(args.source_address), fleet_device)
    fleet = Fleet(scenario, clock=LoopClock(loop), factory=factory, drain=5.0)
    stop = asyncio.Event()
    started = time.monotonic()
    running = asyncio.ensure_future(fleet.run(stop))
    deadline = started + args.ramp_timeout
    while time.monotonic() < deadline and not running.done():
        await asyncio.wait([running], timeout=1.0)
        if fleet.metrics.stats(Operation.REGISTER).count >= args.devices:
            break
    ramp = time.monotonic() - started
    register = fleet.metrics.stats(Operation.REGISTER)
    print(f"ramp: {register.count} registered in {ramp:.1f} s", flush=True)
    print(heap_line("ramp", 0, started), flush=True)
    updates_at_ramp = fleet.metrics.stats(Operation.UPDATE).count
    previous = snapshot() if tracemalloc.is_tracing() else None
    ramp_end = time.monotonic()
    snapshots: list[tuple[float, tracemalloc.Snapshot]] = []
    for minute in args.at:
        wait = ramp_end + minute * 60 - time.monotonic()
        if wait > 0 and not running.done():
            await asyncio.wait([running], timeout=wait)
        updates = fleet.metrics.stats(Operation.UPDATE).count - updates_at_ramp
        print(heap_line(f"min {minute:g}", updates, started), flush=True)
        if previous is not None:
            snapshots.append((minute, snapshot()))  # compared after the run: a comparison
            # of ~1M traces takes minutes, and would stall the fleet's loop meanwhile
    late = fleet.metrics.stats(Operation.UPDATE)
    print(f"Updates after the ramp: {late.count - updates_at_ramp}, failures {late.failures}")
    stop.set()
    await asyncio.wait_for(running, args.stop_timeout)
    for minute, now in snapshots:
        assert previous is not None
        print(f"grown most up to minute {minute:g}:", flush=True)
        for stat in now.compare_to(previous, "lineno")[:10]:
            print(f"            {stat}", flush=True)
        previous = now
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--devices", type=int, default=15_000)
    parser.add_argument("--rate", type=float, default=1000.0)
    parser.add_argument("--lifetime", type=int, default=60)
    parser.add_argument(
        "--at", type=lambda t: [float(m) for m in t.split(",")], default=[2.0, 5.0, 10.0, 20.0]
    )
    parser.add_argument("--trace", action="store_true", help="tracemalloc from the start")
    parser.add_argument("--source-address", action="append", default=[])
    parser.add_argument("--port", type=int, default=25685)
    parser.add_argument("--loop", choices=("auto", "asyncio", "uvloop"), default="auto")
    parser.add_argument("--ramp-timeout", type=float, default=300.0)
    parser.add_argument("--stop-timeout", type=float, default=300.0)
    args = parser.parse_args()
    args.source_address = args.source_address or ["127.0.0.2"]
    if args.trace:
        tracemalloc.start(1)
    bench_scale = os.path.join(os.path.dirname(os.path.abspath(__file__)), "bench_scale.py")
    server = start_child(bench_scale, "--serve", "lean", "--port", str(args.port), what="server")
    if server is None:
        return 1
    assert server.stdin is not None and server.stdout is not None
    print(
        f"devices {args.devices}, lifetime {args.lifetime}s, loop {args.loop},"
        f" tracemalloc {'on' if args.trace else 'off'}; load {os.getloadavg()}",
        flush=True,
    )
    try:
        return loops.run(run(args), args.loop)
    finally:
        server.stdin.close()
        print(f"server: {json.loads(server.stdout.readline() or '{}')}", flush=True)
        server.wait(30)
        print(f"load at the end {os.getloadavg()}", flush=True)


if __name__ == "__main__":
    sys.exit(main())
