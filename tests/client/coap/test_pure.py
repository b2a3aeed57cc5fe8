"""Pure parts of the CoAP layer: parameters, retransmission schedule, dedup, freshness,
block slicing and Block1 assembly, header encoding."""

from __future__ import annotations

import random

import pytest
from aiocoap import Message
from aiocoap.numbers.codes import Code
from aiocoap.numbers.types import Type
from hypothesis import given
from hypothesis import strategies as st

from fleet.client.coap.blockwise import (
    BAD_REQUEST,
    CONTINUE,
    REQUEST_ENTITY_INCOMPLETE,
    REQUEST_ENTITY_TOO_LARGE,
    Block1Assembler,
    block_size,
    body_etag,
    needs_blocks,
    negotiate_szx,
    slice_block,
)
from fleet.client.coap.dedup import DedupCache
from fleet.client.coap.observe import is_fresh, next_sequence
from fleet.client.coap.params import EndpointLimits, TransmissionParameters
from fleet.client.coap.retransmit import initial_timeout, schedule
from fleet.client.coap.wire import copy_options, empty_message, encode, unknown_critical_option

# -- transmission parameters (RFC 7252 §4.8.2) ---------------------------------------------


def test_derived_parameters_match_rfc_7252() -> None:
    params = TransmissionParameters()
    assert params.max_transmit_span == pytest.approx(45.0)
    assert params.max_transmit_wait == pytest.approx(93.0)
    assert params.max_rtt == pytest.approx(202.0)
    assert params.exchange_lifetime == pytest.approx(247.0)
    assert params.non_lifetime == pytest.approx(145.0)


def test_derived_parameters_follow_changes() -> None:
    params = TransmissionParameters(ack_timeout=1.0, ack_random_factor=1.0, max_retransmit=2)
    assert params.max_transmit_span == pytest.approx(3.0)
    assert params.max_transmit_wait == pytest.approx(7.0)


@pytest.mark.parametrize(
    "kwargs",
    [{"ack_timeout": 0}, {"ack_random_factor": 0.9}, {"max_retransmit": -1}, {"nstart": 0}],
)
def test_invalid_parameters_are_refused(kwargs: dict[str, float]) -> None:
    with pytest.raises(ValueError):
        TransmissionParameters(**kwargs)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "kwargs",
    [{"dedup_max_entries": 0}, {"dedup_max_age": 0}, {"block_szx": 7}, {"max_observers": 0}],
)
def test_invalid_limits_are_refused(kwargs: dict[str, float]) -> None:
    with pytest.raises(ValueError):
        EndpointLimits(**kwargs)  # type: ignore[arg-type]


def test_limit_defaults_come_from_parameters() -> None:
    params = TransmissionParameters(ack_timeout=1.0)
    assert EndpointLimits().dedup_age(params) == params.exchange_lifetime
    assert EndpointLimits(dedup_max_age=5).dedup_age(params) == 5
    assert EndpointLimits().response_wait(params) == params.max_transmit_wait


# -- retransmission --------------------------------------------------------------------------


def test_schedule_doubles_and_gives_up_after_max_retransmit() -> None:
    plan = schedule(TransmissionParameters(), 2.0)
    assert plan.retransmissions == (2.0, 6.0, 14.0, 30.0)
    assert plan.give_up == 62.0


def test_slowest_schedule_gives_up_at_max_transmit_wait() -> None:
    params = TransmissionParameters()
    plan = schedule(params, params.ack_timeout * params.ack_random_factor)
    assert plan.give_up == pytest.approx(params.max_transmit_wait)
    assert plan.retransmissions[-1] == pytest.approx(params.max_transmit_span)


def test_no_retransmission_when_max_retransmit_is_zero() -> None:
    assert schedule(TransmissionParameters(max_retransmit=0), 2.0).retransmissions == ()


@given(st.integers(min_value=0, max_value=2**32))
def test_initial_timeout_stays_within_the_random_range(seed: int) -> None:
    params = TransmissionParameters()
    timeout = initial_timeout(params, random.Random(seed))
    assert params.ack_timeout <= timeout <= params.ack_timeout * params.ack_random_factor


def test_initial_timeout_is_reproducible_from_the_injected_generator() -> None:
    params = TransmissionParameters()
    first = [initial_timeout(params, random.Random(3)) for _ in range(2)]
    assert first[0] == first[1]
    assert initial_timeout(params, random.Random(4)) != first[0]


