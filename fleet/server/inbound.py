"""What devices send to the server: Registration interface and Send (Core 1.1 §6.2, §6.4.4).

- ``POST /rd?ep=..&lt=..&lwm2m=..&b=..`` with a link-format payload: Register, answered
  2.01 Created with Location-Path ``rd/<id>``;
- ``POST /rd/<id>`` (optional query and payload): Update, 2.04 Changed (4.04 when unknown:
  the device registers again);
- ``DELETE /rd/<id>``: De-register, 2.02 Deleted;
- ``POST /dp`` with SenML CBOR/JSON (or LwM2M CBOR): Send, 2.04 Changed, from a registered
  device's address.

Each registration is bound to the security context it was made in (:mod:`.binding`): a
Register that would take over a DTLS-bound name from another context is 4.03, an Update,
De-register or Send from another context 4.00; an Update from a new address in the same
context is accepted, logged and counted (``rebinds``).

Anything malformed is refused with the :class:`~fleet.errors.Lwm2mError` that says why (4.00,
4.04, 4.05, 4.15); the CoAP layer turns it into the response. Every accepted message updates
the device's :class:`~fleet.server.records.DeviceRecord` and emits its event; each Register
then runs the on-register hooks in a task.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from typing import Any

from fleet.client.coap import Address
from fleet.client.coap.wire import Code, Message
from fleet.codec import ContentFormat, decode_composite, decode_timed
from fleet.errors import (
    BadRequest,
    Forbidden,
    Lwm2mError,
    MethodNotAllowed,
    NotFound,
    UnsupportedContentFormat,
)
from fleet.model import Path, Value, flatten
from fleet.server.base import ServerCore
from fleet.server.binding import Verdict, describe, judge, may_register
from fleet.server.directory import DirectoryEvent, DirectoryEventKind, Registration
from fleet.server.events import EventKind, ServerEvent
from fleet.server.records import DeviceRecord, decoding_versions, parse_object_links

_log = logging.getLogger("fleet.server")

SUPPORTED_VERSIONS = frozenset({"1.0", "1.1", "1.2"})
REGISTER_PARAMETERS = frozenset({"ep", "lt", "lwm2m", "b", "sms", "Q"})
UPDATE_PARAMETERS = frozenset({"lt", "b", "sms", "Q"})
BINDING_LETTERS = frozenset("UMHTSNQ")
_VERSION = re.compile(r"[0-9]+\.[0-9]+")
_POST, _DELETE = 2, 4
SEND_FORMATS = frozenset({ContentFormat.SENML_CBOR, ContentFormat.SENML_JSON})

OnRegister = Callable[[Any, Registration], Awaitable[None]]
"""``async def hook(server, registration)``: runs after every Register, in order."""


def check_query(query: list[str], allowed: frozenset[str]) -> None:
    """Refuse unknown parameters, a bad ``lwm2m`` version or a bad binding (4.00)."""
    for item in query:
        name, sep, value = item.partition("=")
        if name not in allowed:
            raise BadRequest(f"unknown registration parameter {name!r}")
        if name == "lwm2m" and not (_VERSION.fullmatch(value) and value in SUPPORTED_VERSIONS):
            raise BadRequest(f"unsupported LwM2M version {value!r}")
        if name == "b" and (
            not value or not set(value) <= BINDING_LETTERS or len(set(value)) != len(value)
        ):
            raise BadRequest(f"bad binding {value!r}")
        if name == "Q" and sep:
            raise BadRequest("the queue mode parameter Q takes no value")


class InboundMixin(ServerCore):
    """Answers the Registration interface and Send; keeps records and address lookups."""

    _by_address: dict[Address, str]
    _hooks: list[OnRegister]
    _retired: OrderedDict[str, None]
    retired_records: int

    def _handle(self, request: Any) -> Any:
        """The CoAP handler of the server's endpoint."""
        path = tuple(request.opt.uri_path)
        code = int(request.code)
        if path == ("rd",):
            if code != _POST:
                raise MethodNotAllowed("Register is a POST")
            return self._guard(self._register, request)
        if len(path) == 2 and path[0] == "rd":
            if code == _POST:
                return self._guard(self._update, request)
            if code == _DELETE:
                return self._guard(self._deregister, request)
            raise MethodNotAllowed("a registration accepts POST (Update) and DELETE")
        if path == ("dp",):
            if code != _POST:
                raise MethodNotAllowed("Send is a POST")
            return self._send(request)
        raise NotFound(f"no resource /{'/'.join(path)}")

    def _guard(self, handle: Callable[[Any], Any], request: Any) -> Any:
        try:
            return handle(request)
        except Lwm2mError:
            self.counters.rejected += 1
            raise

    # -- registration interface --------------------------------------------------------

    def _register(self, request: Any) -> Any:
        query = list(request.opt.uri_query)
        check_query(query, REGISTER_PARAMETERS)
        _check_link_format(request)
        objects = parse_object_links(request.payload)
        address: Address = (request.remote[0], request.remote[1])
        context = self._context(address)
        endpoint = _register_endpoint(query)
        current = self.directory.get(endpoint) if endpoint else None
        if current is not None and not may_register(current.security, context):
            self.counters.refused_context += 1
            _log.warning(
                "Register of %r from %s over %s refused: it is registered over %s",
                endpoint,
                address,
                describe(context),
                describe(current.security),
            )
            raise Forbidden(f"endpoint {endpoint!r} is registered in another security context")
        registration = self.directory.register(
            query, request.payload.decode("utf-8"), address, context
        )
        record = self._records.get(registration.endpoint)
        if record is None:
            record = self._records[registration.endpoint] = DeviceRecord(registration.endpoint)
        self._retired.pop(registration.endpoint, None)
        if record.registration is not None:  # registered again: old observations are gone
            self._end_observations(record.endpoint)
            self._forget_address(record)
        record.registration = registration
        record.objects = objects
        record.versions = decoding_versions(self.models, objects, registration.lwm2m_version)
        record.registered_at = registration.registered_wall
        record.hooks_done = asyncio.get_running_loop().create_future()
        self._by_address[address] = registration.endpoint
        self.counters.registrations += 1
        self._emit(
            ServerEvent(
                EventKind.REGISTRATION,
                registration.endpoint,
                registration.registered_wall,
                registration=registration,
            )
        )
        self._keep(self._run_hooks(record, registration))
        return Message(code=Code.CREATED, location_path=registration.location_path)

    def _update(self, request: Any) -> Any:
        location = request.opt.uri_path[1]
        query = list(request.opt.uri_query)
        check_query(query, UPDATE_PARAMETERS)
        objects = None
        if request.payload:
            _check_link_format(request)
            objects = parse_object_links(request.payload)
        address: Address = (request.remote[0], request.remote[1])
        self._check_context(self.directory.by_location(location), address, "Update")
        links = request.payload.decode("utf-8") if objects is not None else None
        registration = self.directory.update(location, query, links, address)
        record = self._records[registration.endpoint]
        self._forget_address(record)
        record.registration = registration
        if objects is not None:
            record.objects = objects
        record.versions = decoding_versions(self.models, record.objects, registration.lwm2m_version)
        record.updated_at = registration.updated_wall
        self._by_address[address] = registration.endpoint
        self.counters.updates += 1
        self._emit(
            ServerEvent(
                EventKind.UPDATE,
                registration.endpoint,
                registration.updated_wall,
                registration=registration,
            )
        )
        return Message(code=Code.CHANGED)

    def _deregister(self, request: Any) -> Any:
        location = request.opt.uri_path[1]
        address: Address = (request.remote[0], request.remote[1])
        self._check_context(self.directory.by_location(location), address, "De-register")
        registration = self.directory.deregister(location)
        self.counters.deregistrations += 1
        self._ended(registration, EventKind.DEREGISTRATION, self.clock.wall())
        return Message(code=Code.DELETED)

    def _check_context(self, registration: Registration, source: Address, what: str) -> None:
        """Apply :func:`~fleet.server.binding.judge`: refuse (4.00) a request from another
        security context; log and count one from a new address in the same context."""
        context = self._context(source)
        verdict = judge(registration.security, registration.address, context, source)
        if verdict is Verdict.REFUSE:
            self.counters.refused_context += 1
            _log.warning(
                "%s of %r from %s over %s refused: registered over %s",
                what,
                registration.endpoint,
                source,
                describe(context),
                describe(registration.security),
            )
            raise BadRequest(f"forbidden: {what} from another security context")
        if verdict is Verdict.REBOUND:
            self.counters.rebinds += 1
            _log.log(
                logging.WARNING if context is None else logging.INFO,
                "%s of %r over %s from a new address %s (was %s): accepted",
                what,
                registration.endpoint,
                describe(context),
                source,
                registration.address,
            )

    def _on_directory(self, event: DirectoryEvent) -> None:
        """Directory listener: only expiry happens outside a request."""
        if event.kind is DirectoryEventKind.EXPIRED:
            self.counters.expirations += 1
            self._ended(event.registration, EventKind.EXPIRATION, event.wall_time)

    def _ended(self, registration: Registration, kind: EventKind, wall: float) -> None:
        record = self._records.get(registration.endpoint)
        if record is not None:
            self._forget_address(record)
            record.registration = None
            if kind is EventKind.EXPIRATION:
                record.expired_at = wall
            else:
                record.deregistered_at = wall
            self._retire(record.endpoint)
        self._end_observations(registration.endpoint)
        self._emit(ServerEvent(kind, registration.endpoint, wall, registration=registration))

    def _retire(self, endpoint: str) -> None:
        """Keep the records of the last ``retired_records`` ended registrations readable and
        release the older ones (the server's memory stays bounded by its registrations)."""
        self._retired[endpoint] = None
        self._retired.move_to_end(endpoint)
        while len(self._retired) > self.retired_records:
            old, _ = self._retired.popitem(last=False)
            record = self._records.get(old)
            if record is not None and record.registration is None:
                del self._records[old]

    def _forget_address(self, record: DeviceRecord) -> None:
        registration = record.registration
        if registration is not None and self._by_address.get(registration.address) == (
            record.endpoint
        ):
            del self._by_address[registration.address]

    def _end_observations(self, endpoint: str) -> None:
        for handle in list(self._observations.get(endpoint, {}).values()):
            handle._end()

    async def _run_hooks(self, record: DeviceRecord, registration: Registration) -> None:
        done = record.hooks_done
        try:
            for hook in list(self._hooks):
                if not record.holds(registration):
                    break  # registered again or gone meanwhile: the new one runs its own
                try:
                    await hook(self, registration)
                except Exception:
                    _log.exception("on-register hook %r failed for %s", hook, record.endpoint)
        finally:
            if done is not None and not done.done():
                done.set_result(None)

    # -- send ---------------------------------------------------------------------------

    def _send(self, request: Any) -> Any:
        source: Address = (request.remote[0], request.remote[1])
        endpoint = self._by_address.get(source)
        record = self._records.get(endpoint) if endpoint is not None else None
        if record is None or record.registration is None:
            raise NotFound("Send from an address with no registration")
        self._check_context(record.registration, source, "Send")
        fmt = request.opt.content_format
        if not request.payload:
            raise BadRequest("a Send carries values")
        values: dict[Path, Value] = {}
        timed: tuple[Any, ...] = ()
        if fmt is not None and int(fmt) in SEND_FORMATS:
            timed = tuple(
                decode_timed(
                    int(fmt), request.payload, self.models, versions=record.versions, strict=False
                )
            )
            values = {item.path: item.value for item in timed}
        elif fmt is not None and int(fmt) == ContentFormat.LWM2M_CBOR:
            composite = decode_composite(
                int(fmt), request.payload, self.models, versions=record.versions, strict=False
            )
            values = flatten(composite)
        else:
            raise UnsupportedContentFormat("a Send is SenML CBOR, SenML JSON or LwM2M CBOR")
        record.record(values)
        self.counters.sends += 1
        self._emit(
            ServerEvent(
                EventKind.SEND, record.endpoint, self.clock.wall(), values=values, timed=timed
            )
        )
        return Message(code=Code.CHANGED)


def _register_endpoint(query: list[str]) -> str | None:
    for item in query:
        name, _, value = item.partition("=")
        if name == "ep":
            return value
    return None


def _check_link_format(request: Any) -> None:
    fmt = request.opt.content_format
    if fmt is not None and int(fmt) != ContentFormat.LINK:
        raise UnsupportedContentFormat("a registration payload is link format (40)")
