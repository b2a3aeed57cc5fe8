"""Benchmark of the lean CoAP message layer (fleet.client.coap): memory and request rate.

Prints two tables:

1. Memory per idle endpoint for 1,000 and 5,000 endpoints (Python heap by tracemalloc, and
   resident set size), each measured in a fresh process; aiocoap server contexts for comparison.
2. Confirmable GETs answered per second by one server process pinned to one core, under the
   same bounded load from a load generator pinned to the other core: our CoapEndpoint, a bare
   aiocoap server Context (one trivial resource, transports=["udp6"]) and a bare asyncio UDP
   echo; plus our endpoint in the client role (N concurrent requests) against our server.

Everything is bounded in count and seconds and stays on 127.0.0.1.

    .venv/bin/python bench/bench_coap.py [--seconds 5] [--window 64] [--memory 1000,5000]
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import os
import resource
import socket
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

HOST = "127.0.0.1"
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
    args = [sys.executable, __file__, "--memory-child", kind, str(count)]
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
    else:
        transport, _ = await loop.create_datagram_endpoint(Echo, local_addr=(HOST, 0))
        port = transport.get_extra_info("sockname")[1]
        closers.append(transport.close)
    print(f"PORT {port}", flush=True)
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


def load(port: int, seconds: float, window: int, max_requests: int) -> dict[str, float]:
    """Keep ``window`` CON GETs in flight for ``seconds``; answered requests per second."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
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
        sock.send(header.pack(0x42, 1, mid) + token + _PATH_X)
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

    def __init__(self, kind: str) -> None:
        # the child's stderr goes to a file: aiocoap logs noise when shut down under load
        self.errors = tempfile.TemporaryFile(mode="w+")  # noqa: SIM115 (closed in stop)
        self.process = subprocess.Popen(
            [sys.executable, __file__, "--serve", kind],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self.errors,
            text=True,
        )
        assert self.process.stdout is not None
        line = self.process.stdout.readline().split()
        if len(line) != 2 or line[0] != "PORT":
            self.stop()
            self.errors.seek(0)
            raise RuntimeError(f"{kind} server did not start:\n{self.errors.read()}")
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, default=5.0, help="measured seconds per server")
    parser.add_argument("--window", type=int, default=64, help="requests kept in flight")
    parser.add_argument("--max-requests", type=int, default=2_000_000)
    parser.add_argument("--memory", default="1000,5000", help="endpoint counts ('' to skip)")
    parser.add_argument("--no-aiocoap-memory", action="store_true")
    parser.add_argument("--serve", help=argparse.SUPPRESS)
    parser.add_argument("--memory-child", nargs=2, help=argparse.SUPPRESS)
    parser.add_argument("--trace", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.serve:
        asyncio.run(serve(args.serve))
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

    print(
        f"Confirmable GET round trips answered by one server process on one core "
        f"({args.seconds:g} s, {args.window} in flight)"
    )
    results: dict[str, dict[str, float]] = {}
    pin(LOAD_CPU)
    for kind in ("ours", "aiocoap", "echo"):
        server = Server(kind)
        try:
            results[kind] = load(server.port, args.seconds, args.window, args.max_requests)
            if kind == "ours":
                ours_client = asyncio.run(client_rate(server.port, args.seconds, args.window))
        finally:
            server.stop()
    ours, base, echo = results["ours"]["rate"], results["aiocoap"]["rate"], results["echo"]["rate"]
    print(f"{'server':<34}{'req/s':>9}{'p50 ms':>8}{'p99 ms':>8}{'lost':>6}{'ratio':>20}")
    labels = {
        "ours": "CoapEndpoint",
        "aiocoap": "aiocoap Context, 1 resource",
        "echo": "bare asyncio UDP echo",
    }
    ratios = {
        "ours": f"{ours / base:.2f}x aiocoap",
        "aiocoap": "1.00x",
        "echo": f"ours = {ours / echo:.0%} of it",
    }
    for kind, label in labels.items():
        r = results[kind]
        print(
            f"{label:<34}{r['rate']:>9.0f}{r['p50_ms']:>8.2f}{r['p99_ms']:>8.2f}"
            f"{int(r['lost']):>6}{ratios[kind]:>20}"
        )
    print(
        f"{'CoapEndpoint as client -> ours':<34}{ours_client:>9.0f}"
        f"{'':>22}{'(client role, both ends ours)':>30}"
    )


if __name__ == "__main__":
    main()
