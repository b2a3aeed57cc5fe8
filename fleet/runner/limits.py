"""Will the fleet fit this machine? Open files per process, ports per source address.

Every device holds one UDP socket: one open file in its worker process and one
local port on its source address. Before anything starts, :func:`plan_capacity`
checks both and chooses:

- **workers**: ``--workers`` as given, or (default) one per core, raised until
  each worker's devices fit its open-file *hard* limit (each worker raises its
  soft limit to the hard one, :func:`raise_open_file_limit`);
- **source addresses**: the ``--source-address`` ones as given, or (default)
  as many loopback addresses ``127.0.0.1``, ``127.0.0.2``, ... as the devices
  need when the server is on IPv4 loopback (Linux answers for all of
  127.0.0.0/8), else the system's choice. A UDP port is unique per local
  address, so each address brings the ephemeral range again (about 28,000
  ports, ``/proc/sys/net/ipv4/ip_local_port_range``) minus
  :data:`PORTS_SPARE`.

A fleet that cannot fit raises :class:`CapacityError` saying what to change
(more workers, ``ulimit -Hn``, more source addresses). :class:`SourceAddresses`
wraps a device factory to bind devices round-robin to the chosen addresses.
"""

from __future__ import annotations

import dataclasses
import ipaddress
import logging
import math
import os
import pathlib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final

from fleet.client.config import DeviceConfig
from fleet.clock import Clock
from fleet.device.randomness import Rng
from fleet.errors import FleetError
from fleet.runner.devices import DeviceFactory, DeviceLike, fleet_device

_log = logging.getLogger("fleet.runner")

SOCKETS_SPARE: Final = 64
"""File descriptors kept aside in each process for everything that is not a device socket."""
PORTS_SPARE: Final = 1024
"""Ephemeral ports per address left to the rest of the machine."""
DEFAULT_PORT_RANGE: Final = (32768, 60999)
"""Linux's default ``ip_local_port_range``, used when it cannot be read."""
MAX_LOOPBACK_ADDRESSES: Final = 254
PORT_RANGE_FILE: Final = pathlib.Path("/proc/sys/net/ipv4/ip_local_port_range")


class CapacityError(FleetError):
    """The fleet cannot fit the machine's open-file or port limits (nothing was started)."""


def ephemeral_ports(path: pathlib.Path = PORT_RANGE_FILE) -> int:
    """How many ephemeral ports one address has (the size of ``ip_local_port_range``)."""
    try:
        low, high = (int(part) for part in path.read_text(encoding="ascii").split())
    except (OSError, ValueError):
        low, high = DEFAULT_PORT_RANGE
    return max(0, high - low + 1)


def open_file_limits() -> tuple[int, int]:
    """``(soft, hard)`` open-file limits of this process (a large number for "unlimited")."""
    try:
        import resource
    except ImportError:  # pragma: no cover - not on POSIX
        return 1 << 20, 1 << 20
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    unlimited = 1 << 30
    return (
        unlimited if soft == resource.RLIM_INFINITY else int(soft),
        unlimited if hard == resource.RLIM_INFINITY else int(hard),
    )


def raise_open_file_limit(needed: int) -> int:
    """Raise the soft open-file limit to the hard one; return the limit now in force.

    Logs a warning when ``needed`` sockets (plus :data:`SOCKETS_SPARE`) do not fit.
    """
    try:
        import resource
    except ImportError:  # pragma: no cover - not on POSIX
        return needed + SOCKETS_SPARE
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard == resource.RLIM_INFINITY or hard > soft:
        target = hard if hard != resource.RLIM_INFINITY else max(soft, needed + SOCKETS_SPARE)
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
            soft = target
        except (ValueError, OSError) as error:  # pragma: no cover - depends on the system
            _log.warning("cannot raise the open-file limit: %s", error)
    if needed + SOCKETS_SPARE > soft:
        _log.warning(
            "%d devices need about %d open files but the limit is %d (ulimit -n): "
            "devices beyond it will fail to start",
            needed,
            needed + SOCKETS_SPARE,
            soft,
        )
    return int(soft)


def usable_cores() -> int:
    """The CPUs this process may run on (its affinity mask; all of them elsewhere)."""
    try:
        return len(os.sched_getaffinity(0)) or 1
    except (AttributeError, OSError):  # pragma: no cover - not Linux
        return os.cpu_count() or 1


@dataclass(frozen=True, slots=True)
class Capacity:
    """What :func:`plan_capacity` chose: ``workers`` processes, devices bound to ``addresses``.

    ``addresses`` empty: devices bind as they always do (the server's loopback
    or the wildcard address).
    """

    devices: int
    workers: int
    per_worker: int
    file_limit: int
    addresses: tuple[str, ...]
    ports_per_address: int

    def describe(self) -> str:
        where = ", ".join(self.addresses) if self.addresses else "default source address"
        return (
            f"{self.devices} devices in {self.workers} worker(s) of at most {self.per_worker} "
            f"(open-file limit {self.file_limit}), bound to {where}"
        )


