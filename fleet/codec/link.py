"""CoRE Link Format (40, RFC 6690) for Register/Update payloads and Discover answers.

:func:`parse_links` reads link-format text as servers meet it: whitespace
around links, quoted values holding commas, semicolons and escaped quotes,
attributes without a value (``;pmin`` unsets pmin), a trailing slash on a
path. It returns :class:`Link` values (target text plus ordered attributes);
anything else is a :class:`CodecError`.

:func:`register_payload` writes the object list of a Register or Update
(LwM2M Core 1.1 §6.2.1, §7.2.3): ``</1/0>,</3/0>``, ``</5>`` for an object
without instances, ``;ver=X.Y`` on an object link when the version is not the
one a server would assume, and a root link ``</>;ct=...`` (or
``</path>;rt="oma.lwm2m"`` with an alternate path) when there is something to
say. The Security object (0), OSCORE (21) and COSE (23) are never listed.

:func:`discover_payload` writes a Discover answer (Core 1.1 §6.3.2): the target
link with the attributes it inherits, then its children with their own
attributes and ``dim`` on multiple-instance resources.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Final, NamedTuple

from fleet.errors import CodecError, PathError
from fleet.model import ObjectModel, Path

AttributeValue = str | int | float | None
NEVER_REGISTERED: Final = frozenset({0, 21, 23})
CORE_OBJECTS: Final = frozenset(range(8))
"""Objects whose version a server infers from the client's LwM2M version when ``ver`` is absent."""
ATTRIBUTE_ORDER: Final = ("ver", "dim", "pmin", "pmax", "gt", "lt", "st", "epmin", "epmax")
ALWAYS_QUOTED: Final = frozenset({"rt", "if", "uri", "title", "anchor", "rev"})
_PTOKEN: Final = re.compile(r"[A-Za-z0-9!#$%&'()*+\-./:?@\[\]^_`{|}~]+")
_SPACE: Final = " \t\r\n"


@dataclass(frozen=True, slots=True)
class Link:
    """One link: its target (``/3/0``) and attributes in order (``None`` = no value)."""

    target: str
    attributes: Mapping[str, str | None] = field(default_factory=dict)

    def __post_init__(self) -> None:
        object.__setattr__(self, "attributes", MappingProxyType(dict(self.attributes)))

    @property
    def path(self) -> Path | None:
        """The target as an LwM2M path (trailing slash forgiven), or ``None``."""
        text = self.target
        if len(text) > 1 and text.endswith("/"):
            text = text[:-1]
        if not text.startswith("/"):
            return None
        try:
            return Path.parse(text)
        except PathError:
            return None

    def __str__(self) -> str:
        parts = [f"<{self.target}>"]
        for name, value in self.attributes.items():
            parts.append(name if value is None else f"{name}={_quote(name, value)}")
        return ";".join(parts)


def _quote(name: str, value: str) -> str:
    if name not in ALWAYS_QUOTED and _PTOKEN.fullmatch(value):
        return value
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def format_links(links: Iterable[Link]) -> str:
    """Link-format text: links joined by commas."""
    return ",".join(str(link) for link in links)


def format_value(value: AttributeValue) -> str | None:
    """Attribute values as text: ``50`` for an integral float, ``42.2``, ``None`` kept."""
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return repr(value) if isinstance(value, float) else str(value)


# ------------------------------------------------------------------ parsing


