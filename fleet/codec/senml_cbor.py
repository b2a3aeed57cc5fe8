"""SenML CBOR (112): SenML records as a CBOR array of maps (RFC 8428 §6).

Labels are the RFC's integer labels (bver -1, bn -2, bt -3, bu -4, bv -5, bs -6,
n 0, u 1, v 2, vs 3, vb 4, s 5, t 6, ut 7, vd 8) and the text label ``"vlo"``
LwM2M adds for Objlnk. Opaque is a byte string. The writer puts map keys in
the order ``bn, bt, n, <value>, t``, which reproduces the LwM2M Core example
bytes; the reader accepts any order and the text labels too.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import Final

from fleet.codec import cborwire
from fleet.codec.base import ModelView
from fleet.codec.formats import ContentFormat
from fleet.codec.senml import Record, SenmlCodec
from fleet.codec.senml_cbor_writer import encode_read
from fleet.errors import CodecError
from fleet.model import Composite, Node, Path

LABELS: Final[dict[str, int | str]] = {
    "bver": -1,
    "bn": -2,
    "bt": -3,
    "bu": -4,
    "bv": -5,
    "bs": -6,
    "n": 0,
    "u": 1,
    "v": 2,
    "vs": 3,
    "vb": 4,
    "s": 5,
    "t": 6,
    "ut": 7,
    "vd": 8,
    "vlo": "vlo",
}
_BY_KEY: Final[dict[int | str, str]] = {key: name for name, key in LABELS.items()}
_ORDER: Final = frozenset(Record._fields)
_CHECKS: Final[dict[str, type | tuple[type, ...]]] = {
    "bn": str,
    "n": str,
    "vs": str,
    "vlo": str,
    "u": str,
    "bu": str,
    "vd": bytes,
    "vb": bool,
    "bver": int,
}


def _record(item: object, index: int) -> Record:
    if not isinstance(item, dict):
        raise CodecError(f"SenML record {index} is not a CBOR map")
    fields: dict[str, object] = {}
    for key, value in item.items():
        label = _BY_KEY.get(key) if isinstance(key, int | str) else None
        if label is None and isinstance(key, str):
            label = key if key in LABELS else None
        if label is None:
            if isinstance(key, str) and key.endswith("_"):
                raise CodecError(f"SenML record {index}: must-understand label {key!r:.30}")
            continue
        wanted = _CHECKS.get(label)
        if wanted is None and isinstance(value, cborwire.Tag):
            value = _decimal_fraction(value, index)
        if wanted is None:
            ok = isinstance(value, int | float) and not isinstance(value, bool)
        else:
            ok = isinstance(value, wanted) and (label == "vb" or not isinstance(value, bool))
        if not ok:
            raise CodecError(f"SenML record {index}: bad {label} ({type(value).__name__})")
        if label in _ORDER:
            fields[label] = value
    return Record(**fields)  # type: ignore[arg-type]


def _decimal_fraction(tag: cborwire.Tag, index: int) -> float:
    """RFC 8949 §3.4.4 decimal fraction ``4([exponent, mantissa])`` (some encoders use it)."""
    item = tag.value
    if tag.number == 4 and isinstance(item, list) and len(item) == 2:
        exponent, mantissa = item
        if (
            isinstance(exponent, int)
            and isinstance(mantissa, int)
            and not isinstance(exponent, bool)
            and not isinstance(mantissa, bool)
            and abs(exponent) <= 400
        ):
            return float(Decimal(mantissa).scaleb(exponent))
    raise CodecError(f"SenML record {index}: CBOR tag {tag.number} is not a number")


class SenmlCborWire:
    """Records to a SenML CBOR array and back."""

    content_format = ContentFormat.SENML_CBOR

    def dump(self, records: Sequence[Record]) -> bytes:
        out: list[dict[int | str, object]] = []
        for record in records:
            item: dict[int | str, object] = {}
            for label, value in zip(Record._fields, record, strict=True):
                if value is not None:
                    item[LABELS[label]] = value
            out.append(item)
        return cborwire.dumps(out)

    def load(self, payload: bytes) -> list[Record]:
        data = cborwire.loads(payload)
        if not isinstance(data, list):
            raise CodecError("a SenML CBOR pack is a CBOR array")
        return [_record(item, index) for index, item in enumerate(data)]


class SenmlCborCodec(SenmlCodec):
    """The SenML codec over CBOR; a node's answer is written in one pass when it can be
    (:mod:`fleet.codec.senml_cbor_writer`), otherwise through the records."""

    def encode(self, node: Node | Composite, path: Path, view: ModelView) -> bytes:
        if not isinstance(node, Composite):
            written = encode_read(node, path, view)
            if written is not None:
                return written
        return super().encode(node, path, view)


SENML_CBOR: Final = SenmlCborCodec(SenmlCborWire())
