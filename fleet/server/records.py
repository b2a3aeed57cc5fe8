"""What the server keeps per device: its registered objects, their versions, values and info.

:func:`parse_object_links` checks the link-format payload of a Register or Update (LwM2M Core
1.1 §6.2.1) and turns it into :class:`RegisteredObjects`: an optional alternate root path
(``</lwm2m>;rt="oma.lwm2m"``), the content formats the root link announces (``ct=``), and per
object its explicit version (``ver=``) and instances. Anything else is a 4.00 Bad Request.

:func:`decoding_versions` picks, per registered object, the definition version to decode with.
:class:`DeviceInfo` holds the "device info" a platform keeps from /3 and /6 (manufacturer, model,
firmware and software version, current time, location as ``geo:<lat>,<lon>``), refreshed from
every value the server decodes. :class:`DeviceRecord` is one endpoint's entry, which outlives a
de-registration so that its timestamps stay readable.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace

from fleet.codec import parse_links, versions_for
from fleet.codec.link import CORE_OBJECTS
from fleet.errors import BadRequest, CodecError
from fleet.model import ModelRegistry, Path, Value
from fleet.server.directory import Registration

_VERSION = re.compile(r"[0-9]+\.[0-9]+")


@dataclass(frozen=True, slots=True)
class RegisteredObjects:
    """The objects and instances a device registered."""

    root: tuple[str, ...] = ()
    """Alternate path segments requests must start with (empty: the default ``/``)."""
    versions: Mapping[int, str] = field(default_factory=dict)
    """Object id -> version, where the device said ``ver=``."""
    instances: Mapping[int, tuple[int, ...]] = field(default_factory=dict)
    """Object id -> instance ids (an object registered without instances maps to ``()``)."""
    content_formats: tuple[int, ...] = ()

    @property
    def objects(self) -> tuple[int, ...]:
        return tuple(sorted(self.instances))

    def has(self, path: Path) -> bool:
        """Whether the device registered the object (and instance) of ``path``."""
        if not path:
            return True
        if path[0] not in self.instances:
            return False
        return len(path) < 2 or path[1] in self.instances[path[0]]


def parse_object_links(payload: bytes | str) -> RegisteredObjects:
    """Parse and check a Register/Update payload; :class:`BadRequest` for anything wrong."""
    try:
        links = parse_links(payload)
    except CodecError as error:
        raise BadRequest(f"registration payload: {error}") from None
    if not links:
        raise BadRequest("a registration must list the objects and instances (empty payload)")
    root: tuple[str, ...] = ()
    root_link = next((link for link in links if link.attributes.get("rt") == "oma.lwm2m"), None)
    if root_link is not None:
        root = tuple(part for part in root_link.target.strip("/").split("/") if part)
    prefix = "/" + "/".join(root) if root else ""
    versions: dict[int, str] = {}
    instances: dict[int, set[int]] = {}
    formats: tuple[int, ...] = ()
    for link in links:
        if not link.target.startswith("/"):
            raise BadRequest(f"registration link <{link.target}> is not an absolute path")
        target = link.target.rstrip("/") or "/"
        if target == (prefix or "/"):
            formats = _formats(link.attributes.get("ct")) or formats
            continue
        if prefix and not target.startswith(prefix + "/"):
            raise BadRequest(f"registration link <{link.target}> is outside {prefix}")
        path = _object_path(target[len(prefix) :], link.target)
        instances.setdefault(path[0], set())
        if len(path) == 2:
            instances[path[0]].add(path[1])
        version = link.attributes.get("ver")
        if version is not None:
            if len(path) != 1 or not _VERSION.fullmatch(version):
                raise BadRequest(f"registration link <{link.target}>: bad ver={version!r}")
            versions[path[0]] = version
    return RegisteredObjects(
        root=root,
        versions=versions,
        instances={obj: tuple(sorted(ids)) for obj, ids in sorted(instances.items())},
        content_formats=formats,
    )


def _object_path(text: str, written: str) -> Path:
    try:
        path = Path.parse(text)
    except ValueError:
        raise BadRequest(f"registration link <{written}> is not an object or instance") from None
    if not 1 <= len(path) <= 2:
        raise BadRequest(f"registration link <{written}> is not an object or instance")
    return path


def _formats(text: str | None) -> tuple[int, ...]:
    if not text:
        return ()
    numbers = text.split()
    if not all(n.isascii() and n.isdigit() for n in numbers):
        raise BadRequest(f"registration root link: bad ct={text!r}")
    return tuple(int(n) for n in numbers)


def decoding_versions(
    models: ModelRegistry, objects: RegisteredObjects, lwm2m_version: str
) -> dict[int, str]:
    """Per registered object, the version of its definition to read its payloads with.

    The version the device said (``ver=``); without it 1.0, except for the core objects of
    an LwM2M 1.1+ device, whose version follows the enabler. A version the registry does not
    hold falls back to the registry's default for that object.
    """
    chosen: dict[int, str] = {}
    core = versions_for(models, lwm2m_version) if lwm2m_version != "1.0" else {}
    for obj in objects.instances:
        if obj not in models:
            continue
        have = models.versions(obj)
        wanted = objects.versions.get(obj)
        if wanted is None:
            wanted = core.get(obj) if obj in CORE_OBJECTS and lwm2m_version != "1.0" else "1.0"
        if wanted in have:
            chosen[obj] = wanted
    return chosen


MANUFACTURER, MODEL, FIRMWARE, SYSTEM_TIME, SOFTWARE = (
    Path(3, 0, 0),
    Path(3, 0, 1),
    Path(3, 0, 3),
    Path(3, 0, 13),
    Path(3, 0, 19),
)
LATITUDE, LONGITUDE = Path(6, 0, 0), Path(6, 0, 1)
INFO_PATHS = frozenset({MANUFACTURER, MODEL, FIRMWARE, SYSTEM_TIME, SOFTWARE, LATITUDE, LONGITUDE})


@dataclass(frozen=True, slots=True)
class DeviceInfo:
    """The platform's "device info" of one device, from /3/0 and /6/0."""

    manufacturer: str | None = None
    model: str | None = None
    firmware_version: str | None = None
    software_version: str | None = None
    system_time: int | None = None
    """/3/0/13 Current Time, seconds since the epoch."""
    location: str | None = None
    """``geo:<latitude>,<longitude>`` (RFC 5870) from /6/0/0 and /6/0/1."""

    def updated(self, values: Mapping[Path, Value], known: Mapping[Path, Value]) -> DeviceInfo:
        """This info with whatever ``values`` say; ``known`` holds every value seen so far."""
        if INFO_PATHS.isdisjoint(values):
            return self
        changes: dict[str, object] = {}
        for path, name in (
            (MANUFACTURER, "manufacturer"),
            (MODEL, "model"),
            (FIRMWARE, "firmware_version"),
            (SOFTWARE, "software_version"),
        ):
            if path in values:
                changes[name] = str(values[path])
        time = values.get(SYSTEM_TIME)
        if isinstance(time, int | float) and not isinstance(time, bool):
            changes["system_time"] = int(time)
        if LATITUDE in values or LONGITUDE in values:
            lat, lon = known.get(LATITUDE), known.get(LONGITUDE)
            if lat is not None and lon is not None:
                changes["location"] = f"geo:{_coordinate(lat)},{_coordinate(lon)}"
        return replace(self, **changes)  # type: ignore[arg-type]


