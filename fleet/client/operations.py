"""The Device Management and Information Reporting operations, one function each.

Each function takes the device (an :class:`OperationHost`), the target path
and the CoAP request, and returns the success response; anything wrong is an
:class:`~fleet.errors.Lwm2mError` raised for :mod:`fleet.client.site` to
translate. Checks come in the order the specification implies: the target
must exist (4.01 Security, 4.04) and allow the operation (4.05) before the
formats are looked at (4.06 answer, 4.15 payload), and the payload must
decode and fit (4.00) before anything changes.
"""

from __future__ import annotations

from typing import Any, Final, Protocol

from fleet.client.coap.wire import Message, content
from fleet.client.content import (
    answer_format,
    encode_composite_answer,
    encode_node,
    is_single_value,
    locate,
    observed_value,
    read_composite,
    resource_at,
)
from fleet.client.observations import Observations
from fleet.codec.composite import decode_composite, decode_composite_request
from fleet.codec.formats import ContentFormat
from fleet.codec.link import discover_payload
from fleet.codec.negotiation import check_write_format, choose_format
from fleet.codec.registry import decode
from fleet.codec.tlv import holds_instances
from fleet.device.tree import ObjectTree
from fleet.errors import BadRequest, MethodNotAllowed
from fleet.model.definitions import ResourceModel
from fleet.model.nodes import Composite, Node, ObjectInstance, ObjectNode
from fleet.model.path import ROOT, Level, Path
from fleet.model.registry import ModelRegistry
from fleet.observe import AttributeStore, AttributeUpdate, parse_attributes

CREATED, DELETED, CHANGED, CONTENT = 65, 66, 68, 69
LINK_FORMAT: Final = 40
FIRST_OBSERVE: Final = 1
"""The Observe number of an observation's first answer: 1, because node-coap 0.22 (under
lwm2m-node-lib) drops a first answer numbered 0; RFC 7641 leaves the start to the server."""


class OperationHost(Protocol):
    """What the operations need from their device."""

    @property
    def tree(self) -> ObjectTree: ...

    @property
    def models(self) -> ModelRegistry: ...

    @property
    def lwm2m_version(self) -> str: ...

    @property
    def preferred_format(self) -> ContentFormat | None: ...

    @property
    def attributes(self) -> AttributeStore: ...

    @property
    def observations(self) -> Observations: ...

    def has_attributes(self) -> bool: ...

    def has_observations(self) -> bool: ...


# -- reading ----------------------------------------------------------------------------


def read(host: OperationHost, path: Path, request: Any) -> Any:
    """Read: the node at ``path`` in the requested (or preferred) format."""
    node = host.tree.read(path)
    fmt = answer_format(
        host.tree, path, node, accept_of(request), host.lwm2m_version, host.preferred_format
    )
    payload = encode_node(fmt, node, path, host.models)
    return content(CONTENT, payload, int(fmt))


def discover(host: OperationHost, path: Path, request: Any) -> Any:
    """Discover: link format of what is at ``path``, with the attributes written there."""
    tree = host.tree
    entries = tree.discover(path)
    structure: dict[int, dict[int, list[int] | None]] = {}
    for found, dim in entries:
        if len(found) == 2:
            structure.setdefault(found[1], {})
        elif len(found) == 3:
            # below the target only the count of resource instances is shown (dim)
            count = list(range(dim)) if dim is not None else None
            structure.setdefault(found[1], {})[found[2]] = count
    if len(path) == 3 and structure[path[1]][path[2]] is not None:
        structure[path[1]][path[2]] = [p[3] for p, _ in entries if len(p) == 4]
    attributes: dict[Path, dict[str, Any]] = {}
    if host.has_attributes():
        for assigned_path, assigned in host.attributes.items():
            if assigned_path.contains(path) or path.contains(assigned_path):
                attributes[assigned_path] = dict(assigned.items())
    payload = discover_payload(
        path,
        tree.model(path[0]),
        structure,
        attributes,
        lwm2m_version=host.lwm2m_version,
    )
    return Message(code=CONTENT, payload=payload.encode(), content_format=LINK_FORMAT)


