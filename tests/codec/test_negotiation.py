"""Content negotiation (defaults per LwM2M version, Accept, write formats) and format names."""

from __future__ import annotations

import pytest

from fleet.codec import ContentFormat, check_write_format, choose_format, format_label, parse_format
from fleet.codec.negotiation import formats_for
from fleet.errors import NotAcceptable, UnsupportedContentFormat
from fleet.model import Path, ResourceType

F = ContentFormat
P = Path.parse


@pytest.mark.parametrize(
    ("version", "path", "single", "rtype", "expected"),
    [
        ("1.0", "/3/0/0", True, None, F.TEXT),
        ("1.0", "/3442/0/150", True, ResourceType.OPAQUE, F.OPAQUE),
        ("1.0", "/3/0", False, None, F.TLV),
        ("1.0", "/3", False, None, F.TLV),
        ("1.0", "/3/0/6", False, None, F.TLV),
        ("1.0", "/3/0/6/0", True, None, F.TEXT),
        ("1.1", "/3/0/0", True, None, F.TEXT),
        ("1.1", "/3/0", False, None, F.SENML_CBOR),
        ("1.1", "/3/0/6", False, None, F.SENML_CBOR),
        ("1.1", "/", False, None, F.SENML_CBOR),
        ("1.2", "/3", False, None, F.SENML_CBOR),
        ("1.2", "/3442/0/150", True, ResourceType.OPAQUE, F.OPAQUE),
    ],
)
def test_defaults_without_accept(
    version: str, path: str, single: bool, rtype: ResourceType | None, expected: F
) -> None:
    assert choose_format(None, P(path), version, None, single, resource_type=rtype) == expected


def test_a_preference_replaces_the_default_when_it_can_carry_the_content() -> None:
    assert choose_format(None, P("/3/0"), "1.1", F.TLV, False) == F.TLV
    assert choose_format(None, P("/3/0/0"), "1.1", F.SENML_JSON, True) == F.SENML_JSON
    assert choose_format(None, P("/3/0"), "1.1", F.TEXT, False) == F.SENML_CBOR
    assert choose_format(None, P("/3/0"), "1.0", F.SENML_CBOR, False) == F.TLV


def test_supported_formats_narrow_the_choice() -> None:
    only_json = {F.TEXT, F.SENML_JSON}
    assert choose_format(None, P("/3/0"), "1.1", None, False, supported=only_json) == F.SENML_JSON
    with pytest.raises(NotAcceptable):
        choose_format(None, P("/3/0"), "1.1", None, False, supported={F.TEXT})


@pytest.mark.parametrize(
    ("accept", "version", "path", "single", "expected"),
    [
        (F.TLV, "1.1", "/3/0", False, F.TLV),
        (F.LWM2M_JSON, "1.0", "/3/0", False, F.LWM2M_JSON),
        (F.SENML_JSON, "1.1", "/3/0/0", True, F.SENML_JSON),
        (F.CBOR, "1.1", "/3/0/0", True, F.CBOR),
        (F.LWM2M_CBOR, "1.2", "/", False, F.LWM2M_CBOR),
        (1542, "1.0", "/3/0", False, F.TLV),
    ],
)
def test_accept_is_honoured(
    accept: int, version: str, path: str, single: bool, expected: F
) -> None:
    assert choose_format(accept, P(path), version, None, single) == expected


@pytest.mark.parametrize(
    ("accept", "version", "path", "single", "rtype"),
    [
        (F.TEXT, "1.1", "/3/0", False, None),
        (F.TEXT, "1.1", "/3/0/6", False, None),
        (F.OPAQUE, "1.1", "/3/0/0", True, ResourceType.STRING),
        (F.SENML_CBOR, "1.0", "/3/0", False, None),
        (F.CBOR, "1.0", "/3/0/0", True, None),
        (F.LWM2M_CBOR, "1.1", "/3/0", False, None),
        (F.TLV, "1.1", "/", False, None),
        (F.LINK, "1.1", "/3/0", False, None),
        (9999, "1.1", "/3/0", False, None),
    ],
)
def test_accept_that_cannot_be_honoured_is_406(
    accept: int, version: str, path: str, single: bool, rtype: ResourceType | None
) -> None:
    with pytest.raises(NotAcceptable) as caught:
        choose_format(accept, P(path), version, None, single, resource_type=rtype)
    assert caught.value.code_text == "4.06"


