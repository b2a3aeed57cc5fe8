"""The loader on the real OMA registry, and our own objects against the registry's."""

from __future__ import annotations

import difflib
import pathlib

import pytest

from fleet.model.ddf import LoadReport, load_ddf_file, load_paths, shipped_objects_dir
from fleet.model.definitions import ObjectModel
from fleet.model.ranges import RangeKind
from fleet.model.registry import ModelRegistry

pytestmark = pytest.mark.interop

OUR_FILES = sorted(shipped_objects_dir().glob("*.xml"))
LONGEST_SHARED_RUN = 40  # characters a description may share with the registry's


@pytest.fixture(scope="module")
def report(oma_registry: pathlib.Path) -> LoadReport:
    return load_paths([oma_registry])


def test_whole_registry_loads(report: LoadReport, oma_registry: pathlib.Path) -> None:
    assert [str(f) for f in report.failures] == []
    root_files = list(oma_registry.glob("*.xml"))
    history_files = list((oma_registry / "version_history").glob("*.xml"))
    assert len(report.models) == len(root_files) + len(history_files) - len(report.skipped)
    assert report.summary() == "751 objects loaded, 0 failed, 3 skipped"


def test_the_three_metadata_files_are_skipped_with_reasons(
    report: LoadReport, oma_registry: pathlib.Path
) -> None:
    skipped = {pathlib.Path(file).name: reason for file, reason in report.skipped}
    assert set(skipped) == {"DDF.xml", "Common.xml", "LWM2M_senml_units.xml"}
    assert all("not an object definition" in reason for reason in skipped.values())
    assert "DDFList" in skipped["DDF.xml"]
    assert "CommonResources" in skipped["Common.xml"]


def test_versions_match_the_history_file_names(report: LoadReport) -> None:
    history = [m for m in report.models if pathlib.Path(m.source).parent.name == "version_history"]
    assert len(history) == 424
    for model in history:
        object_id, _, version = pathlib.Path(model.source).stem.partition("-")
        assert (model.id, model.version) == (int(object_id), version.replace("_", ".")), (
            model.source
        )


def test_root_files_equal_their_newest_history_version(report: LoadReport) -> None:
    root = {
        m.id: m for m in report.models if pathlib.Path(m.source).parent.name != "version_history"
    }
    registry = ModelRegistry(
        m for m in report.models if pathlib.Path(m.source).parent.name == "version_history"
    )
    for object_id, model in root.items():
        newest = registry.get(object_id)
        assert _facts(model) == _facts(newest), model.source
        assert model.description == newest.description


def test_registry_holds_every_version(report: LoadReport) -> None:
    registry = ModelRegistry(report.models)
    assert registry.versions(3) == ["1.0", "1.1", "1.2"]
    assert registry.get(3).version == "1.2"
    assert registry.get(3, "1.0").lwm2m_version == "1.0"
    # the Server object grew with each version
    sizes = [len(registry.get(1, v).resources) for v in registry.versions(1)]
    assert sizes == sorted(sizes) and len(set(sizes)) == len(sizes) == 3
    assert 23 not in registry.get(1, "1.0").resources
    assert registry.get(1, "1.1").resource(23).name == "Mute Send"


def test_every_parsed_range_keeps_its_text_and_is_ordered(report: LoadReport) -> None:
    ranges = [r.range for m in report.models for r in m if r.range.raw]
    assert len(ranges) > 1000
    for parsed in ranges:
        assert parsed.raw == parsed.raw.strip()
        assert parsed.kind is not RangeKind.NONE
        for interval in parsed.intervals:
            assert interval.low <= interval.high, parsed.raw


# --------------------------------------------------------------- our own objects


def _facts(model: ObjectModel) -> dict[str, object]:
    """Everything but descriptions and where the file was."""
    return {
        "object": (
            model.id,
            model.name,
            model.version,
            model.lwm2m_version,
            model.urn,
            model.multiple,
            model.mandatory,
        ),
        "resources": {
            r.id: (
                r.name,
                r.operations,
                r.multiple,
                r.mandatory,
                r.type,
                r.range.raw,
                r.units,
            )
            for r in model
        },
    }


def test_we_ship_the_nine_objects() -> None:
    assert sorted(load_ddf_file(f).id for f in OUR_FILES) == [0, 1, 3, 4, 5, 6, 9, 3303, 3442]


def _registry_file(oma_registry: pathlib.Path, model: ObjectModel) -> pathlib.Path:
    return oma_registry / "version_history" / f"{model.id}-{model.version.replace('.', '_')}.xml"


@pytest.mark.parametrize("path", OUR_FILES, ids=lambda p: p.name)
def test_our_object_matches_the_registry(path: pathlib.Path, oma_registry: pathlib.Path) -> None:
    ours = load_ddf_file(path)
    theirs_path = _registry_file(oma_registry, ours)
    assert theirs_path.is_file(), f"the registry has no {ours.id} v{ours.version}"
    theirs = load_ddf_file(theirs_path)
    assert _facts(ours)["object"] == _facts(theirs)["object"]
    ours_resources = _facts(ours)["resources"]
    theirs_resources = _facts(theirs)["resources"]
    assert isinstance(ours_resources, dict) and isinstance(theirs_resources, dict)
    assert sorted(ours_resources) == sorted(theirs_resources)
    for rid, facts in theirs_resources.items():
        assert ours_resources[rid] == facts, f"resource {rid}"


def test_our_versions_are_the_ones_asked_for(oma_registry: pathlib.Path) -> None:
    versions = {m.id: m.version for m in map(load_ddf_file, OUR_FILES)}
    history = oma_registry / "version_history"
    security = "1.1" if (history / "0-1_1.xml").exists() else "1.0"
    assert versions == {
        0: security,
        1: "1.1",
        3: "1.1",
        4: "1.0",
        5: "1.0",
        6: "1.0",
        9: "1.0",
        3303: "1.1",
        3442: "1.0",
    }


@pytest.mark.parametrize("path", OUR_FILES, ids=lambda p: p.name)
def test_our_descriptions_are_our_own(path: pathlib.Path, oma_registry: pathlib.Path) -> None:
    ours = load_ddf_file(path)
    theirs = load_ddf_file(_registry_file(oma_registry, ours))
    pairs = [("object", ours.description, theirs.description)]
    pairs += [(f"resource {r.id}", r.description, theirs.resource(r.id).description) for r in ours]
    for where, mine, registry_text in pairs:
        assert mine, f"{where} has no description"
        match = difflib.SequenceMatcher(None, mine, registry_text, autojunk=False)
        longest = match.find_longest_match(0, len(mine), 0, len(registry_text))
        shared = mine[longest.a : longest.a + longest.size]
        assert longest.size < LONGEST_SHARED_RUN, f"{where} copies {shared!r}"


@pytest.mark.parametrize("path", OUR_FILES, ids=lambda p: p.name)
def test_our_licence_header(path: pathlib.Path) -> None:
    head = path.read_text(encoding="utf-8")[:1500]
    assert "SPDX-License-Identifier: Apache-2.0" in head
    assert "lwm2m-fleet authors" in head
    assert "Redistribution and use" not in path.read_text(encoding="utf-8")
