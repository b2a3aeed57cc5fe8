"""What the server does with resources it has no object model for (no DDF loaded).

The server types what a device sends with the object definitions it holds (the shipped
objects plus ``--objects DIR``, or ``Lwm2mServer.start(models=...)``). For a path it has no
definition of, it neither drops the value silently nor guesses a type:

- **reading**: :func:`untyped_values` gives the values as the device sent them where the
  format says what they are: text/plain as text, SenML JSON/CBOR with SenML's own value
  types (``v`` a number, ``vs`` text, ``vb`` a Boolean, ``vd`` bytes, ``vlo`` an object
  link), opaque as bytes, CBOR as its item. TLV, LwM2M JSON and LwM2M CBOR carry no type a
  value can be read with: those values stay out. Either way the answer names the paths in
  ``unmodelled`` and :func:`no_model_text` says how to mend it;
- **writing**: :func:`plain_text` sends one plain value (text, a number, a Boolean) as
  text/plain, which every LwM2M version takes for a single resource (Core 1.1 §7.3.1);
  anything else is refused with :class:`~fleet.server.errors.NoModel` saying why.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from typing import Any

from fleet.codec import ContentFormat, cborwire, get_codec
from fleet.codec.senml import SenmlCodec, parse_name, resolve
from fleet.codec.values import float_text
from fleet.errors import FleetError
from fleet.model import Path, Value
from fleet.server.errors import NoModel

LOAD_HINT = "load its definition with --objects DIR"
"""How to give the server a model (``models=`` in Python)."""


def resource_paths(paths: Iterable[Path]) -> tuple[Path, ...]:
    """The resources (level 3) that ``paths`` name, in order, each once."""
    return tuple(sorted({Path(*p[:3]) if len(p) > 3 else p for p in paths}))


def no_model_text(paths: Iterable[Path]) -> str:
    """``no model for /20500/0/1, /20500/0/2; load its definition with --objects DIR``."""
    shown = resource_paths(paths)
    listed = ", ".join(str(p) for p in shown[:5])
    more = f" and {len(shown) - 5} more" if len(shown) > 5 else ""
    return f"no model for {listed}{more}; {LOAD_HINT}"


def untyped_values(
    content_format: int, payload: bytes, path: Path, missing: Iterable[Path]
) -> dict[Path, Value]:
    """The values under the ``missing`` paths as the device sent them (see the module
    docstring); empty for a format whose values need a model, or a payload that does not
    parse."""
    wanted = set(resource_paths(missing))
    if not wanted:
        return {}
    try:
        if content_format == ContentFormat.TEXT:
            return {path: payload.decode("utf-8")} if len(path) >= 3 else {}
        if content_format == ContentFormat.OPAQUE:
            return {path: bytes(payload)} if len(path) >= 3 else {}
        if content_format == ContentFormat.CBOR:
            return _cbor_item(payload, path)
        if content_format in (ContentFormat.SENML_JSON, ContentFormat.SENML_CBOR):
            return _senml(content_format, payload, wanted)
    except (FleetError, ValueError):
        return {}
    return {}


def _cbor_item(payload: bytes, path: Path) -> dict[Path, Value]:
    item = cborwire.loads(payload)
    if len(path) >= 3 and isinstance(item, str | bytes | bool | int | float):
        return {path: item}
    return {}


def _senml(content_format: int, payload: bytes, wanted: set[Path]) -> dict[Path, Value]:
    codec = get_codec(content_format)
    assert isinstance(codec, SenmlCodec)
    out: dict[Path, Value] = {}
    for record in resolve(codec.wire.load(payload)):
        leaf = parse_name(record.name)
        if Path(*leaf[:3]) not in wanted or record.field is None:
            continue
        value: Any = record.value
        if isinstance(value, str | bytes | bool | int | float):
            out[leaf] = value
    return out


def plain_text(path: Path, value: object) -> bytes:
    """The text/plain payload of one plain value written to a resource the server has no
    model for; :class:`NoModel` for anything else (a list, a mapping, bytes, NaN...)."""
    if len(path) < 3:
        what = "an object" if len(path) == 1 else "an instance"
        raise NoModel(
            f"no model for {path}: cannot encode {what} without one; {LOAD_HINT}", (path,)
        )
    if isinstance(value, bool):
        return b"1" if value else b"0"
    if isinstance(value, str):
        return value.encode("utf-8")
    if isinstance(value, int):
        return str(value).encode("ascii")
    if isinstance(value, float) and math.isfinite(value):
        return float_text(value).encode("ascii")
    what = _kind(value)
    raise NoModel(
        f"no model for {path}: without one only a single text, number or Boolean can be "
        f"sent (as text/plain), not {what}; {LOAD_HINT}",
        (path,),
    )


def _kind(value: object) -> str:
    if isinstance(value, Mapping):
        return "a mapping"
    if isinstance(value, list | tuple):
        return "a list"
    if isinstance(value, bytes):
        return "bytes (opaque needs the model's type)"
    if isinstance(value, float):
        return f"{value!r}"
    return f"a {type(value).__name__}"