def test_write_formats() -> None:
    assert check_write_format(F.TLV, P("/3/0"), "1.0", False) == F.TLV
    assert check_write_format(F.SENML_CBOR, P("/"), "1.1", False) == F.SENML_CBOR
    assert check_write_format(F.TEXT, P("/3/0/13"), "1.1", True) == F.TEXT
    assert check_write_format(1543, P("/3/0"), "1.0", False) == F.LWM2M_JSON
    for fmt, path, version, single in [
        (None, "/3/0/13", "1.1", True),
        (F.TEXT, "/3/0", "1.1", False),
        (F.SENML_JSON, "/3/0", "1.0", False),
        (F.LINK, "/3/0", "1.1", False),
        (12345, "/3/0", "1.1", False),
        (F.LWM2M_CBOR, "/3/0", "1.1", False),
    ]:
        with pytest.raises(UnsupportedContentFormat) as caught:
            check_write_format(fmt, P(path), version, single)
        assert caught.value.code_text == "4.15"
    with pytest.raises(UnsupportedContentFormat):
        check_write_format(F.TLV, P("/3/0"), "1.1", False, supported={F.SENML_CBOR})


def test_formats_by_version() -> None:
    assert formats_for("1.0") == {F.TEXT, F.OPAQUE, F.TLV, F.LWM2M_JSON}
    assert formats_for("1.1") == formats_for("1.0") | {F.CBOR, F.SENML_JSON, F.SENML_CBOR}
    assert formats_for("1.2") == formats_for("1.1") | {F.LWM2M_CBOR}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("tlv", F.TLV),
        ("TLV", F.TLV),
        ("senml-json", F.SENML_JSON),
        ("senml_cbor", F.SENML_CBOR),
        ("SENML_CBOR", F.SENML_CBOR),
        ("lwm2m-json", F.LWM2M_JSON),
        ("lwm2m-cbor", F.LWM2M_CBOR),
        ("cbor", F.CBOR),
        ("text", F.TEXT),
        ("opaque", F.OPAQUE),
        ("link", F.LINK),
        ("11542", F.TLV),
        (" 112 ", F.SENML_CBOR),
        ("application/vnd.oma.lwm2m+tlv", F.TLV),
        ("application/senml+json", F.SENML_JSON),
        (60, F.CBOR),
    ],
)
def test_format_names(text: str | int, expected: F) -> None:
    assert parse_format(text) is expected


@pytest.mark.parametrize("text", ["bogus", "1234", "", "-1", 41])
def test_unknown_format_names_list_the_accepted_ones(text: str | int) -> None:
    with pytest.raises(UnsupportedContentFormat, match="use one of text \\(0\\), link \\(40\\)"):
        parse_format(text)


def test_labels_and_media_types() -> None:
    assert format_label(F.SENML_CBOR) == "senml-cbor (112)"
    assert format_label(4242) == "4242"
    assert F.LWM2M_CBOR.media_type == "application/vnd.oma.lwm2m+cbor"


@pytest.mark.parametrize(
    ("number", "path", "single", "expected"),
    [
        (1541, "/3442/0/110", True, F.TEXT),  # text/plain's number is 0: falsy, but must map
        (1542, "/3/0", False, F.TLV),
        (1543, "/3/0", False, F.LWM2M_JSON),
    ],
)
def test_pre_registration_numbers_are_accepted_for_writes(
    number: int, path: str, single: bool, expected: ContentFormat
) -> None:
    # lwm2m-node-lib 1.4.0 writes with 1541 by default (lightweightm2m/text).
    assert check_write_format(number, P(path), "1.0", single) is expected
    assert choose_format(number, P(path), "1.0", None, single) is expected
