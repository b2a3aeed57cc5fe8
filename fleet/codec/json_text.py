"""JSON text that is always valid JSON (RFC 8259), for every JSON the project writes or reads.

Python's ``json`` writes ``NaN``, ``Infinity`` and ``-Infinity`` for floats without a JSON
form and reads them back, but no other JSON parser does (a browser's ``JSON.parse``, ``jq``,
a platform's client): one such value from a device would make a whole answer, summary or
event line unreadable. So every JSON text of the project goes through :func:`dumps`, which
writes such a float as the string ``"NaN"`` / ``"Infinity"`` / ``"-Infinity"`` (the
value is shown, the document stays valid), and JSON the project reads from outside (HTTP
bodies, REST commands, summaries, time series) through :func:`loads`, which refuses those
literals and numbers too large for a float (``1e400``) with a :class:`json.JSONDecodeError`
saying so.
"""

from __future__ import annotations

import json
import math
from typing import Any


def non_finite_text(value: float) -> str:
    """``"NaN"``, ``"Infinity"`` or ``"-Infinity"`` (JSON has no such numbers)."""
    return "NaN" if math.isnan(value) else ("Infinity" if value > 0 else "-Infinity")


def finite_json(data: Any) -> Any:
    """``data`` with every non-finite float (also in keys' values, lists, tuples) replaced by
    its text."""
    if isinstance(data, float) and not math.isfinite(data):
        return non_finite_text(data)
    if isinstance(data, dict):
        return {key: finite_json(item) for key, item in data.items()}
    if isinstance(data, list | tuple):
        return [finite_json(item) for item in data]
    return data


def dumps(data: Any, **options: Any) -> str:
    """``json.dumps(data, **options)`` that never writes ``NaN``/``Infinity`` (non-finite
    floats become their text); the same text as ``json.dumps`` whenever there are none."""
    options["allow_nan"] = False
    try:
        return json.dumps(data, **options)
    except ValueError:
        return json.dumps(finite_json(data), **options)


class _Refused(ValueError):
    """A literal or number strict JSON has no value for (``word``: its text)."""

    def __init__(self, word: str, why: str) -> None:
        super().__init__(why)
        self.word = word


def _refuse_constant(name: str) -> Any:
    raise _Refused(name, f"{name} is not a JSON number (RFC 8259, 6)")


def _finite_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise _Refused(text, f"the number {text[:20]} is too large for a float")
    return value


def loads(text: str | bytes) -> Any:
    """Strict ``json.loads``: a :class:`json.JSONDecodeError` (with the line and column of
    the first such word, as far as it can be found) for ``NaN``/``Infinity`` literals and
    numbers beyond a float, as for any other invalid JSON."""
    try:
        return json.loads(text, parse_constant=_refuse_constant, parse_float=_finite_float)
    except _Refused as refused:
        document = text.decode("utf-8", "replace") if isinstance(text, bytes) else text
        found = document.find(refused.word)
        raise json.JSONDecodeError(str(refused), document, max(found, 0)) from None
