"""Content negotiation: which format answers a Read, which formats a Write may use.

What the specification says a client supports and uses by default
(LwM2M 1.0 §6.4; Core 1.1 §7.4; Core 1.2 §7.5):

=======  ==================================  =================================
LwM2M    client MUST (or SHOULD) support      default when no Accept is given
=======  ==================================  =================================
1.0      plain text and opaque for single     single value: text (opaque for an
         values, TLV for instances and        Opaque resource); anything else:
         multiple resources; JSON optional    TLV
1.1      plain text, opaque, CoRE link;       single value: text (opaque for an
         SHOULD: SenML CBOR or SenML JSON;    Opaque resource); anything else:
         TLV and LwM2M JSON are legacy        SenML CBOR
         ("SHOULD NOT use")
1.2      as 1.1, plus LwM2M CBOR              as 1.1
=======  ==================================  =================================

A device's own preference (``preferred``) replaces the default whenever it can
carry the content. Whatever the version, what each format can carry is fixed:
text, opaque and CBOR hold one value (opaque only an Opaque one); TLV and
LwM2M JSON hold an object, an instance, a resource or a resource instance;
SenML and LwM2M CBOR hold all of those and composites (the root path).
Link format answers Discover only. Formats newer than the device's LwM2M
version (SenML and CBOR before 1.1, LwM2M CBOR before 1.2) are not offered.

:func:`choose_format` raises :class:`NotAcceptable` (4.06) for an Accept the
device cannot honour; :func:`check_write_format` raises
:class:`UnsupportedContentFormat` (4.15) for a payload it cannot read. Both
are thin wrappers of pure, cached decisions (:func:`read_decision`,
:func:`write_decision`) keyed by what they depend on: the path only through
its shape (:func:`path_shape`), so the cache stays small and the error names
the actual path.
"""

from __future__ import annotations

from collections.abc import Collection
from functools import lru_cache
from typing import Final

from fleet.codec.formats import ContentFormat, format_label
from fleet.errors import NotAcceptable, UnsupportedContentFormat
from fleet.model import Path, ResourceType
from fleet.model.registry import version_key

F = ContentFormat
SINGLE_VALUE: Final = frozenset({F.TEXT, F.OPAQUE, F.CBOR})
STRUCTURED: Final = frozenset({F.TLV, F.LWM2M_JSON, F.SENML_JSON, F.SENML_CBOR, F.LWM2M_CBOR})
COMPOSITE: Final = frozenset({F.SENML_JSON, F.SENML_CBOR, F.LWM2M_CBOR})
SINCE: Final[dict[ContentFormat, str]] = {
    F.CBOR: "1.1",
    F.SENML_JSON: "1.1",
    F.SENML_CBOR: "1.1",
    F.LWM2M_CBOR: "1.2",
}
LEGACY_NUMBERS: Final[dict[int, ContentFormat]] = {1541: F.TEXT, 1542: F.TLV, 1543: F.LWM2M_JSON}
"""Pre-registration numbers some LwM2M 1.0 peers still send."""


# What the decisions depend on is small and repeats on every request (a handful of LwM2M
# versions, a few Accept values, three path shapes), so each decision is a pure function of
# those, cached: a Read does not rebuild format sets or parse version strings again.
ROOT_SHAPE: Final = 0
"""The root path ``/`` (composites only)."""
CONTAINER_SHAPE: Final = 1
"""An object or an instance: never a single value."""
RESOURCE_SHAPE: Final = 3
"""A resource or a resource instance: a single value when the target holds one."""
CACHE_SIZE: Final = 4096
"""Decisions remembered per function (an Accept is any number a peer sends: bounded)."""


def path_shape(path: Path) -> int:
    """What of ``path`` a format decision depends on: root, container or resource level."""
    if not path:
        return ROOT_SHAPE
    return RESOURCE_SHAPE if len(path) >= 3 else CONTAINER_SHAPE


@lru_cache(maxsize=64)
def formats_for(lwm2m_version: str) -> frozenset[ContentFormat]:
    """Every data format a device of this LwM2M version can use (not link format)."""
    have = version_key(lwm2m_version)
    return frozenset(
        fmt for fmt in SINGLE_VALUE | STRUCTURED if version_key(SINCE.get(fmt, "1.0")) <= have
    )


@lru_cache(maxsize=64)
def _before_1_1(lwm2m_version: str) -> bool:
    return version_key(lwm2m_version) < version_key("1.1")


@lru_cache(maxsize=CACHE_SIZE)
def _usable(
    lwm2m_version: str, supported: frozenset[ContentFormat] | None
) -> frozenset[ContentFormat]:
    usable = formats_for(lwm2m_version)
    return usable if supported is None else usable & supported


def _supported(supported: Collection[ContentFormat] | None) -> frozenset[ContentFormat] | None:
    return None if supported is None else frozenset(supported)


def _carries(
    fmt: ContentFormat, shape: int, single_value: bool, resource_type: ResourceType | None
) -> bool:
    if shape == ROOT_SHAPE:
        return fmt in COMPOSITE
    if fmt in SINGLE_VALUE:
        if not (single_value and shape == RESOURCE_SHAPE):
            return False
        return fmt is not F.OPAQUE or resource_type in (None, ResourceType.OPAQUE)
    return fmt in STRUCTURED


def can_carry(
    fmt: ContentFormat, path: Path, single_value: bool, resource_type: ResourceType | None = None
) -> bool:
    """Whether ``fmt`` can hold the content at ``path``."""
    return _carries(fmt, path_shape(path), single_value, resource_type)


def _default(
    shape: int, lwm2m_version: str, single_value: bool, resource_type: ResourceType | None
) -> ContentFormat:
    if shape == RESOURCE_SHAPE and single_value:
        return F.OPAQUE if resource_type is ResourceType.OPAQUE else F.TEXT
    return F.TLV if _before_1_1(lwm2m_version) else F.SENML_CBOR


