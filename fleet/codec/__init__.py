"""Bytes <-> value nodes in every LwM2M content format, and content negotiation.

One codec per content format behind the :class:`Codec` protocol, chosen by
content format number (:data:`CODECS`, :func:`get_codec`)::

    payload = encode(ContentFormat.TLV, node, Path(3, 0), models)
    node = decode(ContentFormat.SENML_CBOR, payload, Path(3, 0), models)

The path is the request path the payload belongs to; ``/`` means a
composite. ``versions`` selects object versions where a device does not run
the registry's default. Decoding checks every value against the model and
raises :class:`~fleet.errors.CodecError` (4.00) for anything malformed.

Composite operations and Send are in :mod:`fleet.codec.composite`, link
format (Register, Update, Discover) in :mod:`fleet.codec.link`, format choice
for requests in :mod:`fleet.codec.negotiation`. Pure code: no I/O.
"""

from fleet.codec.base import Codec, ModelView
from fleet.codec.composite import (
    OrderedComposite,
    decode_composite,
    decode_composite_request,
    decode_timed,
    encode_composite,
    encode_composite_request,
    encode_send,
)
from fleet.codec.formats import ContentFormat, format_label, parse_format
from fleet.codec.link import (
    Link,
    ObjectEntry,
    discover_links,
    discover_payload,
    format_links,
    parse_links,
    register_links,
    register_payload,
)
from fleet.codec.negotiation import check_write_format, choose_format, default_format
from fleet.codec.registry import CODECS, build_node, decode, encode, get_codec, versions_for
from fleet.codec.senml import TimedValue

__all__ = [
    "CODECS",
    "Codec",
    "ContentFormat",
    "Link",
    "ModelView",
    "ObjectEntry",
    "OrderedComposite",
    "TimedValue",
    "build_node",
    "check_write_format",
    "choose_format",
    "decode",
    "decode_composite",
    "decode_composite_request",
    "decode_timed",
    "default_format",
    "discover_links",
    "discover_payload",
    "encode",
    "encode_composite",
    "encode_composite_request",
    "encode_send",
    "format_label",
    "format_links",
    "get_codec",
    "parse_format",
    "parse_links",
    "register_links",
    "register_payload",
    "versions_for",
]
