"""LwM2M JSON (11543) and LwM2M CBOR (11544): layouts, tolerances and refusals."""

from __future__ import annotations

import json

import pytest

from fleet.codec import ContentFormat, cborwire, decode, decode_composite, encode, encode_composite
from fleet.errors import CodecError
from fleet.model import (
    Composite,
    ModelRegistry,
    MultiResource,
    ObjectInstance,
    ObjectLink,
    ObjectNode,
    Path,
    ResourceInstance,
    SingleResource,
    flatten,
)

F = ContentFormat
P = Path.parse


# ------------------------------------------------------------------ LwM2M JSON


@pytest.mark.parametrize(
    ("path", "node", "document"),
    [
        ("/3/0/9", SingleResource(9, 80), {"bn": "/3/0/", "e": [{"n": "9", "v": 80}]}),
        (
            "/3/0/6",
            MultiResource(6, {0: 1, 1: 5}),
            {"bn": "/3/0/6/", "e": [{"n": "0", "v": 1}, {"n": "1", "v": 5}]},
        ),
        ("/3/0/6/1", ResourceInstance(1, 5), {"bn": "/3/0/6/", "e": [{"n": "1", "v": 5}]}),
        (
            "/3442/0",
            ObjectInstance(
                0,
                {
                    140: SingleResource(140, False),
                    150: SingleResource(150, b"\x01\x02"),
                    170: SingleResource(170, ObjectLink(3, 0)),
                },
            ),
            {
                "bn": "/3442/0/",
                "e": [
                    {"n": "140", "bv": False},
                    {"n": "150", "sv": "AQI="},
                    {"n": "170", "ov": "3:0"},
                ],
            },
        ),
        ("/3", ObjectNode(3, {}), {"bn": "/3/", "e": []}),
    ],
)
def test_lwm2m_json_layout(
    models: ModelRegistry, path: str, node: object, document: object
) -> None:
    payload = encode(F.LWM2M_JSON, node, P(path), models)  # type: ignore[arg-type]
    assert json.loads(payload) == document
    assert decode(F.LWM2M_JSON, payload, P(path), models) == node


def test_lwm2m_json_names_without_base_are_relative_to_the_request(models: ModelRegistry) -> None:
    payload = b'{"e":[{"n":"0","sv":"Open Mobile Alliance"},{"n":"6/0","v":1}]}'
    assert decode(F.LWM2M_JSON, payload, P("/3/0"), models) == ObjectInstance(
        0, {0: SingleResource(0, "Open Mobile Alliance"), 6: MultiResource(6, {0: 1})}
    )


def test_lwm2m_json_objlnk_in_sv_and_times(models: ModelRegistry) -> None:
    payload = b'{"bn":"/3442/0/","bt":100,"e":[{"n":"170","sv":"1:2","t":-5}]}'
    node = decode(F.LWM2M_JSON, payload, P("/3442/0/170"), models)
    assert node == SingleResource(170, ObjectLink(1, 2))


def test_lwm2m_json_composite_under_root(models: ModelRegistry) -> None:
    composite = Composite({P("/3/0/9"): SingleResource(9, 1), P("/1/0/1"): SingleResource(1, 30)})
    payload = encode(F.LWM2M_JSON, composite, Path(), models)
    assert json.loads(payload) == {
        "bn": "/",
        "e": [{"n": "1/0/1", "v": 30}, {"n": "3/0/9", "v": 1}],
    }
    assert flatten(decode(F.LWM2M_JSON, payload, Path(), models)) == flatten(composite)


@pytest.mark.parametrize(
    ("payload", "reason"),
    [
        (b"[]", 'an "e" array'),
        (b'{"e":{}}', 'an "e" array'),
        (b'{"bn":3,"e":[]}', '"bn" must be a path'),
        (b'{"bn":"' + b"/" * 300 + b'","e":[]}', '"bn" must be a path'),
        (b'{"bt":"x","e":[]}', '"bt" must be a number'),
        (b'{"e":[1]}', "is not an object"),
        (b'{"e":[{"n":9,"v":1}]}', "n must be a string"),
        (b'{"e":[{"n":"9","t":"now","v":1}]}', "t must be a number"),
        (b'{"e":[{"n":"9"}]}', "needs one of"),
        (b'{"e":[{"n":"9","v":1,"sv":"1"}]}', "needs one of"),
        (b'{"e":[{"n":"9","sv":"1"}]}', "'sv' str cannot hold a Integer"),
        (b'{"e":[{"n":"9","v":1},{"n":"9","v":1}]}', "appears twice"),
        (b'{"bn":"/3/1/","e":[{"n":"9","v":1}]}', "outside the request path"),
        (b'{"e":[{"n":"x","v":1}]}', "not a number"),
        (b'{"bn":"/3/","e":[{"n":"0","v":1}]}', "needs a resource"),
    ],
)
def test_lwm2m_json_refusals(models: ModelRegistry, payload: bytes, reason: str) -> None:
    with pytest.raises(CodecError, match=reason):
        decode(F.LWM2M_JSON, payload, P("/3/0"), models)


