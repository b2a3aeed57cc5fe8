"""Golden vectors, continued: the composite, LwM2M CBOR and plain text examples.

Sources: LwM2M Core 1.1.1 and 1.2.2 §7.4/§7.5 (SenML JSON tables 7.5.6-2 to
-12, LwM2M CBOR §7.5.4.1-§7.5.4.6, plain text and Appendix C), Transport
§6.4.5 (Send). Binary examples are compared byte for byte, JSON ones as
documents.
"""

from __future__ import annotations

import json

import pytest

from fleet.codec import (
    ContentFormat,
    decode,
    decode_composite,
    decode_composite_request,
    encode,
    encode_composite,
    encode_composite_request,
)
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


def test_senml_json_hierarchy_with_objlnk(models: ModelRegistry) -> None:
    """Core 1.2.2 Table 7.5.6-4: breadth-first names under bn "/", null link as FFFF:FFFF."""
    payload = (
        b'[{"bn":"/","n":"65/0/0/0","vlo":"66:0"},{"n":"65/0/0/1","vlo":"66:1"},'
        b'{"n":"65/0/1","vs":"8613800755500"},{"n":"65/0/2","v":1},'
        b'{"n":"66/0/0","vs":"myService1"},{"n":"66/0/1","vs":"Internet.15.234"},'
        b'{"n":"66/0/2","vlo":"67:0"},{"n":"66/1/0","vs":"myService2"},'
        b'{"n":"66/1/1","vs":"Internet.15.235"},{"n":"66/1/2","vlo":"FFFF:FFFF"},'
        b'{"n":"67/0/0","vs":"85.76.76.84"},{"n":"67/0/1","vs":"85.76.255.255"}]'
    )
    values = flatten(decode_composite(F.SENML_JSON, payload, models))
    assert values[P("/65/0/0/1")] == ObjectLink(66, 1)
    assert values[P("/66/1/2")] == ObjectLink(65535, 65535)
    assert values[P("/65/0/2")] == 1
    assert values[P("/67/0/1")] == "85.76.255.255"
    assert len(values) == 12


def test_senml_json_single_resource_names_it_in_bn(models: ModelRegistry) -> None:
    payload = b'[{"bn":"/3/0/0","vs":"Open Mobile Alliance"}]'
    node = SingleResource(0, "Open Mobile Alliance")
    assert decode(F.SENML_JSON, payload, P("/3/0/0"), models) == node
    assert encode(F.SENML_JSON, node, P("/3/0/0"), models) == payload


def test_senml_read_composite_request_and_answer(models: ModelRegistry) -> None:
    request = b'[{"n":"/3/0/0"},\n{"n":"/3/0/9"},\n{"n":"/1/0/1"}]'
    paths = [P("/3/0/0"), P("/3/0/9"), P("/1/0/1")]
    assert decode_composite_request(F.SENML_JSON, request) == paths
    assert encode_composite_request(F.SENML_JSON, paths) == request.replace(b"\n", b"")
    answer = (
        b'[{"n":"/3/0/0", "vs":"Open Mobile Alliance"},\n{"n" :"/3/0/9", "v":95},\n'
        b'{"n":"/1/0/1", "v":86400}]'
    )
    composite = decode_composite(F.SENML_JSON, answer, models)
    assert flatten(composite) == {
        P("/3/0/0"): "Open Mobile Alliance",
        P("/3/0/9"): 95,
        P("/1/0/1"): 86400,
    }
    encoded = encode_composite(F.SENML_JSON, composite, models, order=paths)
    assert json.loads(encoded) == json.loads(answer)


def test_senml_composite_request_with_base_names() -> None:
    request = b'[{"bn":"/4/0/", "n":"0"},\n{"n":"1"},\n{"n":"2"},\n{"bn":"/6/", "n":"0"}]'
    assert decode_composite_request(F.SENML_JSON, request) == [
        P("/4/0/0"),
        P("/4/0/1"),
        P("/4/0/2"),
        P("/6/0"),
    ]
    assert decode_composite_request(F.SENML_JSON, b'[{"n":"/"}]') == [Path()]


def test_senml_write_composite_example(models: ModelRegistry) -> None:
    payload = (
        b'[{"n":"/3311/0/5850", "vb":false},\n{"n":"/3311/1/5850", "vb":false},\n'
        b'{"n":"/3311/2/5851", "v":20},\n{"n":"/3308/0/5900", "v":18}]'
    )
    values = flatten(decode_composite(F.SENML_JSON, payload, models))
    assert values == {
        P("/3311/0/5850"): False,
        P("/3311/1/5850"): False,
        P("/3311/2/5851"): 20,
        P("/3308/0/5900"): 18.0,
    }
    assert isinstance(values[P("/3308/0/5900")], float)


def test_senml_send_example(models: ModelRegistry) -> None:
    payload = (
        b'[\n{"n":"/6/0/0", "v":43.61092},\n{"n":"/6/0/1", "v":3.87723},\n{"n":"/3/0/9", "v":10}\n]'
    )
    assert flatten(decode_composite(F.SENML_JSON, payload, models)) == {
        P("/6/0/0"): 43.61092,
        P("/6/0/1"): 3.87723,
        P("/3/0/9"): 10,
    }


