"""Property tests: every node tree round-trips through every format that can carry it,
and no input makes a decoder raise anything but CodecError.

Formats that cannot say "this container is empty" (SenML, LwM2M JSON) lose
empty instances and empty multiple-instance resources below the request path;
the round trip is then compared with the tree pruned of them.
"""

from __future__ import annotations

import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fleet.codec import (
    CODECS,
    ContentFormat,
    cborwire,
    decode,
    decode_composite_request,
    encode,
    encode_composite_request,
    format_links,
    parse_links,
)
from fleet.errors import CodecError
from fleet.model import (
    Composite,
    ModelRegistry,
    MultiResource,
    Node,
    ObjectInstance,
    ObjectNode,
    Path,
    ResourceType,
    SingleResource,
    flatten,
)
from fleet.model.ddf import shipped_registry

from .strategies import nodes_at_level

F = ContentFormat
SHIPPED = (0, 1, 3, 6, 3303, 3442)
MODELS = shipped_registry()
KEEP_EMPTY = {F.TLV, F.LWM2M_CBOR}
STRUCTURED = [F.TLV, F.SENML_JSON, F.SENML_CBOR, F.LWM2M_JSON, F.LWM2M_CBOR]
SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def prune(node: Node) -> Node:
    """The tree without empty containers below the top."""
    if isinstance(node, ObjectNode):
        kept = {i: prune(n) for i, n in node.instances.items()}
        return ObjectNode(node.id, {i: n for i, n in kept.items() if _filled(n)})  # type: ignore[misc]
    if isinstance(node, ObjectInstance):
        return ObjectInstance(
            node.id,
            {
                r: n
                for r, n in node.resources.items()
                if not (isinstance(n, MultiResource) and not n.instances)
            },
        )
    return node


def _filled(node: Node) -> bool:
    return bool(flatten(node, Path(0, 0) if isinstance(node, ObjectInstance) else Path(0)))


def expected_after(fmt: ContentFormat, node: Node) -> Node:
    return node if fmt in KEEP_EMPTY else prune(node)


def single_value_formats(node: Node, models: ModelRegistry, path: Path) -> list[ContentFormat]:
    if not isinstance(node, SingleResource) and len(path) != 4:
        return []
    formats = [F.TEXT, F.CBOR]
    if models.get(path[0]).resource(path[2]).type is ResourceType.OPAQUE:
        formats.append(F.OPAQUE)
    return formats


@pytest.mark.parametrize("object_id", SHIPPED)
@pytest.mark.parametrize("level", [1, 2, 3, 4])
@SETTINGS
@given(data=st.data())
def test_every_tree_round_trips(object_id: int, level: int, data: st.DataObject) -> None:
    model = MODELS.get(object_id)
    if level == 4 and not any(r.multiple and r.type is not ResourceType.NONE for r in model):
        return
    ids, node = data.draw(nodes_at_level(model, level))
    path = Path(*ids)
    formats = STRUCTURED + single_value_formats(node, MODELS, path)
    for fmt in formats:
        payload = encode(fmt, node, path, MODELS)
        back = decode(fmt, payload, path, MODELS)
        assert back == expected_after(fmt, node), (fmt, payload)


@SETTINGS
@given(data=st.data())
def test_composites_round_trip(data: st.DataObject) -> None:
    entries: dict[Path, Node | None] = {}
    for object_id in data.draw(st.lists(st.sampled_from(SHIPPED), min_size=1, max_size=3)):
        level = data.draw(st.sampled_from([2, 3]))
        ids, node = data.draw(nodes_at_level(MODELS.get(object_id), level))
        path = Path(*ids)
        if any(p.contains(path) or path.contains(p) for p in entries):
            continue
        entries[path] = node
    composite = Composite(entries)
    for fmt in (F.SENML_JSON, F.SENML_CBOR, F.LWM2M_CBOR, F.LWM2M_JSON):
        payload = encode(fmt, composite, Path(), MODELS)
        back = decode(fmt, payload, Path(), MODELS)
        assert isinstance(back, Composite)
        assert flatten(back) == flatten(composite), fmt


PATHS = [
    Path(),
    Path(3),
    Path(3, 0),
    Path(3, 0, 0),
    Path(3, 0, 6),
    Path(3, 0, 6, 1),
    Path(3, 0, 13),
    Path(3442, 0, 130),
    Path(3442, 0, 150),
    Path(3442, 0, 170),
    Path(3442, 0, 1125, 0),
    Path(1, 0),
]


