"""The hooks through which an object's behaviour joins the tree.

A :class:`Behaviour` belongs to one object id and is shared by every tree
(it keeps no per-device state: what it needs lives in the tree's values). The
tree runs the model checks first (existence, operations, value types) and only
then calls a hook, so a hook sees valid requests only:

- :meth:`Behaviour.defaults`: plausible initial values, used where the layout
  gives none (read once, when a layout is compiled);
- :meth:`Behaviour.ready`: an instance was just built, created or reset;
- :meth:`Behaviour.changed`: resources in :attr:`Behaviour.watches` changed;
- :attr:`Behaviour.computed` resources are worked out on read by
  :meth:`Behaviour.compute` from what :meth:`Behaviour.accept` stored;
- :meth:`Behaviour.execute`: an executable ran; it may return an event.

Hooks read and change values through the tree's ``stored``/``store`` helpers,
which record changes for the listeners without calling the hooks again.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, ClassVar

from fleet.device.arguments import Arguments
from fleet.device.events import DeviceEvent
from fleet.model.definitions import ObjectModel

if TYPE_CHECKING:
    from fleet.device.store import DeviceStore


class Behaviour:
    """Base behaviour: plain storage, every hook does nothing."""

    object_id: ClassVar[int] = -1
    watches: ClassVar[frozenset[int]] = frozenset()
    """Resource ids whose change calls :meth:`changed`."""
    computed: ClassVar[frozenset[int]] = frozenset()
    """Resource ids whose read value :meth:`compute` works out."""
    has_ready: ClassVar[bool] = False
    """Whether :meth:`ready` does anything (lets trees skip the call)."""

    def defaults(self, model: ObjectModel) -> Mapping[int, object]:
        """Initial values by resource id (any form ``coerce_value`` accepts; lists for multiple)."""
        return {}

    def ready(self, tree: DeviceStore, instance_id: int) -> None:
        """An instance was built, created or restored."""

    def changed(self, tree: DeviceStore, instance_id: int, resource_ids: frozenset[int]) -> None:
        """Resources of :attr:`watches` changed (by a Write or ``set_value``)."""

    def accept(
        self, tree: DeviceStore, instance_id: int, resource_id: int, value: object
    ) -> object:
        """What to store for a checked value written to a :attr:`computed` resource."""
        return value

    def compute(
        self, tree: DeviceStore, instance_id: int, resource_id: int, stored: object
    ) -> object:
        """The value a Read of a :attr:`computed` resource answers."""
        return stored

    def execute(
        self, tree: DeviceStore, instance_id: int, resource_id: int, arguments: Arguments
    ) -> DeviceEvent | None:
        """Run an executable; the event returned (if any) goes to the event listeners.

        Returning ``None`` makes the tree emit a generic
        :class:`~fleet.device.events.Executed` event.
        """
        return None


PLAIN = Behaviour()
"""The behaviour of objects that have none of their own."""
