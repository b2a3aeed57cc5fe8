"""Benchmark: a fleet registered and idle on one machine, through ``fleet run``'s workers.

Runs a scenario of ``--devices`` devices (default 50,000) with the real
:class:`~fleet.runner.workers.WorkerPool` (several shard processes, each under
the open-file limit; devices bound to 127.0.0.2, 127.0.0.3 ... as many as their
ephemeral ports need, leaving 127.0.0.1's to the rest of the machine) against a
server in its own process:

- ``--server lean`` (default): a minimal responder answering Register 2.01,
  Update 2.04 and De-register 2.02 straight from the datagram — a server that
  keeps up, so the figures are the fleet's;
- ``--server embedded``: :class:`fleet.server.Lwm2mServer` (our embedded server);
- ``--server embedded-info``: the same reading /3 and /6 after every Register, as
  ``fleet server`` and a platform do (``--server-profile FILE``: its cProfile).

Both servers get a 4 MiB socket receive buffer (see ``bench_devices.py
--burst``: the default 208 KiB drops bursts). The scenario starts with a 3 s
pause: the fleet's RSS then (every worker and the parent) is the baseline.
Prints the capacity plan, the offered and the achieved registration rate (from
the first arrival to the last registration), p50/p99 of Register, late starts,
the **marginal** RSS per device ((RSS after the ramp - baseline) / devices;
target <= 8 KiB) and the **whole-fleet** RSS per device (RSS after the ramp /
devices; target <= 12 KiB), the RSS every ``--sample`` seconds of the idle time
(``--idle``; with a short ``--lifetime`` it is full of Updates, counted), and
the de-registration time at the end.

``--ladder 1000,2000,...`` finds the ceiling instead: a fresh fleet of
``--devices`` per offered rate, raised step by step until p99 reaches 1 s, more
than 1 % of the arrivals start late, or a Register fails (at most one run per
step given).

Everything is bounded: the ramp (``--ramp-timeout``), the idle time
(``--idle``), the stop (``--stop-timeout``), the ladder's steps; traffic stays
on loopback.

    .venv/bin/python bench/bench_scale.py [--devices 50000] [--server lean|embedded|embedded-info]
        [--rate 1500] [--idle 60] [--lifetime 300] [--workers N] [--sample 60]
    .venv/bin/python bench/bench_scale.py --devices 20000 --idle 0 --ladder 1000,2000,3000,5000
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import socket
import struct
import sys
import time
from typing import Any

from child import start_child

from fleet.metrics import Operation
from fleet.runner import loops
from fleet.runner.limits import PORTS_SPARE, ephemeral_ports, plan_capacity
from fleet.runner.worker import ScenarioSource
from fleet.runner.workers import WorkerPool
from fleet.scenario import load_scenario_text

SERVERS = ("lean", "embedded", "embedded-info")
"""The servers: a lean responder, our Lwm2mServer, and it reading /3 and /6 on each Register."""
RCVBUF = 4 << 20
CREATED, CHANGED, DELETED, NOT_FOUND = 0x41, 0x44, 0x42, 0x84
POST, DELETE = 0x02, 0x04
ACK, CON = 2, 0


# -- the lean responder ---------------------------------------------------------------------------


def uri_path(data: bytes, tkl: int) -> list[bytes]:
    """The Uri-Path options of a CoAP message (RFC 7252 section 3.1)."""
    position, number, segments = 4 + tkl, 0, []
    while position < len(data) and data[position] != 0xFF:
        byte = data[position]
        position += 1
        delta, length = byte >> 4, byte & 0x0F
        if delta == 13:
            delta, position = data[position] + 13, position + 1
        elif delta == 14:
            delta, position = struct.unpack_from("!H", data, position)[0] + 269, position + 2
        if length == 13:
            length, position = data[position] + 13, position + 1
        elif length == 14:
            length, position = struct.unpack_from("!H", data, position)[0] + 269, position + 2
        number += delta
        if number == 11:
            segments.append(data[position : position + length])
        position += length
    return segments


def answer(data: bytes, counts: dict[str, int]) -> bytes | None:
    """The piggy-backed answer to a registration-interface request (None: ignore it)."""
    if len(data) < 4 or data[0] >> 6 != 1 or (data[0] >> 4) & 3 != CON:
        return None
    tkl, code = data[0] & 0x0F, data[1]
    mid_token = data[2 : 4 + tkl]  # an ACK echoes the message id and the token
    path = uri_path(data, tkl)
    if code == POST and path == [b"rd"]:
        counts["register"] += 1
        location = b"%05x" % (counts["register"] & 0xFFFFF)
        # Location-Path "rd" (option 8: delta 8, length 2), then Location-Path <id> (delta 0)
        options = b"\x82rd" + bytes([len(location)]) + location
        return bytes([0x60 | tkl, CREATED]) + mid_token + options
    if code == POST and len(path) == 2 and path[0] == b"rd":
        counts["update"] += 1
        return bytes([0x60 | tkl, CHANGED]) + mid_token
    if code == DELETE and len(path) == 2 and path[0] == b"rd":
        counts["deregister"] += 1
        return bytes([0x60 | tkl, DELETED]) + mid_token
    counts["other"] += 1
    return bytes([0x60 | tkl, NOT_FOUND]) + mid_token


class Lean(asyncio.DatagramProtocol):
    def __init__(self) -> None:
        self.counts = {"register": 0, "update": 0, "deregister": 0, "other": 0}
        self.transport: asyncio.DatagramTransport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        reply = answer(data, self.counts)
        if reply is not None and self.transport is not None:
            self.transport.sendto(reply, addr)


async def serve(kind: str, port: int) -> None:
    """Serve until stdin closes; print ``ready`` first and the counts last (JSON lines)."""
    loop = asyncio.get_running_loop()
    counts: dict[str, Any]
    if kind == "lean":
        sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, RCVBUF)
        sock.bind(("127.0.0.1", port))
        transport, lean = await loop.create_datagram_endpoint(Lean, sock=sock)
        print(json.dumps({"ready": True}), flush=True)
        await loop.run_in_executor(None, sys.stdin.read)
        transport.close()
        counts = dict(lean.counts)
    else:
        from fleet.server import DEVICE_INFO_PATHS, Lwm2mServer

        reads = DEVICE_INFO_PATHS if kind == "embedded-info" else ()
        server = await Lwm2mServer.start(
            port=port, history=16, request_timeout=30.0, read_on_register=reads
        )
        sock = server._endpoint._transport.get_extra_info("socket")  # type: ignore[union-attr]
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, RCVBUF)
        print(json.dumps({"ready": True}), flush=True)
        await loop.run_in_executor(None, sys.stdin.read)
        counters = server.counters
        counts = {
            "register": counters.registrations,
            "update": counters.updates,
            "deregister": counters.deregistrations,
            "other": counters.rejected,
        }
        await server.stop()
    counts["rss"] = rss_of(os.getpid())
    counts["cpu"] = time.process_time()
    print(json.dumps(counts), flush=True)


# -- the fleet ------------------------------------------------------------------------------------


def rss_of(pid: int) -> int:
    """Resident set size of a process in bytes (0 if it is gone)."""
    try:
        with open(f"/proc/{pid}/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds a process used so far (0 if it is gone)."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as stat:
            fields = stat.read().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


PAUSE = 3.0
"""Seconds nobody arrives at the start: the workers' RSS then is the baseline."""


