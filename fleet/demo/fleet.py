"""The demo fleet: device configurations, their places in a city and their temperatures.

:func:`demo_configs` makes ``count`` :class:`~fleet.client.config.DeviceConfig` named
``demo-001``... with /3, /6, /3303 and /3442 (the shipped layout); each has its own serial
number and a location drawn (from ``seed``) within a few kilometres of a city centre.
:class:`Temperatures` drives every device's /3303/0/5700 with the ``daily`` generator (a day
curve with noise; ``time_scale`` simulated seconds per real second) from one
:class:`~fleet.device.generators.GeneratorSet`: one timer for the whole fleet.
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import Callable
from dataclasses import dataclass

from fleet.client.config import DeviceConfig
from fleet.device.generators import GeneratorSet, device_rng, parse_generator
from fleet.model import Path, Value
from fleet.model.shipped import shipped_registry


@dataclass(frozen=True, slots=True)
class City:
    """Where the fleet stands: a centre and a radius in kilometres."""

    name: str
    latitude: float
    longitude: float
    radius_km: float


BERLIN = City("Berlin", 52.5200, 13.4050, 8.0)
TEMPERATURE = Path(3303, 0, 5700)
KM_PER_DEGREE = 111.32


def endpoint_name(index: int) -> str:
    """``0`` -> ``"demo-001"``."""
    return f"demo-{index + 1:03d}"


def location(city: City, seed: int, index: int) -> tuple[float, float]:
    """A seeded point within ``city.radius_km`` of its centre (uniform over the disc)."""
    rng = device_rng(seed, index, "location")
    distance = city.radius_km * math.sqrt(rng.random())
    angle = rng.uniform(0.0, 2.0 * math.pi)
    lat = city.latitude + distance * math.cos(angle) / KM_PER_DEGREE
    lon = city.longitude + distance * math.sin(angle) / (
        KM_PER_DEGREE * math.cos(math.radians(city.latitude))
    )
    return round(lat, 5), round(lon, 5)


def demo_configs(
    count: int,
    server: str,
    *,
    seed: int = 1,
    city: City = BERLIN,
    lifetime: int = 300,
    temperatures: list[Value] | None = None,
) -> list[DeviceConfig]:
    """One configuration per device, located over ``city`` (starting at ``temperatures``)."""
    configs = []
    for index in range(count):
        lat, lon = location(city, seed, index)
        values: dict[str, object] = {
            "/3/0/0": "lwm2m-fleet demo",
            "/3/0/1": "Room Sensor 20",
            "/3/0/2": f"DEMO-{seed:04d}-{index + 1:05d}",
            "/6/0/0": lat,
            "/6/0/1": lon,
        }
        if temperatures is not None:
            values[str(TEMPERATURE)] = temperatures[index]
        configs.append(
            DeviceConfig(
                endpoint=endpoint_name(index), server=server, lifetime=lifetime, values=values
            )
        )
    return configs


class Temperatures:
    """Every device's temperature on one generator heap, applied by one timer task."""

    def __init__(self, seed: int, time_scale: float, start_hour: float = 8.0) -> None:
        model = shipped_registry().get(3303).resource(TEMPERATURE[2])
        self.spec = parse_generator(
            {
                "kind": "daily",
                "min": 14,
                "max": 26,
                "peak_hour": 15,
                "noise": 0.4,
                "spread": 1.5,
                "time_scale": time_scale,
                "start_hour": start_hour,
                "every": "1s",
                "decimals": 1,
            },
            model,
        )
        self.seed = seed
        self.time_scale = time_scale
        self.start_hour = start_hour
        self.generators = GeneratorSet()
        self._setters: dict[int, Callable[[Value], None]] = {}

    def add(self, index: int, setter: Callable[[Value], None] | None = None) -> Value:
        """Schedule device ``index``; ``setter`` applies its new values. Returns the first."""
        generator = self.spec.create(device_rng(self.seed, index, "values"), 0.0)
        value = self.generators.schedule(index, TEMPERATURE, generator, 0.0)
        if setter is not None:
            self.attach(index, setter)
            setter(value)
        return value

    def attach(self, index: int, setter: Callable[[Value], None]) -> None:
        """Where device ``index``'s changes go from now on."""
        self._setters[index] = setter

    def apply(self, now: float) -> int:
        """Apply every change due at ``now`` (seconds since the start); how many."""
        count = 0
        for device, _, value in self.generators.due(now):
            setter = self._setters.get(int(device))  # type: ignore[call-overload]
            if setter is not None:
                setter(value)
                count += 1
        return count

    def simulated_hour(self, elapsed: float) -> float:
        """The hour of the simulated day after ``elapsed`` real seconds."""
        return (self.start_hour + elapsed * self.time_scale / 3600.0) % 24.0

    async def run(self, started: float) -> None:
        """Apply changes as they fall due (loop time ``started`` is t=0), until cancelled."""
        loop = asyncio.get_running_loop()
        while (deadline := self.generators.next_deadline()) is not None:
            await asyncio.sleep(max(0.0, started + deadline - loop.time()))
            self.apply(loop.time() - started)
