"""What the specification forbids a server to write, beyond what the object definitions say.

The DDF of the LwM2M Server object (1) gives its periods and Lifetime no
``<RangeEnumeration>``, yet LwM2M Core 1.1 gives them meaning only in a range: a
Lifetime (§6.2.1 Register, ``lt``) is a positive number of seconds the registration
lives, at most what the Register parameter can carry (32 bits, as the device's own
configuration allows); the default minimum and maximum periods (``pmin``/``pmax``,
§5.1.2) and the Disable Timeout are durations, never negative. A value outside is a
4.00 Bad Request, like a value outside a DDF range, and the device keeps working.

Every value a server writes is also a finite number when the resource is a Float:
NaN and infinity have no meaning as a measurement or setting and no JSON form (they
would make every later SenML JSON or LwM2M JSON answer invalid), so they are 4.00.

:func:`check_spec` is called by the write path for every resource (and resource
instance) of every Write, Write-Composite and Create (:mod:`fleet.device.writing`).
"""

from __future__ import annotations

import math
from typing import Final

from fleet.errors import InvalidValue
from fleet.model.definitions import ResourceModel
from fleet.model.path import Path
from fleet.model.values import Value

UINT32_MAX: Final = 2**32 - 1
SERVER: Final = 1

LIMITS: Final[dict[tuple[int, int], tuple[int, int, str]]] = {
    (SERVER, 1): (1, UINT32_MAX, "a Lifetime is 1..4294967295 seconds (LwM2M Core 1.1, 6.2.1)"),
    (SERVER, 2): (0, UINT32_MAX, "a Default Minimum Period is 0..4294967295 seconds"),
    (SERVER, 3): (0, UINT32_MAX, "a Default Maximum Period is 0..4294967295 seconds"),
    (SERVER, 5): (0, UINT32_MAX, "a Disable Timeout is 0..4294967295 seconds"),
}
"""(object, resource) -> (lowest, highest, why) of the integer resources the spec bounds."""


def check_spec(path: Path, resource: ResourceModel, value: Value) -> None:
    """Raise :class:`InvalidValue` (4.00) when the spec forbids ``value`` at ``path``."""
    if isinstance(value, float) and not math.isfinite(value):
        raise InvalidValue(f"{path}: {value} is not a finite number (NaN and +-inf are refused)")
    limit = LIMITS.get((path[0], resource.id)) if len(path) >= 3 else None
    if limit is None or isinstance(value, bool) or not isinstance(value, int):
        return
    low, high, why = limit
    if not low <= value <= high:
        raise InvalidValue(f"{path}: {value} is out of range: {why}")
