"""LwM2M 1.1 composite operations and Send: the payloads that name several paths.

- Read-Composite and Observe-Composite requests (FETCH) carry a SenML list of
  paths without values: :func:`encode_composite_request`,
  :func:`decode_composite_request`;
- their answers, Write-Composite (iPATCH) and notifications carry a composite
  of values: :func:`encode_composite`, :func:`decode_composite` (SenML JSON,
  SenML CBOR and LwM2M CBOR);
- Send (POST /dp) carries SenML CBOR (or JSON) values of several paths,
  optionally stamped with a base time: :func:`encode_send`;
- a server reading notifications with history or a Send keeps every value
  with its resolved time: :func:`decode_timed`.

A decoded composite holds one node per value (a single resource or a
resource instance), plus an empty node where LwM2M CBOR says a container is
empty; compare composites with :func:`fleet.model.flatten`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType

from fleet.codec.base import ModelView
from fleet.codec.formats import ContentFormat, format_label
from fleet.codec.registry import decode, encode
from fleet.codec.senml import SenmlCodec, TimedValue
from fleet.codec.senml_cbor import SENML_CBOR
from fleet.codec.senml_json import SENML_JSON
from fleet.errors import CodecError, UnsupportedContentFormat
from fleet.model import Composite, ModelRegistry, Path

_SENML: dict[ContentFormat, SenmlCodec] = {
    ContentFormat.SENML_JSON: SENML_JSON,
    ContentFormat.SENML_CBOR: SENML_CBOR,
}


def _senml(fmt: ContentFormat | int) -> SenmlCodec:
    try:
        return _SENML[ContentFormat(fmt)]
    except (ValueError, KeyError):
        raise UnsupportedContentFormat(
            f"{format_label(fmt)}: composite paths and timed values travel in SenML"
        ) from None


def encode_composite_request(fmt: ContentFormat | int, paths: Iterable[Path]) -> bytes:
    """The body of a Read-Composite or Observe-Composite: ``[{"n": "/3/0/0"}, ...]``."""
    listed = list(paths)
    if not listed:
        raise CodecError("a composite request names at least one path")
    return _senml(fmt).encode_paths(listed)


def decode_composite_request(fmt: ContentFormat | int, payload: bytes) -> list[Path]:
    """The paths a Read-Composite or Observe-Composite names, in order (``/`` allowed)."""
    return _senml(fmt).paths(bytes(payload))


@dataclass(frozen=True, slots=True)
class OrderedComposite(Composite):
    """A composite that keeps its paths in the order given (a Read-Composite's request order).

    :class:`Composite` sorts its paths; encoders write an ``OrderedComposite``
    in its own order, which is how the specification's examples answer.
    """

    def __post_init__(self) -> None:
        object.__setattr__(self, "nodes", MappingProxyType(dict(self.nodes)))


def encode_composite(
    fmt: ContentFormat | int,
    composite: Composite,
    models: ModelRegistry,
    *,
    versions: Mapping[int, str] | None = None,
    order: Sequence[Path] | None = None,
) -> bytes:
    """A Read-Composite answer, a Write-Composite body or a composite notification.

    ``order`` (typically the request's paths) sets the order of the values;
    paths of the composite it does not name follow in path order.
    """
    if order is not None:
        ranked = {p: i for i, p in enumerate(order)}
        keys = sorted(composite.nodes, key=lambda p: (ranked.get(p, len(ranked)), p))
        composite = OrderedComposite({p: composite.nodes[p] for p in keys})
    return encode(fmt, composite, Path(), models, versions=versions)


def decode_composite(
    fmt: ContentFormat | int,
    payload: bytes,
    models: ModelRegistry,
    *,
    versions: Mapping[int, str] | None = None,
    strict: bool = True,
) -> Composite:
    """The values of a composite payload, one node per value path."""
    result = decode(fmt, payload, Path(), models, versions=versions, strict=strict)
    if not isinstance(result, Composite):  # pragma: no cover - root decodes are composites
        raise CodecError("a composite payload did not decode to a composite")
    return result


def encode_send(
    composite: Composite,
    models: ModelRegistry,
    fmt: ContentFormat | int = ContentFormat.SENML_CBOR,
    *,
    time: float | None = None,
    versions: Mapping[int, str] | None = None,
) -> bytes:
    """The body of a Send: the values of several paths, with ``bt`` = ``time`` when given."""
    codec = _senml(fmt)
    records = codec.records(composite, Path(), ModelView(models, versions), time=time)
    return codec.wire.dump(records)


def decode_timed(
    fmt: ContentFormat | int,
    payload: bytes,
    models: ModelRegistry,
    path: Path | None = None,
    *,
    versions: Mapping[int, str] | None = None,
    strict: bool = True,
) -> list[TimedValue]:
    """Every value of a SenML payload with its resolved time (``bt`` + ``t``), in order.

    Unlike :func:`decode`, a path may appear several times (a notification
    with stored values). Times are as written: RFC 8428 reads values below
    2**28 as relative to now; the caller decides.
    """
    codec = _senml(fmt)
    view = ModelView(models, versions, strict=strict)
    found = codec.timed(bytes(payload), path or Path(), view)
    return [TimedValue(p, value, time) for p, value, time in found]
