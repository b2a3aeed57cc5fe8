"""Benchmark of DTLS with X.509 certificates next to DTLS-PSK and plain UDP.

Prints:

1. Handshakes per second (``--window`` in flight) of our client endpoints against
   libcoap's ``coap-server-openssl`` (another process): PSK (tinydtls) and X.509 (OpenSSL,
   EC P-256 certificates of a fleet CA, the server's checked against the CA).
2. Memory per established session, client side (server in another process): Python heap
   by tracemalloc and resident set size (OpenSSL and tinydtls allocate in C: RSS), next
   to a plain UDP CoapEndpoint.
3. Whole LwM2M devices registering with the embedded server (same process, both sides'
   cost) over coap://, coaps:// with PSK and coaps:// with certificates.
4. Minting device certificates with the fleet CA (``--mint``): per second, the cache's
   bytes per device on disk, and the heap a loaded cache holds per device.

Bounded in count and seconds, 127.0.0.1 only. Uses bench_dtls's helpers.

    .venv/bin/python bench/bench_x509.py [--handshakes 500] [--window 32] [--memory 300]
        [--devices 300] [--mint 10000]
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import resource
import shutil
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_dtls import (
    HOST,
    KEY,
    LIMIT,
    Row,
    memory_per_device,
    print_table,
    registration_figures,
    start_libcoap,
)

from fleet.client.coap import CoapEndpoint
from fleet.client.coap.dtls import dtls_available, open_dtls_client
from fleet.client.coap.dtls_x509 import open_x509_client
from fleet.client.coap.psk import PskCredentials
from fleet.client.coap.x509 import X509Credentials, x509_available
from fleet.client.config import DeviceConfig
from fleet.client.credentials import SingleCredentials, key_lookup
from fleet.client.fleet_ca import CACHE_FILE, SERVER_FILE, SERVER_KEY, FleetCa


def device_credentials(ca: FleetCa, endpoint: str) -> X509Credentials:
    device = ca.device(endpoint)
    anchor = (ca.certificate_der,)
    return X509Credentials(device.certificate, device.key, endpoint, trust=anchor, chain=anchor)


async def rate(opener: Any, count: int, window: int) -> float:
    semaphore = asyncio.Semaphore(window)

    async def one(index: int) -> None:
        async with semaphore:
            client = await opener(index)
            client.close()

    started = time.perf_counter()
    await asyncio.wait_for(asyncio.gather(*(one(i) for i in range(count))), LIMIT)
    return count / (time.perf_counter() - started)


async def devices(mode: str, count: int, window: int, ca: FleetCa) -> Row:
    single = SingleCredentials(PskCredentials(b"bench", KEY))
    options: dict[str, Any] = {}
    if mode == "psk":
        options["psk"] = key_lookup([single])
    elif mode == "x509":
        options["certificate"] = ca.server_credentials()

    def config_of(uri: str, index: int) -> DeviceConfig:
        name = f"bench-{index:06d}"
        return DeviceConfig(
            name,
            server=uri,
            psk=single.psk if mode == "psk" else None,
            x509=device_credentials(ca, name) if mode == "x509" else None,
        )

    label = f"LwM2M device, {mode} (+server)"
    return await registration_figures(label, options, config_of, count, window)


def minting(count: int) -> list[Row]:
    with tempfile.TemporaryDirectory() as folder:
        ca = FleetCa.create(Path(folder))
        started = time.perf_counter()
        for index in range(count):
            ca.device(f"sim-{index:06d}")
        per_second = count / (time.perf_counter() - started)
        ca.save()
        on_disk = (Path(folder) / CACHE_FILE).stat().st_size / count
        gc.collect()
        tracemalloc.start()
        before = tracemalloc.get_traced_memory()[0]
        loaded = FleetCa.load(Path(folder))
        started = time.perf_counter()
        assert loaded.cached == count
        load_rate = count / (time.perf_counter() - started)
        heap = (tracemalloc.get_traced_memory()[0] - before) / count
        tracemalloc.stop()
    return [
        (f"mint {count} device certificates", "certs/s", per_second, None, None),
        ("load the cache (devices.csv)", "certs/s", load_rate, heap, None),
        ("cache on disk", "bytes/device", on_disk, None, None),
    ]


async def main(arguments: argparse.Namespace) -> list[Row]:
    _soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    rows: list[Row] = []
    with tempfile.TemporaryDirectory() as folder:
        ca = FleetCa.create(Path(folder))
        certs = ["-c", str(ca.directory / SERVER_FILE), "-j", str(ca.directory / SERVER_KEY)]
        certs += ["-C", str(ca.directory / "ca.pem")]
        for index in range(max(arguments.handshakes, arguments.memory)):
            ca.device(f"sim-{index:06d}")  # minted before any timing

        async def udp(index: int) -> CoapEndpoint:
            return await CoapEndpoint.bind(HOST)

        heap, rss = await memory_per_device(arguments.memory, udp)
        rows.append(("plain UDP endpoint", "-", None, heap, rss))
        for mode, args in (("psk", ["-k", KEY.decode()]), ("x509", certs)):
            process, server = await start_libcoap(args)
            try:

                async def opener(index: int, mode: str = mode, server: Any = server) -> Any:
                    name = f"sim-{index:06d}"
                    if mode == "psk":
                        return await open_dtls_client(
                            HOST, server, PskCredentials(name.encode(), KEY)
                        )
                    return await open_x509_client(HOST, server, device_credentials(ca, name))

                per_second = await rate(opener, arguments.handshakes, arguments.window)
                rows.append((f"{mode} handshake -> coap-server-openssl", "handshakes/s",
                             per_second, None, None))  # fmt: skip
                heap, rss = await memory_per_device(arguments.memory, opener)
                rows.append((f"{mode} session -> libcoap (client)", "-", None, heap, rss))
            finally:
                process.terminate()
                process.wait(5)
        for mode in ("udp", "psk", "x509"):
            rows.append(await devices(mode, arguments.devices, arguments.window, ca))
    rows.extend(minting(arguments.mint))
    return rows


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--handshakes", type=int, default=500)
    parser.add_argument("--window", type=int, default=32)
    parser.add_argument("--memory", type=int, default=300)
    parser.add_argument("--devices", type=int, default=300)
    parser.add_argument("--mint", type=int, default=10_000)
    for reason in (dtls_available(), x509_available()):
        if reason is not None:
            raise SystemExit(reason)
    if shutil.which("coap-server-openssl") is None:
        raise SystemExit("coap-server-openssl is missing: scripts/install-tools.sh")
    parsed = parser.parse_args()
    print_table(asyncio.run(main(parsed)), parsed)
