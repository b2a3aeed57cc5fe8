"""The DDF loader on hand-made documents: what it forgives and what it refuses, and where."""

from __future__ import annotations

import pathlib

import pytest

from fleet.errors import DdfError
from fleet.model.ddf import (
    NotObjectDefinition,
    load_ddf_bytes,
    load_ddf_file,
    load_ddf_models,
    load_paths,
)
from fleet.model.definitions import ObjectModel
from fleet.model.ranges import RangeKind
from fleet.model.types import Operations, ResourceType

ITEM_0 = """
            <Item ID="0">
                <Name>Counter</Name>
                <Operations>RW</Operations>
                <MultipleInstances>Single</MultipleInstances>
                <Mandatory>Mandatory</Mandatory>
                <Type>Integer</Type>
                <RangeEnumeration>0..100</RangeEnumeration>
                <Units>s</Units>
                <Description>How many.</Description>
            </Item>"""
ITEM_1 = """
            <Item ID="1">
                <Name>Label</Name>
                <Operations>R</Operations>
                <MultipleInstances>Multiple</MultipleInstances>
                <Mandatory>Optional</Mandatory>
                <Type>String</Type>
                <RangeEnumeration></RangeEnumeration>
                <Units></Units>
                <Description>Some text.</Description>
            </Item>"""


def document(items: str = ITEM_0 + ITEM_1, object_fields: str | None = None) -> str:
    if object_fields is None:
        object_fields = """
        <Name>Test</Name>
        <Description1>A test object.</Description1>
        <ObjectID>20000</ObjectID>
        <ObjectURN>urn:oma:lwm2m:x:20000:1.1</ObjectURN>
        <LWM2MVersion>1.1</LWM2MVersion>
        <ObjectVersion>1.1</ObjectVersion>
        <MultipleInstances>Multiple</MultipleInstances>
        <Mandatory>Optional</Mandatory>"""
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<LWM2M>
    <Object ObjectType="MODefinition">{object_fields}
        <Resources>{items}
        </Resources>
        <Description2></Description2>
    </Object>