class _Scanner:
    __slots__ = ("pos", "text")

    def __init__(self, text: str) -> None:
        self.text = text
        self.pos = 0

    def fail(self, reason: str) -> CodecError:
        return CodecError(f"bad link format at character {self.pos}: {reason}")

    def skip_space(self) -> str:
        text, pos = self.text, self.pos
        while pos < len(text) and text[pos] in _SPACE:
            pos += 1
        self.pos = pos
        return text[pos] if pos < len(text) else ""

    def target(self) -> str:
        if self.skip_space() != "<":
            raise self.fail("a link starts with '<'")
        end = self.text.find(">", self.pos + 1)
        if end < 0:
            raise self.fail("'<' without '>'")
        target = self.text[self.pos + 1 : end]
        if "<" in target or any(c in target for c in _SPACE):
            raise self.fail(f"bad link target {target!r:.40}")
        self.pos = end + 1
        return target

    def name(self) -> str:
        start = self.pos
        text = self.text
        while self.pos < len(text) and text[self.pos] not in '=;,"<>' + _SPACE:
            self.pos += 1
        if self.pos == start:
            raise self.fail("an attribute needs a name")
        return text[start : self.pos]

    def value(self) -> str:
        text = self.text
        if self.skip_space() == '"':
            out: list[str] = []
            pos = self.pos + 1
            while True:
                if pos >= len(text):
                    raise self.fail("quoted value not closed")
                char = text[pos]
                if char == "\\" and pos + 1 < len(text):
                    out.append(text[pos + 1])
                    pos += 2
                elif char == '"':
                    self.pos = pos + 1
                    return "".join(out)
                else:
                    out.append(char)
                    pos += 1
        start = self.pos
        while self.pos < len(text) and text[self.pos] not in ";,":
            if text[self.pos] in '"<>':
                raise self.fail(f"unexpected {text[self.pos]!r} in a value")
            self.pos += 1
        return text[start : self.pos].rstrip(_SPACE)


def parse_links(payload: str | bytes) -> list[Link]:
    """Parse link-format text into links; malformed text is a :class:`CodecError`."""
    if isinstance(payload, bytes):
        try:
            payload = payload.decode("utf-8")
        except UnicodeDecodeError:
            raise CodecError("link format payload is not UTF-8") from None
    scan = _Scanner(payload)
    links: list[Link] = []
    while scan.skip_space():
        target = scan.target()
        attributes: dict[str, str | None] = {}
        while True:
            char = scan.skip_space()
            if char == ";":
                scan.pos += 1
                scan.skip_space()
                name = scan.name()
                value = None
                if scan.skip_space() == "=":
                    scan.pos += 1
                    value = scan.value()
                attributes.setdefault(name, value)
            elif char in (",", ""):
                scan.pos += 1
                break
            else:
                raise scan.fail(f"expected ';' or ',' after a link, got {char!r}")
        links.append(Link(target, attributes))
    return links


# ------------------------------------------------------------------ register


class ObjectEntry(NamedTuple):
    """An object a client registers: id, version and instance ids (maybe none)."""

    id: int
    version: str = "1.0"
    instances: Collection[int] = ()


def needs_version(object_id: int, version: str, lwm2m_version: str) -> bool:
    """Whether a Register/Discover link must say ``ver`` for a server to know the version.

    A missing ``ver`` means 1.0, except for the core objects of an LwM2M 1.1+
    client, where it means the enabler's version: those always say it. An LwM2M 1.0
    client never gives a core object (Security, Server, Device...) a version: LwM2M 1.0
    defines them at 1.0 only, and a 1.0 server knows no other (a ``</1>;ver=1.1`` from a
    1.0 device names an object that does not exist for it).
    """
    if lwm2m_version == "1.0" and object_id in CORE_OBJECTS:
        return False
    return version != "1.0" or object_id in CORE_OBJECTS


def register_links(
    objects: Iterable[ObjectEntry | tuple[int, str, Collection[int]]],
    *,
    lwm2m_version: str = "1.1",
    content_formats: Sequence[int] = (),
    alternate_path: str | None = None,
) -> list[Link]:
    """The links of a Register or Update payload, ordered by object then instance id."""
    links: list[Link] = []
    prefix = "/" + alternate_path.strip("/") if alternate_path else ""
    if prefix == "/":
        prefix = ""
    root: dict[str, str | None] = {}
    if prefix:
        root["rt"] = "oma.lwm2m"
    if content_formats:
        root["ct"] = " ".join(str(int(ct)) for ct in content_formats)
    if root:
        links.append(Link(prefix or "/", root))
    for entry in sorted((ObjectEntry(*o) for o in objects), key=lambda e: e.id):
        if entry.id in NEVER_REGISTERED:
            continue
        instances = sorted(entry.instances)
        if needs_version(entry.id, entry.version, lwm2m_version) or not instances:
            ver = needs_version(entry.id, entry.version, lwm2m_version)
            links.append(Link(f"{prefix}/{entry.id}", {"ver": entry.version} if ver else {}))
        links.extend(Link(f"{prefix}/{entry.id}/{iid}") for iid in instances)
    return links