def scenario_text(
    port: int, devices: int, rate: float, lifetime: int, duration: float, pause: float = 0.0
) -> str:
    first = f"  - {{pause: {pause}s}}\n" if pause > 0 else ""
    return f"""
version: 1
server: coap://127.0.0.1:{port}
seed: 1
duration: {duration}s
groups:
  - name: idle
    count: {devices}
    endpoint: "scale-{{index:06d}}"
    lifetime: {lifetime}s
phases:
{first}  - {{duration: {devices / rate:.3f}s, arrivalCount: {devices}}}
"""


def spare_loopback(devices: int) -> list[str]:
    """Source addresses 127.0.0.2, 127.0.0.3 ... enough for ``devices`` sockets: the bench
    leaves the ephemeral ports of 127.0.0.1 to everything else on the machine (a test
    binding 127.0.0.1 port 0 fails with EADDRINUSE once a fleet has taken them all)."""
    count = math.ceil(devices / (ephemeral_ports() - PORTS_SPARE)) if devices else 1
    return [f"127.0.0.{2 + i}" for i in range(count)]


def fleet_rss(pool: WorkerPool) -> int:
    """RSS of the whole fleet: this (parent) process and every worker."""
    return sum(rss_of(pid) for pid in [os.getpid(), *pool.pids()])


