"""``fleet objects list|show|check`` through click's test runner."""

from __future__ import annotations

import pathlib

import pytest
from click.testing import CliRunner

from fleet.cli import main
from fleet.model.ddf import shipped_registry

OMA_REGISTRY = pathlib.Path(__file__).resolve().parents[2].parent / "shared" / "oma-registry"

USER_OBJECT = """<LWM2M><Object ObjectType="MODefinition">
  <Name>Tank Level</Name><ObjectID>20500</ObjectID><ObjectVersion>1.0</ObjectVersion>
  <MultipleInstances>Multiple</MultipleInstances><Mandatory>Optional</Mandatory>
  <Resources>
    <Item ID="1"><Name>Level</Name><Operations>R</Operations>
      <MultipleInstances>Single</MultipleInstances><Mandatory>Mandatory</Mandatory>
      <Type>Float</Type><RangeEnumeration>0..100</RangeEnumeration><Units>%</Units></Item>
    <Item ID="0"><Name>Tank Name</Name><Operations>RW</Operations>
      <MultipleInstances>Single</MultipleInstances><Mandatory>Optional</Mandatory>
      <Type>String</Type></Item>
  </Resources>
</Object></LWM2M>"""


def run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, list(args))
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result.exit_code, result.output


@pytest.fixture
def user_dir(tmp_path: pathlib.Path) -> pathlib.Path:
    folder = tmp_path / "mine"
    folder.mkdir()
    (folder / "20500.xml").write_text(USER_OBJECT)
    return folder


# ---------------------------------------------------------------------- list


def test_list_has_one_line_per_shipped_object() -> None:
    code, output = run("objects", "list")
    assert code == 0
    lines = output.splitlines()
    assert lines[0].split() == ["ID", "VERSION", "LWM2M", "NAME", "RESOURCES", "SOURCE"]
    registry = shipped_registry()
    assert len(lines) == 1 + len(registry)
    for line, model in zip(lines[1:], registry, strict=True):
        cells = line.split()
        assert cells[:3] == [str(model.id), model.version, model.lwm2m_version]
        assert model.name in line
        assert cells[-2:] == [str(len(model.resources)), f"shipped:{model.id}.xml"]


def test_list_with_user_objects(user_dir: pathlib.Path) -> None:
    code, output = run("objects", "list", "--objects", str(user_dir))
    assert code == 0
    last = output.splitlines()[-1]
    assert last.split()[:3] == ["20500", "1.0", "1.0"]
    assert "Tank Level" in last
    assert last.endswith(str(user_dir / "20500.xml"))


def test_objects_option_is_repeatable(user_dir: pathlib.Path, tmp_path: pathlib.Path) -> None:
    other = tmp_path / "other"
    other.mkdir()
    (other / "t.xml").write_text(USER_OBJECT.replace("Tank Level", "Silo Level"))
    code, output = run("objects", "list", "--objects", str(user_dir), "--objects", str(other))
    assert code == 0
    assert "Silo Level" in output
    assert "Tank Level" not in output


def test_list_with_broken_user_object_fails_with_located_message(user_dir: pathlib.Path) -> None:
    bad = user_dir / "bad.xml"
    bad.write_text(USER_OBJECT.replace('ID="0"', 'ID="zero"'))
    code, output = run("objects", "list", "--objects", str(user_dir))
    assert code == 1
    assert f"Error: {bad}: Item zero: unparseable Item ID 'zero'" in output


def test_objects_option_refuses_missing_folder(tmp_path: pathlib.Path) -> None:
    code, output = run("objects", "list", "--objects", str(tmp_path / "missing"))
    assert code == 2
    assert "does not exist" in output


# ---------------------------------------------------------------------- show


def table(output: str) -> list[dict[str, str]]:
    """The rows of the table that starts at the line beginning with ``ID``, by column name."""
    lines = output.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("ID "))
    header = lines[start]
    names = header.split()
    offsets = [header.index(name) for name in names] + [None]
    return [
        {name: line[offsets[i] : offsets[i + 1]].strip() for i, name in enumerate(names)}
        for line in lines[start + 1 :]
    ]


def test_show_resource_table_of_3442() -> None:
    code, output = run("objects", "show", "3442")
    assert code == 0
    model = shipped_registry().get(3442)
    lines = output.splitlines()
    assert lines[0] == f"3442 {model.name}"
    assert lines[1].startswith("version 1.0, LwM2M 1.1, multiple instances, optional")
    rows = table(output)
    assert list(rows[0]) == ["ID", "NAME", "OPS", "INST", "MANDATORY", "TYPE", "RANGE", "UNITS"]
    assert [int(row["ID"]) for row in rows] == sorted(model.resources)
    by_id = {int(row["ID"]): row for row in rows}
    assert by_id[1125] == {
        "ID": "1125",
        "NAME": "Multiple Unsigned Integer Value",
        "OPS": "RW",
        "INST": "Multiple",
        "MANDATORY": "Optional",
        "TYPE": "Unsigned Integer",
        "RANGE": "-",
        "UNITS": "-",
    }
    assert (by_id[0]["OPS"], by_id[0]["TYPE"]) == ("E", "-")


