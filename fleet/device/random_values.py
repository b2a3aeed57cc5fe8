"""Random but valid values for a resource, from a seeded :class:`random.Random`.

Used by the 3442 "Randomize values" executable and available to value
generators. Values respect the resource's type and, where the definition has
one, its range; text and bytes stay short (20 characters or bytes at most, as
the 3442 definition advises), so payloads stay small.
"""

from __future__ import annotations

import math
import string
from typing import Final

from fleet.device.randomness import Rng
from fleet.model.definitions import ResourceModel
from fleet.model.ranges import RangeKind
from fleet.model.types import ResourceType
from fleet.model.values import INT_MAX, INT_MIN, UINT_MAX, ObjectLink, Value

MAX_TEXT: Final = 20
MAX_INSTANCES: Final = 10
_ALPHABET: Final = string.ascii_letters + string.digits


def random_value(resource: ResourceModel, rng: Rng) -> Value:
    """A value of ``resource``'s type, inside its range when it has one."""
    type_ = resource.type
    range_ = resource.range
    if range_.kind is RangeKind.ENUMERATION and range_.values and not range_.intervals:
        return rng.choice(range_.values)
    if type_ in (ResourceType.INTEGER, ResourceType.UNSIGNED_INTEGER, ResourceType.TIME):
        low, high = _int_bounds(resource, rng)
        return rng.randint(low, high)
    if type_ is ResourceType.FLOAT:
        if range_.kind is RangeKind.NUMERIC and range_.intervals:
            interval = rng.choice(range_.intervals)
            return rng.uniform(float(interval.low), float(interval.high))
        return round(rng.uniform(-1000.0, 1000.0), 3)
    if type_ is ResourceType.BOOLEAN:
        return rng.random() < 0.5
    if type_ is ResourceType.OPAQUE:
        low, high = _length_bounds(resource)
        return rng.randbytes(rng.randint(low, high))
    if type_ is ResourceType.OBJLNK:
        return ObjectLink(rng.randint(0, 65534), rng.randint(0, 65534))
    if type_ is ResourceType.CORELNK:
        return f"</{rng.randint(0, 65534)}/{rng.randint(0, 65534)}>"
    if type_ is ResourceType.STRING:
        low, high = _length_bounds(resource)
        return "".join(rng.choice(_ALPHABET) for _ in range(rng.randint(low, high)))
    raise ValueError(f"resource {resource.id} ({resource.name}) has no value")


def random_instances(resource: ResourceModel, rng: Rng) -> dict[int, Value]:
    """1 to 10 random instances (ids 0, 1, ...) of a multiple-instance resource."""
    count = rng.randint(1, MAX_INSTANCES)
    return {ri: random_value(resource, rng) for ri in range(count)}


def _int_bounds(resource: ResourceModel, rng: Rng) -> tuple[int, int]:
    type_ = resource.type
    if type_ is ResourceType.UNSIGNED_INTEGER:
        low, high = 0, UINT_MAX
    elif type_ is ResourceType.TIME:
        low, high = 0, 2**31 - 1
    else:
        low, high = INT_MIN, INT_MAX
    range_ = resource.range
    if range_.kind in (RangeKind.NUMERIC, RangeKind.ENUMERATION) and range_.intervals:
        interval = rng.choice(range_.intervals)
        low = max(low, math.ceil(interval.low))
        high = min(high, math.floor(interval.high))
    return low, high


def _length_bounds(resource: ResourceModel) -> tuple[int, int]:
    range_ = resource.range
    if range_.kind is RangeKind.LENGTH and range_.intervals:
        interval = range_.intervals[0]
        low = int(interval.low)
        return low, max(low, min(int(interval.high), MAX_TEXT))
    return 0, MAX_TEXT
