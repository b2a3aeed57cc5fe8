"""Benchmark: observed devices for minutes — notifications on time? flat RSS? And a burst.

Runs ``--devices`` devices (default 20,000) with the real
:class:`~fleet.runner.workers.WorkerPool` against a lean observer in its own
process: it answers Register 2.01 / Update 2.04 / De-register 2.02 and, right
after each Register, sends the device a confirmable Observe of ``--resource``
(default ``/3303/0/5700``, the temperature) with the query ``pmin=P&pmax=P``
(``--period``; LwM2M 1.1 section 5.4.4: attributes in the Observe query). With
``--every S`` (default 20 s) the observed value changes every S seconds on
every device (a ``counter`` generator), so notifications carry new values.
The observer acknowledges confirmable notifications and times every
notification as it arrives: a notification is **on time** when it comes at
most pmax + 1 s after the previous one of its observation (a device whose last
notification is older than that at the end counts one late).

Measured over ``--minutes`` (default 10) after the ramp: the fraction of
notifications on time (target >= 99.9 %), the gap distribution, and the
fleet's RSS (all its processes) after the ramp and at the end (target: within
10 %).

``--burst``: every device's value changes at the same instant instead (no
generator; the Observe asks ``pmin=0`` and a pmax of an hour, so each change
is notified at once): a bench device factory gives each device one clock timer
at a monotonic instant shared by all worker processes, ``--burst-after``
seconds after the ramp. Printed: how many of the devices' notifications
arrived, and when (50 %, 99 %, all) after the instant, and the RSS around it.

Everything is bounded in count and time and stays on loopback (devices bind
127.0.0.2 and up, leaving 127.0.0.1's ports to the rest of the machine).

    .venv/bin/python bench/bench_notify.py [--devices 20000] [--minutes 10] [--rate 1000]
        [--period 10] [--every 20] [--resource /3303/0/5700]
    .venv/bin/python bench/bench_notify.py --burst [--devices 100000] [--burst-after 20]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import struct
import sys
import time
from typing import Any

from bench_scale import RCVBUF, answer, rss_of, spare_loopback, uri_path
from child import start_child

from fleet.model.path import Path
from fleet.runner.devices import fleet_device
from fleet.runner.limits import plan_capacity
from fleet.runner.worker import ScenarioSource
from fleet.runner.workers import WorkerError, WorkerPool
from fleet.scenario import load_scenario_text

PMAX = 10
BURST_PMAX = 3600
RESOURCE = "/3303/0/5700"
CONTENT = 0x45
GAP_EXTRA = (0.5, 1, 2, 5, 10, 20, 50)
"""Upper bounds of the gap histogram: the period plus these seconds (then "more")."""


def observe_options(resource: str, pmin: int, pmax: int) -> bytes:
    """Observe (option 6, empty), Uri-Path of ``resource`` (11), Uri-Query pmin, pmax (15)."""
    segments = [part.encode() for part in resource.strip("/").split("/")]
    options = b"\x60"  # Observe: delta 6, length 0 (register)
    delta = 5  # Uri-Path is option 11
    for segment in segments:
        options += bytes([delta << 4 | len(segment)]) + segment
        delta = 0
    delta = 4  # Uri-Query is option 15
    for query in (f"pmin={pmin}".encode(), f"pmax={pmax}".encode()):
        options += bytes([delta << 4 | len(query)]) + query
        delta = 0
    return options


class Observer(asyncio.DatagramProtocol):
    """Registration answers, one Observe per registered device, notification timing."""

    def __init__(
        self, period: int = PMAX, resource: str = RESOURCE, pmin: int | None = None
    ) -> None:
        self.options = observe_options(resource, period if pmin is None else pmin, period)
        self.burst_at: float | None = None
        self.burst_times: list[float] = []
        self.on_time_after = period + 1.0
        self.bounds = [period + extra for extra in GAP_EXTRA]
        self.counts: dict[str, int] = {"register": 0, "update": 0, "deregister": 0, "other": 0}
        self.transport: asyncio.DatagramTransport | None = None
        self.mid = 0
        self.last: dict[bytes, float] = {}
        self.established = 0
        self.on_time = 0
        self.late = 0
        self.gaps = [0] * (len(GAP_EXTRA) + 1)
        self.measuring = False

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        if len(data) < 4 or self.transport is None:
            return
        kind, tkl, code = (data[0] >> 4) & 3, data[0] & 0x0F, data[1]
        if code == CONTENT:
            self._notification(data[4 : 4 + tkl], kind)
            if kind == 0:  # confirmable notification: empty ACK
                self.transport.sendto(bytes([0x60, 0]) + data[2:4], addr)
            return
        if code == 0:
            return  # an ACK/RST of ours
        before = self.counts["register"]
        reply = answer(data, self.counts)
        if reply is not None:
            self.transport.sendto(reply, addr)
        if self.counts["register"] > before and uri_path(data, tkl) == [b"rd"]:
            self.mid = (self.mid + 1) & 0xFFFF
            token = struct.pack("!I", self.counts["register"])
            header = bytes([0x40 | len(token), 0x01]) + struct.pack("!H", self.mid)
            self.transport.sendto(header + token + self.options, addr)

    def _notification(self, token: bytes, kind: int) -> None:
        now = time.monotonic()
        if self.burst_at is not None and now >= self.burst_at:
            self.burst_times.append(now - self.burst_at)
        previous = self.last.get(token)
        self.last[token] = now
        if previous is None:
            self.established += 1
            return
        if not self.measuring:
            return
        gap = now - previous
        if gap <= self.on_time_after:
            self.on_time += 1
        else:
            self.late += 1
        for slot, bound in enumerate(self.bounds):
            if gap <= bound:
                self.gaps[slot] += 1
                break
        else:
            self.gaps[-1] += 1

    def figures(self) -> dict[str, Any]:
        now = time.monotonic()
        silent = sum(1 for t in self.last.values() if now - t > self.on_time_after)
        return {
            **self.counts,
            "established": self.established,
            "on_time": self.on_time,
            "late": self.late,
            "silent_at_end": silent,
            "gaps": self.gaps,
            "burst": burst_figures(sorted(self.burst_times)),
        }


def burst_figures(times: list[float]) -> dict[str, Any]:
    """How many notifications came after the burst instant, and when (sorted ``times``)."""
    if not times:
        return {"count": 0}
    return {
        "count": len(times),
        "p50": times[len(times) // 2],
        "p99": times[min(len(times) - 1, int(len(times) * 0.99))],
        "last": times[-1],
    }


async def observe(
    port: int, period: int, resource: str, pmin: int | None, burst_at: float | None
) -> None:
    """The observer process: stdin lines ``measure`` / ``burst T`` / ``report`` / EOF;
    prints JSON lines."""
    loop = asyncio.get_running_loop()
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, RCVBUF)
    sock.bind(("127.0.0.1", port))
    transport, observer = await loop.create_datagram_endpoint(
        lambda: Observer(period, resource, pmin), sock=sock
    )
    observer.burst_at = burst_at
    print(json.dumps({"ready": True}), flush=True)
    while True:
        line = await loop.run_in_executor(None, sys.stdin.readline)
        if line.strip() == "measure":
            observer.measuring = True
            print(json.dumps({"established": observer.established}), flush=True)
        elif line.startswith("burst "):
            observer.burst_at = float(line.split()[1])
            print(json.dumps({"burst_at": observer.burst_at}), flush=True)
        elif line.strip() == "report":
            print(json.dumps({**observer.figures(), "rss": rss_of(os.getpid())}), flush=True)
        elif not line:
            break
    transport.close()


def scenario_text(
    port: int, devices: int, rate: float, duration: float, resource: str, every: float
) -> str:
    generator = (
        f"""    generators:
      "{resource}": {{kind: counter, start: 0, step: 1, every: {every:g}s}}
