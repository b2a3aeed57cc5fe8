"""cborwire.loads (cbor2's C decoder where it vouches) answers exactly what our reader answers."""

from __future__ import annotations

import struct

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from fleet.codec import cborwire
from fleet.codec.cbor_fast import NOT_PLAIN, fast_loads
from fleet.errors import CodecError

SETTINGS = settings(max_examples=600, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def canon(item: object) -> object:
    """``item`` with every type made explicit (``1 == True == 1.0`` in Python) and floats
    as their bits (NaN), map entries in order."""
    if isinstance(item, bool):
        return ("bool", item)
    if isinstance(item, int):
        return ("int", item)
    if isinstance(item, float):
        return ("float", struct.pack(">d", item))
    if isinstance(item, cborwire.Tag):
        return ("tag", item.number, canon(item.value))
    if isinstance(item, list):
        return ("list", [canon(e) for e in item])
    if isinstance(item, tuple):
        return ("tuple", [canon(e) for e in item])
    if isinstance(item, dict):
        return ("dict", [(canon(k), canon(v)) for k, v in item.items()])
    return (type(item).__name__, item)


def outcome(decode: object, data: bytes) -> object:
    try:
        return ("ok", canon(decode(data)))  # type: ignore[operator]
    except CodecError as error:
        return ("error", str(error))


def same(data: bytes) -> None:
    assert outcome(cborwire.loads, data) == outcome(cborwire.reference_loads, data)


# -- CBOR bytes, built head by head: any width of an argument, indefinite lengths, every
#    float width, tags (cbor2's own ones too), simple values, any item as a map key


def head(major: int, value: int, wider: int) -> bytes:
    widths = [w for w in (0, 1, 2, 4, 8) if value < (24 if w == 0 else 1 << (8 * w))]
    width = widths[min(wider, len(widths) - 1)]
    if width == 0:
        return bytes([major << 5 | value])
    info = {1: 24, 2: 25, 4: 26, 8: 27}[width]
    return bytes([major << 5 | info]) + value.to_bytes(width, "big")


TAGS = st.sampled_from([0, 1, 2, 3, 4, 5, 25, 28, 29, 30, 37, 100, 256, 258, 1004, 55799, 6, 99])
wider = st.integers(0, 4)
unsigned = st.integers(0, 2**64 - 1) | st.integers(0, 30)
scalars = st.one_of(
    st.builds(head, st.just(0), unsigned, wider),
    st.builds(head, st.just(1), unsigned, wider),
    st.builds(lambda b, w: head(2, len(b), w) + b, st.binary(max_size=8), wider),
    st.builds(lambda t, w: head(3, len(t), w) + t, st.text(max_size=8).map(str.encode), wider),
    st.builds(lambda b: head(3, len(b), 0) + b, st.binary(max_size=4)),  # UTF-8 or not
    st.sampled_from([b"\xf4", b"\xf5", b"\xf6", b"\xf7", b"\xf0", b"\xf8\x20", b"\xff"]),
    st.builds(lambda b: b"\xf9" + b, st.binary(min_size=2, max_size=2)),
    st.builds(lambda b: b"\xfa" + b, st.binary(min_size=4, max_size=4)),
    st.builds(lambda b: b"\xfb" + b, st.binary(min_size=8, max_size=8)),
    st.builds(lambda f: b"\xfb" + struct.pack(">d", f), st.floats()),
)


def containers(children: st.SearchStrategy[bytes]) -> st.SearchStrategy[bytes]:
    items = st.lists(children, max_size=4)
    return st.one_of(
        st.builds(lambda xs, w: head(4, len(xs), w) + b"".join(xs), items, wider),
        st.builds(lambda xs: b"\x9f" + b"".join(xs) + b"\xff", items),
        st.builds(
            lambda kv, w: head(5, len(kv), w) + b"".join(k + v for k, v in kv),
            st.lists(st.tuples(children, children), max_size=3),
            wider,
        ),
        st.builds(
            lambda kv: b"\xbf" + b"".join(k + v for k, v in kv) + b"\xff",
            st.lists(st.tuples(children, children), max_size=3),
        ),
        st.builds(lambda t, x: head(6, t, 0) + x, TAGS, children),
        st.builds(lambda xs: b"\x7f" + b"".join(xs) + b"\xff", items),  # chunks, any type
    )


cbor_items = st.recursive(scalars, containers, max_leaves=12)

plain_items = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**64), 2**64 - 1)
    | st.floats(allow_nan=False)  # a NaN goes to our reader (the module docstring says why)
    | st.text(max_size=6)
    | st.binary(max_size=6),
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.dictionaries(st.integers(-30, 30) | st.text(max_size=3), inner, max_size=4)
    ),
    max_leaves=16,
)


@SETTINGS
@given(cbor_items, st.binary(max_size=2), st.booleans())
@example(b"\xa2\x01\x01\x01\x02", b"", False)  # a duplicate key
@example(b"\x01", b"\x02", True)  # a trailing byte
@example(b"\xc2\x41\x01", b"", False)  # a bignum: cbor2 would say 1
@example(b"\xd8\x1c\x81\x01", b"", False)  # a shared value: cbor2 would say [1]
@example(b"\xa1\xf5\x01", b"", False)  # a bool key
@example(b"\xa1\x82\x01\x81\x02\x03", b"", False)  # an array key holding an array
def test_drawn_cbor_decodes_the_same(item: bytes, tail: bytes, with_tail: bool) -> None:
    same(item + tail if with_tail else item)


@SETTINGS
@given(st.binary(max_size=24))
def test_random_bytes_decode_the_same(data: bytes) -> None:
    same(data)


@SETTINGS
@given(plain_items)
def test_our_own_encoding_is_taken_by_the_fast_path(item: object) -> None:
    data = cborwire.dumps(item)
    assert fast_loads(data, cborwire.MAX_DEPTH) is not NOT_PLAIN
    same(data)


def test_every_half_precision_float_is_the_same() -> None:
    for bits in range(1 << 16):
        same(b"\xf9" + bits.to_bytes(2, "big"))


def test_every_tag_cbor2_knows_is_left_to_our_reader() -> None:
    numbers = [*range(1100), 22098, 55799, 55800, 65535, 65536, 2**32 - 1]
    payloads = [b"\x01", b"\x41\x01", b"\x61a", b"\x82\x01\x02", b"\x80", b"\xa0"]
    payloads.append(b"\x1a\x00\x01\x00\x00")
    for number in numbers:
        for payload in payloads:
            same(head(6, number, 0) + payload)


def test_nesting_at_and_past_the_limit() -> None:
    for depth in range(cborwire.MAX_DEPTH - 2, cborwire.MAX_DEPTH + 3):
        same(b"\x81" * depth + b"\x01")
        same(b"\xa1\x01" * depth + b"\x01")
        same(b"\x81" * depth + b"\xa1\x81\x01\x02")  # an array key at the limit
        same(b"\x81" * depth + b"\xa1\x80\x02")


def test_a_senml_read_answer_takes_the_fast_path() -> None:
    records = [{-2: "/3/0/", 0: "0", 3: "Open Mobile Alliance"}, {0: "9", 2: 87}, {0: "13", 2: 1.5}]
    data = cborwire.dumps(records)
    assert fast_loads(data, cborwire.MAX_DEPTH) == records
    assert cborwire.loads(data) == records
