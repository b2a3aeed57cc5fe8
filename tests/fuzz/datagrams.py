"""A seeded generator of hostile CoAP datagrams: random bytes and mutated valid requests.

The mutations start from well-formed LwM2M requests (every method, paths into every
shipped object, Observe, Block1/Block2, content formats, queries, payloads in each
format) and then flip bits, cut, splice, repeat options or garble option deltas. The same
seed gives the same datagrams, so a failure replays.
"""

from __future__ import annotations

import random
from collections.abc import Iterator

from fleet.client.coap.wire import CON, NON, Message, encode

GET, POST, PUT, DELETE, FETCH, IPATCH = 1, 2, 3, 4, 5, 7
PATHS = (
    "", "1", "1/0", "1/0/1", "3", "3/0", "3/0/0", "3/0/13", "3/0/4", "3303/0/5700",
    "3442/0", "3442/0/110", "3442/0/130", "3442/0/1110/3", "3442/0/3", "0/0/5", "rd",
    "rd/1", "dp", "65535/65535/65535/65535", "3/-1", "3/0/x", "%00", "a/b/c/d/e/f",
)  # fmt: skip
PAYLOADS = (
    b"", b"1", b"-1", b"NaN", b"1e400", b"hello", b"\x00" * 64, b"\xff" * 16,
    b'[{"n":"/3442/0/110","vs":"x"}]', b'[{"bn":"/3442/0/","n":"130","v":1e308}]',
    b"\xc8\x82\x08\x7f\xf0\x00\x00\x00\x00\x00\x00", b"\x81\xa2\x00a\x01\x02",
    b"</1/0>,</3/0>", b"0='a',1", b"{" * 200,
)  # fmt: skip
FORMATS = (None, 0, 40, 42, 60, 110, 112, 11542, 11543, 11544, 65535)


def valid_request(rng: random.Random) -> bytes:
    """One well-formed request, randomly put together."""
    code = rng.choice((GET, POST, PUT, DELETE, FETCH, IPATCH))
    path = rng.choice(PATHS)
    message = Message(code=code, uri_path=tuple(p for p in path.split("/") if p))
    options = message.opt
    fmt = rng.choice(FORMATS)
    if fmt is not None:
        options.content_format = fmt
    if rng.random() < 0.3:
        options.accept = rng.choice([f for f in FORMATS if f is not None])
    if rng.random() < 0.3:
        options.observe = rng.choice((0, 1, 2, 0xFFFFFF))
    if rng.random() < 0.2:
        options.uri_query = tuple(
            rng.choice(("pmin=1", "pmax=0", "gt=NaN", "lt=1e400", "st=-1", "ep=x", "lt=0"))
            for _ in range(rng.randint(1, 4))
        )
    if rng.random() < 0.15:
        options.block1 = (rng.randint(0, 4), rng.random() < 0.5, rng.randint(0, 6))
    if rng.random() < 0.15:
        options.block2 = (rng.randint(0, 4), False, rng.randint(0, 6))
    token = rng.randbytes(rng.randint(0, 8))
    mtype = rng.choice((CON, CON, NON))
    return encode(mtype, code, rng.getrandbits(16), token, options, rng.choice(PAYLOADS))


def mutate(data: bytes, rng: random.Random) -> bytes:
    """``data`` damaged in one of several ways."""
    raw = bytearray(data)
    how = rng.randrange(6)
    if how == 0 and raw:  # flip bits
        for _ in range(rng.randint(1, 4)):
            raw[rng.randrange(len(raw))] ^= 1 << rng.randrange(8)
    elif how == 1 and len(raw) > 1:  # cut
        del raw[rng.randrange(1, len(raw)) :]
    elif how == 2:  # splice random bytes in
        at = rng.randrange(len(raw) + 1)
        raw[at:at] = rng.randbytes(rng.randint(1, 16))
    elif how == 3 and len(raw) > 4:  # garble the byte after the header (token/options)
        raw[4 + rng.randrange(len(raw) - 4)] = rng.choice((0xFF, 0xF0, 0x0F, 0xDD, 0xEE))
    elif how == 4 and len(raw) > 4:  # repeat the options many times
        raw[4:4] = bytes(raw[4:]) * rng.randint(2, 8)
    elif raw:  # set the header's token length beyond the message
        raw[0] = (raw[0] & 0xF0) | rng.randint(9, 15)
    return bytes(raw)


def datagrams(seed: int, count: int) -> Iterator[bytes]:
    """``count`` hostile datagrams: a third random bytes, the rest mutated or plain requests."""
    rng = random.Random(seed)
    for _ in range(count):
        kind = rng.random()
        if kind < 0.3:
            yield rng.randbytes(rng.randint(0, 64))
        elif kind < 0.85:
            yield mutate(valid_request(rng), rng)
        else:
            yield valid_request(rng)
