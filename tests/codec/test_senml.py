"""SenML JSON and SenML CBOR: resolution, names, value fields, composites, Send, refusals."""

from __future__ import annotations

import json

import pytest

from fleet.codec import (
    ContentFormat,
    OrderedComposite,
    TimedValue,
    cborwire,
    decode,
    decode_composite,
    decode_composite_request,
    decode_timed,
    encode,
    encode_composite,
    encode_composite_request,
    encode_send,
)
from fleet.codec.senml import Record, resolve
from fleet.errors import CodecError, UnsupportedContentFormat
from fleet.model import (
    Composite,
    ModelRegistry,
    MultiResource,
    ObjectInstance,
    ObjectLink,
    ObjectNode,
    Path,
    SingleResource,
    flatten,
)

F = ContentFormat
P = Path.parse


def test_resolution_applies_base_fields_until_redefined() -> None:
    records = [
        Record(bn="/3/0/", bt=100, n="9", v=1, t=-5),
        Record(n="10", v=2),
        Record(bn="/6/0/", n="0", v=3.5, bv=1),
        Record(n="1", v=0.5, t=3),
    ]
    assert [(r.name, r.time, r.field, r.value) for r in resolve(records)] == [
        ("/3/0/9", 95, "v", 1),
        ("/3/0/10", 100, "v", 2),
        ("/6/0/0", 100, "v", 4.5),
        ("/6/0/1", 103, "v", 1.5),
    ]


def test_historical_notification_keeps_every_value_with_its_time(models: ModelRegistry) -> None:
    payload = (
        b'[{"bn":"/72/","bt":25462634,"n":"1/2","v":22.4,"t":-5},\n'
        b'{"n":"1/2","v":22.9,"t":-30},\n{"n":"1/2","v":24.1,"t":-50}]'
    )
    assert decode_timed(F.SENML_JSON, payload, models) == [
        TimedValue(P("/72/1/2"), 22.4, 25462629),
        TimedValue(P("/72/1/2"), 22.9, 25462604),
        TimedValue(P("/72/1/2"), 24.1, 25462584),
    ]
    with pytest.raises(CodecError, match="appears twice"):
        decode(F.SENML_JSON, payload, P("/72/1/2"), models)


@pytest.mark.parametrize("fmt", [F.SENML_JSON, F.SENML_CBOR])
def test_every_type_uses_its_value_field(models: ModelRegistry, fmt: ContentFormat) -> None:
    node = ObjectInstance(
        0,
        {
            110: SingleResource(110, "s"),
            120: SingleResource(120, -(2**63)),
            125: SingleResource(125, 2**64 - 1),
            130: SingleResource(130, 2.5),
            140: SingleResource(140, True),
            150: SingleResource(150, b"\xfb\xff"),
            160: SingleResource(160, 1367491215),
            170: SingleResource(170, ObjectLink(66, 1)),
            180: SingleResource(180, "</3>"),
            1110: MultiResource(1110, {0: "a", 300: "b"}),
        },
    )
    payload = encode(fmt, node, P("/3442/0"), models)
    assert decode(fmt, payload, P("/3442/0"), models) == node
    if fmt is F.SENML_JSON:
        records = json.loads(payload)
        assert records[0] == {"bn": "/3442/0/", "n": "110", "vs": "s"}
        by_name = {r["n"]: r for r in records}
        assert by_name["150"] == {"n": "150", "vd": "-_8"}
        assert by_name["170"] == {"n": "170", "vlo": "66:1"}
        assert by_name["140"] == {"n": "140", "vb": True}
        assert by_name["1110/300"] == {"n": "1110/300", "vs": "b"}
    else:
        items = cborwire.loads(payload)
        assert isinstance(items, list)
        assert items[0] == {-2: "/3442/0/", 0: "110", 3: "s"}
        assert {0: "150", 8: b"\xfb\xff"} in items
        assert {0: "170", "vlo": "66:1"} in items


def test_cbor_reader_accepts_text_labels_any_order_and_half_floats(models: ModelRegistry) -> None:
    # [{2: 1.5 (half precision), "n": "130", "bn": "/3442/0/"}]
    payload = bytes.fromhex("81a3" + "02f93e00" + "616e63313330" + "62626e682f333434322f302f")
    node = decode(F.SENML_CBOR, payload, P("/3442/0"), models)
    assert node == ObjectInstance(0, {130: SingleResource(130, 1.5)})