async def drive(pool: WorkerPool, args: argparse.Namespace) -> dict[str, Any]:
    stop = asyncio.Event()
    running = asyncio.ensure_future(pool.run(stop))
    figures: dict[str, Any] = {}
    started = time.monotonic()
    deadline = started + args.ramp_timeout
    registered = 0
    while pool.started is None and not running.done():  # the workers import, then start
        await asyncio.wait([running], timeout=0.05)
    await asyncio.wait([running], timeout=PAUSE * 0.8)  # in the pause: nobody arrived yet
    figures["rss_base"] = fleet_rss(pool)
    figures["rss_base_workers"] = [rss_of(pid) for pid in pool.pids()]
    while not running.done() and time.monotonic() < deadline:
        waiter = asyncio.ensure_future(pool.reported())
        await asyncio.wait(
            [waiter, running],
            timeout=deadline - time.monotonic(),
            return_when=asyncio.FIRST_COMPLETED,
        )
        waiter.cancel()
        registered = pool.snapshot().registrations
        if registered >= args.devices:
            break
    ramp = time.monotonic() - (pool.started or started) - PAUSE
    figures["cpu_ramp"] = sum(cpu_seconds(pid) for pid in [os.getpid(), *pool.pids()])
    figures["load_ramp"] = os.getloadavg()[0]
    figures["registered"] = registered
    figures["ramp_seconds"] = ramp
    figures["rss_after_ramp"] = fleet_rss(pool)
    figures["states_after_ramp"] = dict(pool.snapshot().states)
    print(
        f"ramp: {registered} registered in {ramp:.1f} s; RSS {figures['rss_base'] / 2**20:.0f}"
        f" -> {figures['rss_after_ramp'] / 2**20:.0f} MiB",
        file=sys.stderr,
        flush=True,
    )
    updates_before = pool.metrics().stats(Operation.UPDATE).count
    samples: list[int] = []
    idle_end = time.monotonic() + args.idle
    while not running.done() and time.monotonic() < idle_end:
        await asyncio.wait([running], timeout=min(args.sample, idle_end - time.monotonic()))
        samples.append(fleet_rss(pool))
        print(f"idle: RSS {samples[-1] / 2**20:.0f} MiB", file=sys.stderr, flush=True)
    figures["rss_samples"] = samples
    figures["updates_idle"] = pool.metrics().stats(Operation.UPDATE).count - updates_before
    figures["rss_end"] = fleet_rss(pool)
    figures["states_end"] = dict(pool.snapshot().states)
    register = pool.metrics().stats(Operation.REGISTER)
    print(  # before the stop, which a saturated machine may not finish
        f"idle done: {figures['updates_idle']} Updates answered; states"
        f" {json.dumps(figures['states_end'])}; register p99"
        f" {_num(register.durations.percentile(99))} ms",
        file=sys.stderr,
        flush=True,
    )
    stopping = time.perf_counter()
    stop.set()
    summary = await asyncio.wait_for(running, args.stop_timeout)
    figures["stop_seconds"] = time.perf_counter() - stopping
    figures["summary"] = summary
    return figures


def fleet_pool(args: argparse.Namespace, capacity: Any, rate: float) -> WorkerPool:
    """The workers of one run of ``args.devices`` devices arriving at ``rate`` per second."""
    duration = args.devices / rate + args.ramp_timeout + args.idle + 60
    text = scenario_text(args.port, args.devices, rate, args.lifetime, duration, PAUSE)
    return WorkerPool(
        load_scenario_text(text),
        ScenarioSource(text),
        workers=capacity.workers,
        addresses=capacity.addresses,
        report_every=0.25,
        loop=args.loop,
    )


