"""The codec registry and entry points: codec look-up, object versions, building nodes."""

from __future__ import annotations

import dataclasses

import pytest

from fleet.codec import (
    CODECS,
    ContentFormat,
    build_node,
    decode,
    encode,
    get_codec,
    versions_for,
)
from fleet.errors import CodecError, UnsupportedContentFormat
from fleet.model import (
    Composite,
    ModelRegistry,
    MultiResource,
    ObjectInstance,
    ObjectNode,
    Path,
    ResourceInstance,
    SingleResource,
)

from .conftest import example_objects, resource

F = ContentFormat
P = Path.parse


def test_every_value_format_has_a_codec() -> None:
    assert set(CODECS) == set(ContentFormat) - {F.LINK}
    for fmt, codec in CODECS.items():
        assert codec.content_format is fmt
        assert get_codec(int(fmt)) is codec
    with pytest.raises(UnsupportedContentFormat, match=r"fleet\.codec\.link"):
        get_codec(F.LINK)
    with pytest.raises(UnsupportedContentFormat, match="4242"):
        get_codec(4242)


@pytest.fixture
def two_devices(models: ModelRegistry) -> ModelRegistry:
    """Device 1.1 (shipped) and a Device 1.0 made for LwM2M 1.0 with a resource 99."""
    registry = ModelRegistry(models)
    old = dataclasses.replace(
        models.get(3),
        version="1.0",
        lwm2m_version="1.0",
        resources={99: resource(99, models.get(3).resource(9).type)},
    )
    registry.add(old)
    return registry


def test_versions_pick_the_definition(two_devices: ModelRegistry) -> None:
    payload = b"\xc1\x63\x05"
    with pytest.raises(CodecError, match="no resource 99"):
        decode(F.TLV, payload, P("/3/0"), two_devices)
    node = decode(F.TLV, payload, P("/3/0"), two_devices, versions={3: "1.0"})
    assert node == ObjectInstance(0, {99: SingleResource(99, 5)})
    assert encode(F.TLV, node, P("/3/0"), two_devices, versions={3: "1.0"}) == payload
    with pytest.raises(CodecError, match=r"version 2\.0"):
        decode(F.TLV, payload, P("/3/0"), two_devices, versions={3: "2.0"})


def test_versions_for_an_lwm2m_version(two_devices: ModelRegistry) -> None:
    assert versions_for(two_devices, "1.0")[3] == "1.0"
    assert versions_for(two_devices, "1.1")[3] == "1.1"
    assert versions_for(two_devices, "1.0")[0] == "1.1"  # no 1.0-era Security: the oldest one


def test_build_node_at_every_level(models: ModelRegistry) -> None:
    assert build_node(P("/3/0/6"), {P("/3/0/6/1"): 5}, models) == MultiResource(6, {1: 5})
    assert build_node(P("/3/0/6/1"), {P("/3/0/6/1"): 5}, models) == ResourceInstance(1, 5)
    assert build_node(P("/3"), {P("/3/0/9"): 7}, models) == ObjectNode(
        3, {0: ObjectInstance(0, {9: SingleResource(9, 7)})}
    )
    assert build_node(P("/3/0"), {}, models) == ObjectInstance(0, {})
    composite = build_node(Path(), {P("/3/0/9"): 7, P("/1/0/1"): 60}, models)
    assert isinstance(composite, Composite)
    assert set(composite.nodes) == {P("/3/0/9"), P("/1/0/1")}
    with pytest.raises(CodecError, match=r"outside 0\.\.100"):
        build_node(P("/3/0/9"), {P("/3/0/9"): 700}, models)
    with pytest.raises(CodecError, match="needs a value"):
        build_node(P("/3/0/9"), {}, models)


def test_integers_are_written_as_floats_for_float_resources(models: ModelRegistry) -> None:
    node = SingleResource(130, 3)
    assert encode(F.TEXT, node, P("/3442/0/130"), models) == b"3.0"
    assert encode(F.TLV, node, P("/3442/0/130"), models).hex() == "c882084008000000000000"


def test_example_objects_are_distinct_from_shipped_ones(models: ModelRegistry) -> None:
    shipped = {0, 1, 3, 6, 3303, 3442}
    assert not shipped & {model.id for model in example_objects()}
    assert shipped <= set(models.ids())
