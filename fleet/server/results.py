"""What a device answered: :class:`Result` for requests, :class:`Notification` for observations.

Both carry the raw answer (code, content format, payload) and its decoded values as
``{Path: value}``. Decoding is lenient (``strict=False``): ranges are not enforced, and the
paths the server has no object definition for are named in ``unmodelled``, their values as the
device sent them where the format says (:mod:`fleet.server.unmodelled`). A payload that still
cannot be decoded leaves ``values`` empty and says why in ``decode_error`` instead of raising.
A device's error code is a normal result (``ok`` is false); :meth:`Result.raise_for_status`
raises it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from types import MappingProxyType
from typing import Any

from fleet.codec import ContentFormat, Link, decode, parse_links
from fleet.errors import FleetError
from fleet.model import Composite, ModelRegistry, Node, Path, Value, flatten
from fleet.server.errors import DeviceError
from fleet.server.unmodelled import resource_paths, untyped_values

_REASONS = {
    65: "Created",
    66: "Deleted",
    67: "Valid",
    68: "Changed",
    69: "Content",
    95: "Continue",
    128: "Bad Request",
    129: "Unauthorized",
    130: "Bad Option",
    131: "Forbidden",
    132: "Not Found",
    133: "Method Not Allowed",
    134: "Not Acceptable",
    136: "Request Entity Incomplete",
    137: "Conflict",
    140: "Precondition Failed",
    141: "Request Entity Too Large",
    143: "Unsupported Content-Format",
    160: "Internal Server Error",
    161: "Not Implemented",
    162: "Bad Gateway",
    163: "Service Unavailable",
    164: "Gateway Timeout",
    165: "Proxying Not Supported",
}


class Operation(StrEnum):
    """The device management and information reporting operations the server performs."""

    READ = "read"
    DISCOVER = "discover"
    WRITE = "write"
    WRITE_ATTRIBUTES = "write-attributes"
    EXECUTE = "execute"
    CREATE = "create"
    DELETE = "delete"
    READ_COMPOSITE = "read-composite"
    WRITE_COMPOSITE = "write-composite"
    OBSERVE = "observe"
    OBSERVE_COMPOSITE = "observe-composite"
    CANCEL_OBSERVATION = "cancel-observation"
    REQUEST = "request"
    """A raw request made with :meth:`Lwm2mServer.request`."""


def code_text(code: int) -> str:
    """``69`` -> ``"2.05"``."""
    return f"{code >> 5}.{code & 31:02d}"


def code_number(text: str) -> int:
    """``"2.05"`` -> ``205``."""
    major, _, minor = text.partition(".")
    return int(major) * 100 + int(minor)


def _frozen(values: Mapping[Path, Value]) -> Mapping[Path, Value]:
    return MappingProxyType(dict(values))


@dataclass(frozen=True, slots=True)
class Result:
    """One answer of a device to one request."""

    endpoint: str
    operation: Operation
    path: Path | None
    """The target path; ``None`` for composite operations (see ``paths``)."""
    code: str
    """The CoAP code as the specification writes it, e.g. ``"2.05"``."""
    content_format: int | None = None
    payload: bytes = b""
    values: Mapping[Path, Value] = field(default_factory=dict)
    node: Node | Composite | None = None
    links: tuple[Link, ...] = ()
    """Discover: the links the device listed."""
    location: Path | None = None
    """Create: the new instance's path (from Location-Path)."""
    paths: tuple[Path, ...] = ()
    """Composite operations: the paths named in the request."""
    decode_error: str | None = None
    request_id: str = ""
    time: float = 0.0
    """Wall-clock seconds when the answer arrived."""
    unmodelled: tuple[Path, ...] = ()
    """Paths in the answer the server has no object definition for (see the module
    docstring); their values, if the format let them be read, are untyped."""

    def __post_init__(self) -> None:
        object.__setattr__(self, "values", _frozen(self.values))

    @property
    def code_number(self) -> int:
        """The code as an HTTP-like number, e.g. 205."""
        return code_number(self.code)

    @property
    def ok(self) -> bool:
        """Whether the device answered with a success (2.xx) code."""
        return self.code.startswith("2.")

    @property
    def reason(self) -> str:
        """The code's name, e.g. ``"Content"`` or ``"Not Found"``."""
        major, _, minor = self.code.partition(".")
        return _REASONS.get((int(major) << 5) | int(minor), "")

    @property
    def target(self) -> str:
        """The path(s) the request named, as text."""
        if self.path is not None:
            return str(self.path)
        return ",".join(str(p) for p in self.paths) or "/"

    @property
    def value(self) -> Value:
        """The one value read: at ``path``, or the only value there is."""
        return single_value(self.values, self.path)

    def raise_for_status(self) -> Result:
        """This result if ``ok``; otherwise raise :class:`DeviceError`."""
        if not self.ok:
            raise DeviceError(self)
        return self