</LWM2M>
"""


def load(text: str | bytes, source: str = "test.xml") -> ObjectModel:
    data = text.encode() if isinstance(text, str) else text
    return load_ddf_bytes(data, source)


def refusal(text: str | bytes, source: str = "broken.xml") -> DdfError:
    data = text.encode() if isinstance(text, str) else text
    with pytest.raises(DdfError) as info:
        load_ddf_bytes(data, source)
    assert not isinstance(info.value, NotObjectDefinition)
    assert str(info.value).startswith(source)
    return info.value


# ---------------------------------------------------------------------- happy path


def test_loads_every_field() -> None:
    model = load_ddf_bytes(document().encode(), "mine.xml")
    assert (model.id, model.name, model.version, model.lwm2m_version) == (
        20000,
        "Test",
        "1.1",
        "1.1",
    )
    assert model.urn == "urn:oma:lwm2m:x:20000:1.1"
    assert model.multiple is True
    assert model.mandatory is False
    assert model.description == "A test object."
    assert model.source == "mine.xml"
    counter, label = model.resource(0), model.resource(1)
    assert counter.name == "Counter"
    assert counter.operations is Operations.RW
    assert (counter.multiple, counter.mandatory) == (False, True)
    assert counter.type is ResourceType.INTEGER
    assert counter.range.kind is RangeKind.NUMERIC
    assert (counter.range.low, counter.range.high, counter.range.raw) == (0, 100, "0..100")
    assert counter.units == "s"
    assert counter.description == "How many."
    assert (label.multiple, label.mandatory, label.type) == (True, False, ResourceType.STRING)
    assert label.range.kind is RangeKind.NONE


def test_load_ddf_file_names_the_file(tmp_path: pathlib.Path) -> None:
    path = tmp_path / "20000.xml"
    path.write_text(document())
    assert load_ddf_file(path).source == str(path)
    path.write_text(document().replace('ID="1"', 'ID="x"'))
    with pytest.raises(DdfError) as info:
        load_ddf_file(path)
    assert info.value.file == str(path)


# ---------------------------------------------------------------------- forgiven


def test_byte_order_mark_and_no_declaration() -> None:
    body = document().split("\n", 1)[1]
    assert load(b"\xef\xbb\xbf" + body.encode()).id == 20000
    assert load(b"\xef\xbb\xbf" + document().encode()).id == 20000


def test_utf16_document() -> None:
    text = document().replace('encoding="UTF-8"', 'encoding="UTF-16"')
    assert load(text.encode("utf-16")).name == "Test"


def test_element_order_does_not_matter() -> None:
    item = """
            <Item ID="0">
                <Description>How many.</Description>
                <Type>Integer</Type>
                <Units>s</Units>
                <Mandatory>Mandatory</Mandatory>
                <RangeEnumeration>0..100</RangeEnumeration>
                <MultipleInstances>Single</MultipleInstances>
                <Operations>RW</Operations>
                <Name>Counter</Name>
            </Item>"""
    fields = """
        <Mandatory>Optional</Mandatory>
        <ObjectVersion>1.1</ObjectVersion>
        <ObjectID>20000</ObjectID>
        <MultipleInstances>Multiple</MultipleInstances>
        <LWM2MVersion>1.1</LWM2MVersion>
        <Name>Test</Name>
        <Description1>A test object.</Description1>
        <ObjectURN>urn:oma:lwm2m:x:20000:1.1</ObjectURN>"""
    shuffled = load(document(item + ITEM_1, fields))
    assert shuffled == load(document())


def test_missing_and_empty_elements_take_defaults() -> None:
    item = """
            <Item ID="4">
                <Name>Reboot</Name>
                <Operations>E</Operations>
                <Type />
            </Item>"""
    fields = """
        <Name>Bare</Name>
        <ObjectID>20001</ObjectID>
        <ObjectVersion />"""
    model = load_ddf_bytes(document(item, fields).encode())
    assert (model.version, model.lwm2m_version, model.urn, model.description) == (
        "1.0",
        "1.0",
        "",
        "",
    )
    assert (model.multiple, model.mandatory) == (False, False)
    reboot = model.resource(4)
    assert reboot.type is ResourceType.NONE
    assert reboot.executable
    assert (reboot.multiple, reboot.mandatory, reboot.units, reboot.description) == (
        False,
        False,
        "",
        "",
    )
    assert reboot.range.kind is RangeKind.NONE


def test_no_resources_element_means_no_resources() -> None:
    text = document().replace("<Resources>", "").replace("</Resources>", "")
    text = text.replace(ITEM_0 + ITEM_1, "")
    assert len(load_ddf_bytes(text.encode()).resources) == 0


def test_whitespace_is_stripped() -> None:
    item = """
            <Item ID=" 7 ">
                <Name>
                    Spaced Name </Name>
                <Operations> R </Operations>
                <MultipleInstances> Single
                </MultipleInstances>
                <Mandatory>optional</Mandatory>
                <Type>  Unsigned Integer </Type>
                <RangeEnumeration>
                    0..10
                </RangeEnumeration>
                <Units> % </Units>
                <Description>  Text.  </Description>
            </Item>"""
    resource = load_ddf_bytes(document(item).encode()).resource(7)
    assert resource.name == "Spaced Name"
    assert resource.operations is Operations.R
    assert resource.type is ResourceType.UNSIGNED_INTEGER
    assert (resource.range.raw, resource.range.high) == ("0..10", 10)
    assert (resource.units, resource.description) == ("%", "Text.")


def test_cdata_free_text_range_and_unsorted_ids() -> None:
    items = (
        ITEM_1.replace(
            "<Description>Some text.</Description>",
            "<Description><![CDATA[a < b & c]]></Description>",
        ).replace(
            "<RangeEnumeration></RangeEnumeration>",
            "<RangeEnumeration>see the spec</RangeEnumeration>",
        )
        + ITEM_0.replace('ID="0"', 'ID="5700"')
        + ITEM_0
    )
    model = load_ddf_bytes(document(items).encode())
    assert list(model.resources) == [0, 1, 5700]
    assert model.resource(1).description == "a < b & c"
    assert model.resource(1).range.kind is RangeKind.TEXT
    assert model.resource(1).range.raw == "see the spec"


def test_comments_processing_instructions_and_unknown_elements_are_ignored() -> None:
    text = document().replace(
        "<Name>Counter</Name>",
        "<!-- note --><Name>Counter</Name><?tool hint?><Submitter>someone</Submitter>",
    )
    assert load(text) == load(document())


def test_namespaced_document() -> None:
    text = document().replace("<LWM2M>", '<LWM2M xmlns="http://example.com/ddf">')
    model = load_ddf_bytes(text.encode())
    assert model.id == 20000
    assert model.resource(0).type is ResourceType.INTEGER


def test_description2_is_appended() -> None:
    text = document().replace("<Description2></Description2>", "<Description2>More.</Description2>")
    assert load_ddf_bytes(text.encode()).description == "A test object.\n\nMore."


def test_several_objects_in_one_document() -> None:
    text = document()
    obj = text[text.index("<Object") : text.index("</Object>") + len("</Object>")]
    two = text.replace(obj, obj + obj.replace("20000", "20001"))
    assert [m.id for m in load_ddf_models(two.encode())] == [20000, 20001]
    error = refusal(two)
    assert "expected one <Object>, found 2" in str(error)


# ---------------------------------------------------------------------- refused, located


def test_not_xml_names_file_line_and_column() -> None:
    text = document().replace("<Name>Label</Name>", "<Name>Label</Nme>")
    error = refusal(text)
    expected_line = text.splitlines().index("                <Name>Label</Nme>") + 1
    assert error.line == expected_line
    assert error.column is not None and error.column > 1
    assert str(error) == f"broken.xml:{expected_line}:{error.column}: not XML: mismatched tag"


@pytest.mark.parametrize(
    ("data", "problem"),
    [
        (b"", "not XML: no element found"),
        (b"just text", "not XML: syntax error"),
        (b"<LWM2M><Object>", "not XML: no element found"),
        (b"\xff\xfe\x00garbage", "not XML"),
    ],
)
def test_other_not_xml(data: bytes, problem: str) -> None:
    error = refusal(data)
    assert problem in str(error)
    assert error.line is not None


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("<LWM2M></LWM2M>", "no <Object> element in <LWM2M>"),
        ("<html><body/></html>", "no <Object> element (the root element is <html>)"),
    ],
)
def test_no_object_element(text: str, problem: str) -> None:
    assert str(refusal(text)) == f"broken.xml: {problem}"


def test_duplicate_resource_ids() -> None:
    error = refusal(document(ITEM_0 + ITEM_1 + ITEM_1.replace("Label", "Other")))
    assert error.item == "Item 1"
    assert str(error) == "broken.xml: Item 1: duplicate resource id 1"


def test_unknown_type() -> None:
    error = refusal(document(ITEM_0 + ITEM_1.replace("<Type>String", "<Type>Strng")))
    assert error.item == "Item 1"
    assert "unknown type 'Strng'" in str(error)
    assert str(error).startswith(
        "broken.xml: Item 1: unknown type 'Strng' (expected one of String,"
    )


@pytest.mark.parametrize(
    ("attribute", "item", "problem"),
    [
        ('ID="one"', "Item one", "unparseable Item ID 'one': expected an integer 0..65535"),
        ('ID="-1"', "Item -1", "unparseable Item ID '-1'"),
        ('ID="70000"', "Item 70000", "unparseable Item ID '70000'"),
        ('ID="1.5"', "Item 1.5", "unparseable Item ID '1.5'"),
        ('ID=""', "Item", "missing Item ID"),
        ("", "Item", "missing Item ID"),
    ],
)
def test_unparseable_item_id(attribute: str, item: str, problem: str) -> None:
    error = refusal(document(ITEM_0 + ITEM_1.replace('ID="1"', attribute)))
    assert error.item == item
    assert str(error).startswith(f"broken.xml: {item}: {problem}")


@pytest.mark.parametrize(
    ("object_id", "problem"),
    [
        ("<ObjectID>abc</ObjectID>", "unparseable ObjectID 'abc'"),
        ("<ObjectID>65536</ObjectID>", "unparseable ObjectID '65536'"),
        ("<ObjectID></ObjectID>", "missing ObjectID"),
        ("", "missing ObjectID"),
    ],
)
def test_unparseable_object_id(object_id: str, problem: str) -> None:
    text = document().replace("<ObjectID>20000</ObjectID>", object_id)
    error = refusal(text)
    assert error.item == "Object"
    assert problem in str(error)


@pytest.mark.parametrize(
    ("old", "new", "item", "problem"),
    [
        ("<Operations>R<", "<Operations>RX<", "Item 1", "unknown operations 'RX'"),
        (
            "<MultipleInstances>Multiple</MultipleInstances>\n                <Mandatory>Optional",
            "<MultipleInstances>Many</MultipleInstances>\n                <Mandatory>Optional",
            "Item 1",
            "<MultipleInstances> must be Single or Multiple, got 'Many'",
        ),
        (
            "<Mandatory>Optional</Mandatory>\n                <Type>String",
            "<Mandatory>Maybe</Mandatory>\n                <Type>String",
            "Item 1",
            "<Mandatory> must be Optional or Mandatory, got 'Maybe'",
        ),
        ("<Name>Label</Name>", "<Name> </Name>", "Item 1", "missing <Name>"),
        ("<Name>Test</Name>", "", "Object 20000", "missing <Name>"),
        (
            "<ObjectVersion>1.1<",
            "<ObjectVersion>v1<",
            "Object 20000",
            "<ObjectVersion> must look like 1.0, got 'v1'",
        ),
    ],
)
def test_other_located_refusals(old: str, new: str, item: str, problem: str) -> None:
    text = document()
    assert old in text
    broken = _in_item_1(text, old, new) if item == "Item 1" else text.replace(old, new, 1)
    error = refusal(broken)
    assert error.item == item
    assert str(error).startswith(f"broken.xml: {item}: {problem}")


def _in_item_1(text: str, old: str, new: str) -> str:
    start = text.index('<Item ID="1">')
    return text[:start] + text[start:].replace(old, new, 1)


# ---------------------------------------------------------------------- untrusted XML


BILLION_LAUGHS = """<?xml version="1.0"?>
<!DOCTYPE LWM2M [
  <!ENTITY a "ha">
  <!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">
  <!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;">
  <!ENTITY d "&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;">
  <!ENTITY e "&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;">
  <!ENTITY f "&e;&e;&e;&e;&e;&e;&e;&e;&e;&e;">
  <!ENTITY g "&f;&f;&f;&f;&f;&f;&f;&f;&f;&f;">
  <!ENTITY h "&g;&g;&g;&g;&g;&g;&g;&g;&g;&g;">
  <!ENTITY i "&h;&h;&h;&h;&h;&h;&h;&h;&h;&h;">
]>
<LWM2M><Object><Name>&i;</Name><ObjectID>1</ObjectID></Object></LWM2M>
"""


def test_billion_laughs_is_refused() -> None:
    error = refusal(BILLION_LAUGHS)
    assert "refused" in str(error)
    assert "DOCTYPE" in str(error)
    assert error.line == 2
    assert "haha" not in str(error)


def test_external_entity_is_refused_and_nothing_is_read(tmp_path: pathlib.Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET-VALUE")
    text = f"""<?xml version="1.0"?>
