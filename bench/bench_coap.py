"""Benchmark of the lean CoAP message layer (fleet.client.coap): memory and request rate.

Prints two tables:

1. Memory per idle endpoint for 1,000 and 5,000 endpoints (Python heap by tracemalloc, and
   resident set size), each measured in a fresh process; aiocoap server contexts for comparison.
2. Confirmable GETs answered per second by one server process pinned to one core, under the
   same bounded load from a load generator pinned to the other core: our CoapEndpoint, a bare
   aiocoap server Context (one trivial resource, transports=["udp6"]), a bare UDP echo, and a
   full virtual device (fleet.client.device.Device) answering ``GET /3/0/0`` and ``GET /3/0``
   (whole instance, SenML CBOR); plus our endpoint in the client role (N concurrent requests)
   against our server. Each server runs on each event loop of ``--loops`` (asyncio, uvloop).

   Every leg is measured ``--repeat`` times, interleaved (round 1: every leg on every loop,
   round 2: again, ...), and reported as min/median/max, so one leg disturbed by another
   process cannot swing a ratio. The device's ``GET /3/0/0`` is reported as a share of the
   echo on the same loop, computed per round (paired) and summarised the same way.

Everything is bounded in count and seconds and stays on loopback (127.0.0.2 by default).

    .venv/bin/python bench/bench_coap.py [--seconds 3] [--repeat 3] [--window 64]
        [--loops asyncio,uvloop] [--memory 1000,5000] [--json FILE] [--host 127.0.0.2]

``--profile KIND`` (e.g. ``device-3/0``) instead runs that one leg once per loop with
the server process under cProfile and prints its top entries by own time (rates
under the profiler are lower; the shares are what counts).
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import gc
import io
import json
import os
import pstats
import resource
import socket
import statistics
import struct
import subprocess
import sys
import tempfile
import time
import tracemalloc
from typing import Any

from aiocoap import Context, Message
from aiocoap.numbers.codes import Code
from aiocoap.resource import Resource, Site

from fleet.client.coap import CoapEndpoint
from fleet.client.config import DeviceConfig
from fleet.client.device import Device
from fleet.runner import loops
from fleet.server import Lwm2mServer

HOST = "127.0.0.2"  # --host; not 127.0.0.1, whose ports the rest of the machine needs
SERVER_CPU, LOAD_CPU = 0, 1
SERVE_LIMIT = 120.0  # a server process never lives longer than this


def rss_bytes() -> int:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    return 0


def raise_fd_limit() -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


def pin(cpu: int) -> None:
    if hasattr(os, "sched_setaffinity") and cpu < (os.cpu_count() or 1):
        os.sched_setaffinity(0, {cpu})


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        probe.bind((HOST, 0))
        port: int = probe.getsockname()[1]
        return port


# -- memory (child process) -------------------------------------------------------------------


async def _make_endpoints(kind: str, count: int) -> list[Any]:
    if kind == "ours":
        return [await CoapEndpoint.bind(HOST) for _ in range(count)]
    site = Site()  # one shared site: the cheapest way to run aiocoap contexts
    site.add_resource(["x"], Hello())
    return [
        await Context.create_server_context(site, bind=(HOST, 0), transports=["udp6"])
        for _ in range(count)
    ]


async def memory_child(kind: str, count: int, trace: bool) -> dict[str, Any]:
    raise_fd_limit()
    gc.collect()
    if trace:
        tracemalloc.start()
    before_heap = tracemalloc.get_traced_memory()[0] if trace else 0
    before_rss = rss_bytes()
    started = time.perf_counter()
    endpoints = await _make_endpoints(kind, count)
    elapsed = time.perf_counter() - started
    await asyncio.sleep(0)
    gc.collect()
    result = {
        "kind": kind,
        "count": count,
        "heap": (tracemalloc.get_traced_memory()[0] - before_heap) if trace else None,
        "rss": rss_bytes() - before_rss,
        "create_s": elapsed,
        "tasks": len(asyncio.all_tasks()) - 1,
    }
    if kind == "ours":
        result["ports"] = len({e.address[1] for e in endpoints})
    for endpoint in endpoints:
        if kind == "ours":
            endpoint.close()
        else:
            await endpoint.shutdown()
    return result


def run_memory(kind: str, count: int, trace: bool) -> dict[str, Any]:
    args = [sys.executable, __file__, "--memory-child", kind, str(count), "--host", HOST]
    if trace:
        args.append("--trace")
    done = subprocess.run(args, capture_output=True, text=True, timeout=600, check=True)
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


# -- servers (child process) ------------------------------------------------------------------


class Hello(Resource):  # type: ignore[misc]
    async def render_get(self, request: Any) -> Any:
        return Message(code=Code.CONTENT, payload=b"hello")


class Echo(asyncio.DatagramProtocol):
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport: Any = transport

    def datagram_received(self, data: bytes, addr: Any) -> None:
        self.transport.sendto(data, addr)


def answer(request: Any) -> Any:
    return Message(code=Code.CONTENT, payload=b"hello")


async def serve(kind: str) -> None:
    pin(SERVER_CPU)
    loop = asyncio.get_running_loop()
    closers: list[Any] = []
    if kind == "ours":
        endpoint = await CoapEndpoint.bind(HOST, handler=answer)
        port = endpoint.address[1]
        closers.append(endpoint.close)
    elif kind == "aiocoap":
        site = Site()
        site.add_resource(["x"], Hello())
        port = free_port()
        context = await Context.create_server_context(site, bind=(HOST, port), transports=["udp6"])
        closers.append(context.shutdown)
    elif kind.startswith("device"):
        # a full device, registered with the embedded server, answering the load generator too
        server = await Lwm2mServer.start(HOST)
        config = DeviceConfig(
            endpoint="bench-1", server=server.uri, any_source=True, bind_host=HOST
        )
        device = Device(config)
        await device.start()
        await asyncio.wait_for(device.registered.wait(), 60)  # a loaded machine is slow
        assert device.address is not None
        port = device.address[1]
        closers += [lambda: device.stop(deregister=False), server.stop]
    else:
        transport, _ = await loop.create_datagram_endpoint(Echo, local_addr=(HOST, 0))
        port = transport.get_extra_info("sockname")[1]
        closers.append(transport.close)
    print(f"PORT {port} {loops.loop_name(loop)}", flush=True)
    stop = loop.create_future()
    loop.add_reader(sys.stdin.fileno(), lambda: stop.done() or stop.set_result(None))
    try:
        await asyncio.wait_for(stop, SERVE_LIMIT)  # ends when the parent closes our stdin
    finally:
        loop.remove_reader(sys.stdin.fileno())
        for close in closers:
            done = close()
            if asyncio.iscoroutine(done):
                await done
        await asyncio.sleep(0.2)  # let in-flight handler tasks finish before the loop stops


# -- load generator (parent process, blocking socket: cheaper per request than asyncio) --------

_PATH_X = bytes([0xB1]) + b"x"
# Uri-Path 3/0/0; Uri-Path 3/0 + Accept 112 (SenML CBOR)
_PATH_3_0_0 = bytes([0xB1]) + b"3" + bytes([0x01]) + b"0" + bytes([0x01]) + b"0"
_PATH_3_0 = bytes([0xB1]) + b"3" + bytes([0x01]) + b"0" + bytes([0x61, 112])
REQUESTS = {"device-3/0/0": _PATH_3_0_0, "device-3/0": _PATH_3_0}


def load(
    port: int, seconds: float, window: int, max_requests: int, options: bytes = _PATH_X
) -> dict[str, float]:
    """Keep ``window`` CON GETs in flight for ``seconds``; answered requests per second."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind((HOST, 0))  # not the wildcard: other fleets on this machine may hold its ports
    sock.connect((HOST, port))
    sock.settimeout(0.05)
    header = struct.Struct("!BBH")
    sent_at: dict[int, float] = {}
    mid = 0
    answered = lost = sent = 0
    latencies: list[float] = []

    def send_one() -> None:
        nonlocal mid, sent
        mid = (mid + 1) & 0xFFFF
        token = mid.to_bytes(2, "big")
        sock.send(header.pack(0x42, 1, mid) + token + options)
        sent_at[mid] = time.perf_counter()
        sent += 1

    warmup_end = time.perf_counter() + min(1.0, seconds / 4)
    for _ in range(window):
        send_one()
    counting = False
    start = end = time.perf_counter()
    while sent < max_requests:
        now = time.perf_counter()
        if not counting and now >= warmup_end:
            counting, start, answered, latencies = True, now, 0, []
            end = start + seconds
        if counting and now >= end:
            break
        try:
            data = sock.recv(2048)
        except TimeoutError:
            stale = [m for m, t in sent_at.items() if now - t > 1.0]
            for m in stale:
                del sent_at[m]
                lost += 1
                send_one()
            continue
        if len(data) < 4:
            continue
        got = (data[2] << 8) | data[3]
        began = sent_at.pop(got, None)
        if began is None:
            continue
        answered += 1
        if len(latencies) < 200_000:
            latencies.append(time.perf_counter() - began)
        send_one()
    elapsed = max(time.perf_counter() - start, 1e-9)
    sock.close()
    latencies.sort()
    p50 = latencies[len(latencies) // 2] if latencies else 0.0
    p99 = latencies[int(len(latencies) * 0.99)] if latencies else 0.0
    return {"rate": answered / elapsed, "lost": lost, "p50_ms": p50 * 1e3, "p99_ms": p99 * 1e3}


class Server:
    """A server child process (started and stopped by us, by its own handle)."""

    def __init__(self, kind: str, loop: str = "asyncio", profile: str | None = None) -> None:
        # the child's stderr goes to a file: aiocoap logs noise when shut down under load
        self.errors = tempfile.TemporaryFile(mode="w+")  # noqa: SIM115 (closed in stop)
        extra = ["--profile-out", profile] if profile else []
        self.process = subprocess.Popen(
            [sys.executable, __file__, "--serve", kind, "--loop", loop, "--host", HOST, *extra],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self.errors,
            text=True,
        )
        assert self.process.stdout is not None
        line = self.process.stdout.readline().split()
        if len(line) != 3 or line[0] != "PORT" or line[2] != loop:
            self.process.wait(timeout=10)
            self.errors.seek(0)
            said = self.errors.read()
            self.stop()
            raise RuntimeError(f"{kind} server on {loop} did not start:\n{said}")
        self.port = int(line[1])
        time.sleep(0.2)  # let the child reach its loop before the clock starts

    def stop(self) -> None:
        if self.process.stdin is not None:
            self.process.stdin.close()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=10)
        self.errors.close()


