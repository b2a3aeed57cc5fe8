"""The firmware package format we define, and a streaming check that keeps no copy.

A package is a header followed by the image::

    b"LWM2MFW\\x01"             8 bytes: magic and format version 1
    length                      2 bytes, big-endian: the header's JSON length
    {"name": .., "version": .., "type": .., "size": .., "sha256": ..}
    body                        ``size`` bytes whose SHA-256 (hex) is ``sha256``

:func:`build_package` writes one (the server side, tests, ``fleet`` tools).
:class:`PackageCheck` reads a package block by block as it arrives (pushed to
``/5/0/0`` or downloaded from the Package URI): it hashes the body on the fly,
so a device holds a digest and a byte count, never the image (unless asked
to keep it, bounded by its storage). :meth:`PackageCheck.finish` then says
what the Update Result would be:

- more bytes than the device's storage: 2 not enough flash (noticed as soon
  as the header announces it or the bytes exceed it);
- a header whose ``type`` the device does not accept, or a file without our
  header whose SHA-256 the scenario does not map to a version: 6 unsupported
  package type;
- a body whose length or SHA-256 differs from the header's: 5 integrity
  check failure.

A file without our header is accepted when the scenario maps its SHA-256
(of the whole file) to a version (``versions``): the platform's own images
need no header.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Final

from fleet.codec import json_text
from fleet.device.firmware.machine import UpdateResult
from fleet.errors import FleetError

MAGIC: Final = b"LWM2MFW\x01"
_PREFIX: Final = len(MAGIC) + 2
MAX_HEADER: Final = 4096
DEFAULT_TYPE: Final = "fleet"


class PackageError(FleetError, ValueError):
    """A package that cannot be built (bad name, version or type)."""


@dataclass(frozen=True, slots=True)
class PackageInfo:
    """What a package says about itself (or what the scenario mapping says)."""

    name: str
    version: str
    type: str = DEFAULT_TYPE
    size: int = 0
    sha256: str = ""


def build_package(
    body: bytes, *, name: str, version: str, package_type: str = DEFAULT_TYPE
) -> bytes:
    """A package with our header around ``body``."""
    for label, text in (("name", name), ("version", version), ("type", package_type)):
        if not isinstance(text, str) or not text or len(text.encode()) > 255:
            raise PackageError(f"package {label} must be 1..255 bytes of text, got {text!r}")
    header = json_text.dumps(
        {
            "name": name,
            "version": version,
            "type": package_type,
            "size": len(body),
            "sha256": hashlib.sha256(body).hexdigest(),
        },
        separators=(",", ":"),
    ).encode()
    return MAGIC + len(header).to_bytes(2, "big") + header + body


def read_header(data: bytes) -> PackageInfo | None:
    """The header at the start of ``data``, or ``None`` if ``data`` has none (or a broken one)."""
    check = PackageCheck(PackageRules(storage=len(data) + 1, versions={}))
    check.feed(data[: _PREFIX + MAX_HEADER])
    return check.header


@dataclass(frozen=True, slots=True)
class PackageRules:
    """What a device accepts: ``storage`` bytes at most, header ``types`` (``None``: any),
    and ``versions`` (SHA-256 hex of a whole headerless file -> version)."""

    storage: int
    types: frozenset[str] | None = None
    versions: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.storage < 1:
            raise PackageError("storage must be at least 1 byte")
        object.__setattr__(self, "versions", MappingProxyType(dict(self.versions)))


@dataclass(frozen=True, slots=True)
class Verdict:
    """The outcome of a checked package: ``result`` ``None`` when it is fine."""

    result: UpdateResult | None
    info: PackageInfo | None
    size: int


class PackageCheck:
    """One package read block by block (see the module docstring)."""

    __slots__ = (
        "_body_hash",
        "_file_hash",
        "_head",
        "_header_bytes",
        "_raw",
        "failed",
        "header",
        "kept",
        "received",
        "rules",
    )

    def __init__(self, rules: PackageRules, *, keep: bool = False) -> None:
        self.rules = rules
        self.received = 0
        """Bytes fed so far."""
        self.header: PackageInfo | None = None
        self.failed: UpdateResult | None = None
        """A failure noticed early (not enough flash)."""
        self.kept: bytearray | None = bytearray() if keep else None
        """The bytes themselves, only when asked to keep them (bounded by the storage)."""
        self._head: bytearray | None = bytearray()
        self._header_bytes = 0
        self._raw = False
        self._file_hash = hashlib.sha256()
        self._body_hash = hashlib.sha256()

    def feed(self, chunk: bytes) -> UpdateResult | None:
        """Take the next bytes; answers a failure as soon as one is certain (else ``None``)."""
        if self.failed is not None:
            return self.failed
        self.received += len(chunk)
        if self.received > self.rules.storage:
            return self._fail(UpdateResult.NOT_ENOUGH_FLASH)
        self._file_hash.update(chunk)
        if self.kept is not None:
            self.kept += chunk
        head = self._head
        if head is None:
            if not self._raw:
                self._body_hash.update(chunk)
            return None
        head += chunk
        self._parse_head(head)
        return self.failed

    def _fail(self, result: UpdateResult) -> UpdateResult:
        self.failed = result
        self.kept = None
        self._head = None
        return result

    def _parse_head(self, head: bytearray) -> None:
        if len(head) < _PREFIX:
            if not MAGIC.startswith(bytes(head[: len(MAGIC)])):
                self._raw, self._head = True, None
            return
        length = int.from_bytes(head[len(MAGIC) : _PREFIX], "big")
        if not head.startswith(MAGIC) or length > MAX_HEADER:
            self._raw, self._head = True, None  # not ours: looked up by its hash at the end
            return
        if len(head) < _PREFIX + length:
            return
        self._head = None
        try:
            fields = json_text.loads(bytes(head[_PREFIX : _PREFIX + length]))
            info = PackageInfo(
                name=str(fields["name"]),
                version=str(fields["version"]),
                type=str(fields.get("type", DEFAULT_TYPE)),
                size=int(fields["size"]),
                sha256=str(fields["sha256"]).lower(),
            )
        except (ValueError, KeyError, TypeError, AttributeError):
            self._raw = True  # a broken header: the file is not a package we know
            return
        self.header = info
        self._header_bytes = _PREFIX + length
        if info.size + self._header_bytes > self.rules.storage:
            self._fail(UpdateResult.NOT_ENOUGH_FLASH)
            return
        self._body_hash.update(head[self._header_bytes :])

    def finish(self) -> Verdict:
        """What the Update Result of this package is, now that every byte arrived."""
        if self.failed is not None:
            return Verdict(self.failed, self.header, self.received)
        info = self.header
        if info is None:
            digest = self._file_hash.hexdigest()
            version = self.rules.versions.get(digest)
            if version is None:
                return Verdict(UpdateResult.UNSUPPORTED_PACKAGE_TYPE, None, self.received)
            raw = PackageInfo(name="", version=version, type="", size=self.received, sha256=digest)
            return Verdict(None, raw, self.received)
        types = self.rules.types
        if types is not None and info.type not in types:
            return Verdict(UpdateResult.UNSUPPORTED_PACKAGE_TYPE, info, self.received)
        body_size = self.received - self._header_bytes
        if body_size != info.size or self._body_hash.hexdigest() != info.sha256:
            return Verdict(UpdateResult.INTEGRITY_FAILURE, info, self.received)
        return Verdict(None, info, self.received)