def test_show_ranges_units_and_names_with_double_spaces() -> None:
    code, output = run("objects", "show", "3")
    assert code == 0
    battery = next(row for row in table(output) if row["ID"] == "9")
    assert (battery["NAME"], battery["TYPE"], battery["RANGE"], battery["UNITS"]) == (
        "Battery Level",
        "Integer",
        "0..100",
        "%",
    )
    code, output = run("objects", "show", "0")
    uri = table(output)[0]
    assert (uri["NAME"], uri["OPS"], uri["RANGE"]) == ("LWM2M  Server URI", "-", "0..255 bytes")


def test_show_cuts_long_free_text_ranges() -> None:
    code, output = run("objects", "show", "1")
    assert code == 0
    binding = next(row for row in table(output) if row["ID"] == "7")
    assert binding["RANGE"].startswith("The possible values")
    assert binding["RANGE"].endswith("...")
    assert len(binding["RANGE"]) <= 32


def test_show_a_given_version(user_dir: pathlib.Path) -> None:
    (user_dir / "dev.xml").write_text(
        USER_OBJECT.replace("20500", "3").replace("<ObjectVersion>1.0", "<ObjectVersion>1.2")
    )
    code, output = run("objects", "show", "3", "--objects", str(user_dir))
    assert code == 0
    assert "version 1.2" in output.splitlines()[1]
    code, output = run("objects", "show", "3", "--version", "1.1", "--objects", str(user_dir))
    assert code == 0
    assert "version 1.1" in output.splitlines()[1]


def test_show_unknown_object_or_version() -> None:
    code, output = run("objects", "show", "4242")
    assert code == 1
    assert "Error: no definition for object 4242" in output
    code, output = run("objects", "show", "3", "--version", "9.9")
    assert code == 1
    assert "Error: no definition for object 3 version 9.9 (have 1.1)" in output


def test_show_user_object(user_dir: pathlib.Path) -> None:
    code, output = run("objects", "show", "20500", "--objects", str(user_dir))
    assert code == 0
    rows = table(output)
    assert [row["ID"] for row in rows] == ["0", "1"]
    assert list(rows[1].values()) == [
        "1",
        "Level",
        "R",
        "Single",
        "Mandatory",
        "Float",
        "0..100",
        "%",
    ]


# ---------------------------------------------------------------------- check


@pytest.mark.interop
def test_check_the_oma_registry() -> None:
    assert OMA_REGISTRY.is_dir(), f"the OMA registry snapshot is missing: {OMA_REGISTRY}"
    code, output = run("objects", "check", str(OMA_REGISTRY))
    assert output.splitlines() == ["751 objects loaded, 0 failed, 3 skipped"]
    assert code == 0


@pytest.mark.interop
def test_check_verbose_lists_skipped_files() -> None:
    code, output = run("objects", "check", "-v", str(OMA_REGISTRY))
    assert code == 0
    skipped = [line for line in output.splitlines() if line.startswith("skipped ")]
    assert len(skipped) == 3
    assert any("DDF.xml: registry index" in line for line in skipped)


def test_check_prints_one_line_per_failure(user_dir: pathlib.Path) -> None:
    (user_dir / "dup.xml").write_text(USER_OBJECT.replace('ID="0"', 'ID="1"'))
    (user_dir / "notxml.xml").write_text("<LWM2M>\n<Object>\n</LWM2M>\n")
    code, output = run("objects", "check", str(user_dir))
    assert code == 1
    lines = output.splitlines()
    assert lines == [
        f"FAILED {user_dir / 'dup.xml'}: Item 1: duplicate resource id 1",
        f"FAILED {user_dir / 'notxml.xml'}:3:3: not XML: mismatched tag",
        "1 objects loaded, 2 failed, 0 skipped",
    ]


def test_check_files_and_missing_paths(user_dir: pathlib.Path) -> None:
    missing = user_dir / "nope"
    code, output = run("objects", "check", str(user_dir / "20500.xml"), str(missing))
    assert code == 1
    assert output.splitlines() == [
        f"FAILED {missing}: no such file or directory",
        "1 objects loaded, 1 failed, 0 skipped",
    ]


def test_check_needs_a_path() -> None:
    code, output = run("objects", "check")
    assert code == 2
    assert "Missing argument" in output