@pytest.mark.parametrize(
    ("payload", "path", "node"),
    [
        (
            "a183030000744f70656e204d6f62696c6520416c6c69616e6365",
            "/3/0/0",
            SingleResource(0, "Open Mobile Alliance"),
        ),
        ("a183030006a200010105", "/3/0/6", MultiResource(6, {0: 1, 1: 5})),
        (
            "a101a200a7001865011a000151800219012c03191770051a0001518006f507615501a700186601"
            "1a000151800219025803191770051a0001518006f4076155",
            "/1",
            ObjectNode(
                1,
                {
                    0: ObjectInstance(
                        0,
                        {
                            0: SingleResource(0, 101),
                            1: SingleResource(1, 86400),
                            2: SingleResource(2, 300),
                            3: SingleResource(3, 6000),
                            5: SingleResource(5, 86400),
                            6: SingleResource(6, True),
                            7: SingleResource(7, "U"),
                        },
                    ),
                    1: ObjectInstance(
                        1,
                        {
                            0: SingleResource(0, 102),
                            1: SingleResource(1, 86400),
                            2: SingleResource(2, 600),
                            3: SingleResource(3, 6000),
                            5: SingleResource(5, 86400),
                            6: SingleResource(6, False),
                            7: SingleResource(7, "U"),
                        },
                    ),
                },
            ),
        ),
    ],
)
def test_lwm2m_cbor_read_examples(
    models: ModelRegistry, payload: str, path: str, node: object
) -> None:
    data = bytes.fromhex(payload)
    assert decode(F.LWM2M_CBOR, data, P(path), models) == node
    assert encode(F.LWM2M_CBOR, node, P(path), models) == data


def test_lwm2m_cbor_nested_maps_also_decode(models: ModelRegistry) -> None:
    payload = bytes.fromhex("a103a100a100744f70656e204d6f62696c6520416c6c69616e6365")
    node = decode(F.LWM2M_CBOR, payload, P("/3/0/0"), models)
    assert node == SingleResource(0, "Open Mobile Alliance")


def test_lwm2m_cbor_composite_answer(models: ModelRegistry) -> None:
    payload = bytes.fromhex(
        "a2820300a200744f70656e204d6f62696c6520416c6c69616e6365091864830100011a00015180"
    )
    composite = decode_composite(F.LWM2M_CBOR, payload, models)
    assert flatten(composite) == {
        P("/3/0/0"): "Open Mobile Alliance",
        P("/3/0/9"): 100,
        P("/1/0/1"): 86400,
    }
    order = [P("/3/0/0"), P("/3/0/9"), P("/1/0/1")]
    assert encode_composite(F.LWM2M_CBOR, composite, models, order=order) == payload


def test_lwm2m_cbor_create_example_with_inner_array_key(models: ModelRegistry) -> None:
    payload = bytes.fromhex("a1820205a4000501008202186600031865")
    node = decode(F.LWM2M_CBOR, payload, P("/2/5"), models)
    assert node == ObjectInstance(
        5,
        {
            0: SingleResource(0, 5),
            1: SingleResource(1, 0),
            2: MultiResource(2, {102: 0}),
            3: SingleResource(3, 101),
        },
    )


@pytest.mark.parametrize(
    ("path", "text", "value"),
    [
        ("/3/0/0", "Open Mobile Alliance", "Open Mobile Alliance"),
        ("/3/0/13", "1367491215", 1367491215),
        ("/3442/0/120", "-750", -750),
        ("/3442/0/125", "18", 18),
        ("/3442/0/140", "0", False),
        ("/3442/0/140", "1", True),
        ("/3442/0/150", "AQIDBAU=", b"\x01\x02\x03\x04\x05"),
        ("/3442/0/160", "1476186613", 1476186613),
    ],
)
def test_plain_text_examples(models: ModelRegistry, path: str, text: str, value: object) -> None:
    node = SingleResource(P(path)[2], value)  # type: ignore[arg-type]
    assert decode(F.TEXT, text.encode(), P(path), models) == node
    assert encode(F.TEXT, node, P(path), models) == text.encode()


def test_plain_text_float_example_decodes(models: ModelRegistry) -> None:
    node = decode(F.TEXT, b"0.00000000006667", P("/3442/0/130"), models)
    assert node == SingleResource(130, 6.667e-11)
    assert encode(F.TEXT, node, P("/3442/0/130"), models) == b"0.00000000006667"


def test_composite_of_leaf_nodes_equals_grouped_composite(models: ModelRegistry) -> None:
    grouped = Composite(
        {
            P("/3/0"): ObjectInstance(0, {0: SingleResource(0, "x"), 9: SingleResource(9, 50)}),
            P("/1/0/1"): SingleResource(1, 60),
        }
    )
    payload = encode_composite(F.LWM2M_CBOR, grouped, models)
    assert flatten(decode_composite(F.LWM2M_CBOR, payload, models)) == flatten(grouped)
