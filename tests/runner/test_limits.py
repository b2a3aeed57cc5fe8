"""Open-file and port limits: workers and source addresses chosen, early errors, binding."""

from __future__ import annotations

import pathlib
import random
from collections import Counter

import pytest

from fleet.client.config import DeviceConfig
from fleet.clock import Clock, ManualClock
from fleet.runner.devices import DeviceLike
from fleet.runner.limits import (
    PORTS_SPARE,
    SOCKETS_SPARE,
    CapacityError,
    SourceAddresses,
    ephemeral_ports,
    plan_capacity,
    workers_needed,
)

PORTS = 28_232  # Linux's default ip_local_port_range 32768..60999


def test_default_workers_are_the_cores_when_the_file_limit_allows() -> None:
    capacity = plan_capacity(1_000, server_host="127.0.0.1", cores=4, file_limit=20_000)
    assert capacity.workers == 4
    assert capacity.per_worker == 250
    assert capacity.addresses == ()


def test_default_workers_grow_until_each_fits_the_file_limit() -> None:
    capacity = plan_capacity(
        50_000, server_host="127.0.0.1", cores=2, file_limit=20_000, ports=PORTS
    )
    assert capacity.workers == 3  # 2 cores, but 25,000 sockets per worker > 20,000
    assert capacity.per_worker + SOCKETS_SPARE <= 20_000
    assert capacity.addresses == ("127.0.0.1", "127.0.0.2")  # 50,000 > 27,208 ports


def test_never_more_workers_than_devices() -> None:
    assert plan_capacity(3, server_host="127.0.0.1", cores=8, file_limit=1024).workers == 3
    assert plan_capacity(0, server_host="127.0.0.1", cores=8, file_limit=1024).workers == 1


def test_too_few_explicit_workers_fail_early_saying_how_many() -> None:
    with pytest.raises(CapacityError, match=r"--workers 3 or more.*ulimit -Hn"):
        plan_capacity(50_000, server_host="127.0.0.1", workers=2, file_limit=20_000)


def test_a_file_limit_without_room_fails() -> None:
    with pytest.raises(CapacityError, match="no room"):
        workers_needed(10, SOCKETS_SPARE)
    assert workers_needed(20_000 - SOCKETS_SPARE, 20_000) == 1
    assert workers_needed(20_000 - SOCKETS_SPARE + 1, 20_000) == 2


def test_loopback_addresses_follow_the_ports_needed() -> None:
    per_address = PORTS - PORTS_SPARE
    fits = plan_capacity(per_address, server_host="127.0.0.1", file_limit=10**6, ports=PORTS)
    assert fits.addresses == ()
    more = plan_capacity(
        per_address * 3 + 1, server_host="127.0.0.1", file_limit=10**6, ports=PORTS
    )
    assert more.addresses == ("127.0.0.1", "127.0.0.2", "127.0.0.3", "127.0.0.4")


def test_a_remote_or_ipv6_server_needs_configured_addresses() -> None:
    with pytest.raises(CapacityError, match="--source-address"):
        plan_capacity(40_000, server_host="10.0.0.5", file_limit=10**6, ports=PORTS)
    with pytest.raises(CapacityError, match="--source-address"):
        plan_capacity(40_000, server_host="::1", file_limit=10**6, ports=PORTS)


def test_configured_addresses_are_checked() -> None:
    chosen = plan_capacity(
        40_000,
        server_host="10.0.0.5",
        file_limit=10**6,
        ports=PORTS,
        addresses=["10.0.0.7", " 10.0.0.8"],
    )
    assert chosen.addresses == ("10.0.0.7", "10.0.0.8")
    with pytest.raises(CapacityError, match="only 1 given"):
        plan_capacity(
            40_000, server_host="10.0.0.5", file_limit=10**6, ports=PORTS, addresses=["10.0.0.7"]
        )
    with pytest.raises(CapacityError, match="not an IP address"):
        plan_capacity(10, server_host="127.0.0.1", file_limit=1024, addresses=["host.example"])
    with pytest.raises(CapacityError, match="IPv6 but the server is IPv4"):
        plan_capacity(10, server_host="127.0.0.1", file_limit=1024, addresses=["::1"])
    with pytest.raises(CapacityError, match="twice"):
        plan_capacity(
            10, server_host="127.0.0.1", file_limit=1024, addresses=["127.0.0.2", "127.0.0.2"]
        )


def test_ephemeral_ports_are_read_from_the_range_file(tmp_path: pathlib.Path) -> None:
    path = tmp_path / "range"
    path.write_text("40000\t40999\n")
    assert ephemeral_ports(path) == 1000
    assert ephemeral_ports(tmp_path / "missing") == PORTS


class Recorded:
    """What the wrapped factory was given (a stand-in device)."""

    def __init__(self, config: DeviceConfig) -> None:
        self.config = config


def record(config: DeviceConfig, clock: Clock, rng: random.Random) -> DeviceLike:
    return Recorded(config)  # type: ignore[return-value]


def config(name: str, bind_host: str | None = None) -> DeviceConfig:
    return DeviceConfig(name, server="coap://127.0.0.1:5683", bind_host=bind_host)


def test_source_addresses_bind_devices_round_robin_from_the_offset() -> None:
    factory = SourceAddresses(["127.0.0.1", "127.0.0.2", "127.0.0.3"], record, offset=1)
    clock = ManualClock()
    made = [factory(config(f"d{i}"), clock, random.Random(i)) for i in range(7)]
    hosts = [d.config.bind_host for d in made]  # type: ignore[attr-defined]
    assert hosts[:4] == ["127.0.0.2", "127.0.0.3", "127.0.0.1", "127.0.0.2"]
    assert sorted(Counter(hosts).values()) == [2, 2, 3]
    assert [d.config.endpoint for d in made] == [f"d{i}" for i in range(7)]  # type: ignore[attr-defined]


def test_a_device_bound_by_its_config_keeps_its_address() -> None:
    factory = SourceAddresses(["127.0.0.2"], record)
    made = factory(config("d", bind_host="127.0.0.9"), ManualClock(), random.Random(0))
    assert made.config.bind_host == "127.0.0.9"  # type: ignore[attr-defined]


def test_source_addresses_need_one() -> None:
    with pytest.raises(CapacityError):
        SourceAddresses([], record)