def observe(host: OperationHost, path: Path, request: Any) -> Any:
    """Observe: a Read whose answer carries Observe, and an observation from now on."""
    tree = host.tree
    node = tree.read(path)
    query = _observe_query(request)
    if query is not None:
        _check_attributes(path, query, resource_at(tree, path))
    fmt = answer_format(
        tree, path, node, accept_of(request), host.lwm2m_version, host.preferred_format
    )
    payload = encode_node(fmt, node, path, host.models)
    if not host.observations.admits(request.remote, request.token, (path,), False):
        return content(CONTENT, payload, int(fmt))  # RFC 7641 §4.1
    host.observations.start(
        request.remote,
        request.token,
        (path,),
        composite=False,
        single=is_single_value(node),
        fmt=fmt,
        query=query,
        value=observed_value(node),
    )
    return Message(code=CONTENT, payload=payload, content_format=int(fmt), observe=FIRST_OBSERVE)


def cancel_observation(host: OperationHost, path: Path, request: Any) -> Any:
    """GET with Observe=1: the observation ends, the answer is a plain Read."""
    if host.has_observations():
        host.observations.cancel(request.remote, request.token, "cancelled (Observe=1)")
    return read(host, path, request)


def _composite_request(
    host: OperationHost, path: Path, request: Any
) -> tuple[list[Path], ContentFormat, bytes]:
    if path:
        raise MethodNotAllowed(f"{path}: composite operations target the root path /")
    given = content_format_of(request)
    fmt_in = check_write_format(given, ROOT, host.lwm2m_version, False)
    paths = decode_composite_request(fmt_in, request.payload)
    if not paths:
        raise BadRequest("a composite request names at least one path")
    composite = read_composite(host.tree, paths)
    fmt = choose_format(accept_of(request), ROOT, host.lwm2m_version, host.preferred_format, False)
    payload = encode_composite_answer(fmt, composite, host.models, paths)
    return paths, fmt, payload


def read_composite_op(host: OperationHost, path: Path, request: Any) -> Any:
    """Read-Composite (FETCH /): the values of the listed paths in one composite answer."""
    _, fmt, payload = _composite_request(host, path, request)
    return content(CONTENT, payload, int(fmt))


def observe_composite(host: OperationHost, path: Path, request: Any) -> Any:
    """Observe-Composite (FETCH / with Observe=0)."""
    query = _observe_query(request)
    if query is not None:
        _check_attributes(ROOT, query, None, composite=True)
    paths, fmt, payload = _composite_request(host, path, request)
    if not host.observations.admits(request.remote, request.token, paths, True):
        return content(CONTENT, payload, int(fmt))  # RFC 7641 §4.1
    host.observations.start(
        request.remote,
        request.token,
        paths,
        composite=True,
        single=False,
        fmt=fmt,
        query=query,
        value=None,
    )
    return Message(code=CONTENT, payload=payload, content_format=int(fmt), observe=FIRST_OBSERVE)


def cancel_observe_composite(host: OperationHost, path: Path, request: Any) -> Any:
    """FETCH with Observe=1: the composite observation ends, the answer is a Read-Composite."""
    if host.has_observations():
        host.observations.cancel(request.remote, request.token, "cancelled (Observe=1)")
    return read_composite_op(host, path, request)


# -- writing ----------------------------------------------------------------------------


def write(host: OperationHost, path: Path, request: Any, *, replace: bool) -> Any:
    """Write: replace (PUT) or partial update (POST) of an instance, resource or instance."""
    tree = host.tree
    resource = locate(tree, path, new_instance=True)
    if len(path) == 1:
        raise MethodNotAllowed(f"{path}: Write targets an object instance or below")
    if resource is not None and (resource.executable or not resource.writable):
        ops = resource.operations.ddf() or "none"
        raise MethodNotAllowed(
            f"{path}: resource {resource.name} is not writable (operations {ops})"
        )
    given = content_format_of(request)
    if given is None and not request.payload:
        raise BadRequest(f"{path}: a Write needs a value")
    tree.write(path, write_value(host, path, request, resource, given), replace=replace)
    return Message(code=CHANGED)


def write_value(
    host: OperationHost,
    path: Path,
    request: Any,
    resource: ResourceModel | None,
    given: int | None,
) -> Node:
    """The value a Write or a Bootstrap-Write carries for ``path`` (an instance, a resource or
    a resource instance; ``resource`` its definition below instance level), decoded in the
    format it came in (``given``; checked against what the path and version allow)."""
    single = resource is not None and (len(path) == 4 or not resource.multiple)
    fmt = check_write_format(
        given,
        path,
        host.lwm2m_version,
        single,
        resource_type=resource.type if resource is not None else None,
    )
    node = decode(fmt, request.payload, path, host.models)
    if isinstance(node, Composite):  # pragma: no cover - only the root decodes to one
        raise BadRequest(f"{path}: a composite cannot be written here")
    return node


