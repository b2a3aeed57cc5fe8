"""Pure parts of the server: registration links, decoding versions, device info, value shapes."""

from __future__ import annotations

import pytest

from fleet.errors import BadRequest
from fleet.model import ModelRegistry, MultiResource, ObjectInstance, Path, SingleResource
from fleet.model.shipped import shipped_registry
from fleet.server import DeviceInfo, DeviceRecord, InvalidRequest, Lwm2mServer, Operation, Result
from fleet.server.records import decoding_versions, parse_object_links
from fleet.server.requests import as_path, attribute_query, leaf_values, node_for
from tests.server.conftest import DeviceFactory

MODELS = shipped_registry()


def test_parse_object_links_reads_objects_instances_versions_and_formats() -> None:
    objects = parse_object_links(
        b'</>;ct="60 110 112 11542", </1/0>,</3>;ver=1.1,</3/0>, </5>,</3303/0/>,</3303/2>'
    )
    assert objects.root == ()
    assert objects.instances == {1: (0,), 3: (0,), 5: (), 3303: (0, 2)}
    assert objects.versions == {3: "1.1"}
    assert objects.content_formats == (60, 110, 112, 11542)
    assert objects.has(Path(3303, 2, 5700)) and not objects.has(Path(3303, 1))
    assert objects.has(Path(5)) and not objects.has(Path(6))


def test_parse_object_links_with_an_alternate_path() -> None:
    objects = parse_object_links('</lwm2m>;rt="oma.lwm2m",</lwm2m/3/0>,</lwm2m/6>;ver=1.0')
    assert objects.root == ("lwm2m",)
    assert objects.instances == {3: (0,), 6: ()} and objects.versions == {6: "1.0"}
    with pytest.raises(BadRequest):
        parse_object_links('</lwm2m>;rt="oma.lwm2m",</3/0>')


@pytest.mark.parametrize(
    "payload",
    [
        "",
        "   ",
        "<3/0>",
        "</3/0",
        "</3/0/1>",
        "</a/b>",
        "</3/0>;ver=1.1",
        "</3>;ver=x",
        '</>;ct="a"',
    ],
)
def test_parse_object_links_refuses(payload: str) -> None:
    with pytest.raises(BadRequest):
        parse_object_links(payload)


def test_decoding_versions() -> None:
    models = ModelRegistry(shipped_registry())
    registered = parse_object_links(
        "</1/0>,</3>;ver=1.1,</3/0>,</3303/0>,</3442>;ver=7.0,</9999/0>"
    )
    chosen = decoding_versions(models, registered, "1.1")
    # /3 as said; /1 (core, no ver) follows the enabler; /3303 says nothing = 1.0, which the
    # registry lacks, so its default is used (no entry); unknown versions and objects likewise
    assert chosen == {1: "1.1", 3: "1.1"}
    assert decoding_versions(models, parse_object_links("</1/0>"), "1.0") == {}


def test_device_info_follows_values() -> None:
    record = DeviceRecord("dev1")
    record.record({Path(3, 0, 0): "ACME", Path(6, 0, 0): 52.52})
    assert record.info == DeviceInfo(manufacturer="ACME")  # no longitude yet: no location
    record.record({Path(6, 0, 1): 13.405, Path(3, 0, 13): 1_700_000_000, Path(3, 0, 3): "2.1"})
    assert record.info.location == "geo:52.52,13.405"
    assert record.info.system_time == 1_700_000_000 and record.info.firmware_version == "2.1"
    record.record({Path(3, 0, 1): "M"}, under=(Path(3, 0),))
    assert Path(3, 0, 0) not in record.values and record.info.manufacturer == "ACME"


def test_leaf_values_shapes() -> None:
    at = Path(3442, 0)
    assert leaf_values(at, {110: "x", 1110: ["a", "b"], "/3442/0/120": "42"}, MODELS, {}) == {
        Path(3442, 0, 110): "x",
        Path(3442, 0, 1110, 0): "a",
        Path(3442, 0, 1110, 1): "b",
        Path(3442, 0, 120): 42,
    }
    assert leaf_values(Path(3442, 0, 1110), {3: "c"}, MODELS, {}) == {Path(3442, 0, 1110, 3): "c"}
    assert leaf_values(Path(3442, 0, 130), 2, MODELS, {}) == {Path(3442, 0, 130): 2.0}
    for bad in ({"/3/0/0": "x"}, {110: {1: "x"}}, {70000: 1}, 5):
        with pytest.raises(InvalidRequest):
            leaf_values(at, bad, MODELS, {})


def test_node_for_passes_nodes_through_and_builds_the_rest() -> None:
    node = SingleResource(110, "x")
    assert node_for(Path(3442, 0, 110), node, MODELS, {}) is node
    built = node_for(Path(3442, 0), {1110: {}}, MODELS, {})
    assert built == ObjectInstance(0, {1110: MultiResource(1110, {})})


def test_attribute_query_and_paths() -> None:
    assert attribute_query({"pmin": 1, "pmax": 2.5, "gt": -1, "edge": True, "st": None}) == [
        "pmin=1",
        "pmax=2.5",
        "gt=-1",
        "edge=1",
        "st",
    ]
    for bad in ({"bogus": 1}, {"pmin": "1"}, {"pmin": -1}, {"dim": 1}):
        with pytest.raises(InvalidRequest):
            attribute_query(bad)
    assert as_path("3/0/1") == as_path("/3/0/1") == as_path((3, 0, 1)) == Path(3, 0, 1)
    assert as_path("/") == Path()


def test_result_value_and_codes() -> None:
    result = Result("d", Operation.READ, Path(3, 0), "2.05", values={Path(3, 0, 0): "a"})
    assert result.value == "a" and result.ok and result.target == "/3/0"
    many = Result(
        "d", Operation.READ, Path(3, 0), "2.05", values={Path(3, 0, 0): 1, Path(3, 0, 1): 2}
    )
    with pytest.raises(LookupError):
        _ = many.value
    created = Result("d", Operation.CREATE, Path(3303), "2.01")
    assert created.code_number == 201 and created.reason == "Created"
    assert created.raise_for_status() is created


@pytest.mark.asyncio
async def test_requests_go_below_the_alternate_path(
    server: Lwm2mServer, make_device: DeviceFactory
) -> None:
    device = await make_device("alt", root="lwm2m")
    record = server.device("alt")
    assert record is not None and record.objects.root == ("lwm2m",)
    result = await server.read("alt", "/3/0/0")
    assert result.value == "My Demo Device"
    assert (await server.write("alt", "/3442/0/110", "there")).ok
    assert device.values[Path(3442, 0, 110)] == "there"