def default_format(
    path: Path,
    lwm2m_version: str,
    single_value: bool,
    resource_type: ResourceType | None = None,
) -> ContentFormat:
    """The format a device answers with when the request has no Accept (see the table)."""
    return _default(path_shape(path), lwm2m_version, single_value, resource_type)


_FALLBACKS: Final = (F.SENML_CBOR, F.SENML_JSON, F.LWM2M_CBOR, F.TLV, F.LWM2M_JSON, F.TEXT)


@lru_cache(maxsize=CACHE_SIZE)
def read_decision(
    accept: int | None,
    shape: int,
    lwm2m_version: str,
    preferred: ContentFormat | None,
    single_value: bool,
    resource_type: ResourceType | None,
    supported: frozenset[ContentFormat] | None,
) -> ContentFormat | str:
    """What :func:`choose_format` answers for a path of ``shape``: the format, or why none
    (the text of the 4.06, after the path)."""
    usable = _usable(lwm2m_version, supported)
    if accept is not None:
        fmt = _lookup(accept)
        if fmt is None or fmt not in usable:
            return f"{format_label(accept)} is not supported"
        if not _carries(fmt, shape, single_value, resource_type):
            return f"{format_label(fmt)} cannot carry this content"
        return fmt
    candidates = [preferred] if preferred is not None else []
    candidates.append(_default(shape, lwm2m_version, single_value, resource_type))
    candidates.extend(_FALLBACKS)
    for fmt in candidates:
        if fmt in usable and _carries(fmt, shape, single_value, resource_type):
            return fmt
    return "no supported format can carry this content"


def choose_format(
    accept: int | None,
    path: Path,
    lwm2m_version: str,
    preferred: ContentFormat | None,
    single_value: bool,
    *,
    resource_type: ResourceType | None = None,
    supported: Collection[ContentFormat] | None = None,
) -> ContentFormat:
    """The format of a Read (or Observe) answer, or :class:`NotAcceptable`.

    ``single_value`` says the target holds one value (a single-instance
    resource or a resource instance); ``supported`` narrows what the device
    implements (default: everything its LwM2M version allows).
    """
    decided = read_decision(
        accept,
        path_shape(path),
        lwm2m_version,
        preferred,
        single_value,
        resource_type,
        _supported(supported),
    )
    if isinstance(decided, str):
        raise NotAcceptable(f"{path}: {decided}")
    return decided


@lru_cache(maxsize=CACHE_SIZE)
def write_decision(
    content_format: int,
    shape: int,
    lwm2m_version: str,
    single_value: bool,
    resource_type: ResourceType | None,
    supported: frozenset[ContentFormat] | None,
) -> ContentFormat | str:
    """What :func:`check_write_format` answers for a path of ``shape``: the format, or why
    not (the text of the 4.15, after the path)."""
    fmt = _lookup(content_format)
    if fmt is None or fmt not in _usable(lwm2m_version, supported):
        return f"{format_label(content_format)} is not supported"
    if not _carries(fmt, shape, single_value, resource_type):
        return f"{format_label(fmt)} cannot carry this content"
    return fmt


def check_write_format(
    content_format: int | None,
    path: Path,
    lwm2m_version: str,
    single_value: bool,
    *,
    resource_type: ResourceType | None = None,
    supported: Collection[ContentFormat] | None = None,
) -> ContentFormat:
    """The format of a Write/Create/Execute payload, or :class:`UnsupportedContentFormat`.

    A payload must say its Content-Format; one the device does not implement,
    or one that cannot carry content for ``path``, is refused with 4.15.
    """
    if content_format is None:
        raise UnsupportedContentFormat(f"{path}: a payload must carry a Content-Format")
    decided = write_decision(
        content_format,
        path_shape(path),
        lwm2m_version,
        single_value,
        resource_type,
        _supported(supported),
    )
    if isinstance(decided, str):
        raise UnsupportedContentFormat(f"{path}: {decided}")
    return decided


def _lookup(number: int) -> ContentFormat | None:
    """The format a number names, pre-registration numbers included (TEXT is 0: falsy)."""
    return LEGACY_NUMBERS[number] if number in LEGACY_NUMBERS else _known(number)


def _known(number: int) -> ContentFormat | None:
    try:
        return ContentFormat(number)
    except ValueError:
        return None


ANNOUNCEABLE: Final[dict[str, tuple[ContentFormat, ...]]] = {
    "1.1": (F.SENML_JSON, F.SENML_CBOR, F.LWM2M_JSON),
    "1.2": (F.SENML_JSON, F.SENML_CBOR, F.LWM2M_JSON, F.LWM2M_CBOR),
}
"""The formats a Register's ``</>;ct=`` may name, per LwM2M version: those a server of that
version can be expected to know besides TLV (Core 1.1 §6.2.1 and Table 6.2.1-1 list
SenML JSON 110, SenML CBOR 112 and LwM2M JSON 11543; 1.2 adds LwM2M CBOR 11544)."""


def announced_format(lwm2m_version: str, preferred: ContentFormat | None) -> ContentFormat | None:
    """The ``ct=`` a Register announces on ``</>``: the device's preferred structured format
    (its version's default when it names none) when a server can be expected to know it;
    ``None`` for TLV (servers assume TLV when ``ct`` is absent), for formats servers of that
    version do not know (some refuse a Register naming one), and for LwM2M 1.0 (whose
    Register has no ``ct``)."""
    wanted = preferred if preferred is not None else default_format(Path(1), lwm2m_version, False)
    known = ANNOUNCEABLE.get(lwm2m_version, ())
    return wanted if wanted in known else None
