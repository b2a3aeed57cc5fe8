"""The objects shipped in the package and registries built from them plus user folders."""

from __future__ import annotations

import pathlib

import pytest

from fleet.errors import DdfError
from fleet.model.ddf import build_registry, shipped_objects_dir, shipped_registry
from fleet.model.definitions import ObjectModel

USER_DEVICE_1_2 = """<LWM2M><Object ObjectType="MODefinition">
  <Name>Device</Name><ObjectID>3</ObjectID><ObjectVersion>1.2</ObjectVersion>
  <LWM2MVersion>1.1</LWM2MVersion><MultipleInstances>Single</MultipleInstances>
  <Mandatory>Mandatory</Mandatory>
  <Resources><Item ID="0"><Name>Manufacturer</Name><Operations>R</Operations>
  <MultipleInstances>Single</MultipleInstances><Mandatory>Optional</Mandatory>
  <Type>String</Type></Item></Resources>
</Object></LWM2M>"""


def test_shipped_dir_is_the_objects_folder() -> None:
    folder = shipped_objects_dir()
    assert folder.is_dir()
    repo_objects = pathlib.Path(__file__).resolve().parents[2] / "objects"
    assert folder.resolve() == repo_objects.resolve()
    assert {p.name for p in folder.glob("*.xml")} == {
        "0.xml",
        "1.xml",
        "3.xml",
        "4.xml",
        "5.xml",
        "6.xml",
        "9.xml",
        "3303.xml",
        "3442.xml",
    }


def test_shipped_registry() -> None:
    registry = shipped_registry()
    assert registry.ids() == [0, 1, 3, 4, 5, 6, 9, 3303, 3442]
    assert registry.get(3).version == "1.1"
    assert registry.get(3303).resource(5700).name == "Sensor Value"


def test_shipped_registry_is_a_fresh_copy_each_time() -> None:
    first = shipped_registry()
    first.add(ObjectModel(id=60000, name="Scratch"))
    assert 60000 not in shipped_registry()


def test_build_registry_puts_user_folders_on_top(tmp_path: pathlib.Path) -> None:
    (tmp_path / "3-1_2.xml").write_text(USER_DEVICE_1_2)
    (tmp_path / "DDF.xml").write_text("<DDFList/>")
    registry = build_registry([tmp_path])
    assert registry.versions(3) == ["1.1", "1.2"]
    assert registry.get(3).version == "1.2"
    assert registry.get(3, "1.1").source.endswith("3.xml")
    assert len(registry) == 10


def test_later_user_folder_replaces_same_version(tmp_path: pathlib.Path) -> None:
    first, second = tmp_path / "a", tmp_path / "b"
    first.mkdir()
    second.mkdir()
    (first / "dev.xml").write_text(USER_DEVICE_1_2)
    (second / "dev.xml").write_text(USER_DEVICE_1_2.replace("Manufacturer", "Maker"))
    registry = build_registry([first, second])
    assert registry.get(3, "1.2").resource(0).name == "Maker"
    assert build_registry([second, first]).get(3, "1.2").resource(0).name == "Manufacturer"


def test_broken_user_file_raises_located_error(tmp_path: pathlib.Path) -> None:
    broken = tmp_path / "bad.xml"
    broken.write_text(USER_DEVICE_1_2.replace("<Type>String", "<Type>Text"))
    with pytest.raises(DdfError) as info:
        build_registry([tmp_path])
    assert info.value.file == str(broken)
    assert info.value.item == "Item 0"
    assert "unknown type 'Text'" in str(info.value)


def test_missing_user_folder_raises(tmp_path: pathlib.Path) -> None:
    with pytest.raises(DdfError, match="no such file or directory"):
        build_registry([tmp_path / "missing"])
