"""Writes that would break a device are refused, on every write path, over real UDP.

- ``<RangeEnumeration>`` of the object definition: Write (replace and partial update) of a
  resource, a resource instance and an object instance, Write-Composite and Create, in text,
  TLV and SenML JSON;
- what LwM2M Core 1.1 forbids where the DDF says nothing: Lifetime <= 0 or beyond 32 bits,
  negative periods, NaN / infinity / floats beyond float64 (4.00);
- ``DELETE`` of an instance a server may not delete: the LwM2M Server instance and the
  Device instance 4.05, the Security instance 4.01 (not visible to a server).

Each refused write leaves the value as it was, and the device keeps answering (a read
afterwards is valid JSON).
"""

from __future__ import annotations

import json

import pytest

from fleet.codec import ContentFormat
from fleet.device import DeviceLayout
from fleet.model import ModelRegistry
from fleet.model.ddf import load_ddf_bytes, shipped_registry

from .fakes import DELETE, GET, POST, PUT, FakeServer, code, registered_device

pytestmark = pytest.mark.asyncio
EP = "dev-1"
SENML = int(ContentFormat.SENML_JSON)
TEXT = int(ContentFormat.TEXT)
TLV = int(ContentFormat.TLV)
IPATCH = 7


def _item(rid: int, name: str, kind: str, rng: str, multiple: bool = False) -> str:
    many = "Multiple" if multiple else "Single"
    return f"""<Item ID="{rid}"><Name>{name}</Name><Operations>RW</Operations>
      <MultipleInstances>{many}</MultipleInstances><Mandatory>Optional</Mandatory>
      <Type>{kind}</Type><RangeEnumeration>{rng}</RangeEnumeration><Units></Units>
      <Description>{name}</Description></Item>"""


RANGED = f"""<?xml version="1.0" encoding="UTF-8"?>
<LWM2M><Object ObjectType="MODefinition"><Name>Ranged</Name><Description1>ranges</Description1>
<ObjectID>32769</ObjectID><ObjectURN>urn:oma:lwm2m:x:32769</ObjectURN>
<LWM2MVersion>1.1</LWM2MVersion><ObjectVersion>1.0</ObjectVersion>
<MultipleInstances>Multiple</MultipleInstances><Mandatory>Optional</Mandatory><Resources>
{_item(1, "Percent", "Integer", "0..100")}
{_item(2, "Levels", "Integer", "1..5", multiple=True)}
{_item(3, "Code", "String", "0..4 bytes")}
{_item(4, "Ratio", "Float", "-1.0..1.0")}
{_item(5, "Mode", "String", "ON;OFF")}
</Resources></Object></LWM2M>""".encode()

VALUES = {
    "/32769/0/1": 50,
    "/32769/0/2": {0: 1, 1: 2},
    "/32769/0/3": "ab",
    "/32769/0/4": 0.5,
    "/32769/0/5": "ON",
}


def _registry() -> ModelRegistry:
    registry = shipped_registry()
    registry.add(load_ddf_bytes(RANGED, "ranged.xml"))
    return registry


def _senml(*records: tuple[str, str, object]) -> bytes:
    return json.dumps([{"n": name, kind: value} for name, kind, value in records]).encode()


def _layout() -> DeviceLayout:
    return DeviceLayout.of({0: [0], 1: [0], 3: [0], 3442: [0], 32769: [0]}, values=VALUES)


