"""Every value generator of a shard on ONE timer heap: no timer per generator or per device.

The runner schedules each device's generators (``schedule``), puts the
initial values into the device trees (``values``), then, whenever its single
timer fires at ``next_deadline()``, applies what ``due(now)`` yields:
``(device_key, path, value)`` for every value that actually changed.
``linked`` generators are fed by the generators of their sources (and by
``feed`` for changes from elsewhere, e.g. a server's Write) and change in the
same step. Cancelled devices leave lazily-dropped entries on the heap.
"""

from __future__ import annotations

import heapq
import itertools
import math
from collections.abc import Hashable, Iterator
from typing import Final

from fleet.device.gen_base import Generator
from fleet.device.gen_linked import Linked
from fleet.model.path import Path
from fleet.model.values import Value

Change = tuple[Hashable, Path, Value]
MAX_LINK_DEPTH: Final = 16
"""Linked generators feeding linked generators stop propagating this deep (cycles)."""


def same_value(a: Value | None, b: Value | None) -> bool:
    """Equal and of the same type (``1 == True`` but a Boolean is not an Integer)."""
    return a == b and type(a) is type(b)


class _Entry:
    __slots__ = ("active", "device", "generator", "last", "path")

    def __init__(self, device: Hashable, path: Path, generator: Generator) -> None:
        self.device = device
        self.path = path
        self.generator = generator
        self.last: Value | None = None
        self.active = True


class GeneratorSet:
    """The generators of many devices, advanced from one heap."""

    def __init__(self) -> None:
        self._heap: list[tuple[float, int, _Entry]] = []
        self._order = itertools.count()
        self._devices: dict[Hashable, dict[Path, _Entry]] = {}
        # only for devices with linked generators: source path -> linked entries
        self._links: dict[Hashable, dict[Path, list[_Entry]]] = {}
        self._count = 0

    def __len__(self) -> int:
        """How many generators are scheduled (cancelled ones excluded)."""
        return self._count

    def schedule(
        self, device_key: Hashable, path: Path, generator: Generator, now: float | None = None
    ) -> Value:
        """Add (or replace) the generator of ``path`` on a device; return its current value.

        ``now`` defaults to the generator's ``start`` (0 when it has none).
        """
        t = now if now is not None else float(getattr(generator, "start", 0.0))
        entries = self._devices.setdefault(device_key, {})
        old = entries.get(path)
        if old is not None:
            self._drop(old)
        entry = _Entry(device_key, path, generator)
        entries[path] = entry
        self._count += 1
        if isinstance(generator, Linked):
            links = self._links.setdefault(device_key, {})
            for source in generator.spec.inputs:
                links.setdefault(source, []).append(entry)
                feeder = entries.get(source)
                if feeder is not None and feeder.last is not None:
                    generator.feed(source, feeder.last)
        entry.last = generator.value_at(t)
        self._push(generator.next_change(t), t, entry)
        for _ in self._propagate(device_key, path, entry.last, t, 0):
            pass
        return entry.last

    def values(self, device_key: Hashable) -> list[tuple[Path, Value]]:
        """The current value of every generator of a device (to initialise its tree)."""
        entries = self._devices.get(device_key, {})
        return [(p, e.last) for p, e in entries.items() if e.last is not None]

    def cancel(self, device_key: Hashable) -> int:
        """Forget every generator of a device; return how many there were."""
        entries = self._devices.pop(device_key, {})
        self._links.pop(device_key, None)
        for entry in entries.values():
            entry.active = False
        self._count -= len(entries)
        return len(entries)

    def next_deadline(self) -> float | None:
        """When ``due`` next has work, or ``None`` when nothing will ever change."""
        heap = self._heap
        while heap and not heap[0][2].active:
            heapq.heappop(heap)
        return heap[0][0] if heap else None

    def due(self, now: float) -> Iterator[Change]:
        """Advance every generator due at ``now``; yield the values that changed.

        Late entries (deadline long past) jump straight to the value at ``now``.
        Entries are rescheduled before their change is yielded, so stopping the
        iteration early loses no deadline (only the changes not yet yielded).
        """
        heap = self._heap
        while heap and heap[0][0] <= now:
            entry = heapq.heappop(heap)[2]
            if not entry.active:
                continue
            generator = entry.generator
            value = generator.value_at(now)
            self._push(generator.next_change(now), now, entry)
            if same_value(value, entry.last):
                continue
            entry.last = value
            yield entry.device, entry.path, value
            yield from self._propagate(entry.device, entry.path, value, now, 0)

    def feed(self, device_key: Hashable, path: Path, value: Value, now: float) -> list[Change]:
        """A path of a device changed from elsewhere: the linked values that follow."""
        return list(self._propagate(device_key, path, value, now, 0))

    def _propagate(
        self, device: Hashable, path: Path, value: Value, now: float, depth: int
    ) -> Iterator[Change]:
        links = self._links.get(device)
        if not links or depth >= MAX_LINK_DEPTH:
            return
        for dependent in links.get(path, ()):
            generator = dependent.generator
            assert isinstance(generator, Linked)
            if not dependent.active or not generator.feed(path, value):
                continue
            derived = generator.value_at(now)
            if same_value(derived, dependent.last):
                continue
            dependent.last = derived
            yield device, dependent.path, derived
            yield from self._propagate(device, dependent.path, derived, now, depth + 1)

    def _push(self, when: float | None, now: float, entry: _Entry) -> None:
        if when is None:
            return
        if when <= now:  # a generator must move forward; never spin on one instant
            when = math.nextafter(now, math.inf)
        heapq.heappush(self._heap, (when, next(self._order), entry))

    def _drop(self, entry: _Entry) -> None:
        entry.active = False
        self._count -= 1
        links = self._links.get(entry.device)
        if links:
            for dependents in links.values():
                if entry in dependents:
                    dependents.remove(entry)
