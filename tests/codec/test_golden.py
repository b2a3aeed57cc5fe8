"""Golden vectors: the worked examples of the LwM2M Technical Specification, byte for byte.

Each example is decoded to the values the specification states and encoded
back. Binary formats must come back identical; JSON formats must come back
as the same JSON document (the specification's whitespace is typography).

Sources: LwM2M 1.0 §6.4.3 (TLV examples, whose byte counts are right; the
1.1/1.2 reprints carry typos: "Lightweigt", wrong instance lengths), Core 1.1.1
and 1.2.2 §7.4/§7.5 (SenML JSON, SenML CBOR, LwM2M JSON, LwM2M CBOR, plain
text) and §6.1.7.4 (Bootstrap-Read).
"""

from __future__ import annotations

import json

import pytest

from fleet.codec import (
    ContentFormat,
    decode,
    encode,
)
from fleet.model import (
    ModelRegistry,
    MultiResource,
    ObjectInstance,
    ObjectLink,
    ObjectNode,
    Path,
    SingleResource,
)

F = ContentFormat
P = Path.parse

DEVICE_TLV = bytes.fromhex(
    "c800144f70656e204d6f62696c6520416c6c69616e6365"
    "c801164c69676874776569676874204d324d20436c69656e74"
    "c80209333435303030313233"
    "c303312e30"
    "8606410001410105"
    "88070842000ed842011388"
    "870841007d42010384"
    "c10964"
    "c10a0f"
    "830b410000"
    "c40d5182428f"
    "c60e2b30323a3030"
    "c11055"
)

DEVICE_SENML_CBOR = bytes.fromhex(
    "90a321652f332f302f00613003744f70656e204d6f62696c6520416c6c69616e6365"
    "a200613103764c69676874776569676874204d324d20436c69656e74"
    "a20061320369333435303030313233a20061330363312e30a20063362f300201"
    "a20063362f310205a20063372f3002190ed8a20063372f3102191388"
    "a20063382f3002187da20063382f3102190384a2006139021864a200623130020f"
    "a2006431312f300200a200623133021a5182428fa20062313403662b30323a3030"
    "a200623136036155"
)

DEVICE_LWM2M_CBOR = bytes.fromhex(
    "a1820300ad00744f70656e204d6f62696c6520416c6c69616e6365"
    "01764c69676874776569676874204d324d20436c69656e74"
    "02693334353030303132330363312e3006a20001010507a200190ed801191388"
    "08a200187d011903840918640a0f0ba100000d1a5182428f0e662b30323a3030106155"
)

DEVICE_SENML_JSON = b"""[{"bn":"/3/0/","n":"0","vs":"Open Mobile Alliance"},
{"n":"1","vs":"Lightweight M2M Client"},
{"n":"2","vs":"345000123"},
{"n":"3","vs":"1.0"},
{"n":"6/0","v":1},
{"n":"6/1","v":5},
{"n":"7/0","v":3800},
{"n":"7/1","v":5000},
{"n":"8/0","v":125},
{"n":"8/1","v":900},
{"n":"9","v":100},
{"n":"10","v":15},
{"n":"11/0","v":0},
{"n":"13","v":1367491215},
{"n":"14","vs":"+02:00"},
{"n":"16","vs":"U"}]"""

DEVICE_LWM2M_JSON = b"""{"bn":"/3/0/",
"e":[
{"n":"0","sv":"Open Mobile Alliance"},
{"n":"1","sv":"Lightweight M2M Client"},
{"n":"2","sv":"345000123"},
{"n":"3","sv":"1.0"},
{"n":"6/0","v":1},
{"n":"6/1","v":5},
{"n":"7/0","v":3800},
{"n":"7/1","v":5000},
{"n":"8/0","v":125},
{"n":"8/1","v":900},
{"n":"9","v":100},
{"n":"10","v":15},
{"n":"11/0","v":0},
{"n":"13","v":1367491215},
{"n":"14","sv":"+02:00"},
{"n":"16","sv":"U"}]
}"""


@pytest.mark.parametrize(
    ("fmt", "payload"),
    [
        (F.TLV, DEVICE_TLV),
        (F.SENML_CBOR, DEVICE_SENML_CBOR),
        (F.LWM2M_CBOR, DEVICE_LWM2M_CBOR),
    ],
)
def test_device_instance_binary_examples(
    models: ModelRegistry, device_instance: ObjectInstance, fmt: F, payload: bytes
) -> None:
    assert decode(fmt, payload, P("/3/0"), models) == device_instance
    assert encode(fmt, device_instance, P("/3/0"), models) == payload


def test_device_examples_have_the_stated_sizes() -> None:
    assert (len(DEVICE_TLV), len(DEVICE_SENML_CBOR), len(DEVICE_LWM2M_CBOR)) == (121, 196, 118)