def ladder(args: argparse.Namespace, capacity: Any) -> int:
    """Raise the offered rate step by step (``--ladder``, each step a fresh fleet of
    ``--devices``) until p99 reaches 1 s, more than 1 % of the arrivals start late or a
    Register fails; the last step that held is the ceiling."""
    print(
        f"machine: {os.cpu_count()} cores, python {sys.version.split()[0]}; {capacity.describe()}"
    )
    print(f"server: {args.server}; {args.devices} devices per step; loop {args.loop}")
    print("  offered/s  achieved/s  p50 ms   p99 ms   late   failed  held  (fleet CPU s)")
    ceiling = None
    for rate in args.ladder:
        figures = asyncio.run(drive(fleet_pool(args, capacity, rate), args))
        summary = figures["summary"]
        achieved = figures["registered"] / figures["ramp_seconds"]
        p50 = _op(summary, "register").durations.percentile(50)
        p99 = _op(summary, "register").durations.percentile(99)
        failed = _op(summary, "register").failures
        late = summary.late_operations
        held = (
            figures["registered"] >= args.devices
            and p99 is not None
            and p99 < 1.0
            and late <= 0.01 * args.devices
            and not failed
        )
        print(
            f"  {rate:9.0f}  {achieved:10.0f}  {_num(p50):>7}  {_num(p99):>7}  {late:5d}"
            f"  {failed:6d}  {'yes' if held else 'NO':4}  ({figures['cpu_ramp']:.1f})",
            flush=True,
        )
        if not held:
            break
        ceiling = achieved
    print(f"ceiling: {'none held' if ceiling is None else f'{ceiling:.0f} registrations/s'}")
    return 0