async def client_rate(port: int, seconds: float, concurrency: int) -> float:
    """Our endpoint as a client: ``concurrency`` request loops against ``port`` for ``seconds``."""
    pin(LOAD_CPU)
    client = await CoapEndpoint.bind(HOST)
    deadline = time.perf_counter() + seconds
    answered = 0

    async def worker() -> None:
        nonlocal answered
        message = Message(code=Code.GET, uri_path=("x",))
        while time.perf_counter() < deadline:
            await client.request(message, (HOST, port), timeout=5.0)
            answered += 1

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    elapsed = time.perf_counter() - started
    client.close()
    return answered / elapsed


# -- main -------------------------------------------------------------------------------------


LABELS = {
    "ours": "CoapEndpoint, GET /x",
    "aiocoap": "aiocoap Context, 1 resource",
    "echo": "bare UDP echo (DatagramProtocol)",
    "device-3/0/0": "Device, GET /3/0/0",
    "device-3/0": "Device, GET /3/0 (SenML CBOR)",
    "client": "CoapEndpoint as client -> ours",
}


def measure(kind: str, loop: str, args: argparse.Namespace) -> float:
    """One leg: answered requests per second (``client``: our client against ``ours``)."""
    server = Server("ours" if kind == "client" else kind, loop)
    try:
        if kind == "client":
            return loops.run(client_rate(server.port, args.seconds, args.window), loop)
        options = REQUESTS.get(kind, _PATH_X)
        return load(server.port, args.seconds, args.window, args.max_requests, options)["rate"]
    finally:
        server.stop()


