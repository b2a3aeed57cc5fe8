"""SenML JSON (110): SenML records as a JSON array (RFC 8428 §5).

Labels are the RFC's text labels plus LwM2M's ``vlo``. Opaque values (``vd``)
are base64url without padding (RFC 8428 §5; both alphabets and padding are
accepted on decode). Output is compact JSON, UTF-8, keys in the order
``bn, bt, n, <value>, t`` as the LwM2M examples write them. NaN and infinities
have no JSON form and are refused.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Final

from fleet.codec import json_text
from fleet.codec.formats import ContentFormat
from fleet.codec.senml import Record, SenmlCodec
from fleet.codec.values import b64_decode, b64_url
from fleet.errors import CodecError
from fleet.model import Path

_NUMBER_FIELDS: Final = frozenset({"bt", "bv", "t", "v", "s", "bs", "ut"})
_TEXT_FIELDS: Final = frozenset({"bn", "n", "vs", "vd", "vlo", "u", "bu"})
_ORDER: Final = frozenset(Record._fields)


def loads_json(payload: bytes) -> object:
    """Parse JSON text strictly (no NaN/Infinity, no unbounded nesting)."""
    try:
        text = payload.decode("utf-8")
        return json_text.loads(text)
    except UnicodeDecodeError:
        raise CodecError("JSON payload is not UTF-8") from None
    except RecursionError:
        raise CodecError("JSON payload is nested too deeply") from None
    except ValueError as exc:
        raise CodecError(f"payload is not valid JSON: {exc}") from None


def dumps_json(data: object) -> bytes:
    try:
        return json.dumps(data, separators=(",", ":"), ensure_ascii=False, allow_nan=False).encode()
    except ValueError as exc:
        raise CodecError(f"cannot write JSON: {exc}") from None


def _record(item: object, index: int) -> Record:
    if not isinstance(item, dict):
        raise CodecError(f"SenML record {index} is not a JSON object")
    fields: dict[str, object] = {}
    for label, value in item.items():
        if label in _NUMBER_FIELDS:
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise CodecError(f"SenML record {index}: {label} must be a number")
        elif label in _TEXT_FIELDS:
            if not isinstance(value, str):
                raise CodecError(f"SenML record {index}: {label} must be a string")
        elif label == "vb":
            if not isinstance(value, bool):
                raise CodecError(f"SenML record {index}: vb must be true or false")
        elif label == "bver":
            if isinstance(value, bool) or not isinstance(value, int):
                raise CodecError(f"SenML record {index}: bver must be an integer")
            continue
        elif label.endswith("_"):
            raise CodecError(f"SenML record {index}: unknown must-understand label {label!r:.30}")
        else:
            continue
        if label in _ORDER:
            fields[label] = value
    if "vd" in fields:
        fields["vd"] = b64_decode(Path(), str(fields["vd"]))
    return Record(**fields)  # type: ignore[arg-type]


class SenmlJsonWire:
    """Records to a SenML JSON array and back."""

    content_format = ContentFormat.SENML_JSON

    def dump(self, records: Sequence[Record]) -> bytes:
        out: list[dict[str, object]] = []
        for record in records:
            item: dict[str, object] = {}
            for label, value in zip(Record._fields, record, strict=True):
                if value is not None:
                    item[label] = b64_url(value) if isinstance(value, bytes) else value
            out.append(item)
        return dumps_json(out)

    def load(self, payload: bytes) -> list[Record]:
        data = loads_json(payload)
        if not isinstance(data, list):
            raise CodecError("a SenML JSON pack is a JSON array")
        return [_record(item, index) for index, item in enumerate(data)]


SENML_JSON: Final = SenmlCodec(SenmlJsonWire())
