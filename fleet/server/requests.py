"""Pure helpers that turn API arguments into CoAP requests for a device.

- :func:`as_path` accepts ``"/3/0/1"``, ``"3/0/1"``, a :class:`Path` or a tuple;
- :func:`pick_format` parses a user's format (``"tlv"``, ``11542``...);
- :func:`leaf_values` turns what a user writes (a value, ``{resource id: value}``, ``{path:
  value}``, a list for a multiple-instance resource, nested mappings) into ``{Path: value}``,
  coerced with the object model (``"42"`` for an Integer is fine);
- :func:`write_payload` builds the node and encodes it (default format by the device's LwM2M
  version, as the specification's negotiation table says);
- :func:`attribute_query` writes notification attributes as Uri-Query items;
- :func:`build_request` assembles the aiocoap ``Message``.

Everything refused here is an :class:`~fleet.server.errors.InvalidRequest`: nothing is sent.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from fleet.client.coap.wire import Message
from fleet.codec import ContentFormat, build_node, default_format, encode, parse_format
from fleet.codec.negotiation import can_carry
from fleet.errors import FleetError, Lwm2mError
from fleet.model import (
    Composite,
    ModelRegistry,
    MultiResource,
    Node,
    ObjectInstance,
    ObjectNode,
    Path,
    ResourceInstance,
    ResourceModel,
    SingleResource,
    Value,
    coerce_value,
    flatten,
)
from fleet.observe import NotificationAttributes, parse_attributes
from fleet.observe.attributes import format_value
from fleet.server.errors import InvalidRequest, NoModel
from fleet.server.unmodelled import LOAD_HINT, plain_text

GET, POST, PUT, DELETE, FETCH, IPATCH = 1, 2, 3, 4, 5, 7
METHODS = {"GET": GET, "POST": POST, "PUT": PUT, "DELETE": DELETE, "FETCH": FETCH, "IPATCH": IPATCH}
ROOT = Path()
COMPOSITE_DEFAULT = ContentFormat.SENML_CBOR

PathLike = Path | str | Sequence[int]
FormatLike = ContentFormat | int | str
WriteValue = Any
NODE_TYPES = (
    SingleResource,
    ResourceInstance,
    MultiResource,
    ObjectInstance,
    ObjectNode,
    Composite,
)
"""A value, a Node, or a (nested) mapping / list of values; see :func:`leaf_values`."""


def as_path(path: PathLike) -> Path:
    """A :class:`Path` from text or ids; :class:`InvalidRequest` (400) if it is not one."""
    if isinstance(path, Path):
        return path
    try:
        if isinstance(path, str):
            return Path.parse(path)
        return Path(*path)
    except (FleetError, TypeError, ValueError) as error:
        raise InvalidRequest(f"bad path {path!r}: {error}") from None


def pick_format(fmt: FormatLike | None) -> ContentFormat | None:
    if fmt is None:
        return None
    try:
        return parse_format(fmt)
    except Lwm2mError as error:
        raise InvalidRequest(str(error), status=415) from None


def resource_model(
    models: ModelRegistry, versions: Mapping[int, str], path: Path
) -> ResourceModel | None:
    """The definition of the resource ``path`` names (level 3 or 4), if the server has it."""
    if len(path) < 3 or path[0] not in models:
        return None
    try:
        model = models.get(path[0], versions.get(path[0]))
    except Lwm2mError:
        return None
    return model.resources.get(path[2])


def leaf_values(
    path: Path,
    value: WriteValue,
    models: ModelRegistry,
    versions: Mapping[int, str],
    empty: list[Path] | None = None,
) -> dict[Path, Value]:
    """``{leaf path: value}`` for writing ``value`` at ``path``.

    Below an instance or object an ``int`` key is a child id; ``str`` and :class:`Path` keys
    are absolute paths (which must lie under ``path``). A list or tuple (or a mapping) on a
    multiple-instance resource gives its instances; an empty one, collected in ``empty``,
    writes the resource with no instances.
    """
    out: dict[Path, Value] = {}
    _collect(path, value, models, versions, out, [] if empty is None else empty)
    return out


def _collect(
    path: Path,
    value: WriteValue,
    models: ModelRegistry,
    versions: Mapping[int, str],
    out: dict[Path, Value],
    empty: list[Path],
) -> None:
    resource = resource_model(models, versions, path)
    multiple = resource is not None and resource.multiple and len(path) == 3
    if isinstance(value, Mapping | list | tuple) and multiple and not value:
        empty.append(path)
        return
    if isinstance(value, list | tuple) and multiple:
        value = dict(enumerate(value))
    if isinstance(value, Mapping):
        if len(path) >= 4 or (len(path) == 3 and not multiple):
            raise InvalidRequest(f"{path} holds one value, not {value!r:.40}")
        for key, item in value.items():
            if isinstance(key, int) and not isinstance(key, bool):
                child = as_path((*path, key))
            else:
                child = as_path(key)
                if not path.contains(child) or child == path:
                    raise InvalidRequest(f"{child} lies outside the written path {path}")
            _collect(child, item, models, versions, out, empty)
        return
    if len(path) < 3:
        raise InvalidRequest(f"{path}: write a mapping of resources, not {value!r:.40}")
    if resource is None:
        raise NoModel(
            f"no model for {path}: a value inside a mapping needs its type; {LOAD_HINT}",
            (path,),
        )
    if multiple:
        raise InvalidRequest(f"{path} is multiple-instance: give {{instance id: value}} or a list")
    if len(path) == 4 and not resource.multiple:
        raise InvalidRequest(f"{path}: resource {path[2]} has no instances")
    try:
        out[path] = coerce_value(resource, value)
    except FleetError as error:
        raise InvalidRequest(f"{path}: {error}") from None


def node_for(
    path: Path,
    value: WriteValue,
    models: ModelRegistry,
    versions: Mapping[int, str],
) -> Node | Composite:
    """The node to write at ``path`` (a :class:`Composite` for ``/``)."""
    if isinstance(value, NODE_TYPES):
        return value
    empty: list[Path] = []
    leaves = leaf_values(path, value, models, versions, empty)
    try:
        node = build_node(path, leaves, models, versions=versions)
    except FleetError as error:
        raise InvalidRequest(f"{path}: {error}") from None
    if isinstance(node, ObjectInstance) and empty:
        resources = dict(node.resources)
        for box in empty:
            if box.parent == path:
                resources.setdefault(box[2], MultiResource(box[2], {}))
        node = ObjectInstance(node.id, resources)
    elif empty and len(path) != 3:
        raise InvalidRequest(f"{path}: empty resources can be written at instance level only")
    return node


def write_payload(
    path: Path,
    value: WriteValue,
    fmt: ContentFormat | None,
    lwm2m_version: str,
    models: ModelRegistry,
    versions: Mapping[int, str],
) -> tuple[ContentFormat, bytes]:
    """Encode ``value`` for a Write/Create at ``path``: the format used and the payload.

    A resource the server has no model for takes one plain value as text/plain
    (:func:`~fleet.server.unmodelled.plain_text`); anything else is :class:`NoModel`."""
    resource = resource_model(models, versions, path)
    unknown = len(path) >= 3 or (len(path) >= 1 and path[0] not in models)
    if resource is None and unknown and not isinstance(value, NODE_TYPES):
        if fmt not in (None, ContentFormat.TEXT):
            raise NoModel(
                f"no model for {path}: without one it goes as text/plain only, not "
                f"{fmt.short_name}; {LOAD_HINT}",
                (path,),
            )
        return ContentFormat.TEXT, plain_text(path, value)
    node = node_for(path, value, models, versions)
    single = resource is not None and (len(path) == 4 or not resource.multiple)
    rtype = resource.type if resource is not None else None
    if fmt is None:
        fmt = default_format(path, lwm2m_version, single, rtype)
    if not can_carry(fmt, path, single, rtype):
        raise InvalidRequest(f"{path}: {fmt.short_name} cannot carry this content", status=415)
    try:
        return fmt, encode(fmt, node, path, models, versions=versions)
    except FleetError as error:
        raise InvalidRequest(f"{path}: {error}") from None


def composite_leaves(
    values: Mapping[Any, WriteValue], models: ModelRegistry, versions: Mapping[int, str]
) -> dict[Path, Value]:
    """``{leaf: value}`` of a Write-Composite given as ``{path: value or mapping}``."""
    out: dict[Path, Value] = {}
    for key, value in values.items():
        path = as_path(key)
        if isinstance(value, NODE_TYPES) and not isinstance(value, Composite):
            out.update(flatten(value, path))
        else:
            _collect(path, value, models, versions, out, [])
    if not out:
        raise InvalidRequest("a Write-Composite needs at least one value")
    return out


def attribute_query(attributes: Mapping[str, float | int | bool | None]) -> list[str]:
    """Uri-Query items for notification attributes; ``None`` removes one (``pmin``)."""
    items: list[str] = []
    for name, value in attributes.items():
        if value is None:
            items.append(name)
        elif isinstance(value, bool):
            items.append(f"{name}={int(value)}")
        elif isinstance(value, int | float):
            items.append(f"{name}={format_value(value)}")
        else:
            raise InvalidRequest(f"attribute {name}={value!r} is not a number")
    try:
        parse_attributes(items)
    except Lwm2mError as error:
        raise InvalidRequest(str(error)) from None
    return items


def attributes_of(query: Iterable[str]) -> NotificationAttributes:
    """The attributes a query sets (for describing an observation)."""
    return parse_attributes(list(query)).values


def uri_path(root: tuple[str, ...], path: Path) -> tuple[str, ...]:
    return (*root, *(str(i) for i in path))


def build_request(
    code: int,
    root: tuple[str, ...],
    path: Path,
    *,
    payload: bytes = b"",
    content_format: int | None = None,
    accept: int | None = None,
    query: Sequence[str] = (),
) -> Any:
    """An aiocoap request ``Message`` for ``path`` below the device's root."""
    message = Message(code=code, payload=payload)
    segments = uri_path(root, path)
    if segments:
        message.opt.uri_path = segments
    if query:
        message.opt.uri_query = tuple(query)
    if content_format is not None:
        message.opt.content_format = int(content_format)
    if accept is not None:
        message.opt.accept = int(accept)
    return message