def workers_needed(devices: int, file_limit: int) -> int:
    """The fewest processes whose device sockets fit ``file_limit`` open files each."""
    room = file_limit - SOCKETS_SPARE
    if room < 1:
        raise CapacityError(
            f"the open-file limit {file_limit} leaves no room for device sockets "
            f"({SOCKETS_SPARE} are kept for the process itself): raise it (ulimit -Hn)"
        )
    return max(1, math.ceil(devices / room))


def plan_capacity(
    devices: int,
    *,
    server_host: str,
    workers: int | None = None,
    cores: int | None = None,
    file_limit: int | None = None,
    ports: int | None = None,
    addresses: Sequence[str] = (),
) -> Capacity:
    """Workers and source addresses for ``devices`` on this machine, or :class:`CapacityError`.

    ``file_limit`` is the open-file hard limit of a worker (default: this
    process's), ``ports`` the ephemeral ports of one address (default: the
    system's range), ``cores`` the default worker count (default: CPUs).
    """
    if devices < 0:
        raise CapacityError(f"the device count must not be negative, got {devices}")
    limit = file_limit if file_limit is not None else open_file_limits()[1]
    per_address = (ports if ports is not None else ephemeral_ports()) - PORTS_SPARE
    fewest = workers_needed(devices, limit)
    if workers is None:
        chosen = max(cores if cores is not None else usable_cores(), fewest)
        chosen = max(1, min(chosen, devices))
    else:
        if workers < 1:
            raise CapacityError(f"--workers must be at least 1, got {workers}")
        if workers < fewest:
            raise CapacityError(
                f"{devices} devices in {workers} worker(s) need "
                f"{math.ceil(devices / workers) + SOCKETS_SPARE} open files per worker, "
                f"but the limit is {limit}: use --workers {fewest} or more, "
                f"or raise the hard limit (ulimit -Hn)"
            )
        chosen = workers
    bound = source_addresses(devices, server_host, per_address, addresses)
    return Capacity(
        devices,
        chosen,
        math.ceil(devices / chosen) if chosen else 0,
        limit,
        bound,
        per_address,
    )


def source_addresses(
    devices: int, server_host: str, per_address: int, configured: Sequence[str] = ()
) -> tuple[str, ...]:
    """The source addresses devices bind to (see the module documentation); empty: default."""
    server = ipaddress.ip_address(server_host)
    if configured:
        chosen = tuple(_address(text, server.version) for text in configured)
        if len(set(chosen)) != len(chosen):
            raise CapacityError(f"a source address is given twice: {', '.join(chosen)}")
        if devices > per_address * len(chosen):
            raise CapacityError(
                f"{devices} devices need {math.ceil(devices / max(per_address, 1))} source "
                f"addresses of {per_address} ports each; only {len(chosen)} given "
                "(--source-address / FLEET_SOURCE_ADDRESSES)"
            )
        return chosen
    if devices <= per_address:
        return ()
    need = math.ceil(devices / max(per_address, 1))
    if server.is_loopback and server.version == 4:
        if need > MAX_LOOPBACK_ADDRESSES:
            raise CapacityError(f"{devices} devices need {need} loopback addresses (max 254)")
        return tuple(f"127.0.0.{n}" for n in range(1, need + 1))
    raise CapacityError(
        f"{devices} devices need {need} source addresses of {per_address} ports each "
        f"to reach {server_host}; give them with --source-address (FLEET_SOURCE_ADDRESSES)"
    )


def _address(text: str, version: int) -> str:
    try:
        address = ipaddress.ip_address(text.strip())
    except ValueError:
        raise CapacityError(f"source address {text!r} is not an IP address") from None
    if address.version != version:
        raise CapacityError(
            f"source address {text} is IPv{address.version} but the server is IPv{version}"
        )
    return str(address)


class SourceAddresses:
    """A device factory binding each new device to the next of ``addresses`` (round-robin).

    ``offset`` is where this worker starts in the list, so workers spread their
    remainders over different addresses. Picklable when ``factory`` is (a
    module-level function), as worker processes need.
    """

    def __init__(
        self, addresses: Sequence[str], factory: DeviceFactory = fleet_device, offset: int = 0
    ) -> None:
        if not addresses:
            raise CapacityError("SourceAddresses needs at least one address")
        self.addresses = tuple(addresses)
        self.factory = factory
        self.next = offset % len(self.addresses)

    def __call__(self, config: DeviceConfig, clock: Clock, rng: Rng) -> DeviceLike:
        address = self.addresses[self.next]
        self.next = (self.next + 1) % len(self.addresses)
        if config.bind_host is None:
            config = dataclasses.replace(config, bind_host=address)
        return self.factory(config, clock, rng)