def _num(seconds: float | None) -> str:
    return "n/a" if seconds is None else f"{seconds * 1000:.0f}"


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--devices", type=int, default=50_000)
    parser.add_argument("--server", choices=SERVERS, default="lean")
    parser.add_argument("--server-profile", metavar="FILE", help="cProfile the server into FILE")
    parser.add_argument("--rate", type=float, default=1500.0, help="offered arrivals per second")
    parser.add_argument("--lifetime", type=int, default=300, help="registration lifetime (s)")
    parser.add_argument("--idle", type=float, default=60.0, help="seconds idle after the ramp")
    parser.add_argument(
        "--source-address", action="append", default=[], help="default: 127.0.0.2 ..."
    )
    parser.add_argument("--loop", choices=("auto", "asyncio", "uvloop"), default="auto")
    parser.add_argument("--sample", type=float, default=60.0, help="RSS sample period (s)")
    parser.add_argument("--workers", type=int, default=None, help="default: plan_capacity's")
    parser.add_argument("--port", type=int, default=25683)
    parser.add_argument("--ramp-timeout", type=float, default=300.0)
    parser.add_argument("--stop-timeout", type=float, default=300.0)
    parser.add_argument(
        "--ladder",
        type=lambda text: [float(r) for r in text.split(",")],
        help="offered rates to step through, e.g. 1000,2000,3000 (stops at the first broken)",
    )
    parser.add_argument("--serve", choices=SERVERS, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        if args.server_profile:
            import cProfile

            with cProfile.Profile() as profile:
                loops.run(serve(args.serve, args.port), args.loop)
            profile.dump_stats(args.server_profile)
        else:
            loops.run(serve(args.serve, args.port), args.loop)
        return 0

    addresses = args.source_address or spare_loopback(args.devices)
    capacity = plan_capacity(
        args.devices, server_host="127.0.0.1", workers=args.workers, addresses=addresses
    )
    server_args = ["--serve", args.server, "--port", str(args.port), "--loop", args.loop]
    if args.server_profile:
        server_args += ["--server-profile", args.server_profile]
    server = start_child(__file__, *server_args, what="server")
    if server is None:
        return 1
    assert server.stdout is not None and server.stdin is not None
    try:
        if args.ladder:
            return ladder(args, capacity)
        figures = asyncio.run(drive(fleet_pool(args, capacity, args.rate), args))
    finally:
        server.stdin.close()
        counts = json.loads(server.stdout.readline() or "{}")
        server.wait(30)
    summary = figures.pop("summary")
    devices = args.devices
    rate = figures["registered"] / figures["ramp_seconds"]
    after, end, base = figures["rss_after_ramp"], figures["rss_end"], figures["rss_base"]
    marginal = (after - base) / devices / 1024
    whole = after / devices / 1024
    p99 = _op(summary, "register").durations.percentile(99)
    late = summary.late_operations
    print(
        f"machine: {os.cpu_count()} cores, python {sys.version.split()[0]}; {capacity.describe()}"
    )
    print(f"server: {args.server}; lifetime {args.lifetime}s; loop {args.loop}")
    rows = [
        ("devices registered", f"{figures['registered']} / {devices}", ""),
        ("registration ramp", f"{figures['ramp_seconds']:.1f} s", ""),
        ("offered / achieved", f"{args.rate:.0f} / {rate:.0f} registrations/s", ""),
        (
            "fleet CPU during the ramp",
            f"{figures['cpu_ramp']:.1f} s",
            f"{figures['registered'] / max(figures['cpu_ramp'], 1e-9):.0f} registrations/CPU-s",
        ),
        ("load average (1 min) after ramp", f"{figures['load_ramp']:.2f}", "other work too?"),
        (
            "fleet RSS before arrivals",
            f"{base / 2**20:.0f} MiB",
            "workers " + " ".join(f"{r / 2**20:.0f}" for r in figures["rss_base_workers"]),
        ),
        ("fleet RSS after ramp", f"{after / 2**20:.0f} MiB", ""),
        ("marginal RSS per device", f"{marginal:.2f} KiB", f"target <= 8 KiB: {marginal <= 8}"),
        ("whole-fleet RSS per device", f"{whole:.2f} KiB", f"target <= 12 KiB: {whole <= 12}"),
        ("fleet RSS after idle", f"{end / 2**20:.0f} MiB ({(end / after - 1) * 100:+.1f} %)", ""),
        (
            "RSS samples while idle (MiB)",
            " ".join(f"{r / 2**20:.0f}" for r in figures["rss_samples"]) or "-",
            f"every {args.sample:.0f} s",
        ),
        ("Updates answered while idle", str(figures["updates_idle"]), ""),
        ("server RSS", f"{counts.get('rss', 0) / 2**20:.0f} MiB", ""),
        (
            "server CPU (whole run)",
            f"{counts.get('cpu', 0):.1f} s",
            f"{1e3 * counts.get('cpu', 0) / max(counts.get('register', 0), 1):.2f} ms"
            " per Register (its Update/De-register and reads included)",
        ),
        ("states after idle", json.dumps(figures["states_end"]), ""),
        ("server saw", json.dumps({k: counts[k] for k in counts if k not in ("rss", "cpu")}), ""),
        (
            "register p50 / p99",
            f"{_ms(summary, 'register', 50)} / {_ms(summary, 'register', 99)}",
            "",
        ),
        ("register failures", _failures(summary, "register"), ""),
        ("late starts (saturated)", str(late), ""),
        (
            "rate held",
            f"p99 < 1 s: {p99 is not None and p99 < 1.0}",
            f"late <= 1 %: {late <= 0.01 * devices}",
        ),
        (
            "de-register all (stop)",
            f"{figures['stop_seconds']:.1f} s",
            f"{_count(summary, 'deregister')} de-registered",
        ),
    ]
    width = max(len(r[0]) for r in rows)
    for name, value, note in rows:
        print(f"  {name.ljust(width)}  {value:<28} {note}")
    return 0


def _op(summary: Any, name: str) -> Any:
    from fleet.metrics import Operation

    return summary.operations[Operation(name)]


def _ms(summary: Any, name: str, p: float) -> str:
    value = _op(summary, name).durations.percentile(p)
    return "n/a" if value is None else f"{value * 1000:.1f} ms"


def _failures(summary: Any, name: str) -> str:
    return str(_op(summary, name).failures)


def _count(summary: Any, name: str) -> int:
    return int(_op(summary, name).count)


if __name__ == "__main__":
    sys.exit(main())