"""
        if every > 0
        else ""
    )
    return f"""
version: 1
server: coap://127.0.0.1:{port}
seed: 2
duration: {duration:.0f}s
groups:
  - name: observed
    count: {devices}
    endpoint: "notify-{{index:06d}}"
    lifetime: 3600s
    objects:
      {resource.strip("/").split("/")[0]}: [0]
{generator}phases:
  - {{duration: {devices / rate:.3f}s, arrivalCount: {devices}}}
"""


BURST_ENV = "BENCH_NOTIFY_BURST"
"""Environment of the worker processes: ``<monotonic instant> <resource> <value>``."""


def burst_device(config: Any, clock: Any, rng: Any) -> Any:
    """The fleet's device, plus one timer: at the shared instant its value changes."""
    device = fleet_device(config, clock, rng)
    at, resource, value = os.environ[BURST_ENV].split()
    delay = float(at) - time.monotonic()
    path = Path.parse(resource)
    clock.call_at(clock.now() + max(0.0, delay), lambda: device.set_value(path, float(value)))
    return device


def fleet_rss(pool: WorkerPool) -> int:
    return sum(rss_of(pid) for pid in [os.getpid(), *pool.pids()])


async def drive(pool: WorkerPool, ask: Any, args: argparse.Namespace) -> dict[str, Any]:
    stop = asyncio.Event()
    running = asyncio.ensure_future(pool.run(stop))
    deadline = time.monotonic() + args.ramp_timeout
    while not running.done() and time.monotonic() < deadline:
        waiter = asyncio.ensure_future(pool.reported())
        await asyncio.wait(
            [waiter, running],
            timeout=max(0.0, deadline - time.monotonic()),
            return_when=asyncio.FIRST_COMPLETED,
        )
        waiter.cancel()
        if pool.snapshot().registrations >= args.devices:
            break
    ramp = time.monotonic() - (pool.started or deadline)
    print(
        f"ramp: {pool.snapshot().registrations} registered in {ramp:.1f} s;"
        f" load {os.getloadavg()[0]:.2f}",
        file=sys.stderr,
        flush=True,
    )
    if args.burst:
        return await burst(pool, running, stop, ask, args, ramp)
    await asyncio.wait([running], timeout=2 * args.period)  # every observation sent its first value
    figures: dict[str, Any] = {"ramp": ramp, "rss_after_ramp": fleet_rss(pool)}
    figures["at_start"] = await ask("measure")
    figures["rss_by_minute"] = []
    for half in range(int(args.minutes * 2)):  # bounded: half a minute at a time
        await asyncio.wait([running], timeout=30)
        if half % 2:
            figures["rss_by_minute"].append(fleet_rss(pool))
            seen = await ask("report")
            print(  # as it goes: a run that cannot stop in time still leaves its figures
                f"minute {half // 2 + 1}: on time {seen['on_time']}, late {seen['late']},"
                f" silent {seen['silent_at_end']}; fleet RSS"
                f" {figures['rss_by_minute'][-1] / 2**20:.0f} MiB; load {os.getloadavg()[0]:.2f}",
                file=sys.stderr,
                flush=True,
            )
    figures["rss_end"] = fleet_rss(pool)
    figures["observer"] = await ask("report")
    figures["states"] = dict(pool.snapshot().states)
    figures["load"] = os.getloadavg()
    return await stopped(figures, running, stop, args)


