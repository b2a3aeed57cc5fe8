"""CoRE link format: parsing what servers meet, Register/Update payloads, Discover answers."""

from __future__ import annotations

import dataclasses

import pytest

from fleet.codec import (
    Link,
    ObjectEntry,
    discover_links,
    discover_payload,
    format_links,
    parse_links,
    register_payload,
)
from fleet.codec.link import AttributeValue
from fleet.errors import CodecError
from fleet.model import ModelRegistry, ObjectModel, Path

P = Path.parse


def _pairs(text: str | bytes) -> list[tuple[str, dict[str, str | None]]]:
    return [(link.target, dict(link.attributes)) for link in parse_links(text)]


def test_bootstrap_discover_example_with_spaces_and_quotes() -> None:
    text = (
        '</>;lwm2m=1.1,</0/0>;ssid=101;uri="coaps://server_1.example.com", </0/1/>, '
        '</0/2>;ssid=102;uri="coaps://server_2.example.com"'
    )
    assert _pairs(text) == [
        ("/", {"lwm2m": "1.1"}),
        ("/0/0", {"ssid": "101", "uri": "coaps://server_1.example.com"}),
        ("/0/1/", {}),
        ("/0/2", {"ssid": "102", "uri": "coaps://server_2.example.com"}),
    ]
    assert [link.path for link in parse_links(text)] == [P("/"), P("/0/0"), P("/0/1"), P("/0/2")]


def test_quoted_values_hold_commas_semicolons_and_escapes() -> None:
    text = b'</>;ct="110 112 60";title="a,b;c \\"d\\"";rt="oma.lwm2m", </3/0>;pmin;pmax=60'
    assert _pairs(text) == [
        ("/", {"ct": "110 112 60", "title": 'a,b;c "d"', "rt": "oma.lwm2m"}),
        ("/3/0", {"pmin": None, "pmax": "60"}),
    ]


def test_paths_of_links() -> None:
    links = parse_links('</lwm2m>;rt="oma.lwm2m",</lwm2m/3/0>,</3/0/7>;dim=2,<coap://x/y>')
    assert [link.path for link in links] == [None, None, P("/3/0/7"), None]


def test_parser_tolerates_whitespace_and_trailing_comma() -> None:
    assert _pairs("  \n") == []
    assert _pairs(" </1/0> ,\t</3/0>;ver = 1.1 , ") == [("/1/0", {}), ("/3/0", {"ver": "1.1"})]


def test_first_occurrence_of_an_attribute_wins() -> None:
    assert _pairs("</3>;pmin=1;pmin=2") == [("/3", {"pmin": "1"})]


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("</1/1>,</2/0></2/1>", "expected ';' or ','"),
        ("</3>;pmin=60\n</4>;pmax=300", "unexpected '<'"),
        ("lwm2m=1.0,</0/0>", "starts with '<'"),
        ("</3", "without '>'"),
        ('</3>;uri="x', "not closed"),
        ("</3>;=5", "needs a name"),
        ("</3 0>", "bad link target"),
        (b"</3>\xff", "not UTF-8"),
    ],
)
def test_malformed_link_format(text: str | bytes, reason: str) -> None:
    with pytest.raises(CodecError, match=reason):
        parse_links(text)


def test_links_format_and_parse_back() -> None:
    links = [
        Link("/", {"rt": "oma.lwm2m", "ct": "110 112"}),
        Link("/3/0/7", {"dim": "2", "lt": "42.2", "pmin": None, "title": 'say "hi", ok'}),
    ]
    text = format_links(links)
    assert (
        text
        == '</>;rt="oma.lwm2m";ct="110 112",</3/0/7>;dim=2;lt=42.2;pmin;title="say \\"hi\\", ok"'
    )
    assert parse_links(text) == links


def test_register_payload_of_the_example_client() -> None:
    objects = [
        (0, "1.0", [0, 1]),
        (1, "1.0", [0, 1]),
        (2, "1.0", [0, 1, 2, 3, 4]),
        (3, "1.0", [0]),
        (4, "1.0", [0]),
        (5, "1.0", []),
    ]
    assert register_payload(objects, lwm2m_version="1.0") == (
        "</1/0>,</1/1>,</2/0>,</2/1>,</2/2>,</2/3>,</2/4>,</3/0>,</4/0>,</5>"
    )
    assert register_payload(objects, lwm2m_version="1.0", content_formats=[110]).startswith(
        "</>;ct=110,</1/0>"
    )
    assert register_payload(objects[:2], lwm2m_version="1.0", content_formats=[110, 112, 60]) == (
        '</>;ct="110 112 60",</1/0>,</1/1>'
    )


