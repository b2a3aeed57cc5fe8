"""cbor2's C decoder as a fast path of :func:`fleet.codec.cborwire.loads`, used only when its
answer is provably the one our own reader gives.

The embedded server decodes a SenML CBOR answer on every Register it reads /3 from; our
pure-Python reader spent ~70 µs on a 22-record /3, cbor2's C extension ~6 µs. But cbor2
decodes more than our data model (tags to ``datetime``, ``Decimal``, bignums to ``int``;
simple values; float, bool and map keys) and accepts trailing bytes. :func:`fast_loads`
therefore decodes with every tag refused (its tag hook and every tag cbor2 knows itself
raise) and duplicate keys refused, then checks that the result lies in our data model (exact
types ``int``, ``float``, ``str``, ``bytes``, ``bool``, ``None``, ``list``, ``dict`` with
``int``/``str``/array keys, no deeper than the reader allows, no NaN: cbor2 keeps a NaN's
payload bits, our reader does not) and that nothing follows the item. Otherwise it answers
:data:`NOT_PLAIN` and the caller decodes with our reader, which also words every error.
``tests/codec/test_cbor_fast.py`` checks both give the same on hypothesis-drawn items and
bytes, on every half-precision float, and on every tag number cbor2 decodes itself.
"""

from __future__ import annotations

import io
from collections.abc import Iterable
from typing import Any, Final

import cbor2

NOT_PLAIN: Final = object()
"""What :func:`fast_loads` answers when our own reader must decode the payload."""

SEMANTIC_TAGS: Final = (0, 1, 2, 3, 4, 5, 25, 28, 29, 30, 35, 36, 37, 52, 54, 100, 256, 258)
SEMANTIC_TAGS_MORE: Final = (260, 261, 1004, 55799)
"""The tag numbers cbor2 6 decodes itself (the rest go to its tag hook)."""


class _Refused(Exception):
    """A tag in the payload: our reader keeps it as a :class:`~fleet.codec.cborwire.Tag`."""


def _refuse(*_: Any) -> Any:
    raise _Refused


_REFUSE_ALL: Final = dict.fromkeys(SEMANTIC_TAGS + SEMANTIC_TAGS_MORE, _refuse)
_SCALARS: Final = frozenset({int, float, str, bytes, bool, type(None)})
_KEYS: Final = frozenset({int, str})


def fast_loads(data: bytes, max_depth: int) -> object:
    """The item cbor2 decodes from ``data``, or :data:`NOT_PLAIN` if it might differ from ours."""
    stream = io.BytesIO(data)
    try:
        decoder = cbor2.CBORDecoder(
            stream,
            tag_hook=_refuse,
            semantic_decoders=_REFUSE_ALL,
            allow_duplicate_keys=False,
            max_depth=max_depth + 2,
        )
        item = decoder.decode()
    except Exception:  # every refusal and error is our reader's to report (and word)
        return NOT_PLAIN
    if stream.tell() != len(data) or not _plain(item, 0, max_depth):
        return NOT_PLAIN
    return item


def _plain(item: object, depth: int, max_depth: int) -> bool:
    """Whether ``item`` (found at ``depth``) is what our reader builds from the same bytes.

    Type sets are taken in C (``map(type, ...)``): a SenML record's keys and values are
    checked without a Python call per entry."""
    if depth > max_depth:
        return False
    kind = type(item)
    if kind in _SCALARS:
        return item == item  # a NaN: our reader does not keep its payload bits, cbor2 does
    if kind is list:
        elements: list[object] = item  # type: ignore[assignment]
        if not elements:
            return True
        kinds = set(map(type, elements))
        if _SCALARS.issuperset(kinds):
            return depth + 1 <= max_depth and (float not in kinds or _no_nan(elements))
        return all(_plain(element, depth + 1, max_depth) for element in elements)
    if kind is not dict:
        return False
    entries: dict[object, object] = item  # type: ignore[assignment]
    if not entries:
        return True
    if depth + 1 > max_depth:
        return False
    if not _KEYS.issuperset(map(type, entries)) and not all(
        _key(key, depth + 1, max_depth) for key in entries
    ):
        return False
    kinds = set(map(type, entries.values()))
    if _SCALARS.issuperset(kinds):
        return float not in kinds or _no_nan(entries.values())
    return all(_plain(value, depth + 1, max_depth) for value in entries.values())


def _no_nan(values: Iterable[object]) -> bool:
    return all(value == value for value in values)


def _key(key: object, depth: int, max_depth: int) -> bool:
    """A map key our reader accepts: an integer, a text, or an array of them (a tuple)."""
    kind = type(key)
    if kind is int or kind is str:
        return True
    if kind is not tuple:
        return False
    parts: tuple[object, ...] = key  # type: ignore[assignment]
    return not parts or (depth + 1 <= max_depth and _KEYS.issuperset(map(type, parts)))