# ------------------------------------------------------------------ LwM2M CBOR


def test_lwm2m_cbor_empty_containers_survive(models: ModelRegistry) -> None:
    node = ObjectNode(
        3, {0: ObjectInstance(0, {6: MultiResource(6, {})}), 1: ObjectInstance(1, {})}
    )
    payload = encode(F.LWM2M_CBOR, node, P("/3"), models)
    assert cborwire.loads(payload) == {3: {0: {6: {}}, 1: {}}}
    assert decode(F.LWM2M_CBOR, payload, P("/3"), models) == node
    empty = encode(F.LWM2M_CBOR, MultiResource(6, {}), P("/3/0/6"), models)
    assert cborwire.loads(empty) == {(3, 0, 6): {}}
    assert decode(F.LWM2M_CBOR, empty, P("/3/0/6"), models) == MultiResource(6, {})


def test_lwm2m_cbor_time_tag_and_mixed_key_styles(models: ModelRegistry) -> None:
    item = {(3, 0): {13: cborwire.Tag(1, 1700000000)}, 3: {0: {(9,): 80}}}
    node = decode(F.LWM2M_CBOR, cborwire.dumps(item), P("/3/0"), models)
    assert node == ObjectInstance(0, {9: SingleResource(9, 80), 13: SingleResource(13, 1700000000)})


def test_lwm2m_cbor_composite_groups_shared_prefixes(models: ModelRegistry) -> None:
    composite = Composite(
        {
            P("/3/0/9"): SingleResource(9, 80),
            P("/3/0/6/1"): ResourceInstance(1, 5),
            P("/1/0"): ObjectInstance(0, {1: SingleResource(1, 300)}),
        }
    )
    payload = encode_composite(F.LWM2M_CBOR, composite, models)
    assert cborwire.loads(payload) == {(1, 0): {1: 300}, (3, 0): {(6, 1): 5, 9: 80}}
    assert flatten(decode_composite(F.LWM2M_CBOR, payload, models)) == flatten(composite)


@pytest.mark.parametrize(
    ("path", "item", "reason"),
    [
        ("/3/0", [1], "is a CBOR map"),
        ("/3/0", {("d01", 3, 0): {9: 1}}, "not an id or an array of ids"),
        ("/3/0", {-1: 1}, "not an id"),
        ("/3/0", {70000: 1}, "not an id"),
        ("/3/0", {(3, 0, 9, 0, 1): 1}, "deeper than 4"),
        ("/3/0", {(3, 0): 1}, "needs a resource"),
        ("/3/0", {(3, 0, 9): 1, 3: {0: {9: 2}}}, "appears twice"),
        ("/3/0", {(3, 0, 6, 0): {}}, "holds a value, not a map"),
        ("/3/0", {(3, 1, 9): 1}, "outside the request path"),
        ("/3/0", {(3, 1): {}}, "outside the request path"),
        ("/3/0", {(3, 0, 9): "x"}, "expected an integer"),
        ("/3/0", {(3, 0, 9): {}}, "expected exactly one value"),
        ("/3/0/9", {(3, 0): {}}, "outside the request path"),
        ("/3/0/9", {}, "holds no value"),
        ("/3/0", {(3, 0, 6): 1}, "multiple-instance"),
        ("/3/0", {(3, 0, 9): None}, "expected an integer"),
    ],
)
def test_lwm2m_cbor_refusals(models: ModelRegistry, path: str, item: object, reason: str) -> None:
    with pytest.raises(CodecError, match=reason):
        decode(F.LWM2M_CBOR, cborwire.dumps(item), P(path), models)


def test_lwm2m_cbor_refuses_overlapping_composites(models: ModelRegistry) -> None:
    composite = Composite({P("/3/0"): ObjectInstance(0, {}), P("/3/0/9"): SingleResource(9, 1)})
    with pytest.raises(CodecError, match="overlap"):
        encode(F.LWM2M_CBOR, composite, Path(), models)


def test_lwm2m_cbor_composite_keeps_the_innermost_empty_container(models: ModelRegistry) -> None:
    payload = cborwire.dumps({3: {}, (3, 0): {}, (1, 0): {}, 1: {0: {1: 60}}})
    composite = decode_composite(F.LWM2M_CBOR, payload, models)
    assert composite == Composite(
        {P("/3/0"): ObjectInstance(0, {}), P("/1/0/1"): SingleResource(1, 60)}
    )
    assert (
        decode_composite(F.LWM2M_CBOR, encode_composite(F.LWM2M_CBOR, composite, models), models)
        == composite
    )