REFUSED = [
    pytest.param(PUT, "/32769/0/1", b"101", TEXT, id="text-resource-above"),
    pytest.param(PUT, "/32769/0/1", b"-1", TEXT, id="text-resource-below"),
    pytest.param(PUT, "/32769/0/4", b"1.5", TEXT, id="text-float-above"),
    pytest.param(PUT, "/32769/0/3", b"abcde", TEXT, id="text-string-too-long"),
    pytest.param(PUT, "/32769/0/5", b"MAYBE", TEXT, id="text-enumeration"),
    pytest.param(PUT, "/32769/0/2/1", b"9", TEXT, id="text-resource-instance"),
    pytest.param(PUT, "/32769/0/1", b"\xc8\x01\x01\xc8", TLV, id="tlv-resource"),  # -56
    pytest.param(
        PUT,
        "/32769/0/2",
        _senml(("/32769/0/2/0", "v", 1), ("/32769/0/2/1", "v", 6)),
        SENML,
        id="senml-multiple-replace",
    ),
    pytest.param(
        POST,
        "/32769/0",
        _senml(("/32769/0/1", "v", 5), ("/32769/0/4", "v", -2)),
        SENML,
        id="senml-instance-partial",
    ),
    pytest.param(
        PUT, "/32769/0", _senml(("/32769/0/1", "v", 500)), SENML, id="senml-instance-replace"
    ),
    pytest.param(
        IPATCH,
        "/",
        _senml(("/32769/0/1", "v", 7), ("/32769/0/2/0", "v", 0)),
        SENML,
        id="write-composite",
    ),
    pytest.param(
        POST, "/32769", _senml(("/32769/9/1", "v", 1000)), SENML, id="create-out-of-range"
    ),
    # what the spec forbids where the DDF has no range
    pytest.param(PUT, "/1/0/1", b"0", TEXT, id="lifetime-zero"),
    pytest.param(PUT, "/1/0/1", b"-60", TEXT, id="lifetime-negative"),
    pytest.param(PUT, "/1/0/1", b"4294967296", TEXT, id="lifetime-beyond-32-bits"),
    pytest.param(POST, "/1/0", _senml(("/1/0/1", "v", 0)), SENML, id="lifetime-in-instance"),
    pytest.param(IPATCH, "/", _senml(("/1/0/1", "v", -1)), SENML, id="lifetime-composite"),
    pytest.param(PUT, "/1/0/2", b"-1", TEXT, id="pmin-negative"),
    pytest.param(PUT, "/1/0/3", b"-1", TEXT, id="pmax-negative"),
    pytest.param(PUT, "/3442/0/130", b"NaN", TEXT, id="float-nan"),
    pytest.param(PUT, "/3442/0/130", b"inf", TEXT, id="float-infinity"),
    pytest.param(PUT, "/3442/0/130", b"-Infinity", TEXT, id="float-minus-infinity"),
    pytest.param(PUT, "/3442/0/130", b"1e400", TEXT, id="float-beyond-float64"),
    pytest.param(
        PUT, "/3442/0/130", b"\xc8\x82\x08\x7f\xf0\x00\x00\x00\x00\x00\x00", TLV, id="tlv-infinity"
    ),
    pytest.param(PUT, "/32769/0/4", b"NaN", TEXT, id="nan-escapes-range-check"),
]


@pytest.mark.parametrize(("method", "path", "payload", "fmt"), REFUSED)
async def test_out_of_range_writes_are_bad_requests(
    server: FakeServer, method: int, path: str, payload: bytes, fmt: int
) -> None:
    async with registered_device(server, EP, layout=_layout(), registry=_registry()) as dev:
        before = {p: dev.tree.value(p) for p in (*VALUES, "/1/0/1", "/1/0/2", "/3442/0/130")}
        response = await server.request(EP, method, path, payload=payload, content_format=fmt)
        assert code(response) == "4.00", response.payload
        assert {p: dev.tree.value(p) for p in before} == before  # nothing changed
        assert dev.tree.instances(32769) == [0]
        read = await server.request(EP, GET, "/3442/0", accept=SENML)
        assert code(read) == "2.05"
        json.loads(read.payload)  # valid JSON


ACCEPTED = [
    (PUT, "/32769/0/1", b"100", TEXT),
    (PUT, "/32769/0/2/1", b"5", TEXT),
    (PUT, "/32769/0/4", b"-1.0", TEXT),
    (PUT, "/1/0/1", b"4294967295", TEXT),
    (PUT, "/1/0/2", b"0", TEXT),
    (POST, "/32769", _senml(("/32769/9/1", "v", 0)), SENML),
]


async def test_values_at_the_limits_are_accepted(server: FakeServer) -> None:
    async with registered_device(server, EP, layout=_layout(), registry=_registry()) as dev:
        for method, path, payload, fmt in ACCEPTED:
            response = await server.request(EP, method, path, payload=payload, content_format=fmt)
            assert code(response) in ("2.04", "2.01"), (path, response.payload)
        assert dev.tree.value("/32769/0/1") == 100 and dev.tree.value("/1/0/1") == 4294967295


@pytest.mark.parametrize(
    ("path", "expected"), [("/1/0", "4.05"), ("/3/0", "4.05"), ("/0/0", "4.01"), ("/1", "4.05")]
)
async def test_instances_a_server_may_not_delete(
    server: FakeServer, path: str, expected: str
) -> None:
    async with registered_device(server, EP) as dev:
        response = await server.request(EP, DELETE, path)
        assert code(response) == expected, response.payload
        assert dev.tree.instances(int(path.split("/")[1])) == [0]
        assert code(await server.request(EP, GET, "/1/0/1")) == "2.05"  # still a server