def profile_leg(kind: str, loop: str, args: argparse.Namespace) -> None:
    """One leg with its server process under cProfile: the rate and the top entries."""
    with tempfile.TemporaryDirectory() as folder:
        out = os.path.join(folder, "serve.prof")
        server = Server(kind, loop, profile=out)
        try:
            options = REQUESTS.get(kind, _PATH_X)
            rate = load(server.port, args.seconds, args.window, args.max_requests, options)["rate"]
        finally:
            server.stop()
        text = io.StringIO()
        stats = pstats.Stats(out, stream=text)
        stats.sort_stats("tottime").print_stats(args.profile_top)
    print(f"{LABELS[kind]} on {loop}: {rate:.0f}/s under the profiler")
    lines = text.getvalue().splitlines()
    start = next((i for i, line in enumerate(lines) if "ncalls" in line), 0)
    print("\n".join(line.replace(os.getcwd() + "/", "") for line in lines[start:] if line))
    print()


def spread(values: list[float]) -> tuple[float, float, float]:
    return min(values), statistics.median(values), max(values)


def run_rates(args: argparse.Namespace) -> dict[str, Any]:
    """Every leg on every loop, ``repeat`` interleaved rounds; the rates and paired ratios."""
    chosen = [name for name in args.loops.split(",") if name]
    kinds = [k for k in LABELS if k != "aiocoap" or not args.no_aiocoap]
    rates: dict[str, dict[str, list[float]]] = {n: {k: [] for k in kinds} for n in chosen}
    pin(LOAD_CPU)
    for round_number in range(args.repeat):
        for name in chosen:
            for kind in kinds:
                rates[name][kind].append(measure(kind, name, args))
        print(f"  round {round_number + 1}/{args.repeat} done", file=sys.stderr, flush=True)
    ratios = {
        name: {
            "device-3/0/0/echo": [
                d / e for d, e in zip(rates[name]["device-3/0/0"], rates[name]["echo"], strict=True)
            ],
            "ours/echo": [
                o / e for o, e in zip(rates[name]["ours"], rates[name]["echo"], strict=True)
            ],
        }
        for name in chosen
    }
    return {"rates": rates, "ratios": ratios, "seconds": args.seconds, "window": args.window}