async def stopped(
    figures: dict[str, Any], running: asyncio.Future[Any], stop: asyncio.Event, args: Any
) -> dict[str, Any]:
    """Stop the fleet; a stop that fails (a worker too busy to stop in time) is reported with
    the figures measured before it instead of losing them."""
    print(f"measured: {json.dumps(figures)}", file=sys.stderr, flush=True)
    stop.set()
    started = time.monotonic()
    try:
        figures["summary"] = await asyncio.wait_for(running, args.stop_timeout)
        figures["stop"] = f"{time.monotonic() - started:.1f} s"
    except (WorkerError, TimeoutError) as error:
        figures["stop"] = f"failed after {time.monotonic() - started:.1f} s: {error}"
    return figures


async def burst(
    pool: WorkerPool,
    running: asyncio.Future[Any],
    stop: asyncio.Event,
    ask: Any,
    args: argparse.Namespace,
    ramp: float,
) -> dict[str, Any]:
    """The burst run: wait for the instant every device's value changes, then for the
    notifications (bounded by ``--burst-wait``)."""
    at = float(os.environ[BURST_ENV].split()[0])
    figures: dict[str, Any] = {"ramp": ramp, "overran": time.monotonic() > at}
    figures["at_start"] = await ask("measure")
    await asyncio.wait([running], timeout=max(0.0, at - time.monotonic() - 1))
    figures["rss_after_ramp"] = fleet_rss(pool)
    waited = time.monotonic() + args.burst_wait + 1
    while not running.done() and time.monotonic() < waited:
        await asyncio.wait([running], timeout=1.0)
        seen = await ask("report")
        if seen["burst"]["count"] >= args.devices:
            break
    figures["rss_end"] = fleet_rss(pool)
    figures["observer"] = await ask("report")
    figures["states"] = dict(pool.snapshot().states)
    figures["rss_by_minute"] = []
    figures["load"] = os.getloadavg()
    return await stopped(figures, running, stop, args)


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--devices", type=int, default=20_000)
    parser.add_argument("--minutes", type=float, default=10.0)
    parser.add_argument("--rate", type=float, default=1000.0, help="arrivals per second")
    parser.add_argument("--workers", type=int, default=None)
    parser.add_argument("--port", type=int, default=25684)
    parser.add_argument("--period", type=int, default=PMAX, help="pmin = pmax (seconds)")
    parser.add_argument("--resource", default=RESOURCE, help="the observed resource")
    parser.add_argument("--every", type=float, default=20.0, help="value change period (s)")
    parser.add_argument("--burst", action="store_true", help="every value changes at once")
    parser.add_argument("--burst-after", type=float, default=20.0, help="s after the ramp")
    parser.add_argument("--burst-wait", type=float, default=120.0, help="s for notifications")
    parser.add_argument("--pmin", type=int, default=None, help=argparse.SUPPRESS)
    parser.add_argument("--burst-at", type=float, default=None, help=argparse.SUPPRESS)
    parser.add_argument(
        "--source-address", action="append", default=[], help="default: 127.0.0.2 ..."
    )
    parser.add_argument("--ramp-timeout", type=float, default=300.0)
    parser.add_argument("--stop-timeout", type=float, default=300.0)
    parser.add_argument("--observe", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.observe:
        asyncio.run(observe(args.port, args.period, args.resource, args.pmin, args.burst_at))
        return 0
    capacity = plan_capacity(
        args.devices,
        server_host="127.0.0.1",
        workers=args.workers,
        addresses=args.source_address or spare_loopback(args.devices),
    )
    factory = fleet_device
    if args.burst:
        args.period, args.every = BURST_PMAX, 0.0
        # the ramp takes devices / rate; the instant is after it (workers inherit this)
        at = time.monotonic() + 20 + 2 * args.devices / args.rate + args.burst_after
        os.environ[BURST_ENV] = f"{at} {args.resource} 99"
        factory = burst_device
    observer_args = ["--observe", "--port", str(args.port), "--period", str(args.period)]
    observer_args += ["--resource", args.resource]
    if args.burst:
        observer_args += ["--pmin", "0", "--burst-at", os.environ[BURST_ENV].split()[0]]
    child = start_child(__file__, *observer_args, what="observer")
    if child is None:
        return 1
    assert child.stdin is not None and child.stdout is not None

    async def ask(command: str) -> dict[str, Any]:
        assert child.stdin is not None and child.stdout is not None
        child.stdin.write(command + "\n")
        child.stdin.flush()
        line = await asyncio.get_running_loop().run_in_executor(None, child.stdout.readline)
        result: dict[str, Any] = json.loads(line)
        return result

    duration = args.devices / args.rate + args.ramp_timeout + args.minutes * 60 + 120
    text = scenario_text(args.port, args.devices, args.rate, duration, args.resource, args.every)
    pool = WorkerPool(
        load_scenario_text(text),
        ScenarioSource(text),
        workers=capacity.workers,
        addresses=capacity.addresses,
        report_every=0.5,
        factory=factory,
    )
    try:
        figures = asyncio.run(drive(pool, ask, args))
    finally:
        child.stdin.close()
        child.wait(30)
    seen = figures["observer"]
    if args.burst:
        return print_burst(args, capacity, figures)
    counted = seen["on_time"] + seen["late"] + seen["silent_at_end"]
    fraction = seen["on_time"] / counted if counted else 0.0
    after, end = figures["rss_after_ramp"], figures["rss_end"]
    growth = end / after - 1
    print(
        f"machine: {os.cpu_count()} cores, python {sys.version.split()[0]}; {capacity.describe()}"
    )
    print(
        f"{args.devices} devices, Observe {args.resource} pmin=pmax={args.period}s"
        f" (value changes every {args.every:g} s), {args.minutes:g} min"
    )
    rows = [
        ("ramp (registered)", f"{figures['ramp']:.1f} s"),
        ("observations established", f"{seen['established']} / {args.devices}"),
        ("notifications timed", str(counted)),
        (
            f"on time (gap <= {args.period + 1} s)",
            f"{fraction * 100:.3f} %   target >= 99.9 %: {fraction >= 0.999}",
        ),
        ("late / silent at end", f"{seen['late']} / {seen['silent_at_end']}"),
        (
            "gaps <= period + " + " ".join(f"{e:g}" for e in GAP_EXTRA) + " s, more",
            " ".join(str(n) for n in seen["gaps"]),
        ),
        ("fleet RSS after ramp", f"{after / 2**20:.0f} MiB"),
        (
            "fleet RSS at the end",
            f"{end / 2**20:.0f} MiB ({growth * 100:+.1f} %)   "
            f"target within 10 %: {abs(growth) <= 0.10}",
        ),
        (
            "fleet RSS each minute (MiB)",
            " ".join(f"{rss / 2**20:.0f}" for rss in figures["rss_by_minute"]),
        ),
        ("observer RSS", f"{seen['rss'] / 2**20:.0f} MiB"),
        ("device states at the end", json.dumps(figures["states"])),
        ("load average (1/5/15 min) at the end", " ".join(f"{x:.2f}" for x in figures["load"])),
        ("stop (de-register all)", figures["stop"]),
    ]
    width = max(len(name) for name, _ in rows)
    for name, value in rows:
        print(f"  {name.ljust(width)}  {value}")
    return 0


def print_burst(args: argparse.Namespace, capacity: Any, figures: dict[str, Any]) -> int:
    seen = figures["observer"]
    burst = seen["burst"]
    after, end = figures["rss_after_ramp"], figures["rss_end"]
    print(
        f"machine: {os.cpu_count()} cores, python {sys.version.split()[0]}; {capacity.describe()}"
    )
    print(f"{args.devices} devices observe {args.resource} (pmin=0): every value changes at once")
    rows = [
        ("ramp (registered)", f"{figures['ramp']:.1f} s"),
        ("the ramp ended after the instant", f"{figures['overran']} (then raise --burst-after)"),
        ("observations established", f"{seen['established']} / {args.devices}"),
        (
            "notifications after the instant",
            f"{burst['count']} / {args.devices}   all: {burst['count'] >= args.devices}",
        ),
    ]
    if burst["count"]:
        rows.append(
            (
                "arrived within (50 % / 99 % / all)",
                f"{burst['p50']:.2f} s / {burst['p99']:.2f} s / {burst['last']:.2f} s",
            )
        )
    rows += [
        ("fleet RSS before / after", f"{after / 2**20:.0f} / {end / 2**20:.0f} MiB"),
        ("device states at the end", json.dumps(figures["states"])),
        ("load average (1/5/15 min) at the end", " ".join(f"{x:.2f}" for x in figures["load"])),
        ("stop (de-register all)", figures["stop"]),
    ]
    width = max(len(name) for name, _ in rows)
    for name, value in rows:
        print(f"  {name.ljust(width)}  {value}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