@pytest.mark.parametrize(("fmt", "payload"), [(F.SENML_JSON, DEVICE_SENML_JSON)])
def test_device_instance_senml_json(
    models: ModelRegistry, device_instance: ObjectInstance, fmt: F, payload: bytes
) -> None:
    assert decode(fmt, payload, P("/3/0"), models) == device_instance
    encoded = encode(fmt, device_instance, P("/3/0"), models)
    assert json.loads(encoded) == json.loads(payload)
    assert encoded == payload.replace(b"\n", b"")


def test_device_instance_lwm2m_json(models: ModelRegistry, device_instance: ObjectInstance) -> None:
    assert decode(F.LWM2M_JSON, DEVICE_LWM2M_JSON, P("/3/0"), models) == device_instance
    encoded = encode(F.LWM2M_JSON, device_instance, P("/3/0"), models)
    assert json.loads(encoded) == json.loads(DEVICE_LWM2M_JSON)


def test_device_object_tlv_wraps_the_instance(
    models: ModelRegistry, device_instance: ObjectInstance
) -> None:
    payload = bytes.fromhex("080079") + DEVICE_TLV
    node = ObjectNode(3, {0: device_instance})
    assert decode(F.TLV, payload, P("/3"), models) == node
    assert encode(F.TLV, node, P("/3"), models) == payload


ACCESS_CONTROL_TLV = bytes.fromhex(
    "08000ec10001c101008302417f07c1037f080212c10003c101008702417f0761013601c1037f"
)
ACCESS_CONTROL = ObjectNode(
    2,
    {
        0: ObjectInstance(
            0,
            {
                0: SingleResource(0, 1),
                1: SingleResource(1, 0),
                2: MultiResource(2, {127: 7}),
                3: SingleResource(3, 127),
            },
        ),
        2: ObjectInstance(
            2,
            {
                0: SingleResource(0, 3),
                1: SingleResource(1, 0),
                2: MultiResource(2, {127: 7, 310: 1}),
                3: SingleResource(3, 127),
            },
        ),
    },
)


def test_access_control_object_tlv(models: ModelRegistry) -> None:
    assert decode(F.TLV, ACCESS_CONTROL_TLV, P("/2"), models) == ACCESS_CONTROL
    assert encode(F.TLV, ACCESS_CONTROL, P("/2"), models) == ACCESS_CONTROL_TLV


def test_server_object_tlv(models: ModelRegistry) -> None:
    payload = bytes.fromhex("08000fc10001c40100015180c10601c10755")
    node = ObjectNode(
        1,
        {
            0: ObjectInstance(
                0,
                {
                    0: SingleResource(0, 1),
                    1: SingleResource(1, 86400),
                    6: SingleResource(6, True),
                    7: SingleResource(7, "U"),
                },
            )
        },
    )
    assert decode(F.TLV, payload, P("/1"), models) == node
    assert encode(F.TLV, node, P("/1"), models) == payload


def test_object_link_tlv_example_1(models: ModelRegistry) -> None:
    payload = bytes.fromhex(
        "88000c440000420000440100420001c8010d38363133383030373535353030c40212345678"
    )
    node = ObjectInstance(
        0,
        {
            0: MultiResource(0, {0: ObjectLink(0x42, 0), 1: ObjectLink(0x42, 1)}),
            1: SingleResource(1, "8613800755500"),
            2: SingleResource(2, 0x12345678),
        },
    )
    assert decode(F.TLV, payload, P("/65/0"), models) == node
    assert encode(F.TLV, node, P("/65/0"), models) == payload


def test_object_link_tlv_example_2(models: ModelRegistry) -> None:
    payload = bytes.fromhex(
        "080026c8000b6d79536572766963652031c8010f496e7465726e65742e31352e323334c40200430000"
        "080126c8000b6d79536572766963652032c8010f496e7465726e65742e31352e323335c402ffffffff"
    )
    node = ObjectNode(
        66,
        {
            0: ObjectInstance(
                0,
                {
                    0: SingleResource(0, "myService 1"),
                    1: SingleResource(1, "Internet.15.234"),
                    2: SingleResource(2, ObjectLink(67, 0)),
                },
            ),
            1: ObjectInstance(
                1,
                {
                    0: SingleResource(0, "myService 2"),
                    1: SingleResource(1, "Internet.15.235"),
                    2: SingleResource(2, ObjectLink(65535, 65535)),
                },
            ),
        },
    )
    assert decode(F.TLV, payload, P("/66"), models) == node
    assert encode(F.TLV, node, P("/66"), models) == payload


def test_senml_bootstrap_read_access_control(models: ModelRegistry) -> None:
    payload = (
        b'[{"bn":"/2/","n":"0/0","v":1},\n{"n":"0/1","v":0},\n{"n":"0/2/127","v":7},\n'
        b'{"n":"0/3","v":127},\n{"n":"2/0","v":3},\n{"n":"2/1","v":0},\n'
        b'{"n":"2/2/127","v":7},\n{"n":"2/2/310","v":1},\n{"n":"2/3","v":127}]'
    )
    assert decode(F.SENML_JSON, payload, P("/2"), models) == ACCESS_CONTROL
    assert encode(F.SENML_JSON, ACCESS_CONTROL, P("/2"), models) == payload.replace(b"\n", b"")
