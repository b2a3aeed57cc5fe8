"""LwM2M paths: ``/``, ``/3``, ``/3/0``, ``/3/0/11`` and ``/3/0/11/0``.

A :class:`Path` is an immutable tuple of ids (each 0..65535) that knows its level,
its parent and whether it contains another path. Paths sort by their ids, so
``/3/0/2 < /3/0/10 < /3/1``.
"""

from __future__ import annotations

from enum import IntEnum
from typing import Final

from fleet.errors import PathError

MAX_ID: Final = 65535


class Level(IntEnum):
    """How deep a path points."""

    ROOT = 0
    OBJECT = 1
    INSTANCE = 2
    RESOURCE = 3
    RESOURCE_INSTANCE = 4


class Path(tuple[int, ...]):
    """An LwM2M path; a tuple of 0 to 4 ids."""

    __slots__ = ()

    def __new__(cls, *ids: int) -> Path:
        if len(ids) > 4:
            raise PathError(f"a path has at most 4 ids, got {len(ids)}: {ids!r}")
        for i in ids:
            if not isinstance(i, int) or isinstance(i, bool) or not 0 <= i <= MAX_ID:
                raise PathError(f"path id must be an integer 0..{MAX_ID}, got {i!r}")
        return super().__new__(cls, ids)

    @classmethod
    def parse(cls, text: str) -> Path:
        """Parse ``"/3/0/1"`` (the leading slash is optional; ``"/"`` is the root)."""
        if not isinstance(text, str):
            raise PathError(f"a path must be text, got {text!r}")
        stripped = text.strip()
        if stripped in ("", "/"):
            if stripped == "":
                raise PathError("empty path: expected '/' or '/<object>[/<instance>...]'")
            return cls()
        body = stripped[1:] if stripped.startswith("/") else stripped
        parts = body.split("/")
        if len(parts) > 4:
            raise PathError(f"bad path {text!r}: at most 4 levels (object/instance/resource/ri)")
        ids: list[int] = []
        for part in parts:
            if not part.isascii() or not part.isdigit():
                raise PathError(f"bad path {text!r}: {part!r} is not a number")
            if len(part) > 1 and part.startswith("0"):
                raise PathError(f"bad path {text!r}: {part!r} has a leading zero")
            value = int(part)
            if value > MAX_ID:
                raise PathError(f"bad path {text!r}: {value} is above {MAX_ID}")
            ids.append(value)
        return cls(*ids)

    @property
    def level(self) -> Level:
        return Level(len(self))

    @property
    def parent(self) -> Path:
        """The enclosing path; the root's parent is an error."""
        if not self:
            raise PathError("the root path has no parent")
        return Path(*self[:-1])

    def child(self, id_: int) -> Path:
        # only the new id needs checking: this path's ids were checked when it was made
        if len(self) < 4 and type(id_) is int and 0 <= id_ <= MAX_ID:
            return tuple.__new__(Path, (*self, id_))
        return Path(*self, id_)

    def contains(self, other: Path) -> bool:
        """True when ``other`` is this path or lies below it."""
        size = len(self)
        return len(other) >= size and tuple.__eq__(other[:size], self)

    def is_prefix_of(self, other: Path) -> bool:
        """Alias of :meth:`contains`."""
        return self.contains(other)

    @property
    def object_id(self) -> int | None:
        return self[0] if len(self) > 0 else None

    @property
    def instance_id(self) -> int | None:
        return self[1] if len(self) > 1 else None

    @property
    def resource_id(self) -> int | None:
        return self[2] if len(self) > 2 else None

    @property
    def resource_instance_id(self) -> int | None:
        return self[3] if len(self) > 3 else None

    def __str__(self) -> str:
        return "/" + "/".join(str(i) for i in self)

    def __repr__(self) -> str:
        return f"Path({str(self)!r})"

    def relative(self) -> str:
        """Without the leading slash, as the platform writes it: ``"3/0/0"``."""
        return "/".join(str(i) for i in self)


ROOT: Final = Path()
