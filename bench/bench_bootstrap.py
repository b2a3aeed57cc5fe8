"""Benchmark: bootstrap-then-register completions per second (an onboarding storm).

In one process: an embedded :class:`~fleet.server.Lwm2mServer` with its Bootstrap-Server
(``start_bootstrap``: Discover, Delete /0 /1, Write /0/1 and /1/0 in TLV, Finish) on
127.0.0.2, and ``--devices`` devices (default 10,000) bound to 127.0.0.3 that know only the
Bootstrap-Server (127.0.0.1's ports stay the rest of the machine's).
They power on in batches of ``--batch`` (each batch given ``--batch-timeout`` seconds); a
completion is a device registered at the server it was told about. Prints completions per
second (first Bootstrap-Request to last Register), the bootstrap steps the server sent and
how many devices did not finish in time.

Everything is bounded: the open-file soft limit is raised to the hard limit and a fleet that
needs more sockets is refused; each batch waits at most ``--batch-timeout`` seconds.

    .venv/bin/python bench/bench_bootstrap.py [--devices 10000] [--batch 500]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import resource
import time

from fleet.client.config import DeviceConfig
from fleet.client.device import Device
from fleet.client.events import ClientEvent, Registered
from fleet.server import Lwm2mServer

SPARE_FDS = 64
SERVER_HOST = "127.0.0.2"
DEVICE_HOST = "127.0.0.3"


def raise_nofile() -> int:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        with contextlib.suppress(ValueError, OSError):
            resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


async def run(count: int, batch: int, batch_timeout: float) -> None:
    async with await Lwm2mServer.start(SERVER_HOST) as server:
        bootstrap = await server.start_bootstrap()
        registered: asyncio.Queue[str] = asyncio.Queue()

        def hear(event: ClientEvent) -> None:
            if isinstance(event, Registered):
                registered.put_nowait(event.endpoint)

        devices = [
            Device(DeviceConfig(f"bs-{i:06d}", bootstrap=bootstrap.uri, bind_host=DEVICE_HOST))
            for i in range(count)
        ]
        for device in devices:
            device.add_listener(hear)
        started = time.perf_counter()
        done = missing = 0
        for first in range(0, count, batch):
            group = devices[first : first + batch]
            await asyncio.gather(*(d.start() for d in group))
            deadline = time.perf_counter() + batch_timeout
            want = done + len(group)
            while done < want:
                left = deadline - time.perf_counter()
                if left <= 0:
                    missing += want - done
                    done = want
                    break
                try:
                    await asyncio.wait_for(registered.get(), left)
                    done += 1
                except TimeoutError:
                    continue
        elapsed = time.perf_counter() - started
        completed = count - missing
        steps = {k: v for k, v in bootstrap.counters.items() if k.startswith("steps.")}
        print(
            f"{completed} of {count} devices bootstrapped and registered in {elapsed:.2f} s: "
            f"{completed / elapsed:.0f} completions/s (batches of {batch}); "
            f"not in time: {missing}"
        )
        print(f"bootstrap server: {dict(bootstrap.counters)}")
        print(f"steps sent: {steps}")
        await asyncio.gather(*(d.stop(deregister=False) for d in devices))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--devices", type=int, default=10_000)
    parser.add_argument("--batch", type=int, default=500)
    parser.add_argument("--batch-timeout", type=float, default=60.0)
    args = parser.parse_args()
    limit = raise_nofile()
    if args.devices + SPARE_FDS > limit:
        raise SystemExit(f"{args.devices} devices need more open files than the limit {limit}")
    asyncio.run(run(args.devices, args.batch, args.batch_timeout))


if __name__ == "__main__":
    main()