<!DOCTYPE LWM2M [ <!ENTITY xxe SYSTEM "{secret.as_uri()}"> ]>
<LWM2M><Object><Name>&xxe;</Name><ObjectID>1</ObjectID></Object></LWM2M>
"""
    error = refusal(text)
    assert "refused" in str(error)
    assert "TOP-SECRET-VALUE" not in str(error)


def test_external_dtd_and_plain_doctype_are_refused() -> None:
    external = (
        '<!DOCTYPE LWM2M SYSTEM "http://example.invalid/evil.dtd">\n' + document().split("\n", 1)[1]
    )
    assert "refused" in str(refusal(external))
    assert "refused" in str(refusal("<!DOCTYPE LWM2M>" + document().split("\n", 1)[1]))


def test_undeclared_entity_is_not_xml() -> None:
    error = refusal(document().replace("How many.", "&nope;"))
    assert "not XML: undefined entity" in str(error)


def test_doctype_in_utf16_is_refused_too() -> None:
    text = BILLION_LAUGHS.replace(
        '<?xml version="1.0"?>', '<?xml version="1.0" encoding="UTF-16"?>'
    )
    assert "refused" in str(refusal(text.encode("utf-16")))


# ---------------------------------------------------------------------- not definitions


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("<DDFList><Item><ObjectID>3</ObjectID></Item></DDFList>", "registry index"),
        ('<units><unit name="Ws"/></units>', "SenML units list"),
        (
            '<LWM2M><Object ObjectType="CommonResources"><Resources><Item ID="5700">'
            "<Name>Sensor Value</Name></Item></Resources></Object></LWM2M>",
            "reusable resource list",
        ),
    ],
)
def test_non_definitions_are_reported_as_such(text: str, reason: str) -> None:
    with pytest.raises(NotObjectDefinition) as info:
        load_ddf_bytes(text.encode(), "Other.xml")
    assert reason in info.value.message
    assert "not an object definition" in info.value.message
    assert info.value.file == "Other.xml"


# ---------------------------------------------------------------------- folders


def test_load_paths_reports_models_failures_and_skips(tmp_path: pathlib.Path) -> None:
    (tmp_path / "good.xml").write_text(document())
    nested = tmp_path / "more" / "deeper"
    nested.mkdir(parents=True)
    (nested / "good2.xml").write_text(document().replace("20000", "20002"))
    (tmp_path / "broken.xml").write_text(document(ITEM_0 + ITEM_0))
    (tmp_path / "DDF.xml").write_text("<DDFList/>")
    (tmp_path / "schema.xsd").write_text("not read")
    (tmp_path / "notes.txt").write_text("not read")
    report = load_paths([tmp_path])
    assert sorted(m.id for m in report.models) == [20000, 20002]
    assert [(e.file, e.item) for e in report.failures] == [(str(tmp_path / "broken.xml"), "Item 0")]
    assert report.skipped == [
        (str(tmp_path / "DDF.xml"), "registry index (<DDFList>), not an object definition")
    ]
    assert report.summary() == "2 objects loaded, 1 failed, 1 skipped"


def test_load_paths_takes_single_files_and_reports_missing_paths(tmp_path: pathlib.Path) -> None:
    single = tmp_path / "one.ddf"
    single.write_text(document())
    missing = tmp_path / "nowhere"
    report = load_paths([single, missing])
    assert [m.id for m in report.models] == [20000]
    assert [str(e) for e in report.failures] == [f"{missing}: no such file or directory"]


def test_load_paths_of_nothing() -> None:
    assert load_paths([]).summary() == "0 objects loaded, 0 failed, 0 skipped"
