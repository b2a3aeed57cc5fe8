"""``fleet decode`` and ``fleet encode`` through click's test runner."""

from __future__ import annotations

import json
import pathlib

import pytest
from click.testing import CliRunner

from fleet.cli import main

DEVICE_TLV = (
    "c800144f70656e204d6f62696c6520416c6c69616e6365c801164c69676874776569676874204d324d20436c69"
    "656e74c80209333435303030313233c303312e30860641000141010588070842000ed842011388870841007d42"
    "010384c10964c10a0f830b410000c40d5182428fc60e2b30323a3030c11055"
)
DEVICE_VALUES = {
    "/3/0/0": "Open Mobile Alliance",
    "/3/0/1": "Lightweight M2M Client",
    "/3/0/2": "345000123",
    "/3/0/3": "1.0",
    "/3/0/6/0": 1,
    "/3/0/6/1": 5,
    "/3/0/7/0": 3800,
    "/3/0/7/1": 5000,
    "/3/0/8/0": 125,
    "/3/0/8/1": 900,
    "/3/0/9": 100,
    "/3/0/10": 15,
    "/3/0/11/0": 0,
    "/3/0/13": 1367491215,
    "/3/0/14": "+02:00",
    "/3/0/16": "U",
}
# Object 3 at version 1.0 made for LwM2M 1.0, with a resource the shipped 1.1 lacks.
OLD_DEVICE = """<LWM2M><Object ObjectType="MODefinition">
  <Name>Device</Name><ObjectID>3</ObjectID><ObjectVersion>1.0</ObjectVersion>
  <LWM2MVersion>1.0</LWM2MVersion>
  <MultipleInstances>Single</MultipleInstances><Mandatory>Mandatory</Mandatory>
  <Resources>
    <Item ID="99"><Name>Legacy</Name><Operations>R</Operations>
      <MultipleInstances>Single</MultipleInstances><Mandatory>Optional</Mandatory>
      <Type>Integer</Type></Item>
  </Resources>
</Object></LWM2M>"""


def run(*args: str, stdin: str | None = None) -> tuple[int, str]:
    result = CliRunner().invoke(main, list(args), input=stdin)
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result.exit_code, result.output


def test_decode_tlv_prints_values_by_path() -> None:
    code, out = run("decode", "--format", "tlv", "--path", "/3/0", DEVICE_TLV)
    assert code == 0
    assert json.loads(out) == DEVICE_VALUES
    assert list(json.loads(out))[:2] == ["/3/0/0", "/3/0/1"]


def test_encode_reads_values_and_prints_hex() -> None:
    code, out = run("encode", "--format", "tlv", "--path", "/3/0", stdin=json.dumps(DEVICE_VALUES))
    assert (code, out.strip()) == (0, DEVICE_TLV)


@pytest.mark.parametrize("fmt", ["senml-json", "senml-cbor", "lwm2m-json", "lwm2m-cbor", "11542"])
def test_encode_then_decode_in_every_structured_format(fmt: str) -> None:
    code, payload = run(
        "encode", "--format", fmt, "--path", "/3/0", stdin=json.dumps(DEVICE_VALUES)
    )
    assert code == 0
    code, out = run("decode", "--format", fmt, "--path", "/3/0", payload.strip())
    assert (code, json.loads(out)) == (0, DEVICE_VALUES)


def test_opaque_objlnk_and_floats_have_text_forms() -> None:
    values = {
        "/3442/0/150": "hex:00ff10",
        "/3442/0/170": "3:0",
        "/3442/0/130": "Infinity",
        "/3442/0/125": 18446744073709551615,
    }
    code, payload = run(
        "encode", "--format", "senml-cbor", "--path", "/3442/0", stdin=json.dumps(values)
    )
    assert code == 0
    code, out = run("decode", "--format", "senml-cbor", "--path", "/3442/0", payload.strip())
    assert (code, json.loads(out)) == (0, values)
    code, out = run("decode", "--format", "text", "--path", "/3442/0/150", b"AP8Q".hex())
    assert json.loads(out) == {"/3442/0/150": "hex:00ff10"}
    code, payload = run(
        "encode", "--format", "tlv", "--path", "/3442/0/150", stdin='{"/3442/0/150": "base64:AP8Q"}'
    )
    assert payload.strip() == "c39600ff10"


