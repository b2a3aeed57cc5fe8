"""The one-pass SenML CBOR writer writes exactly what the record path writes, or steps aside."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fleet.codec import ContentFormat, cborwire, decode
from fleet.codec import senml_cbor_writer as writer
from fleet.codec.base import ModelView
from fleet.codec.senml import SenmlCodec
from fleet.codec.senml_cbor import SENML_CBOR
from fleet.errors import CodecError
from fleet.model import (
    ModelRegistry,
    MultiResource,
    Node,
    ObjectInstance,
    ObjectLink,
    ObjectNode,
    Path,
    ResourceInstance,
    SingleResource,
)
from fleet.model.ddf import shipped_registry

from .conftest import example_objects
from .strategies import nodes_at_level

SETTINGS = settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _registry() -> ModelRegistry:
    registry = shipped_registry()
    for model in example_objects():
        registry.add(model)
    return registry


MODELS = _registry()
OBJECTS = (1, 3, 6, 3303, 3442, 65, 66, 72, 3311)


def by_records(node: Node, path: Path) -> bytes:
    """The general path: nodes to records to CBOR maps to bytes."""
    return SenmlCodec.encode(SENML_CBOR, node, path, ModelView(MODELS))


@pytest.mark.parametrize("object_id", OBJECTS)
@pytest.mark.parametrize("level", [1, 2, 3, 4])
@SETTINGS
@given(data=st.data())
def test_same_bytes_as_the_records(object_id: int, level: int, data: st.DataObject) -> None:
    model = MODELS.get(object_id)
    multi = [r for r in model if r.multiple and r.type.value != "none"]
    if level == 4 and not multi:
        return
    ids, node = data.draw(nodes_at_level(model, level))
    path = Path(*ids)
    written = writer.encode_read(node, path, ModelView(MODELS))
    assert written is not None
    assert written == by_records(node, path)
    assert SENML_CBOR.encode(node, path, ModelView(MODELS)) == written


def test_device_instance_matches_and_decodes(device_instance: ObjectInstance) -> None:
    path = Path(3, 0)
    written = writer.encode_read(device_instance, path, ModelView(MODELS))
    assert written == by_records(device_instance, path)
    assert decode(ContentFormat.SENML_CBOR, written, path, MODELS) == device_instance
    first, second = cborwire.loads(written)[:2]  # type: ignore[index]
    assert first == {-2: "/3/0/", 0: "0", 3: "Open Mobile Alliance"}
    assert second == {0: "1", 3: "Lightweight M2M Client"}


@pytest.mark.parametrize(
    ("node", "path"),
    [
        (SingleResource(0, "Open Mobile Alliance"), Path(3, 0, 0)),
        (ResourceInstance(1, 5), Path(3, 0, 6, 1)),
        (MultiResource(6, {}), Path(3, 0, 6)),
        (MultiResource(6, {0: 1, 7: 5}), Path(3, 0, 6)),
        (SingleResource(2, 1.5), Path(72, 0, 2)),
        (SingleResource(2, 2), Path(72, 0, 2)),  # an integer for a Float: written as a double
        (SingleResource(5850, True), Path(3311, 0, 5850)),
        (SingleResource(2, ObjectLink(3, 0)), Path(66, 0, 2)),
        (SingleResource(13, -(2**63)), Path(3, 0, 13)),
        (ObjectNode(3, {}), Path(3)),
        (ObjectInstance(0, {}), Path(3, 0)),
    ],
)
def test_each_shape(node: Node, path: Path) -> None:
    written = writer.encode_read(node, path, ModelView(MODELS))
    assert written is not None and written == by_records(node, path)


class Text(str):
    """A str subclass: unusual, so the writer steps aside."""


@pytest.mark.parametrize(
    ("node", "path"),
    [
        (SingleResource(0, 5), Path(3, 0, 0)),  # wrong type: the records path raises
        (SingleResource(9, True), Path(3, 0, 9)),  # a bool is no Integer
        (SingleResource(4, None), Path(3, 0, 4)),  # executable resource
        (SingleResource(999, 1), Path(3, 0, 999)),  # unknown resource
        (SingleResource(1, "x"), Path(3, 0, 0)),  # node id does not fit the path
        (MultiResource(0, {0: "x"}), Path(3, 0, 0)),  # multiple node for a single resource
        (SingleResource(6, 1), Path(3, 0, 6)),  # single node for a multiple resource
        (ObjectInstance(0, {0: SingleResource(0, 3)}), Path(3, 0)),
        (SingleResource(2, 10**400), Path(72, 0, 2)),  # too large for a double
        (SingleResource(13, 2**64), Path(3, 0, 13)),  # beyond CBOR's integers
        (SingleResource(0, "\ud800"), Path(3, 0, 0)),  # a lone surrogate: not UTF-8
        (SingleResource(0, 1), Path(99, 0, 0)),  # unknown object
    ],
)
def test_unusual_input_is_left_to_the_records(node: Node, path: Path) -> None:
    assert writer.encode_read(node, path, ModelView(MODELS)) is None
    with pytest.raises((CodecError, UnicodeEncodeError)) as general:
        by_records(node, path)
    with pytest.raises(type(general.value)) as ours:
        SENML_CBOR.encode(node, path, ModelView(MODELS))
    assert str(ours.value) == str(general.value)


def test_subclassed_text_is_written_by_the_records() -> None:
    node, path = SingleResource(0, Text("maker")), Path(3, 0, 0)
    assert writer.encode_read(node, path, ModelView(MODELS)) is None
    assert SENML_CBOR.encode(node, path, ModelView(MODELS)) == by_records(node, path)


def test_record_heads_are_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(writer, "MAX_PREFIXES", 4)
    writer._prefixes.clear()
    for iid in range(10):
        node = SingleResource(0, "m")
        path = Path(3, iid, 0)
        assert writer.encode_read(node, path, ModelView(MODELS)) == by_records(node, path)
        assert len(writer._prefixes) <= 4