def test_register_payload_versions() -> None:
    objects = [
        ObjectEntry(3303, "1.1", [0, 1]),
        ObjectEntry(1, "1.0", [0, 1]),
        ObjectEntry(3, "1.1", [0]),
        ObjectEntry(3442, "1.0", []),
        ObjectEntry(44, "2.2", [0]),
    ]
    assert register_payload(objects, lwm2m_version="1.1") == (
        "</1>;ver=1.0,</1/0>,</1/1>,</3>;ver=1.1,</3/0>,</44>;ver=2.2,</44/0>,"
        "</3303>;ver=1.1,</3303/0>,</3303/1>,</3442>"
    )
    assert register_payload(objects[:2], lwm2m_version="1.0") == (
        "</1/0>,</1/1>,</3303>;ver=1.1,</3303/0>,</3303/1>"
    )


def test_register_payload_with_alternate_path() -> None:
    text = register_payload(
        [(1, "1.0", [0]), (5, "1.0", [])], lwm2m_version="1.0", alternate_path="lwm2m"
    )
    assert text == '</lwm2m>;rt="oma.lwm2m",</lwm2m/1/0>,</lwm2m/5>'


def test_security_oscore_and_cose_are_never_registered() -> None:
    text = register_payload(
        [(0, "1.1", [0]), (21, "1.0", [0]), (23, "1.0", [0]), (3, "1.0", [0])], lwm2m_version="1.0"
    )
    assert text == "</3/0>"


DEVICE_STRUCTURE = {
    0: {1: None, 2: None, 3: None, 4: None, 6: (0, 1), 7: (0, 1), 8: (1, 2), 11: (0,), 16: None}
}
ATTRIBUTES: dict[Path, dict[str, AttributeValue]] = {
    P("/3"): {"pmin": 10},
    P("/3/0"): {"pmax": 60},
    P("/3/0/7"): {"gt": 50.0, "lt": 42.2},
    P("/3/0/7/1"): {"lt": 45},
}


@pytest.fixture
def device_1_0(models: ModelRegistry) -> ObjectModel:
    return dataclasses.replace(models.get(3), version="1.0")


def test_discover_object(device_1_0: ObjectModel) -> None:
    text = discover_payload(P("/3"), device_1_0, DEVICE_STRUCTURE, ATTRIBUTES, lwm2m_version="1.0")
    assert text == (
        "</3>;pmin=10,</3/0>;pmax=60,</3/0/1>,</3/0/2>,</3/0/3>,</3/0/4>,</3/0/6>;dim=2,"
        "</3/0/7>;dim=2;gt=50;lt=42.2,</3/0/8>;dim=2,</3/0/11>;dim=1,</3/0/16>"
    )


def test_discover_object_says_its_version(models: ModelRegistry) -> None:
    links = discover_links(P("/3"), models.get(3), DEVICE_STRUCTURE, depth=0)
    assert [str(link) for link in links] == ["</3>;ver=1.1"]


def test_discover_resource_shows_inherited_attributes(device_1_0: ObjectModel) -> None:
    text = discover_payload(P("/3/0/7"), device_1_0, DEVICE_STRUCTURE, ATTRIBUTES)
    assert text == "</3/0/7>;dim=2;pmin=10;pmax=60;gt=50;lt=42.2,</3/0/7/0>,</3/0/7/1>;lt=45"


def test_discover_instance_depths(device_1_0: ObjectModel) -> None:
    assert discover_payload(P("/3/0"), device_1_0, DEVICE_STRUCTURE, ATTRIBUTES, depth=0) == (
        "</3/0>;pmin=10;pmax=60"
    )
    text = discover_payload(P("/3/0"), device_1_0, DEVICE_STRUCTURE, ATTRIBUTES, depth=3)
    assert "</3/0/8>;dim=2,</3/0/8/1>,</3/0/8/2>,</3/0/11>;dim=1,</3/0/11/0>" in text
    server = dataclasses.replace(device_1_0, id=1)
    text = discover_payload(
        P("/1"), server, {0: {}, 4: {}}, {P("/1/4"): {"pmax": 300}}, depth=1, lwm2m_version="1.0"
    )
    assert text == "</1>,</1/0>,</1/4>;pmax=300"


@pytest.mark.parametrize(
    ("path", "reason"),
    [
        ("/3/1", "no such object instance"),
        ("/3/0/5", "no such resource"),
        ("/4", "object 3"),
        ("/3/0/6/0", "cannot discover"),
    ],
)
def test_discover_refusals(device_1_0: ObjectModel, path: str, reason: str) -> None:
    with pytest.raises(CodecError, match=reason):
        discover_links(P(path), device_1_0, DEVICE_STRUCTURE)