def test_decode_accepts_spaced_hex_stdin_and_files(tmp_path: pathlib.Path) -> None:
    spaced = "c1 09 64"
    assert json.loads(run("decode", "--format", "tlv", "--path", "/3/0/9", spaced)[1]) == {
        "/3/0/9": 100
    }
    assert json.loads(
        run("decode", "--format", "tlv", "--path", "/3/0/9", stdin="0xc10964\n")[1]
    ) == {"/3/0/9": 100}
    raw = tmp_path / "payload.bin"
    raw.write_bytes(bytes.fromhex("c10964"))
    code, out = run("decode", "--format", "tlv", "--path", "/3/0/9", "--file", str(raw))
    assert (code, json.loads(out)) == (0, {"/3/0/9": 100})
    values = tmp_path / "values.json"
    values.write_text('{"/3/0/9": 7}')
    code, out = run("encode", "--format", "text", "--path", "/3/0/9", "--file", str(values))
    assert (code, out.strip()) == (0, b"7".hex())


def test_composites_at_the_root() -> None:
    values = {"/3/0/9": 80, "/1/0/1": 300}
    code, payload = run("encode", "--format", "lwm2m-cbor", stdin=json.dumps(values))
    assert code == 0
    code, out = run("decode", "--format", "lwm2m-cbor", "--path", "/", payload.strip())
    assert json.loads(out) == values


def test_link_format_decodes_to_links() -> None:
    payload = b'</>;ct="110 112",</3/0>;ver=1.1'.hex()
    code, out = run("decode", "--format", "link", payload)
    assert code == 0
    assert json.loads(out) == [
        {"target": "/", "attributes": {"ct": "110 112"}},
        {"target": "/3/0", "attributes": {"ver": "1.1"}},
    ]


@pytest.mark.parametrize(
    ("args", "stdin", "message"),
    [
        (["decode", "--format", "tlv", "--path", "/3/0", "c80914"], None, "announces 20 bytes"),
        (["decode", "--format", "tlv", "--path", "/3/0", "zz"], None, "not hexadecimal"),
        (["decode", "--format", "tlv", "--path", "/3/0/9", "c10965"], None, "outside 0..100"),
        (["decode", "--format", "link", "3c"], None, "without '>'"),
        (["encode", "--format", "tlv", "--path", "/3/0"], "[1]", "a JSON object"),
        (["encode", "--format", "tlv", "--path", "/3/0"], "{", "not JSON"),
        (["encode", "--format", "tlv", "--path", "/3/0"], '{"/3/0/9": "lots"}', "not an Integer"),
        (["encode", "--format", "tlv", "--path", "/3/0"], '{"/3/1/9": 1}', "outside the request"),
        (["encode", "--format", "text", "--path", "/3/0"], '{"/3/0/9": 1}', "carries one value"),
        (["encode", "--format", "link", "--path", "/3/0"], "{}", "carries links"),
    ],
)
def test_errors_are_clear_and_exit_1(args: list[str], stdin: str | None, message: str) -> None:
    code, out = run(*args, stdin=stdin)
    assert code == 1
    assert message in out


def test_bad_options_are_usage_errors() -> None:
    code, out = run("decode", "--format", "bogus", "--path", "/3/0", "00")
    assert code == 2 and "use one of" in out
    code, out = run("decode", "--format", "tlv", "--path", "/3/x", "00")
    assert code == 2 and "not a number" in out
    code, out = run("decode", "--format", "tlv", "--path", "/3/0", "--file", "-", "00")
    assert code == 2 and "not both" in out


def test_lwm2m_version_selects_object_versions(tmp_path: pathlib.Path) -> None:
    folder = tmp_path / "old"
    folder.mkdir()
    (folder / "3-1_0.xml").write_text(OLD_DEVICE)
    args = ["decode", "--format", "text", "--path", "/3/0/99", "--objects", str(folder), "3432"]
    code, out = run(*args, "--lwm2m", "1.0")
    assert (code, json.loads(out)) == (0, {"/3/0/99": 42})
    code, out = run(*args, "--lwm2m", "1.1")
    assert code == 1 and "no resource 99" in out