def _coordinate(value: Value) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


@dataclass(slots=True, eq=False)
class DeviceRecord:
    """Everything the server knows about one endpoint; kept after it de-registers."""

    endpoint: str
    registration: Registration | None = None
    """The current registration; ``None`` once de-registered or expired."""
    objects: RegisteredObjects = field(default_factory=RegisteredObjects)
    versions: dict[int, str] = field(default_factory=dict)
    values: dict[Path, Value] = field(default_factory=dict)
    """The last value of every path decoded from reads, notifications and Sends."""
    info: DeviceInfo = field(default_factory=DeviceInfo)
    registered_at: float | None = None
    updated_at: float | None = None
    deregistered_at: float | None = None
    expired_at: float | None = None
    """Wall-clock timestamps of the last registration event of each kind."""
    hooks_done: asyncio.Future[None] | None = None
    """Done when the on-register hooks of the current registration have run."""

    @property
    def registered(self) -> bool:
        return self.registration is not None

    def holds(self, registration: Registration) -> bool:
        """Whether ``registration`` is still current (Updates keep it; a new Register does not)."""
        current = self.registration
        return current is not None and current.location == registration.location

    @property
    def lwm2m_version(self) -> str:
        return self.registration.lwm2m_version if self.registration is not None else "1.1"

    def record(self, values: Mapping[Path, Value], *, under: tuple[Path, ...] = ()) -> None:
        """Store decoded values; paths under ``under`` not among them are forgotten first."""
        if under:
            stale = [p for p in self.values if any(top.contains(p) for top in under)]
            for path in stale:
                del self.values[path]
        self.values.update(values)
        self.info = self.info.updated(values, self.values)
