"""Clock skew of a device: ``/3/0/13`` Current Time off by some seconds.

The Device object keeps the offset of the device's clock from the wall clock
in the stored slot of ``/3/0/13`` (:mod:`fleet.device.core_objects`): reading
gives wall time plus offset, writing sets the offset. :func:`skew_current_time`
moves it by writing the resource as the server would, so the tree checks it
and observers of ``/3/0/13`` are notified like for any other change.
"""

from __future__ import annotations

from fleet.device.tree import ObjectTree
from fleet.errors import FleetError
from fleet.model.nodes import SingleResource
from fleet.model.path import Path

CURRENT_TIME = Path(3, 0, 13)


def skew_current_time(tree: ObjectTree, seconds: float) -> int:
    """Move ``/3/0/13`` by ``seconds`` (rounded to whole seconds); returns the new value.

    Raises :class:`~fleet.errors.FleetError` when the device has no ``/3/0/13``.
    """
    try:
        node = tree.read(CURRENT_TIME)
    except FleetError as error:
        raise FleetError(f"cannot skew the clock: {error}") from error
    if not isinstance(node, SingleResource) or not isinstance(node.value, int):
        raise FleetError(f"cannot skew the clock: {CURRENT_TIME} holds {node!r}")
    value = node.value + round(seconds)
    tree.write(CURRENT_TIME, SingleResource(CURRENT_TIME[2], value), replace=True)
    return value