def test_cbor_decimal_fraction_time(models: ModelRegistry) -> None:
    item = [{-2: "/3/0/9", -3: cborwire.Tag(4, [-1, 15]), 2: 50}]
    timed = decode_timed(F.SENML_CBOR, cborwire.dumps(item), models)
    assert timed == [TimedValue(P("/3/0/9"), 50, 1.5)]


@pytest.mark.parametrize(
    ("path", "payload", "reason"),
    [
        ("/3/0", b"{}", "is a JSON array"),
        ("/3/0", b"[1]", "not a JSON object"),
        ("/3/0", b'[{"bn":"/3/0/","n":"9"}]', "has no value"),
        ("/3/0", b'[{"n":"/3/0/9","v":1,"vs":"1"}]', "one value"),
        ("/3/0", b'[{"n":"/3/0/9","vs":"1"}]', "'vs' cannot hold a Integer"),
        ("/3/0", b'[{"n":"/3/0/9","v":1.5}]', "expected an integer"),
        ("/3/0", b'[{"n":"/3/0/9","v":"1"}]', "v must be a number"),
        ("/3/0", b'[{"n":"/3/0/9","v":true}]', "v must be a number"),
        ("/3/0", b'[{"n":"/3/0/9","vb":1}]', "vb must be true or false"),
        ("/3/0", b'[{"n":"/3/0/9","v":1,"x_":2}]', "must-understand"),
        ("/3/0", b'[{"n":"/3/1/9","v":1}]', "outside the request path"),
        ("/3/0", b'[{"n":"3/0/9","v":1}]', "not an absolute"),
        ("/3/0", b'[{"n":"/3/0/9/0/1","v":1}]', "at most 4"),
        ("/3/0", b'[{"n":"/3/0","v":1}]', "resource path"),
        ("/3/0", b'[{"n":"/3/0/9","v":1},{"n":"/3/0/9","v":2}]', "appears twice"),
        ("/3/0", b'[{"n":"/3/0/6","v":1}]', "multiple-instance: name an instance"),
        ("/3/0", b'[{"n":"/3/0/9/0","v":1}]', "has no instances"),
        ("/3/0", b'[{"n":"/3/0/9","v":NaN}]', "not valid"),
        ("/3/0", b'[{"n":"/3/0/9","v":1e999}]', "too large for a float"),
        ("/3/0", b"[" * 5000, "nested too deeply"),
        ("/3/0", b"\xff", "not UTF-8"),
        ("/3442/0", b'[{"n":"/3442/0/150","vd":"%%"}]', "not base64"),
        ("/3442/0", b'[{"n":"/3442/0/170","vlo":"3-0"}]', "OBJECT:INSTANCE"),
        ("/3/0/9", b"[]", "holds no value"),
        (
            "/",
            b'[{"bn":"' + b"/" * 200 + b'"},{"n":"' + b"3" * 100 + b'","v":1}]',
            "longer than 255",
        ),
    ],
)
def test_json_refusals(models: ModelRegistry, path: str, payload: bytes, reason: str) -> None:
    with pytest.raises(CodecError, match=reason):
        decode(F.SENML_JSON, payload, P(path), models)


@pytest.mark.parametrize(
    ("item", "reason"),
    [
        ({"bn": 1}, "bad bn"),
        ([{-2: "/3/0/9", 2: "x"}], "bad v"),
        ([{-2: "/3/0/9", 4: 1}], "bad vb"),
        ([{-2: "/3/0/9", 2: cborwire.Tag(1, 2)}], "tag 1 is not a number"),
        ([{-2: "/3/0/9", 2: 1, "z_": 0}], "must-understand"),
        ([5], "not a CBOR map"),
    ],
)
def test_cbor_refusals(models: ModelRegistry, item: object, reason: str) -> None:
    payload = cborwire.dumps(item if isinstance(item, list) else [item])
    with pytest.raises(CodecError, match=reason):
        decode(F.SENML_CBOR, payload, P("/3/0"), models)


def test_unknown_labels_are_ignored_and_base64_variants_accepted(models: ModelRegistry) -> None:
    payload = b'[{"bn":"/3442/0/","n":"150","vd":"+/8=","u":"%","bver":10,"xyz":1}]'
    node = decode(F.SENML_JSON, payload, P("/3442/0"), models)
    assert node == ObjectInstance(0, {150: SingleResource(150, b"\xfb\xff")})


@pytest.mark.parametrize(
    ("path", "payload", "node"),
    [
        ("/3/0", b"[]", ObjectInstance(0, {})),
        ("/3", b"", ObjectNode(3, {})),
        ("/3/0/6", b"[]", MultiResource(6, {})),
    ],
)
def test_empty_packs(models: ModelRegistry, path: str, payload: bytes, node: object) -> None:
    assert decode(F.SENML_JSON, payload, P(path), models) == node
    assert encode(F.SENML_JSON, node, P(path), models) == b"[]"


