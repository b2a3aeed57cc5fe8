"""One range check on every write path, in every format the device reads (issue 21).

Each path a server writes by — Write replace and partial update of an object instance,
Write of a resource and of a resource instance, Create, Write-Composite — decodes the
payload with the format's decoder and then checks each value with the one function
:func:`fleet.device.writing.checked` (the resource's type and ``<RangeEnumeration>``, then
:mod:`fleet.device.spec_limits`). A value outside it is 4.00 with a diagnostic naming the
path, whatever carried it (text, TLV, SenML JSON and CBOR, LwM2M JSON and CBOR), and the
device keeps its values. Bootstrap-Write goes through the same function:
tests/server/bootstrap/test_write_limits.py. Write-Attributes writes no value: its
parameters are checked as attributes (a NaN ``gt`` is 4.00 too, below).
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass

import pytest

from fleet.codec import ContentFormat, encode, encode_composite
from fleet.model.nodes import (
    Composite,
    MultiResource,
    Node,
    ObjectInstance,
    ObjectNode,
    ResourceInstance,
    SingleResource,
)
from fleet.model.path import Path
from fleet.model.values import Value

from .fakes import DELETE, GET, IPATCH, POST, PUT, FakeServer, code, registered_device
from .test_write_limits import VALUES, _layout, _registry

pytestmark = pytest.mark.asyncio
EP = "paths-1"
F = ContentFormat
NAN = float("nan")
INF = float("inf")


@dataclass(frozen=True)
class Bad:
    """A value a server may not write at ``path`` (a resource or a resource instance), and
    the words the 4.00 diagnostic must hold."""

    path: Path
    value: Value
    says: str


BAD = [
    Bad(Path(32769, 0, 1), 101, "outside 0..100"),  # Integer 0..100
    Bad(Path(32769, 0, 5), "MAYBE", "not one of ON, OFF"),  # enumeration
    Bad(Path(32769, 0, 3), "abcde", "bytes is outside"),  # String 0..4 bytes
    Bad(Path(32769, 0, 4), 1.5, "outside"),  # Float -1.0..1.0
    Bad(Path(32769, 0, 4), NAN, "not a finite number"),  # NaN escapes a numeric range
    Bad(Path(3442, 0, 130), INF, "not a finite number"),  # a Float without a range
    Bad(Path(32769, 0, 2, 1), 6, "outside 1..5"),  # a resource instance (Levels 1..5)
    Bad(Path(1, 0, 1), 0, "Lifetime"),  # the spec's limit where the DDF has none
]
TEXTUAL = {F.SENML_JSON, F.LWM2M_JSON}


def _resource(bad: Bad) -> Node:
    """The resource ``bad`` writes, a multiple one with the bad instance and a good one."""
    rid = bad.path[2]
    if len(bad.path) == 4:
        return MultiResource(rid, {0: 1, bad.path[3]: bad.value})
    return SingleResource(rid, bad.value)


def _instance(bad: Bad, iid: int | None = None) -> ObjectInstance:
    """The instance of ``bad`` with its other values as they are (so that a replace keeps
    them) and ``bad`` in place."""
    resources: dict[int, Node] = {}
    for where, value in VALUES.items():
        path = Path.parse(where)
        if path[:2] == bad.path[:2]:
            resources[path[2]] = (
                MultiResource(path[2], value)
                if isinstance(value, dict)
                else SingleResource(path[2], value)
            )
    resources[bad.path[2]] = _resource(bad)
    return ObjectInstance(bad.path[1] if iid is None else iid, resources)


def _payload(fmt: ContentFormat, node: Node, path: Path) -> bytes:
    """``node`` in ``fmt``; JSON formats written by hand where the value has no JSON form
    (a hostile server's ``NaN`` / ``Infinity`` literals, which Python's JSON reads)."""
    registry = _registry()
    try:
        return encode(fmt, node, path, registry)
    except Exception:
        assert fmt in TEXTUAL
    text = encode(fmt, _finite(node), path, registry).decode()
    return text.replace("-123456.5", "Infinity").replace("123456.5", "NaN").encode()


def _finite(node: Node) -> Node:
    """``node`` with NaN written as 123456.5 and infinity as -123456.5 (replaced after)."""

    def fix(value: object) -> object:
        if isinstance(value, float) and value != value:
            return 123456.5
        if value == INF:
            return -123456.5
        return value

    if isinstance(node, SingleResource):
        return SingleResource(node.id, fix(node.value))  # type: ignore[arg-type]
    if isinstance(node, MultiResource):
        return MultiResource(node.id, {k: fix(v) for k, v in node.instances.items()})  # type: ignore[misc]
    if isinstance(node, ResourceInstance):
        return ResourceInstance(node.id, fix(node.value))  # type: ignore[arg-type]
    if isinstance(node, ObjectNode):
        return ObjectNode(node.id, {k: _finite(v) for k, v in node.instances.items()})  # type: ignore[misc]
    assert isinstance(node, ObjectInstance)
    return ObjectInstance(node.id, {k: _finite(v) for k, v in node.resources.items()})  # type: ignore[misc]


@dataclass(frozen=True)
class Request:
    """One write of a bad value: the path the refusal names (``names``)."""

    what: str
    method: object
    path: str
    payload: bytes
    names: Path


CREATED = 9
"""The instance id a Create names."""


def _requests(fmt: ContentFormat, bad: Bad) -> list[Request]:
    """Every write path that can carry ``bad`` in ``fmt``."""
    obj, iid = bad.path[0], bad.path[1]
    instance = Path(obj, iid)
    at = bad.path
    if fmt is F.TEXT:  # one value: a single resource or a resource instance
        raw = "NaN" if bad.value != bad.value else str(bad.value)
        return [Request("write resource", PUT, str(at), raw.encode(), at)]
    out: list[Request] = []
    if len(at) == 4:
        leaf = ResourceInstance(at[3], bad.value)
        out.append(Request("write resource instance", PUT, str(at), _payload(fmt, leaf, at), at))
    resource = at.parent if len(at) == 4 else at
    body = _payload(fmt, _resource(bad), resource)
    out.append(Request("write resource", PUT, str(resource), body, at))
    body = _payload(fmt, _instance(bad), instance)
    out.append(Request("replace instance", PUT, str(instance), body, at))
    out.append(Request("partial update", POST, str(instance), body, at))
    if obj == 32769:  # a multiple-instance object a server may create in
        new = ObjectNode(obj, {CREATED: _instance(bad, CREATED)})
        named = Path(obj, CREATED, *at[2:])
        out.append(Request("create", POST, f"/{obj}", _payload(fmt, new, Path(obj)), named))
    if fmt in (F.SENML_JSON, F.SENML_CBOR, F.LWM2M_CBOR):
        composite = Composite({at: _resource(bad) if len(at) == 3 else leaf})
        try:
            body = encode_composite(fmt, composite, _registry())
        except Exception:  # NaN in JSON: the literal a hostile server sends
            literal = "NaN" if bad.value != bad.value else "Infinity"
            body = f'[{{"n":"{at}","v":{literal}}}]'.encode()
        out.append(Request("write-composite", IPATCH, "/", body, at))
    return out


FORMATS = [F.TEXT, F.TLV, F.SENML_JSON, F.SENML_CBOR, F.LWM2M_JSON, F.LWM2M_CBOR]
WATCHED = [*VALUES, "/1/0/1", "/3442/0/130"]


@pytest.mark.parametrize("fmt", FORMATS, ids=lambda f: f.name)
async def test_every_write_path_refuses_what_the_definition_or_the_spec_forbids(
    server: FakeServer, fmt: ContentFormat
) -> None:
    async with registered_device(
        server, EP, layout=_layout(), registry=_registry(), lwm2m_version="1.2"
    ) as dev:
        before = {p: dev.tree.value(p) for p in WATCHED}
        tried = 0
        for bad in BAD:
            for request in _requests(fmt, bad):
                case = f"{fmt.name} {request.what} {bad.path}={bad.value!r}"
                response = await server.request(
                    EP,
                    request.method,
                    request.path,
                    payload=request.payload,
                    content_format=int(fmt),
                )
                said = response.payload.decode()
                assert code(response) == "4.00", (case, said)
                if fmt in TEXTUAL and _number(bad) and not math.isfinite(float(bad.value)):
                    # the JSON decoders refuse the literal itself, before any model check
                    assert "is not a JSON number" in said, (case, said)
                    continue
                assert bad.says in said and str(request.names) in said, (case, said)
                assert {p: dev.tree.value(p) for p in WATCHED} == before, case
                assert dev.tree.instances(32769) == [0], case  # no Create went through
                tried += 1
        assert tried >= len(BAD)
        read = await server.request(EP, GET, "/3442/0", accept=int(F.SENML_JSON))
        json.loads(read.payload, parse_constant=_no_constant)  # still valid, strict JSON


def _number(bad: Bad) -> bool:
    return isinstance(bad.value, float)


def _no_constant(name: str) -> object:
    raise AssertionError(f"{name} in the device's JSON")


@pytest.mark.parametrize("fmt", FORMATS, ids=lambda f: f.name)
async def test_the_same_paths_take_a_value_inside_the_limits(
    server: FakeServer, fmt: ContentFormat
) -> None:
    """The refusals above are the range, not the path or the format: the same requests with
    a good value succeed."""
    good = [
        Bad(Path(32769, 0, 1), 100, ""),
        Bad(Path(32769, 0, 5), "OFF", ""),
        Bad(Path(32769, 0, 4), -1.0, ""),
        Bad(Path(32769, 0, 2, 1), 5, ""),
        Bad(Path(1, 0, 1), 4294967295, ""),
    ]
    async with registered_device(
        server, EP, layout=_layout(), registry=_registry(), lwm2m_version="1.2"
    ) as dev:
        for value in good:
            for request in _requests(fmt, value):
                response = await server.request(
                    EP,
                    request.method,
                    request.path,
                    payload=request.payload,
                    content_format=int(fmt),
                )
                assert code(response) in ("2.04", "2.01"), (request, response.payload)
                if request.what == "create":  # made room for the next one
                    assert code(await server.request(EP, DELETE, f"/32769/{CREATED}")) == "2.02"
            assert dev.tree.value(str(value.path)) == value.value, value.path


async def test_write_attributes_refuse_a_non_finite_threshold(server: FakeServer) -> None:
    """Write-Attributes writes no value, but its numeric parameters are checked too."""
    async with registered_device(server, EP, layout=_layout(), registry=_registry()) as dev:
        for query in (["gt=NaN"], ["lt=inf"], ["st=-Infinity"], ["pmin=-1"]):
            response = await server.request(EP, PUT, "/3442/0/130", query=query)
            assert code(response) == "4.00", (query, response.payload)
        assert code(await server.request(EP, PUT, "/3442/0/130", query=["gt=5"])) == "2.04"
        assert dev.tree.value("/3442/0/130") is not None