# -- deduplication ---------------------------------------------------------------------------


def test_dedup_remembers_and_replays_reply() -> None:
    cache = DedupCache(max_entries=4, max_age=10)
    key = (("127.0.0.1", 1), 7)
    assert cache.find(key, 0.0) is None
    cache.add(key, 0.0)
    cache.set_reply(key, b"ack")
    entry = cache.find(key, 1.0)
    assert entry is not None and entry.reply == b"ack"
    assert cache.duplicates == 1


def test_dedup_is_bounded_by_count_oldest_first() -> None:
    cache = DedupCache(max_entries=3, max_age=100)
    for mid in range(5):
        cache.add(mid, float(mid))
    assert len(cache) == 3
    assert cache.evicted == 2
    assert cache.find(0, 5.0) is None and cache.find(1, 5.0) is None
    assert cache.find(4, 5.0) is not None


def test_dedup_entries_expire_by_age() -> None:
    cache = DedupCache(max_entries=100, max_age=10)
    cache.add("a", 0.0)
    cache.add("b", 5.0)
    assert cache.find("a", 9.9) is not None
    assert cache.find("a", 10.0) is None
    assert len(cache) == 1
    cache.expire(15.0)
    assert len(cache) == 0
    assert cache.oldest_stamp() is None


@given(st.lists(st.tuples(st.integers(0, 20), st.floats(0, 5)), max_size=60))
def test_dedup_never_exceeds_its_bounds(events: list[tuple[int, float]]) -> None:
    cache = DedupCache(max_entries=5, max_age=3.0)
    now = 0.0
    for key, step in events:
        now += step
        entry = cache.find(key, now)
        if entry is None:
            cache.add(key, now)
            oldest = cache.oldest_stamp()
            assert oldest is not None and now - oldest < 3.0  # adding expires old entries
        else:
            assert now - entry.stamp < 3.0  # an expired entry is never a duplicate
        assert len(cache) <= 5


# -- observe freshness (RFC 7641 §3.4) -------------------------------------------------------


@pytest.mark.parametrize(
    ("v1", "v2", "t2", "fresh"),
    [
        (5, 6, 0.0, True),
        (6, 5, 0.0, False),
        (5, 5, 0.0, False),
        (0xFFFFFF, 0, 0.0, True),  # wrapped around
        (0, 0xFFFFFF, 0.0, False),
        (10, 10 + 2**23 - 1, 0.0, True),
        (10, 10 + 2**23, 0.0, False),  # too far ahead: looks older
        (2**23 + 11, 10, 0.0, True),  # far behind means wrapped, newer
        (6, 5, 128.0, False),  # the window is exclusive
        (6, 5, 128.5, True),  # after 128 s anything is fresh
    ],
)
def test_freshness_rule(v1: int, v2: int, t2: float, fresh: bool) -> None:
    assert is_fresh(v1, 0.0, v2, t2) is fresh


def test_sequence_wraps_at_24_bits() -> None:
    assert next_sequence(5) == 6
    assert next_sequence(0xFFFFFF) == 0


# -- block-wise ------------------------------------------------------------------------------


def test_block_sizes() -> None:
    assert [block_size(szx) for szx in range(7)] == [16, 32, 64, 128, 256, 512, 1024]
    assert block_size(7) == 1024


def test_szx_negotiation_honours_smaller_requests_only() -> None:
    assert negotiate_szx(6, None) == 6
    assert negotiate_szx(6, 2) == 2
    assert negotiate_szx(4, 6) == 4


def test_slicing_covers_the_body_exactly() -> None:
    body = bytes(range(256)) * 10  # 2560 bytes
    parts = []
    number = 0
    while True:
        part = slice_block(body, number, 6)
        assert part is not None
        chunk, more = part
        parts.append(chunk)
        if not more:
            break
        number += 1
    assert [len(p) for p in parts] == [1024, 1024, 512]
    assert b"".join(parts) == body
    assert slice_block(body, 3, 6) is None
    assert slice_block(b"", 0, 6) == (b"", False)
    assert needs_blocks(1025, 6) and not needs_blocks(1024, 6)


def test_etag_depends_on_the_body() -> None:
    assert body_etag(b"a") == body_etag(b"a")
    assert body_etag(b"a") != body_etag(b"b")
    assert len(body_etag(b"a")) == 4


