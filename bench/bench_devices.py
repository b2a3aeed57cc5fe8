"""Benchmark: registering a fleet of virtual devices with the embedded server, and what each
device costs in memory.

For each size (default 1,000 and 10,000; ``--sizes``), in a fresh process: build the devices
(shipped objects, one shared template), start them in batches (a ramp, as a fleet runner does)
against an in-process :class:`~fleet.server.Lwm2mServer` on 127.0.0.1, wait until the server
lists every registration, then de-register all (``--stop-batch`` at a time). Prints the
registration time (total, per device, rate), the resident-set growth per device (RSS after
registration minus RSS before the devices were built) and, in a second fresh process with
``tracemalloc`` on, the Python heap per device (server included: its registration directory
grows with the fleet too).

De-registering in bursts of 500+ at once used to take about 3 s per burst: the server's UDP
receive buffer (Linux ``net.core.rmem_default``, 208 KiB) holds only about 160 small datagrams
(each costs a whole buffer's "truesize" on loopback), the rest are dropped (``RcvbufErrors``
in ``/proc/net/snmp``, printed as ``drops``) and come again after CoAP's ACK_TIMEOUT of
2-3 s. ``--server-rcvbuf BYTES`` enlarges the embedded server's buffer (capped by
``net.core.rmem_max``): with 4 MiB a burst of 1,000 takes about 0.2 s and drops nothing.

The open-file soft limit is raised to the hard limit first; a size that needs more sockets than
that (one per device, plus a few) is reported as not fitting instead of being run. Everything
is bounded: ``--batch`` devices at a time, each batch given ``--batch-timeout`` seconds.

    .venv/bin/python bench/bench_devices.py [--sizes 1000,10000] [--batch 500]
        [--stop-batch 100] [--server-rcvbuf 4194304]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
import json
import os
import random
import resource
import subprocess
import sys
import time
import tracemalloc
from typing import Any

from fleet.client.config import DeviceConfig
from fleet.client.device import Device
from fleet.device import SHIPPED_LAYOUT
from fleet.server import Lwm2mServer

SPARE_FDS = 64
"""File descriptors kept for the interpreter, the server socket and the loop."""


def raise_nofile() -> tuple[int, int]:
    """Raise the open-file soft limit to the hard limit; ``(soft, hard)`` afterwards."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard == resource.RLIM_INFINITY or soft < hard:
        target = hard if hard != resource.RLIM_INFINITY else max(soft, 1 << 20)
        with contextlib.suppress(ValueError, OSError):
            resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)


def udp_receive_drops() -> int:
    """Datagrams the kernel dropped for a full socket receive buffer, system-wide."""
    with open("/proc/net/snmp") as snmp:
        rows = [line.split() for line in snmp if line.startswith("Udp:")]
    return int(rows[1][rows[0].index("RcvbufErrors")])


def rss_bytes() -> int:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


async def run_one(
    count: int, batch: int, stop_batch: int, batch_timeout: float, trace: bool, rcvbuf: int
) -> dict[str, Any]:
    """Register ``count`` devices in this process; the measurements as a dict."""
    gc.collect()
    server = await Lwm2mServer.start(
        request_timeout=10.0, history=16, receive_buffer=rcvbuf if rcvbuf > 0 else None
    )
    if trace:
        tracemalloc.start()
    heap_before = tracemalloc.get_traced_memory()[0] if trace else 0
    rss_before = rss_bytes()
    tasks_before = len(asyncio.all_tasks())
    devices = [
        Device(
            DeviceConfig(
                f"bench-{i:05d}",
                server=server.uri,
                layout=SHIPPED_LAYOUT,
                lifetime=3600,
                exchange_timeout=30.0,
            ),
            rng=random.Random(i),
        )
        for i in range(count)
    ]
    started = time.perf_counter()
    for first in range(0, count, batch):
        group = devices[first : first + batch]
        for device in group:
            await device.start()
        await asyncio.wait_for(asyncio.gather(*(d.registered.wait() for d in group)), batch_timeout)
    elapsed = time.perf_counter() - started
    registered = len(server.registrations())
    ports = len({d.address for d in devices})
    gc.collect()
    rss_after = rss_bytes()
    heap_after = tracemalloc.get_traced_memory()[0] if trace else 0
    for _ in range(50):
        if len(asyncio.all_tasks()) <= tasks_before:
            break
        await asyncio.sleep(0)
    idle_tasks = len(asyncio.all_tasks()) - tasks_before
    if trace:
        tracemalloc.stop()
    drops = udp_receive_drops()
    stop_started = time.perf_counter()
    for first in range(0, count, stop_batch):
        group = devices[first : first + stop_batch]
        await asyncio.wait_for(asyncio.gather(*(d.stop() for d in group)), batch_timeout)
    stop_elapsed = time.perf_counter() - stop_started
    drops = udp_receive_drops() - drops
    left = len(server.registrations())
    await server.stop()
    return {
        "count": count,
        "registered": registered,
        "distinct_ports": ports,
        "seconds": elapsed,
        "rss_per_device": (rss_after - rss_before) / count,
        "heap_per_device": (heap_after - heap_before) / count if trace else None,
        "idle_tasks": idle_tasks,
        "deregister_seconds": stop_elapsed,
        "deregister_drops": drops,
        "left_registered": left,
    }