@dataclass(frozen=True, slots=True)
class Notification:
    """One notification of an observation, decoded."""

    endpoint: str
    path: Path | None
    """The observed path; ``None`` for an Observe-Composite (see ``paths``)."""
    sequence: int | None
    """The Observe option's value (``None`` on the device's final, non-2.xx message)."""
    code: str
    content_format: int | None
    payload: bytes
    values: Mapping[Path, Value]
    node: Node | Composite | None
    time: float
    """Wall-clock seconds when it arrived."""
    request_id: str = ""
    paths: tuple[Path, ...] = ()
    decode_error: str | None = None
    unmodelled: tuple[Path, ...] = ()
    """As :attr:`Result.unmodelled`."""

    def __post_init__(self) -> None:
        object.__setattr__(self, "values", _frozen(self.values))

    @property
    def value(self) -> Value:
        """The one value notified: at ``path``, or the only value there is."""
        return single_value(self.values, self.path)


def single_value(values: Mapping[Path, Value], path: Path | None) -> Value:
    if path is not None and path in values:
        return values[path]
    if len(values) == 1:
        return next(iter(values.values()))
    raise LookupError(f"{len(values)} values, not one: use .values")


@dataclass(frozen=True, slots=True)
class Decoded:
    """What a payload decoded to (leniently)."""

    node: Node | Composite | None = None
    values: Mapping[Path, Value] = field(default_factory=dict)
    links: tuple[Link, ...] = ()
    error: str | None = None
    unmodelled: tuple[Path, ...] = ()
    """Paths the server has no definition for (their values untyped, or absent)."""


def decode_answer(
    content_format: int | None,
    payload: bytes,
    path: Path,
    models: ModelRegistry,
    versions: Mapping[int, str],
) -> Decoded:
    """Decode a device's answer for ``path`` (``/`` for composites), never raising.

    A payload without Content-Format is read as plain text when it answers a
    resource (what LwM2M 1.0 devices do), and left undecoded otherwise.
    """
    if not payload:
        return Decoded()
    if content_format == ContentFormat.LINK:
        try:
            return Decoded(links=tuple(parse_links(payload)))
        except FleetError as error:
            return Decoded(error=str(error))
    if content_format is None:
        if len(path) < 3:
            return Decoded(error="the answer has no Content-Format")
        content_format = ContentFormat.TEXT
    missing: list[Path] = []
    node: Node | Composite | None = None
    values: dict[Path, Value] = {}
    try:
        node = decode(
            content_format, payload, path, models, versions=versions, strict=False, missing=missing
        )
        values = flatten(node, path) if not isinstance(node, Composite) else flatten(node)
    except (FleetError, ValueError) as error:
        if not missing:
            return Decoded(error=str(error))
    if not missing:
        return Decoded(node=node, values=values)
    values.update(untyped_values(content_format, payload, path, missing))
    unmodelled = resource_paths(missing)
    return Decoded(node=node, values=dict(sorted(values.items())), unmodelled=unmodelled)


def message_format(message: Any) -> int | None:
    """The Content-Format of an aiocoap message as a plain number."""
    fmt = message.opt.content_format
    return None if fmt is None else int(fmt)