def test_lenient_decoding_skips_unknown_objects(models: ModelRegistry) -> None:
    payload = b'[{"n":"/9999/0/1","v":1},{"n":"/3/0/9","v":150}]'
    composite = decode_composite(F.SENML_JSON, payload, models, strict=False)
    assert flatten(composite) == {P("/3/0/9"): 150}
    with pytest.raises(CodecError, match="object 9999"):
        decode_composite(F.SENML_JSON, payload, models)


def test_float_without_json_form_is_refused(models: ModelRegistry) -> None:
    with pytest.raises(CodecError, match="cannot write JSON"):
        encode(F.SENML_JSON, SingleResource(130, float("nan")), P("/3442/0/130"), models)
    payload = encode(F.SENML_CBOR, SingleResource(130, float("inf")), P("/3442/0/130"), models)
    assert decode(F.SENML_CBOR, payload, P("/3442/0/130"), models) == SingleResource(
        130, float("inf")
    )


@pytest.mark.parametrize("fmt", [F.SENML_JSON, F.SENML_CBOR])
def test_composite_requests(fmt: ContentFormat) -> None:
    paths = [P("/3/0/9"), P("/"), P("/1/0")]
    payload = encode_composite_request(fmt, paths)
    assert decode_composite_request(fmt, payload) == paths
    with pytest.raises(CodecError, match="at least one path"):
        encode_composite_request(fmt, [])


def test_composite_request_refusals() -> None:
    with pytest.raises(CodecError, match="at least one path"):
        decode_composite_request(F.SENML_JSON, b"[]")
    with pytest.raises(CodecError, match="has a value"):
        decode_composite_request(F.SENML_JSON, b'[{"n":"/3/0/9","v":1}]')
    assert decode_composite_request(F.SENML_JSON, b'[{"bn":"/3/0/"}]') == [P("/3/0")]
    with pytest.raises(UnsupportedContentFormat):
        decode_composite_request(F.TLV, b"")


def test_composite_of_none_nodes_encodes_as_a_request(models: ModelRegistry) -> None:
    request = Composite({P("/3/0/9"): None, P("/1/0/1"): None})
    assert encode(F.SENML_JSON, request, Path(), models) == b'[{"n":"/1/0/1"},{"n":"/3/0/9"}]'
    with pytest.raises(CodecError, match="needs a node at every path"):
        encode(
            F.SENML_JSON,
            Composite({P("/3/0/9"): None, P("/3/0/10"): SingleResource(10, 1)}),
            Path(),
            models,
        )


def test_ordered_composite_keeps_the_request_order(models: ModelRegistry) -> None:
    values = {P("/3/0/9"): SingleResource(9, 80), P("/1/0/1"): SingleResource(1, 60)}
    ordered = OrderedComposite(values)
    assert list(ordered.nodes) == [P("/3/0/9"), P("/1/0/1")]
    plain = encode_composite(F.SENML_JSON, Composite(values), models)
    assert plain == b'[{"n":"/1/0/1","v":60},{"n":"/3/0/9","v":80}]'
    request_order = encode_composite(F.SENML_JSON, Composite(values), models, order=list(values))
    assert request_order == b'[{"n":"/3/0/9","v":80},{"n":"/1/0/1","v":60}]'


def test_send_payload_with_base_time(models: ModelRegistry) -> None:
    composite = Composite(
        {P("/3303/0/5700"): SingleResource(5700, 21.5), P("/3/0/9"): SingleResource(9, 80)}
    )
    payload = encode_send(composite, models, time=1700000000)
    assert cborwire.loads(payload) == [
        {-3: 1700000000, 0: "/3/0/9", 2: 80},
        {0: "/3303/0/5700", 2: 21.5},
    ]
    assert decode_timed(F.SENML_CBOR, payload, models) == [
        TimedValue(P("/3/0/9"), 80, 1700000000),
        TimedValue(P("/3303/0/5700"), 21.5, 1700000000),
    ]
    untimed = encode_send(composite, models, F.SENML_JSON)
    assert untimed == b'[{"n":"/3/0/9","v":80},{"n":"/3303/0/5700","v":21.5}]'
    with pytest.raises(UnsupportedContentFormat):
        encode_send(composite, models, F.TLV)


def test_composite_must_sit_at_the_root(models: ModelRegistry) -> None:
    with pytest.raises(CodecError, match="root path"):
        encode(F.SENML_JSON, Composite({}), P("/3"), models)