def print_rates(result: dict[str, Any], args: argparse.Namespace) -> None:
    print(
        f"Confirmable GET round trips answered by one server process on one core "
        f"({args.seconds:g} s per leg, {args.window} in flight, {args.repeat} interleaved rounds)"
    )
    print(f"{'server':<34}{'loop':>9}{'min/s':>9}{'median/s':>10}{'max/s':>9}")
    for name, legs in result["rates"].items():
        for kind, values in legs.items():
            low, mid, high = spread(values)
            print(f"{LABELS[kind]:<34}{name:>9}{low:>9.0f}{mid:>10.0f}{high:>9.0f}")
    print()
    print("Paired ratios (each round's legs on the same loop), min / median / max")
    for name, pairs in result["ratios"].items():
        for what, values in pairs.items():
            low, mid, high = spread(values)
            print(f"{what:<34}{name:>9}{low:>9.0%}{mid:>10.0%}{high:>9.0%}")
    if "asyncio" in result["rates"] and "uvloop" in result["rates"]:
        print()
        print("uvloop / asyncio, median rate of each leg")
        for kind in result["rates"]["asyncio"]:
            a = statistics.median(result["rates"]["asyncio"][kind])
            u = statistics.median(result["rates"]["uvloop"][kind])
            print(f"{LABELS[kind]:<34}{u / a:>9.2f}x")


