"""A :class:`ModelRegistry` holds object definitions, several versions per object.

``get(3)`` answers the default version of an object (the newest unless another
was chosen with :meth:`ModelRegistry.set_default`); ``get(3, "1.1")`` a given one.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from functools import lru_cache

from fleet.errors import NotFound
from fleet.model.definitions import ObjectModel


@lru_cache(maxsize=1024)
def version_key(version: str) -> tuple[int, ...]:
    """Sort key for ``"1.0"``, ``"1.10"``, ``"2.0"``; non-numeric parts sort first.

    Cached: the same few version strings are compared on every request."""
    parts: list[int] = []
    for part in version.split("."):
        parts.append(int(part) if part.isdigit() else -1)
    return tuple(parts)


class ModelRegistry:
    """Object definitions by id and version."""

    def __init__(self, models: Iterable[ObjectModel] = ()) -> None:
        self._models: dict[int, dict[str, ObjectModel]] = {}
        self._defaults: dict[int, str] = {}
        self._newest: dict[int, str] = {}  # per object, its newest version (get's default)
        for model in models:
            self.add(model)

    def add(self, model: ObjectModel, *, replace: bool = True) -> None:
        """Add a definition; a later one with the same id and version replaces it."""
        versions = self._models.setdefault(model.id, {})
        if not replace and model.version in versions:
            return
        versions[model.version] = model
        newest = self._newest.get(model.id)
        if newest is None or version_key(model.version) > version_key(newest):
            self._newest[model.id] = model.version

    def set_default(self, object_id: int, version: str) -> None:
        """Make ``version`` the one ``get(object_id)`` answers."""
        self.get(object_id, version)
        self._defaults[object_id] = version

    def get(self, object_id: int, version: str | None = None) -> ObjectModel:
        """A definition, or :class:`NotFound` naming what is missing."""
        versions = self._models.get(object_id)
        if not versions:
            raise NotFound(f"no definition for object {object_id}")
        if version is None:
            version = self._defaults.get(object_id) or self._newest[object_id]
        try:
            return versions[version]
        except KeyError:
            have = ", ".join(sorted(versions, key=version_key))
            raise NotFound(
                f"no definition for object {object_id} version {version} (have {have})"
            ) from None

    def versions(self, object_id: int) -> list[str]:
        return sorted(self._models.get(object_id, {}), key=version_key)

    def __contains__(self, object_id: object) -> bool:
        return object_id in self._models

    def __iter__(self) -> Iterator[ObjectModel]:
        """Every definition, by id then version."""
        for object_id in sorted(self._models):
            versions = self._models[object_id]
            for version in sorted(versions, key=version_key):
                yield versions[version]

    def __len__(self) -> int:
        return sum(len(v) for v in self._models.values())

    def ids(self) -> list[int]:
        return sorted(self._models)

    def merged(self, other: ModelRegistry) -> ModelRegistry:
        """A new registry with this one's definitions, then ``other``'s on top."""
        result = ModelRegistry(self)
        result._defaults = dict(self._defaults)
        for model in other:
            result.add(model)
        result._defaults.update(other._defaults)
        return result