def write_composite(host: OperationHost, path: Path, request: Any) -> Any:
    """Write-Composite (iPATCH /): several resources written as one (all or nothing)."""
    if path:
        raise MethodNotAllowed(f"{path}: Write-Composite targets the root path /")
    given = content_format_of(request)
    fmt = check_write_format(given, ROOT, host.lwm2m_version, False)
    composite = decode_composite(fmt, request.payload, host.models)
    writes = [(p, node) for p, node in composite.nodes.items() if node is not None]
    if not writes:
        raise BadRequest("a Write-Composite needs at least one value")
    for target, _ in writes:
        locate(host.tree, target, new_instance=True)
    host.tree.write_many(writes, replace=True)
    return Message(code=CHANGED)


def write_attributes(host: OperationHost, path: Path, request: Any) -> Any:
    """Write-Attributes (PUT with a query, no payload): notification attributes at ``path``."""
    resource = locate(host.tree, path)
    update = parse_attributes(list(request.opt.uri_query))
    host.attributes.write(
        path,
        update,
        resource_type=resource.type if resource is not None else None,
        multiple=resource is not None and resource.multiple and len(path) == 3,
    )
    if host.has_observations():
        host.observations.attributes_changed(path)
    return Message(code=CHANGED)


def execute(host: OperationHost, path: Path, request: Any) -> Any:
    """Execute with the payload as arguments (``0='abc',1``)."""
    host.tree.execute(path, bytes(request.payload) or None)
    return Message(code=CHANGED)


def create(host: OperationHost, path: Path, request: Any) -> Any:
    """Create (POST on an object): a new instance; its path in Location-Path."""
    tree = host.tree
    if len(path) != 1:
        raise MethodNotAllowed(f"{path}: Create targets an object")
    locate(tree, path)
    given = content_format_of(request)
    instance = ObjectInstance(0)
    assign = True
    if given is not None or request.payload:
        fmt = check_write_format(given, path, host.lwm2m_version, False)
        payload = bytes(request.payload)
        if fmt is ContentFormat.TLV and payload and not holds_instances(payload):
            # TLV may carry the new instance's resources without an instance wrapper
            node = decode(fmt, payload, path.child(0), host.models)
        else:  # (a value the decoder refuses is refused as it is, with its own path)
            node = decode(fmt, payload, path, host.models)
        if isinstance(node, ObjectNode):
            if len(node.instances) != 1:
                raise BadRequest(f"{path}: a Create carries exactly one object instance")
            instance = next(iter(node.instances.values()))
            assign = False
        elif isinstance(node, ObjectInstance):
            instance = node
    iid = tree.create(path[0], instance, assign_id=assign)
    return Message(code=CREATED, location_path=(str(path[0]), str(iid)))


def delete(host: OperationHost, path: Path, request: Any) -> Any:
    """Delete an object instance (its written attributes go with it)."""
    host.tree.delete(path)
    if host.has_attributes():
        host.attributes.discard(path)
    return Message(code=DELETED)


# -- helpers ----------------------------------------------------------------------------


def accept_of(request: Any) -> int | None:
    """The request's Accept option as a number."""
    accept = request.opt.accept
    return None if accept is None else int(accept)


def content_format_of(request: Any) -> int | None:
    """The request's Content-Format option as a number."""
    given = request.opt.content_format
    return None if given is None else int(given)


def _observe_query(request: Any) -> AttributeUpdate | None:
    query = list(request.opt.uri_query)
    if not query:
        return None
    update = parse_attributes(query)
    return None if update.is_empty else update


def _check_attributes(
    path: Path, query: AttributeUpdate, resource: Any, *, composite: bool = False
) -> None:
    """Attributes of an Observe query must fit the observed level (else 4.00)."""
    if composite:
        query.values.validate_for(Level.OBJECT)  # periods only, no value conditions
        return
    query.values.validate_for(
        path.level,
        resource.type if resource is not None else None,
        resource is not None and resource.multiple and len(path) == 3,
    )