def _values(node: Node | Composite, path: Path) -> str:
    leaves = flatten(node) if isinstance(node, Composite) else flatten(node, path)
    return repr(sorted(leaves.items()))


def _decodes_or_codec_error(fmt: ContentFormat, payload: bytes, path: Path, strict: bool) -> None:
    """Either a CodecError, or a tree that encodes again and decodes to the same values."""
    try:
        node = decode(fmt, payload, path, MODELS, strict=strict)
    except CodecError:
        return
    again = decode(fmt, encode(fmt, node, path, MODELS), path, MODELS, strict=strict)
    assert _values(again, path) == _values(node, path)


@pytest.mark.parametrize("fmt", sorted(CODECS))
@settings(max_examples=150, deadline=None)
@given(payload=st.binary(max_size=64), path=st.sampled_from(PATHS), strict=st.booleans())
def test_random_bytes_raise_only_codec_error(
    fmt: ContentFormat, payload: bytes, path: Path, strict: bool
) -> None:
    _decodes_or_codec_error(fmt, payload, path, strict)


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.dictionaries(
            st.sampled_from(["bn", "n", "v", "vs", "vb", "vd", "vlo", "bt", "t", "e", "sv", "ov"]),
            inner,
            max_size=4,
        )
    ),
    max_leaves=12,
)


@pytest.mark.parametrize("fmt", [F.SENML_JSON, F.LWM2M_JSON])
@settings(max_examples=200, deadline=None)
@given(document=JSON_VALUES, path=st.sampled_from(PATHS))
def test_random_json_raises_only_codec_error(
    fmt: ContentFormat, document: object, path: Path
) -> None:
    _decodes_or_codec_error(fmt, json.dumps(document).encode(), path, True)


CBOR_ITEMS = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**64), 2**64 - 1)
    | st.floats()
    | st.text(max_size=8)
    | st.binary(max_size=8),
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.dictionaries(
            st.one_of(st.integers(-6, 8), st.sampled_from(["vlo", "n"]), st.integers(0, 70000)),
            inner,
            max_size=4,
        )
        | st.builds(cborwire.Tag, st.integers(0, 5), inner)
    ),
    max_leaves=12,
)


@pytest.mark.parametrize("fmt", [F.CBOR, F.SENML_CBOR, F.LWM2M_CBOR])
@settings(max_examples=200, deadline=None)
@given(item=CBOR_ITEMS, path=st.sampled_from(PATHS))
def test_random_cbor_raises_only_codec_error(fmt: ContentFormat, item: object, path: Path) -> None:
    _decodes_or_codec_error(fmt, cborwire.dumps(item), path, True)


@settings(max_examples=150, deadline=None)
@given(data=st.data())
def test_mutated_valid_payloads_raise_only_codec_error(data: st.DataObject) -> None:
    ids, node = data.draw(nodes_at_level(MODELS.get(3442), 2))
    path = Path(*ids)
    fmt = data.draw(st.sampled_from(STRUCTURED))
    payload = bytearray(encode(fmt, node, path, MODELS))
    for _ in range(data.draw(st.integers(1, 4))):
        if not payload:
            break
        where = data.draw(st.integers(0, len(payload) - 1))
        payload[where] = data.draw(st.integers(0, 255))
    cut = data.draw(st.integers(0, len(payload)))
    _decodes_or_codec_error(fmt, bytes(payload[:cut]), path, data.draw(st.booleans()))


@settings(max_examples=200, deadline=None)
@given(text=st.text(alphabet='<>/;,="\\ abc019\n', max_size=40))
def test_link_parser_raises_only_codec_error(text: str) -> None:
    try:
        links = parse_links(text)
    except CodecError:
        return
    assert parse_links(format_links(links)) == links


@pytest.mark.parametrize("fmt", [F.SENML_JSON, F.SENML_CBOR])
@settings(max_examples=100, deadline=None)
@given(payload=st.binary(max_size=48))
def test_composite_request_parser_raises_only_codec_error(
    fmt: ContentFormat, payload: bytes
) -> None:
    try:
        paths = decode_composite_request(fmt, payload)
    except CodecError:
        return
    assert decode_composite_request(fmt, encode_composite_request(fmt, paths)) == paths