def main() -> None:
    global HOST  # one address for the whole run, children included
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, default=3.0, help="measured seconds per leg")
    parser.add_argument("--repeat", type=int, default=3, help="interleaved rounds of every leg")
    parser.add_argument("--window", type=int, default=64, help="requests kept in flight")
    parser.add_argument("--max-requests", type=int, default=2_000_000)
    parser.add_argument("--loops", default="asyncio,uvloop", help="event loops of the servers")
    parser.add_argument("--no-aiocoap", action="store_true", help="skip the aiocoap leg")
    parser.add_argument("--json", type=argparse.FileType("w"), help="also write the rates here")
    parser.add_argument("--memory", default="1000,5000", help="endpoint counts ('' to skip)")
    parser.add_argument("--no-aiocoap-memory", action="store_true")
    parser.add_argument("--serve", help=argparse.SUPPRESS)
    parser.add_argument("--loop", default="asyncio", help=argparse.SUPPRESS)
    parser.add_argument("--memory-child", nargs=2, help=argparse.SUPPRESS)
    parser.add_argument("--trace", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--host", default=HOST, help="loopback address of every socket")
    parser.add_argument("--profile", help="profile the server of this one leg instead")
    parser.add_argument("--profile-top", type=int, default=15, help="entries printed")
    parser.add_argument("--profile-out", help=argparse.SUPPRESS)
    args = parser.parse_args()
    HOST = args.host

    if args.serve:
        profiler = cProfile.Profile() if args.profile_out else None
        if profiler is not None:
            profiler.enable()
        try:
            loops.run(serve(args.serve), args.loop)
        finally:
            if profiler is not None:
                profiler.disable()
                profiler.dump_stats(args.profile_out)
        return
    if args.profile:
        if args.profile not in LABELS or args.profile == "client":
            parser.error(f"--profile takes one of {', '.join(k for k in LABELS if k != 'client')}")
        pin(LOAD_CPU)
        for name in [n for n in args.loops.split(",") if n]:
            profile_leg(args.profile, name, args)
        return
    if args.memory_child:
        kind, count = args.memory_child
        print(json.dumps(asyncio.run(memory_child(kind, int(count), args.trace))))
        return

    print(f"python {sys.version.split()[0]}, {os.cpu_count()} cores, loopback only\n")
    counts = [int(c) for c in args.memory.split(",") if c]
    if counts:
        print("Idle endpoints: memory per endpoint (fresh process each)")
        print(f"{'what':<28}{'count':>7}{'heap B/ep':>11}{'RSS B/ep':>10}{'create ms/ep':>14}")
        kinds = ["ours"] + ([] if args.no_aiocoap_memory else ["aiocoap"])
        for kind in kinds:
            for count in counts if kind == "ours" else counts[:1]:
                traced = run_memory(kind, count, trace=True)
                plain = run_memory(kind, count, trace=False)
                label = "CoapEndpoint" if kind == "ours" else "aiocoap server Context"
                print(
                    f"{label:<28}{count:>7}{traced['heap'] / count:>11.0f}"
                    f"{plain['rss'] / count:>10.0f}{plain['create_s'] / count * 1e3:>14.3f}"
                )
                if kind == "ours":
                    assert plain["ports"] == count and plain["tasks"] == 0
        print()

    result = run_rates(args)
    print_rates(result, args)
    if args.json is not None:
        json.dump(result, args.json, indent=1)
        args.json.close()


if __name__ == "__main__":
    main()
