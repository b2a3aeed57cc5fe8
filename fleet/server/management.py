"""Device management: the requests the server sends to devices (Observe: :mod:`.reporting`).

Each operation is ``await server.<op>(endpoint, path, ..., *, format=None, timeout=None,
request_id=None) -> Result``. ``format`` is a :class:`~fleet.codec.ContentFormat`, its number
or its name (``"tlv"``, ``"senml-json"``...): the Accept of a Read, the Content-Format of a
Write (default: what the device's LwM2M version calls for). ``timeout`` bounds the exchange on
the server's clock (default: the server's ``request_timeout``, else CoAP's retransmission
limits). ``request_id`` labels the response event (one is made up when not given).

A device's error code is a normal :class:`~fleet.server.results.Result`; no answer raises
:class:`~fleet.server.errors.DeviceTimeout` (or another
:class:`~fleet.server.errors.RequestFailed`); a request refused before sending raises
:class:`~fleet.server.errors.InvalidRequest`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from fleet.codec import ContentFormat, build_node, encode, encode_composite_request
from fleet.device.arguments import format_arguments
from fleet.errors import FleetError
from fleet.model import ObjectInstance, ObjectNode, Path
from fleet.server.base import ServerCore, no_values
from fleet.server.errors import InvalidRequest
from fleet.server.requests import (
    COMPOSITE_DEFAULT,
    DELETE,
    FETCH,
    GET,
    IPATCH,
    METHODS,
    POST,
    PUT,
    ROOT,
    FormatLike,
    PathLike,
    WriteValue,
    attribute_query,
    build_request,
    composite_leaves,
    leaf_values,
    pick_format,
    write_payload,
)
from fleet.server.results import Operation, Result

AttributeArg = float | int | bool | None


class ManagementMixin(ServerCore):
    """The device management API of :class:`~fleet.server.server.Lwm2mServer`."""

    async def read(
        self,
        endpoint: str,
        path: PathLike,
        *,
        format: FormatLike | None = None,
        timeout: float | None = None,
        request_id: str | None = None,
    ) -> Result:
        """Read an object, instance, resource or resource instance (no Accept: device's choice)."""
        target, fmt, root = self._target(endpoint, path, format)
        message = build_request(GET, root, target, accept=fmt)
        return await self._perform(
            endpoint,
            Operation.READ,
            message,
            self._decoder(target),
            path=target,
            timeout=timeout,
            request_id=request_id,
            record_under=(target,),
        )

    async def discover(
        self,
        endpoint: str,
        path: PathLike,
        *,
        depth: int | None = None,
        timeout: float | None = None,
        request_id: str | None = None,
    ) -> Result:
        """Discover: the links (with attributes) below ``path``, in ``Result.links``."""
        target, _, root = self._target(endpoint, path, None)
        query = [f"depth={depth}"] if depth is not None else []
        message = build_request(GET, root, target, accept=ContentFormat.LINK, query=query)
        return await self._perform(
            endpoint,
            Operation.DISCOVER,
            message,
            self._decoder(target),
            path=target,
            timeout=timeout,
            request_id=request_id,
        )

    async def write(
        self,
        endpoint: str,
        path: PathLike,
        value: WriteValue,
        *,
        replace: bool = True,
        format: FormatLike | None = None,
        timeout: float | None = None,
        request_id: str | None = None,
    ) -> Result:
        """Write (PUT, replace) or partially update (POST, ``replace=False``) ``path``.

        ``value``: a Python value for a resource or resource instance; for a
        multiple-instance resource a list or ``{instance id: value}``; for an instance
        ``{resource id: value}`` (nested for multiple-instance resources) or ``{"/3/0/1":
        value}``; or a ready :class:`~fleet.model.Node`. Values are coerced with the object
        model (``"42"`` for an Integer works).
        """
        target, fmt, root = self._target(endpoint, path, format)
        record = self._require(endpoint)
        used, payload = write_payload(
            target, value, fmt, record.lwm2m_version, self.models, record.versions
        )
        message = build_request(
            PUT if replace else POST, root, target, payload=payload, content_format=used
        )
        return await self._perform(
            endpoint,
            Operation.WRITE,
            message,
            no_values,
            path=target,
            timeout=timeout,
            request_id=request_id,
        )

    async def write_attributes(
        self,
        endpoint: str,
        path: PathLike,
        *,
        timeout: float | None = None,
        request_id: str | None = None,
        **attributes: AttributeArg,
    ) -> Result:
        """Write-Attributes: ``pmin pmax gt lt st epmin epmax`` (and 1.2's ``edge con``);
        ``None`` removes an attribute (``pmax=None``)."""
        if not attributes:
            raise InvalidRequest("Write-Attributes needs at least one attribute")
        target, _, root = self._target(endpoint, path, None)
        message = build_request(PUT, root, target, query=attribute_query(attributes))
        return await self._perform(
            endpoint,
            Operation.WRITE_ATTRIBUTES,
            message,
            no_values,
            path=target,
            timeout=timeout,
            request_id=request_id,
        )

    async def execute(
        self,
        endpoint: str,
        path: PathLike,
        arguments: str | Mapping[int, str | None] | None = None,
        *,
        timeout: float | None = None,
        request_id: str | None = None,
    ) -> Result:
        """Execute a resource; ``arguments`` as text (``"0='a',1"``) or ``{0: "a", 1: None}``."""
        target, _, root = self._target(endpoint, path, None)
        if isinstance(arguments, Mapping):
            try:
                arguments = format_arguments(arguments)
            except ValueError as error:
                raise InvalidRequest(str(error)) from None
        payload = arguments.encode("utf-8") if arguments else b""
        message = build_request(POST, root, target, payload=payload)
        return await self._perform(
            endpoint,
            Operation.EXECUTE,
            message,
            no_values,
            path=target,
            timeout=timeout,
            request_id=request_id,
        )

    async def create(
        self,
        endpoint: str,
        path: PathLike,
        values: Mapping[Any, WriteValue],
        *,
        instance_id: int | None = None,
        format: FormatLike | None = None,
        timeout: float | None = None,
        request_id: str | None = None,
    ) -> Result:
        """Create an instance of the object ``path`` (``/3303``, or ``/3303/1`` naming the id).

        ``values``: ``{resource id: value}``. Without an instance id the device picks one
        (the payload is TLV: the only format that can leave the id out) and
        ``Result.location`` tells which.
        """
        target, fmt, root = self._target(endpoint, path, format)
        if len(target) == 2 and instance_id is None:
            target, instance_id = Path(target[0]), target[1]
        if len(target) != 1:
            raise InvalidRequest(f"Create targets an object, not {target}")
        record = self._require(endpoint)
        if instance_id is None:
            if fmt not in (None, ContentFormat.TLV):
                raise InvalidRequest("Create without instance_id is TLV only", status=415)
            used, payload = write_payload(
                target.child(0), values, ContentFormat.TLV, "1.0", self.models, record.versions
            )
        else:
            inner_path = target.child(instance_id)
            leaves = leaf_values(inner_path, values, self.models, record.versions)
            try:
                inner = build_node(inner_path, leaves, self.models, versions=record.versions)
            except FleetError as error:
                raise InvalidRequest(f"{inner_path}: {error}") from None
            assert isinstance(inner, ObjectInstance)
            node = ObjectNode(target[0], {instance_id: inner})
            used, payload = write_payload(
                target, node, fmt, record.lwm2m_version, self.models, record.versions
            )
        message = build_request(POST, root, target, payload=payload, content_format=used)
        return await self._perform(
            endpoint,
            Operation.CREATE,
            message,
            no_values,
            path=target,
            timeout=timeout,
            request_id=request_id,
        )

    async def delete(
        self,
        endpoint: str,
        path: PathLike,
        *,
        timeout: float | None = None,
        request_id: str | None = None,
    ) -> Result:
        """Delete an object instance."""
        target, _, root = self._target(endpoint, path, None)
        message = build_request(DELETE, root, target)
        result = await self._perform(
            endpoint,
            Operation.DELETE,
            message,
            no_values,
            path=target,
            timeout=timeout,
            request_id=request_id,
        )
        if result.ok:
            self._require(endpoint).record({}, under=(target,))
        return result

    async def read_composite(
        self,
        endpoint: str,
        paths: Iterable[PathLike],
        *,
        format: FormatLike | None = None,
        timeout: float | None = None,
        request_id: str | None = None,
    ) -> Result:
        """Read-Composite (FETCH): several paths at once, in SenML CBOR unless ``format``."""
        targets, fmt, root = self._composite(endpoint, paths, format)
        message = build_request(
            FETCH,
            root,
            ROOT,
            payload=encode_composite_request(fmt, targets),
            content_format=fmt,
            accept=fmt,
        )
        return await self._perform(
            endpoint,
            Operation.READ_COMPOSITE,
            message,
            self._decoder(ROOT),
            path=None,
            paths=targets,
            timeout=timeout,
            request_id=request_id,
            record_under=targets,
        )

    async def write_composite(
        self,
        endpoint: str,
        values: Mapping[Any, WriteValue],
        *,
        format: FormatLike | None = None,
        timeout: float | None = None,
        request_id: str | None = None,
    ) -> Result:
        """Write-Composite (iPATCH): ``{path: value}`` over several objects at once."""
        record = self._require(endpoint)
        fmt = pick_format(format) or COMPOSITE_DEFAULT
        leaves = composite_leaves(values, self.models, record.versions)
        try:
            composite = build_node(ROOT, leaves, self.models, versions=record.versions)
            payload = encode(fmt, composite, ROOT, self.models, versions=record.versions)
        except FleetError as error:
            raise InvalidRequest(f"Write-Composite: {error}", status=415) from None
        message = build_request(
            IPATCH, record.objects.root, ROOT, payload=payload, content_format=fmt
        )
        return await self._perform(
            endpoint,
            Operation.WRITE_COMPOSITE,
            message,
            no_values,
            path=None,
            paths=tuple(sorted(leaves)),
            timeout=timeout,
            request_id=request_id,
        )

    async def request(
        self,
        endpoint: str,
        method: str | int,
        path: PathLike,
        *,
        payload: bytes = b"",
        content_format: FormatLike | None = None,
        accept: FormatLike | None = None,
        query: Iterable[str] = (),
        timeout: float | None = None,
        request_id: str | None = None,
    ) -> Result:
        """A raw request (any method, payload and options) to test a device's corner cases."""
        code = METHODS.get(method.upper()) if isinstance(method, str) else method
        if code is None:
            raise InvalidRequest(f"unknown method {method!r}; use one of {', '.join(METHODS)}")
        target, _, root = self._target(endpoint, path, None)
        fmt = pick_format(content_format)
        message = build_request(
            code,
            root,
            target,
            payload=payload,
            content_format=fmt,
            accept=pick_format(accept),
            query=list(query),
        )
        return await self._perform(
            endpoint,
            Operation.REQUEST,
            message,
            self._decoder(target),
            path=target,
            timeout=timeout,
            request_id=request_id,
        )