def child(
    count: int, batch: int, stop_batch: int, batch_timeout: float, trace: bool, rcvbuf: int
) -> int:
    soft, _ = raise_nofile()
    if count + SPARE_FDS > soft:
        print(json.dumps({"count": count, "error": f"needs {count + SPARE_FDS} fds > {soft}"}))
        return 0
    result = asyncio.run(run_one(count, batch, stop_batch, batch_timeout, trace, rcvbuf))
    print(json.dumps(result))
    return 0


def measure(count: int, args: argparse.Namespace, trace: bool) -> dict[str, Any]:
    command = [sys.executable, __file__, "--child", str(count), "--batch", str(args.batch)]
    command += ["--batch-timeout", str(args.batch_timeout), "--stop-batch", str(args.stop_batch)]
    command += ["--server-rcvbuf", str(args.server_rcvbuf)]
    if trace:
        command.append("--trace")
    limit = args.batch_timeout * (count // args.batch + 1) * 2 + 60
    done = subprocess.run(command, capture_output=True, text=True, timeout=limit, check=False)
    if done.returncode != 0:
        return {"count": count, "error": done.stderr.strip().splitlines()[-1:]}
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--sizes", default="1000,10000", help="comma-separated fleet sizes")
    parser.add_argument("--batch", type=int, default=500, help="devices started per batch")
    parser.add_argument(
        "--stop-batch",
        type=int,
        default=100,
        help="devices de-registered at once (bursts of 500+ overflow the server's receive "
        "buffer with --server-rcvbuf 0: CoAP retransmits after 2-3 s)",
    )
    parser.add_argument(
        "--server-rcvbuf",
        type=int,
        default=4 << 20,
        metavar="BYTES",
        help="receive buffer of the embedded server's socket (default 4 MiB as the server "
        "asks; 0: the system default)",
    )
    parser.add_argument("--batch-timeout", type=float, default=60.0, help="seconds per batch")
    parser.add_argument("--child", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--trace", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child is not None:
        return child(
            args.child,
            args.batch,
            args.stop_batch,
            args.batch_timeout,
            args.trace,
            args.server_rcvbuf,
        )
    sizes = [int(s) for s in args.sizes.split(",") if s.strip()]
    soft, hard = raise_nofile()
    print(f"open files: soft {soft}, hard {hard}; python {sys.version.split()[0]}")
    for size in sizes:
        if size + SPARE_FDS > soft:
            print(f"  {size} devices need {size + SPARE_FDS} sockets: over the limit ({soft}),")
            print("  raise the hard limit (ulimit -Hn) or spread the fleet over processes")
    header = (
        f"{'devices':>8} {'registered':>10} {'ports':>7} {'total s':>8} {'ms/dev':>7} "
        f"{'dev/s':>8} {'RSS KiB/dev':>11} {'heap KiB/dev':>12} {'idle tasks':>10} "
        f"{'dereg s':>8} {'drops':>6}"
    )
    print(header)
    for size in sizes:
        plain = measure(size, args, trace=False)
        if "error" in plain:
            print(f"{size:>8} not run: {plain['error']}")
            continue
        traced = measure(size, args, trace=True)
        heap = traced.get("heap_per_device")
        heap_text = f"{heap / 1024:>12.1f}" if isinstance(heap, float) else f"{'n/a':>12}"
        seconds = plain["seconds"]
        print(
            f"{size:>8} {plain['registered']:>10} {plain['distinct_ports']:>7} {seconds:>8.2f} "
            f"{seconds / size * 1000:>7.3f} {size / seconds:>8.0f} "
            f"{plain['rss_per_device'] / 1024:>11.1f} {heap_text} {plain['idle_tasks']:>10} "
            f"{plain['deregister_seconds']:>8.2f} {plain['deregister_drops']:>6}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
