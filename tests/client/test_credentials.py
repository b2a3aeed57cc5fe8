"""Credential sources: patterns on the device index and endpoint, a keys file, one value; and
the server side (the key of an identity) of each. Keys never show in errors or reprs."""

from __future__ import annotations

import base64
from pathlib import Path

import pytest

from fleet.client.coap.psk import PskCredentials
from fleet.client.credentials import (
    CredentialError,
    CredentialSource,
    KeysFile,
    KeyStore,
    PatternCredentials,
    SingleCredentials,
    key_lookup,
)


def test_patterns_render_identity_and_hex_key_per_device() -> None:
    source = PatternCredentials("sim-{index:06d}", "hex:00112233{index:024x}")
    psk = source.credentials(42, "ignored")
    assert psk.identity == b"sim-000042"
    assert psk.key == bytes.fromhex("00112233") + (42).to_bytes(12, "big")
    assert source.credentials(43, "x").key != psk.key


def test_patterns_take_the_endpoint_and_base64_keys() -> None:
    key = base64.b64encode(b"sixteen byte key").decode()
    source = PatternCredentials("{endpoint}", f"base64:{key}")
    psk = source.credentials(5, "urn:imei:351934540000005")
    assert psk == PskCredentials(b"urn:imei:351934540000005", b"sixteen byte key")


def test_the_server_finds_the_key_of_a_patterned_identity_in_range() -> None:
    source = PatternCredentials("sim-{index:06d}", "hex:00112233{index:024x}", first=10, count=5)
    for index in (10, 14):
        psk = source.credentials(index, "")
        assert source.key_for(psk.identity) == psk.key
    assert source.key_for(b"sim-000009") is None  # before the group
    assert source.key_for(b"sim-000015") is None  # after it
    assert source.key_for(b"sim-00012") is None  # not what the pattern renders
    assert source.key_for(b"other-000012") is None
    assert source.key_for(b"\xff\xfe") is None


def test_hex_index_in_the_identity_is_inverted() -> None:
    source = PatternCredentials("dev-{index:x}", "hex:{index:032x}")
    assert source.key_for(b"dev-ff") == (255).to_bytes(16, "big")


def test_an_endpoint_key_with_an_index_identity_needs_the_endpoint_names() -> None:
    source = PatternCredentials("id-{index}", "hex:{endpoint}")
    assert source.credentials(3, "0a0b").key == b"\x0a\x0b"
    assert source.key_for(b"id-3") is None  # cannot name device 3 on its own
    named = source.with_endpoints(lambda index: f"{index:04x}")
    assert named.key_for(b"id-3") == b"\x00\x03"


@pytest.mark.parametrize(
    ("identity", "key", "reason"),
    [
        ("sim-{imei}", "00", "unknown placeholder {imei}"),
        ("sim-{index!r}", "00", "unknown placeholder"),
        ("sim-{index", "00", "identity pattern"),
        ("shared", "hex:{index:032x}", "same for every device"),
        ("{endpoint}", "hex:{index:032x}", "must too"),
        ("sim-{index}", "hex:{serial}", "unknown placeholder {serial}"),
        ("sim-{index:zz}", "00", r"\{index:zz\} is not a valid format for an integer"),
        ("sim-{index}", "hex:00{index:s}", r"\{index:s\} is not a valid format for an integer"),
        ("sim-{endpoint:d}", "00", r"\{endpoint:d\} is not a valid format for a text"),
        ("sim-{index:{endpoint}}", "00", "not a valid format"),
    ],
)
def test_bad_patterns(identity: str, key: str, reason: str) -> None:
    with pytest.raises(CredentialError, match=reason):
        PatternCredentials(identity, key)


def test_a_key_that_renders_badly_is_an_error_for_that_device_without_the_key() -> None:
    source = PatternCredentials("sim-{index}", "hex:abc{index:02d}")
    with pytest.raises(CredentialError) as caught:
        source.credentials(1, "sim-1")
    assert "sim-1" in str(caught.value) and "abc" not in str(caught.value)
    assert "abc" not in repr(source)