def register_payload(
    objects: Iterable[ObjectEntry | tuple[int, str, Collection[int]]],
    *,
    lwm2m_version: str = "1.1",
    content_formats: Sequence[int] = (),
    alternate_path: str | None = None,
) -> str:
    """The link-format text of a Register or Update (see :func:`register_links`)."""
    return format_links(
        register_links(
            objects,
            lwm2m_version=lwm2m_version,
            content_formats=content_formats,
            alternate_path=alternate_path,
        )
    )


# ------------------------------------------------------------------ discover

Structure = Mapping[int, Mapping[int, Collection[int] | None]]
"""instance id -> resource id -> resource instance ids (``None`` for a single resource)."""


def _attrs(values: Mapping[str, AttributeValue]) -> dict[str, str | None]:
    ordered = {k: values[k] for k in ATTRIBUTE_ORDER if k in values}
    ordered.update({k: v for k, v in values.items() if k not in ordered})
    return {k: format_value(v) for k, v in ordered.items()}


def discover_links(
    path: Path,
    model: ObjectModel,
    structure: Structure,
    attributes: Mapping[Path, Mapping[str, AttributeValue]] | None = None,
    *,
    depth: int | None = None,
    lwm2m_version: str = "1.1",
) -> list[Link]:
    """The links of a Discover on an object, an object instance or a resource.

    ``depth`` (LwM2M 1.2) is how many levels below the target to list; the
    default is 2 for an object (instances and resources) and 1 otherwise. The
    target link carries the attributes it inherits from the levels above.
    """
    attributes = attributes or {}
    if not 1 <= len(path) <= 3 or path[0] != model.id:
        raise CodecError(f"cannot discover {path} with the definition of object {model.id}")
    if len(path) >= 2 and path[1] not in structure:
        raise CodecError(f"{path}: no such object instance")
    if len(path) == 3 and path[2] not in structure[path[1]]:
        raise CodecError(f"{path}: no such resource")
    levels = (2 if len(path) == 1 else 1) if depth is None else depth
    inherited: dict[str, AttributeValue] = {}
    for size in range(1, len(path) + 1):
        inherited.update(attributes.get(Path(*path[:size]), {}))
    links = [_link(path, model, structure, inherited, lwm2m_version)]
    for child in _below(path, structure, levels):
        links.append(_link(child, model, structure, attributes.get(child, {}), lwm2m_version))
    return links


def _below(path: Path, structure: Structure, levels: int) -> list[Path]:
    found: list[Path] = []
    frontier = [path]
    for _ in range(max(levels, 0)):
        nxt: list[Path] = []
        for p in frontier:
            nxt.extend(p.child(i) for i in sorted(_children(p, structure)))
        found.extend(nxt)
        frontier = nxt
    return sorted(found)


def _children(path: Path, structure: Structure) -> Collection[int]:
    if len(path) == 1:
        return structure.keys()
    if len(path) == 2:
        return structure.get(path[1], {}).keys()
    if len(path) == 3:
        return structure.get(path[1], {}).get(path[2]) or ()
    return ()


def _link(
    path: Path,
    model: ObjectModel,
    structure: Structure,
    own: Mapping[str, AttributeValue],
    lwm2m_version: str,
) -> Link:
    values: dict[str, AttributeValue] = {}
    if len(path) == 1 and needs_version(model.id, model.version, lwm2m_version):
        values["ver"] = model.version
    if len(path) == 3:
        instances = structure[path[1]][path[2]]
        if instances is not None:
            values["dim"] = len(instances)
    values.update(own)
    return Link(str(path), _attrs(values))


def discover_payload(
    path: Path,
    model: ObjectModel,
    structure: Structure,
    attributes: Mapping[Path, Mapping[str, AttributeValue]] | None = None,
    *,
    depth: int | None = None,
    lwm2m_version: str = "1.1",
) -> str:
    """The link-format text of a Discover answer (see :func:`discover_links`)."""
    return format_links(
        discover_links(path, model, structure, attributes, depth=depth, lwm2m_version=lwm2m_version)
    )
