"""Resource data types and operations, as named in DDF XML.

:class:`ResourceType` covers every LwM2M data type plus ``NONE`` (executable
resources have no type). :class:`Operations` is what a resource allows: R, W,
RW, E or none.
"""

from __future__ import annotations

from enum import Enum, Flag


class ResourceType(Enum):
    """The LwM2M data types (LwM2M 1.1 appendix C) and ``NONE`` for executables."""

    # Members are singletons compared by identity: hash them by identity too (Enum's own
    # hash runs in Python, and every codec looks types up in sets and dicts).
    __hash__ = object.__hash__

    STRING = "String"
    INTEGER = "Integer"
    UNSIGNED_INTEGER = "Unsigned Integer"
    FLOAT = "Float"
    BOOLEAN = "Boolean"
    OPAQUE = "Opaque"
    TIME = "Time"
    OBJLNK = "Objlnk"
    CORELNK = "Corelnk"
    NONE = "none"

    @classmethod
    def from_ddf(cls, text: str | None) -> ResourceType:
        """Map a DDF ``<Type>`` text to a type; empty means ``NONE``.

        Case and inner whitespace are forgiven (``unsigned integer``,
        ``UnsignedInteger``); anything else raises ``KeyError`` with the text.
        """
        if text is None or not text.strip():
            return cls.NONE
        key = "".join(text.split()).lower()
        for member in cls:
            if "".join(member.value.split()).lower() == key:
                return member
        raise KeyError(text)

    @property
    def is_numeric(self) -> bool:
        return self in (
            ResourceType.INTEGER,
            ResourceType.UNSIGNED_INTEGER,
            ResourceType.FLOAT,
            ResourceType.TIME,
        )


class Operations(Flag):
    """What a resource allows. ``R | W`` is ``RW``; ``NONE`` allows nothing."""

    NONE = 0
    R = 1
    W = 2
    E = 4
    RW = R | W

    @classmethod
    def from_ddf(cls, text: str | None) -> Operations:
        """Map ``"R"``, ``"W"``, ``"RW"``, ``"E"`` or empty; else ``KeyError``."""
        key = (text or "").strip().upper()
        table = {"": cls.NONE, "R": cls.R, "W": cls.W, "RW": cls.RW, "WR": cls.RW, "E": cls.E}
        if key not in table:
            raise KeyError(text)
        return table[key]

    # the bits are tested on the value: Flag's ``&`` builds a member, costly on every request

    @property
    def readable(self) -> bool:
        return bool(self._value_ & 1)

    @property
    def writable(self) -> bool:
        return bool(self._value_ & 2)

    @property
    def executable(self) -> bool:
        return bool(self._value_ & 4)

    def ddf(self) -> str:
        """The DDF spelling: ``"R"``, ``"W"``, ``"RW"``, ``"E"`` or ``""``."""
        return (
            ("R" if self.readable else "")
            + ("W" if self.writable else "")
            + ("E" if self.executable else "")
        )