def test_a_pattern_that_cannot_render_one_index_is_a_credential_error() -> None:
    source = PatternCredentials("sim-{index}", "hex:00{index:c}")  # a character per index
    with pytest.raises(CredentialError, match="device sim-1114112: cannot render the patterns"):
        source.credentials(0x110000, "sim-1114112")  # past the last Unicode code point
    assert source.key_for(b"sim-1114112") is None


def test_the_keys_file(tmp_path: Path) -> None:
    path = tmp_path / "keys.csv"
    path.write_text(
        "# exported from the platform\n"
        "endpoint,identity,key\n"
        "\n"
        "dev-1,id-1,hex:0102\n"
        'dev-2, "id,2",base64:AwQ=\n'
        "dev-3,id-3,0506\n",
        encoding="utf-8",
    )
    keys = KeysFile.load(path)
    assert len(keys) == 3
    assert keys.credentials(0, "dev-2") == PskCredentials(b"id,2", b"\x03\x04")
    assert keys.credentials(0, "dev-3").key == b"\x05\x06"
    assert keys.key_for(b"id-1") == b"\x01\x02" and keys.key_for(b"id-9") is None
    with pytest.raises(CredentialError, match="no keys for endpoint 'dev-4'"):
        keys.credentials(3, "dev-4")
    assert "0102" not in repr(keys)


@pytest.mark.parametrize(
    ("text", "where", "reason"),
    [
        ("dev-1,id-1\n", ":1:", "expected 3 columns"),
        ("endpoint,identity,key\ndev-1,id-1,zz!\n", ":2:", "neither hex nor base64"),
        ("dev-1,id-1,hex:0g\n", ":1:", "not valid hex"),
        ("dev-1,id-1,01\ndev-1,id-2,02\n", ":2:", "again .first on line 1."),
        ("dev-1,id-1,01\ndev-2,id-1,02\n", ":2:", "another key"),
        ("dev-1,,01\n", ":1:", "must not be empty"),
        ("# nothing\n", "keys.csv", "lists no device"),
    ],
)
def test_keys_file_errors_name_file_and_line(
    tmp_path: Path, text: str, where: str, reason: str
) -> None:
    path = tmp_path / "keys.csv"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(CredentialError, match=reason) as caught:
        KeysFile.load(path)
    assert str(path) in str(caught.value) and where in str(caught.value)


def test_a_missing_keys_file(tmp_path: Path) -> None:
    with pytest.raises(CredentialError, match="cannot read the keys file"):
        KeysFile.load(tmp_path / "absent.csv")


def test_one_value_for_every_device() -> None:
    single = SingleCredentials.of("lab", "hex:00ff")
    assert single.credentials(0, "a") == single.credentials(9, "b") == single.psk
    assert single.key_for(b"lab") == b"\x00\xff" and single.key_for(b"other") is None
    with pytest.raises(CredentialError, match="hex"):
        SingleCredentials.of("lab", "hex:0")
    assert "00ff" not in repr(single)


def test_every_source_is_a_credential_source_and_a_key_store(tmp_path: Path) -> None:
    path = tmp_path / "keys.csv"
    path.write_text("dev-1,id-1,01\n", encoding="utf-8")
    sources: list[CredentialSource] = [
        PatternCredentials("p-{index}", "02"),
        KeysFile.load(path),
        SingleCredentials.of("s", "03"),
    ]
    assert all(isinstance(source, KeyStore) for source in sources)
    lookup = key_lookup(source for source in sources if isinstance(source, KeyStore))
    assert lookup(b"p-7") == b"\x02" and lookup(b"id-1") == b"\x01" and lookup(b"s") == b"\x03"
    assert lookup(b"nobody") is None
