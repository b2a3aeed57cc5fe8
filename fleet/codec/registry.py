"""The codec registry: one :class:`Codec` per content format, and the encode/decode entry points.

Link format (40) carries links, not values: it lives in :mod:`fleet.codec.link`
and has no entry here.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Final

from fleet.codec.base import Codec, ModelView, assemble, assemble_composite
from fleet.codec.formats import ContentFormat, format_label
from fleet.codec.lwm2m_cbor import Lwm2mCborCodec
from fleet.codec.lwm2m_json import Lwm2mJsonCodec
from fleet.codec.senml_cbor import SENML_CBOR
from fleet.codec.senml_json import SENML_JSON
from fleet.codec.text import CborCodec, OpaqueCodec, TextCodec
from fleet.codec.tlv import TlvCodec
from fleet.errors import CodecError, UnsupportedContentFormat
from fleet.model import Composite, ModelRegistry, Node, Path, Value
from fleet.model.registry import version_key

CODECS: Final[Mapping[ContentFormat, Codec]] = MappingProxyType(
    {
        codec.content_format: codec
        for codec in (
            TextCodec(),
            OpaqueCodec(),
            CborCodec(),
            TlvCodec(),
            Lwm2mJsonCodec(),
            SENML_JSON,
            SENML_CBOR,
            Lwm2mCborCodec(),
        )
    }
)


def get_codec(fmt: ContentFormat | int) -> Codec:
    """The codec of a content format, or :class:`UnsupportedContentFormat`."""
    codec = CODECS.get(fmt)  # type: ignore[arg-type]  # an int finds its IntEnum key
    if codec is not None:
        return codec
    try:
        return CODECS[ContentFormat(fmt)]
    except (ValueError, KeyError):
        raise UnsupportedContentFormat(
            f"{format_label(fmt)} has no value codec"
            + ("; use fleet.codec.link" if fmt == ContentFormat.LINK else "")
        ) from None


def encode(
    fmt: ContentFormat | int,
    node: Node | Composite,
    path: Path,
    models: ModelRegistry,
    *,
    versions: Mapping[int, str] | None = None,
) -> bytes:
    """Serialise ``node`` (which sits at ``path``; ``/`` for a composite) in format ``fmt``.

    ``versions`` picks object versions (object id -> version) where the
    device does not run the registry's default.
    """
    codec = get_codec(fmt)
    if isinstance(node, Composite) and path:
        raise CodecError(f"a composite sits at the root path, not at {path}")
    return codec.encode(node, path, ModelView(models, versions))


def decode(
    fmt: ContentFormat | int,
    payload: bytes,
    path: Path,
    models: ModelRegistry,
    *,
    versions: Mapping[int, str] | None = None,
    strict: bool = True,
    missing: list[Path] | None = None,
) -> Node | Composite:
    """Parse ``payload`` in format ``fmt`` for the request ``path``.

    Returns the node at ``path``, or a :class:`Composite` for the root path.
    Values are checked against the object model: a wrong type, a value out of
    range, a path the model does not know or a malformed payload is a
    :class:`CodecError`. ``strict=False`` (for servers reading devices) skips
    unknown objects and resources and does not enforce ranges; the paths it skipped are
    appended to ``missing`` when given (even when decoding then fails).
    """
    codec = get_codec(fmt)
    view = ModelView(models, versions, strict=strict)
    try:
        return codec.decode(bytes(payload), path, view)
    finally:
        if missing is not None:
            missing.extend(view.missing)


def build_node(
    path: Path,
    values: Mapping[Path, Value],
    models: ModelRegistry,
    *,
    versions: Mapping[int, str] | None = None,
) -> Node | Composite:
    """The node at ``path`` (a composite for ``/``) holding ``values`` (leaf path -> value).

    Values are checked against the model like decoded ones; an empty mapping
    gives an empty object, instance or multiple-instance resource.
    """
    view = ModelView(models, versions)
    checked: dict[Path, Value] = {}
    for leaf, value in values.items():
        checked[leaf] = view.value(leaf, view.need(leaf), value)
    if not path:
        return assemble_composite(checked, view)
    if len(path) >= 3 and not checked and not view.need(path).multiple:
        raise CodecError(f"{path}: a single-instance resource needs a value")
    return assemble(path, checked, view)


def versions_for(models: ModelRegistry, lwm2m_version: str) -> dict[int, str]:
    """Per object, the newest version made for this LwM2M version or an older one.

    Objects with no such version keep their oldest one.
    """
    wanted = version_key(lwm2m_version)
    chosen: dict[int, str] = {}
    for object_id in models.ids():
        versions = models.versions(object_id)
        fitting = [
            v for v in versions if version_key(models.get(object_id, v).lwm2m_version) <= wanted
        ]
        chosen[object_id] = fitting[-1] if fitting else versions[0]
    return chosen
