"""The wire module's kept decodings and encodings give what aiocoap itself gives."""

from __future__ import annotations

import pytest
from aiocoap import Message
from aiocoap.error import UnparsableMessage
from aiocoap.numbers.codes import Code
from aiocoap.numbers.types import Type
from hypothesis import given
from hypothesis import strategies as st

from fleet.client.coap import wire

from .helpers import build

REMOTE = ("127.0.0.1", 5683)


def same_message(ours: Message, theirs: Message) -> None:
    assert (ours.mtype, ours.mid, ours.code, ours.token) == (
        theirs.mtype,
        theirs.mid,
        theirs.code,
        theirs.token,
    )
    assert ours.payload == theirs.payload and ours.remote == theirs.remote
    assert ours.direction == theirs.direction and ours.version == theirs.version
    assert ours.opt.encode() == theirs.opt.encode()
    assert ours.opt.uri_path == theirs.opt.uri_path and ours.opt.accept == theirs.opt.accept
    assert type(ours.mtype) is Type and type(ours.code) is Code


GET_3_0 = {"uri_path": ("3", "0"), "accept": 112}


@given(
    mtype=st.sampled_from([0, 1]),
    mid=st.integers(0, 0xFFFF),
    token=st.binary(max_size=8),
    path=st.lists(st.sampled_from(["3", "0", "1", "3303", "rd"]), max_size=4),
    query=st.lists(st.sampled_from(["pmin=1", "pmax=5"]), max_size=2),
)
def test_decode_equals_aiocoap_first_and_then(
    mtype: int, mid: int, token: bytes, path: list[str], query: list[str]
) -> None:
    data = build(mtype, 1, mid, token, uri_path=tuple(path), uri_query=tuple(query))
    reference = Message.decode(data, REMOTE)
    first = wire.decode(data, REMOTE)  # maybe decoded, maybe kept from an earlier example
    again = wire.decode(data, REMOTE)  # kept now
    same_message(first, reference)
    same_message(again, reference)


def test_each_decoded_message_has_its_own_options() -> None:
    data = build(0, 1, 7, b"ab", **GET_3_0)
    first = wire.decode(data, REMOTE)
    first.opt.uri_path = ("9",)
    first.opt.accept = None
    second = wire.decode(build(0, 1, 8, b"cd", **GET_3_0), REMOTE)
    assert second.opt.uri_path == ("3", "0") and second.opt.accept == 112
    assert (second.mid, second.token) == (8, b"cd")


def test_a_payload_is_decoded_every_time() -> None:
    wire._decoded.clear()
    data = build(0, 3, 9, b"t", payload=b"value", uri_path=("3", "0", "0"))
    assert wire.decode(data, REMOTE).payload == b"value"
    assert not wire._decoded
    assert wire.decode(data, REMOTE).payload == b"value"


def test_long_options_are_not_kept() -> None:
    wire._decoded.clear()
    data = build(0, 1, 9, b"t", uri_path=("x" * wire.MAX_KEPT_OPTIONS,))
    same_message(wire.decode(data, REMOTE), Message.decode(data, REMOTE))
    assert not wire._decoded


def test_malformed_options_still_raise() -> None:
    data = build(0, 1, 9, b"t", uri_path=("3",))
    wire.decode(data, REMOTE)  # the well-formed part is kept
    with pytest.raises(UnparsableMessage):
        wire.decode(data + b"\x01", REMOTE)  # an option announcing a byte that is absent


def test_kept_decodings_are_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(wire, "MAX_KEPT", 3)
    wire._decoded.clear()
    for number in range(10):
        data = build(0, 1, number, b"", uri_path=(str(number),))
        assert wire.decode(data, REMOTE).opt.uri_path == (str(number),)
        assert len(wire._decoded) <= 3


@pytest.mark.parametrize("fmt", [0, 40, 112, 11542, 11543])
def test_content_equals_a_message(fmt: int) -> None:
    ours = wire.content(69, b"payload", fmt)
    theirs = Message(code=69, payload=b"payload", content_format=fmt)
    assert ours.code == theirs.code and type(ours.code) is Code
    assert ours.payload == theirs.payload and ours.opt.content_format == fmt
    assert ours.opt.encode() == theirs.opt.encode()
    assert (ours.mtype, ours.mid, ours.token, ours.remote) == (None, None, b"", None)
    ours.opt.observe = 3  # its options are its own
    assert wire.content(69, b"", fmt).opt.observe is None


@pytest.mark.parametrize(
    "options",
    [
        {},
        {"content_format": 112},
        {"observe": 5},
        {"content_format": 0, "observe": 2},
        {"location_path": ("rd", "abc")},
        {"etag": b"\x01\x02"},
    ],
)
def test_encode_equals_aiocoap(options: dict[str, object]) -> None:
    message = Message(code=69, payload=b"x", _mtype=Type.ACK, _mid=0x1234, _token=b"tk")
    for name, value in options.items():
        setattr(message.opt, name, value)
    expected = message.encode()
    for _ in range(2):  # the second time from the kept bytes
        assert wire.encode(2, 69, 0x1234, b"tk", message.opt, b"x") == expected


@pytest.mark.parametrize(
    ("options", "plain"),
    [
        ({}, True),
        ({"uri_path": ("3", "0"), "accept": 112, "uri_query": ("a=1",)}, True),
        ({"uri_host": "h", "uri_port": 1, "content_format": 0}, True),
        ({"observe": 0}, False),
        ({"block2": (1, 0, 6)}, False),
        ({"block1": (0, 1, 6)}, False),
        ({"size1": 10}, False),
        ({"if_none_match": True}, False),
    ],
)
def test_plain_requests_have_only_options_left_to_the_handler(
    options: dict[str, object], plain: bool
) -> None:
    message = Message(code=1)
    for name, value in options.items():
        setattr(message.opt, name, value)
    assert wire.is_plain(message) is plain
    assert wire.is_plain(wire.decode(build(0, 1, 1, b"", **options), REMOTE)) is plain
