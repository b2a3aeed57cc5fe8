"""Benchmark: a firmware campaign of many devices downloading one image from one file server.

In one process: the embedded :class:`~fleet.server.Lwm2mServer`, its CoAP
:class:`~fleet.server.campaign.FileServer` serving one image (default 64 KiB, a package with
our header) and ``--devices`` virtual devices with Object 5 (default 10,000), registered in
batches. Then one :class:`~fleet.server.campaign.Campaign` updates them all (``--concurrency``
devices at a time; pull over coap:// Block2, or ``--push`` in Block1 blocks): each downloads
the image block by block, checks its SHA-256, is told to Update, reboots and comes back with
the new firmware version. Prints:

- devices finished per second (the campaign's outcomes over its wall time) and the outcomes;
- the file server's rate: blocks and bytes answered per second;
- memory per downloading device: the growth of the resident set from before the campaign to
  its peak (sampled every 0.2 s), divided by the devices downloading at once (the
  concurrency); the image itself is held once, by the file server.

Measured on whatever the machine is doing at the time; everything is bounded (``--timeout``).
The server, the file server and the devices' sockets bind ``--host`` (default 127.0.0.2: the
ephemeral ports of 127.0.0.1 stay free for everything else on the machine).

    .venv/bin/python bench/bench_fota.py [--devices 10000] [--image-kib 64]
        [--concurrency 1000] [--push] [--batch 500] [--timeout 1200] [--host 127.0.0.2]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
import json
import os
import resource
import time
from typing import Any

from fleet.client.config import DeviceConfig
from fleet.client.device import Device
from fleet.client.firmware.settings import FirmwareSettings
from fleet.device.firmware.package import build_package
from fleet.device.layout import DeviceLayout
from fleet.server import Lwm2mServer
from fleet.server.campaign import Campaign, CampaignOptions, FileServer

LAYOUT = DeviceLayout.of({0: [0], 1: [0], 3: [0], 5: [0]})
SETTINGS = FirmwareSettings(update_duration=0.0, reboot_delay=0.5, retry_delay=1.0)


def rss_bytes() -> int:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def raise_nofile() -> int:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        with contextlib.suppress(ValueError, OSError):
            resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


async def sample_peak(peak: list[int], stop: asyncio.Event) -> None:
    while not stop.is_set():
        peak[0] = max(peak[0], rss_bytes())
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), 0.2)


async def bench(args: argparse.Namespace) -> dict[str, Any]:
    limit = raise_nofile()
    if args.devices + 64 > limit:
        raise SystemExit(f"{args.devices} devices need more open files than the limit {limit}")
    host = args.host
    server = await Lwm2mServer.start(host, 0, read_on_register=("/3",), request_timeout=60.0)
    files = await FileServer.start(host)
    devices: list[Device] = []
    try:
        image = build_package(os.urandom(args.image_kib * 1024), name="bench", version="2.0.0")
        for index in range(args.devices):
            config = DeviceConfig(
                f"fw-{index:06d}",
                server=server.uri,
                layout=LAYOUT,
                firmware=SETTINGS,
                bind_host=host,
            )
            devices.append(Device(config))
        started = time.monotonic()
        for at in range(0, len(devices), args.batch):
            part = devices[at : at + args.batch]
            await asyncio.gather(*(d.start() for d in part))
            await asyncio.wait_for(asyncio.gather(*(d.registered.wait() for d in part)), 120)
        await asyncio.gather(
            *(server.wait_for_registration(d.name, timeout=120, hooks=True) for d in devices)
        )
        registered_s = time.monotonic() - started
        gc.collect()
        before = rss_bytes()
        peak = [before]
        stop = asyncio.Event()
        sampler = asyncio.ensure_future(sample_peak(peak, stop))
        campaign = Campaign(
            server,
            image,
            files=None if args.push else files,
            options=CampaignOptions(
                push=args.push,
                concurrency=args.concurrency,
                download_timeout=300.0,
                update_timeout=300.0,
                request_timeout=120.0,
            ),
        )
        began = time.monotonic()
        report = await asyncio.wait_for(campaign.run(d.name for d in devices), args.timeout)
        elapsed = time.monotonic() - began
        stop.set()
        await sampler
        downloading = min(args.concurrency, args.devices)
        return {
            "devices": args.devices,
            "image_bytes": len(image),
            "mode": "push" if args.push else "pull",
            "concurrency": args.concurrency,
            "registered_s": round(registered_s, 2),
            "campaign_s": round(elapsed, 2),
            "devices_finished_per_s": round(report.finished / elapsed, 1),
            "outcomes": report.by_kind,
            "download_p50_s": report.as_dict()["download_s"]["p50"],
            "download_p95_s": report.as_dict()["download_s"]["p95"],
            "file_server_blocks_per_s": round(files.blocks_served / elapsed, 1),
            "file_server_bytes_per_s": round(files.bytes_served / elapsed),
            "rss_growth_bytes": peak[0] - before,
            "bytes_per_downloading_device": round((peak[0] - before) / downloading),
        }
    finally:
        await asyncio.gather(*(d.stop(deregister=False) for d in devices), return_exceptions=True)
        files.close()
        await server.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--devices", type=int, default=10_000)
    parser.add_argument("--image-kib", type=int, default=64)
    parser.add_argument("--concurrency", type=int, default=1000)
    parser.add_argument("--push", action="store_true")
    parser.add_argument("--batch", type=int, default=500)
    parser.add_argument("--timeout", type=float, default=1200.0)
    parser.add_argument("--host", default="127.0.0.2", help="loopback address to bind")
    args = parser.parse_args()
    print(json.dumps(asyncio.run(bench(args)), indent=2))


if __name__ == "__main__":
    main()
