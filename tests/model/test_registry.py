"""ModelRegistry: several versions per object, default version, NotFound messages."""

from __future__ import annotations

import pytest

from fleet.errors import NotFound
from fleet.model.definitions import ObjectModel, ResourceModel
from fleet.model.registry import ModelRegistry, version_key
from fleet.model.types import Operations, ResourceType


def model(object_id: int, version: str, name: str = "Obj", n_resources: int = 1) -> ObjectModel:
    resources = {
        i: ResourceModel(i, f"R{i}", Operations.R, False, False, ResourceType.INTEGER)
        for i in range(n_resources)
    }
    return ObjectModel(id=object_id, name=name, version=version, resources=resources)


@pytest.fixture
def registry() -> ModelRegistry:
    return ModelRegistry(
        [model(3, "1.1"), model(3, "1.0"), model(3, "1.2"), model(3303, "1.1"), model(0, "1.0")]
    )


def test_default_is_newest(registry: ModelRegistry) -> None:
    assert registry.get(3).version == "1.2"
    assert registry.get(3303).version == "1.1"


def test_get_a_given_version(registry: ModelRegistry) -> None:
    assert registry.get(3, "1.1").version == "1.1"
    assert registry.get(3, "1.0").key == (3, "1.0")


def test_versions_sort_numerically() -> None:
    registry = ModelRegistry([model(5, v) for v in ("1.10", "1.2", "2.0", "1.9")])
    assert registry.versions(5) == ["1.2", "1.9", "1.10", "2.0"]
    assert registry.get(5).version == "2.0"
    assert version_key("1.10") > version_key("1.9")


def test_set_default(registry: ModelRegistry) -> None:
    registry.set_default(3, "1.0")
    assert registry.get(3).version == "1.0"
    assert registry.get(3, "1.2").version == "1.2"
    with pytest.raises(NotFound, match=r"version 9\.9"):
        registry.set_default(3, "9.9")


def test_not_found_messages(registry: ModelRegistry) -> None:
    with pytest.raises(NotFound, match=r"no definition for object 4$"):
        registry.get(4)
    with pytest.raises(NotFound) as info:
        registry.get(3, "2.0")
    assert str(info.value) == "no definition for object 3 version 2.0 (have 1.0, 1.1, 1.2)"
    assert info.value.code_text == "4.04"


def test_iteration_len_ids_contains(registry: ModelRegistry) -> None:
    assert [m.key for m in registry] == [
        (0, "1.0"),
        (3, "1.0"),
        (3, "1.1"),
        (3, "1.2"),
        (3303, "1.1"),
    ]
    assert len(registry) == 5
    assert registry.ids() == [0, 3, 3303]
    assert 3 in registry
    assert 4 not in registry


def test_add_replaces_same_version_unless_told_not_to(registry: ModelRegistry) -> None:
    registry.add(model(3, "1.1", name="Mine"))
    assert registry.get(3, "1.1").name == "Mine"
    registry.add(model(3, "1.1", name="Ignored"), replace=False)
    assert registry.get(3, "1.1").name == "Mine"
    assert len(registry) == 5


def test_merged_puts_other_on_top_and_leaves_both_unchanged(registry: ModelRegistry) -> None:
    other = ModelRegistry([model(3, "1.1", name="Override"), model(10, "1.0")])
    merged = registry.merged(other)
    assert merged.get(3, "1.1").name == "Override"
    assert merged.get(10).id == 10
    assert merged.get(3, "1.0").name == "Obj"
    assert registry.get(3, "1.1").name == "Obj"
    assert 10 not in registry


def test_object_model_resource_lookup() -> None:
    obj = model(3442, "1.0", name="Test", n_resources=3)
    assert obj.resource(2).name == "R2"
    with pytest.raises(NotFound, match=r"object 3442 \(Test\) v1.0 has no resource 3"):
        obj.resource(3)


def test_the_default_follows_later_additions_without_comparing_on_every_get(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    registry = ModelRegistry([model(5, "1.10"), model(5, "1.9")])
    assert registry.get(5).version == "1.10"  # not the last added
    registry.add(model(5, "1.11"))
    registry.add(model(5, "1.2"))
    assert registry.get(5).version == "1.11"
    assert registry.merged(ModelRegistry([model(5, "1.3")])).get(5).version == "1.11"
    assert registry.merged(ModelRegistry([model(5, "3.0")])).get(5).version == "3.0"
    compared: list[str] = []
    monkeypatch.setattr("fleet.model.registry.version_key", compared.append)
    for _ in range(10):
        assert registry.get(5).version == "1.11"
    assert compared == []  # a Read looks the default up, it does not sort versions again
