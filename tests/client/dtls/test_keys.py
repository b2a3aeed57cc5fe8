"""PSK credentials without DTLSSocket: key formats platforms export, keys kept out of reprs."""

from __future__ import annotations

import base64

import pytest
from hypothesis import given
from hypothesis import strategies as st

from fleet.client.coap.dtls import dtls_available
from fleet.client.coap.psk import PskCredentials, parse_psk_key


def test_hex_and_base64_keys_decode_to_the_same_bytes() -> None:
    raw = b"secretPSK"
    assert parse_psk_key(raw.hex()) == raw
    assert parse_psk_key("hex:" + raw.hex().upper()) == raw
    assert parse_psk_key("base64:" + base64.b64encode(raw).decode()) == raw
    assert parse_psk_key(base64.b64encode(raw).decode()) == raw  # not hex: base64


def test_explicit_prefix_wins_over_the_hex_guess() -> None:
    # "abcd" is valid hex and valid base64; the prefix decides
    assert parse_psk_key("abcd") == b"\xab\xcd"
    assert parse_psk_key("base64:abcd") == base64.b64decode("abcd")


@pytest.mark.parametrize("bad", ["", "hex:", "hex:abc", "hex:zz", "not base64!", "base64:@@"])
def test_bad_keys_are_refused_without_quoting_them(bad: str) -> None:
    with pytest.raises(ValueError) as caught:
        parse_psk_key(bad)
    rest = bad.partition(":")[2] or bad
    if rest:
        assert rest not in str(caught.value)


@given(st.binary(min_size=1, max_size=64))
def test_any_key_round_trips_through_both_notations(raw: bytes) -> None:
    assert parse_psk_key("hex:" + raw.hex()) == raw
    assert parse_psk_key("base64:" + base64.b64encode(raw).decode()) == raw


def test_credentials_never_show_the_key() -> None:
    credentials = PskCredentials.of("sim-000001", "hex:" + b"topsecret".hex())
    assert credentials.identity == b"sim-000001"
    assert credentials.key == b"topsecret"
    text = repr(credentials) + str(credentials)
    assert "topsecret" not in text
    assert b"topsecret".hex() not in text
    assert "9 bytes" in text


def test_empty_identity_is_refused() -> None:
    with pytest.raises(ValueError):
        PskCredentials.of("", "00")


def test_availability_reason_is_none_or_says_how_to_install() -> None:
    reason = dtls_available()
    assert reason is None or ("DTLSSocket" in reason and "autoconf" in reason)
