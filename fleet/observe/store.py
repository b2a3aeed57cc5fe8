"""The attributes one LwM2M server has written on one device, and what they add up to per path.

Attributes are per server: a device keeps one :class:`AttributeStore` for each server it is
registered with. The store maps each path that received Write-Attributes to the attributes
assigned *at that level*; :meth:`AttributeStore.effective` folds the chain object -> instance
-> resource -> resource instance over the server's defaults (LwM2M 1.1.1 section 5.1.1: the
lowest level wins per attribute; section 5.1.2: without pmin/pmax the Default Minimum Period
and Default Maximum Period of the server's Server object instance, resources /1/x/2 and
/1/x/3, apply; an absent Default Minimum Period means 0).

Attributes given in an Observe request's query apply to that observation only (LwM2M 1.2
section 6.4.1); combine them with ``apply_update(store.effective(path), parse_attributes(q))``
rather than writing them into the store.
"""

from __future__ import annotations

from collections.abc import Iterator

from fleet.model.path import Path
from fleet.model.types import ResourceType
from fleet.observe.attributes import (
    EMPTY,
    AttributeUpdate,
    NotificationAttributes,
    apply_update,
)


class AttributeStore:
    """Path -> attributes assigned at that level, plus the server's default periods."""

    __slots__ = ("_by_path", "_defaults")

    def __init__(
        self, *, default_pmin: float | None = None, default_pmax: float | None = None
    ) -> None:
        self._by_path: dict[Path, NotificationAttributes] = {}
        self._defaults = NotificationAttributes(pmin=default_pmin, pmax=default_pmax)

    # -- the server's defaults (Server object resources 2 and 3) -----------------------------

    @property
    def defaults(self) -> NotificationAttributes:
        """The server's Default Minimum / Maximum Period as pmin / pmax."""
        return self._defaults

    def set_defaults(self, pmin: float | None, pmax: float | None) -> None:
        """Follow a change of /1/x/2 (Default Minimum Period) or /1/x/3 (Default Maximum Period)."""
        self._defaults = NotificationAttributes(pmin=pmin, pmax=pmax)

    # -- Write-Attributes --------------------------------------------------------------------

    def assigned(self, path: Path) -> NotificationAttributes:
        """The attributes assigned exactly at ``path`` (empty when none); what Discover shows."""
        return self._by_path.get(path, EMPTY)

    def write(
        self,
        path: Path,
        update: AttributeUpdate,
        *,
        resource_type: ResourceType | None = None,
        multiple: bool = False,
    ) -> NotificationAttributes:
        """Apply a Write-Attributes ``update`` to ``path`` and return what ``path`` now holds.

        The result is checked with :meth:`NotificationAttributes.validate_for` for the path's
        level (``resource_type`` and ``multiple`` describe the resource at resource and
        resource-instance level); on :class:`~fleet.errors.BadRequest` nothing changes.
        The caller has already answered 4.04 for paths that do not exist.
        """
        result = apply_update(self.assigned(path), update)
        result.validate_for(path.level, resource_type, multiple)
        if result.is_empty:
            self._by_path.pop(path, None)
        else:
            self._by_path[path] = result
        return result

    def discard(self, path: Path) -> None:
        """Forget the attributes at ``path`` and below (the instance or object was deleted)."""
        for known in [p for p in self._by_path if path.contains(p)]:
            del self._by_path[known]

    def clear(self) -> None:
        """Forget every written attribute (defaults stay)."""
        self._by_path.clear()

    # -- what applies to an observation ------------------------------------------------------

    def effective(self, path: Path) -> NotificationAttributes:
        """The attributes governing an observation of ``path``.

        Each level from the object down to ``path`` overrides the one above it, and the
        server's default pmin/pmax sit under the object level. Levels below ``path`` do not
        take part: observing ``/3303/0`` uses what is assigned at ``/3303`` and ``/3303/0``.
        """
        result = self._defaults
        for depth in range(1, len(path) + 1):
            assigned = self._by_path.get(Path(*path[:depth]))
            if assigned is not None:
                result = assigned.merged_over(result)
        return result

    # -- inspection --------------------------------------------------------------------------

    def __len__(self) -> int:
        return len(self._by_path)

    def __iter__(self) -> Iterator[Path]:
        return iter(sorted(self._by_path))

    def __contains__(self, path: object) -> bool:
        return path in self._by_path

    def items(self) -> Iterator[tuple[Path, NotificationAttributes]]:
        """``(path, assigned attributes)`` in path order."""
        for path in sorted(self._by_path):
            yield path, self._by_path[path]