def _assembler(**kwargs: float) -> Block1Assembler:
    options = {"max_transfers": 2, "max_body": 64, "max_age": 10.0, "szx": 6}
    options.update(kwargs)
    return Block1Assembler(**options)  # type: ignore[arg-type]


def test_block1_assembles_in_order() -> None:
    assembler = _assembler()
    assert assembler.feed("k", 0, True, 0, b"a" * 16, 0.0).code == CONTINUE
    assert assembler.feed("k", 1, True, 0, b"b" * 16, 0.0).code == CONTINUE
    outcome = assembler.feed("k", 2, False, 0, b"c" * 5, 0.0)
    assert outcome.code is None
    assert outcome.body == b"a" * 16 + b"b" * 16 + b"c" * 5
    assert len(assembler) == 0


def test_block1_rejects_gaps_sizes_and_overflow() -> None:
    assembler = _assembler()
    assert assembler.feed("k", 1, True, 0, b"x" * 16, 0.0).code == REQUEST_ENTITY_INCOMPLETE
    assert assembler.feed("k", 0, True, 0, b"x" * 15, 0.0).code == BAD_REQUEST
    assert assembler.feed("k", 0, True, 0, b"x" * 16, 0.0, size1=65).code == (
        REQUEST_ENTITY_TOO_LARGE
    )
    for number in range(4):
        assert assembler.feed("k", number, True, 0, b"x" * 16, 0.0).code == CONTINUE
    assert assembler.feed("k", 4, True, 0, b"x" * 16, 0.0).code == REQUEST_ENTITY_TOO_LARGE


def test_block1_bounds_open_transfers_and_their_age() -> None:
    assembler = _assembler()
    for key in ("a", "b", "c"):
        assembler.feed(key, 0, True, 0, b"x" * 16, 0.0)
    assert len(assembler) == 2
    assert assembler.feed("a", 1, True, 0, b"x" * 16, 0.0).code == REQUEST_ENTITY_INCOMPLETE
    assert assembler.feed("c", 1, True, 0, b"x" * 16, 11.0).code == REQUEST_ENTITY_INCOMPLETE


def test_block1_continue_asks_for_our_smaller_size() -> None:
    assembler = _assembler(szx=1, max_body=4096)
    outcome = assembler.feed("k", 0, True, 6, b"x" * 1024, 0.0)
    assert (outcome.code, outcome.szx) == (CONTINUE, 1)
    # the peer switches to 32-byte blocks: block 32 starts at byte 1024
    assert assembler.feed("k", 32, False, 1, b"y" * 3, 0.0).body == b"x" * 1024 + b"yyy"


# -- wire --------------------------------------------------------------------------------------


def test_encode_matches_aiocoap() -> None:
    message = Message(code=Code.CONTENT, payload=b"22.5", content_format=0, observe=12)
    ours = encode(2, Code.CONTENT, 0x1234, b"\x01\x02", message.opt, message.payload)
    message.mtype, message.mid, message.token = Type.ACK, 0x1234, b"\x01\x02"
    assert ours == message.encode()
    assert empty_message(3, 0xABCD) == b"\x70\x00\xab\xcd"


def test_unknown_critical_options_are_found() -> None:
    message = Message(code=Code.GET, uri_path=("3", "0"))
    assert unknown_critical_option(message) is None
    message.opt.oscore = b""  # option 9: critical, not supported here
    assert unknown_critical_option(message) == 9


def test_copy_options_drops_only_what_is_asked() -> None:
    message = Message(code=Code.GET, uri_path=("a",), observe=0, accept=60)
    copied = copy_options(message.opt, frozenset({6}))
    assert copied.uri_path == ("a",) and copied.accept == 60 and copied.observe is None
    assert message.opt.observe == 0


def test_dedup_expires_an_entry_exactly_when_its_sweep_is_due() -> None:
    # 0.1 + 247.0 == 247.1 but 247.1 - 247.0 < 0.1 in binary floating point: the entry must
    # go at the moment the sweep timer (armed at stamp + max_age) fires, or the sweep re-arms
    # for the same instant forever.
    cache = DedupCache(max_entries=10, max_age=247.0)
    cache.add("a", 0.1)
    cache.add("b", 0.2)
    due = cache.oldest_stamp()
    assert due is not None
    cache.expire(due + cache.max_age)
    assert cache.oldest_stamp() == 0.2
