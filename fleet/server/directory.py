"""The embedded server's registration directory: who is registered, where, until when.

Pure bookkeeping driven by a :class:`~fleet.clock.Clock`: Register creates an
entry with a fresh location (random and unguessable, as Leshan's: a location is never
handed out twice, not even by a server restarted on the same port, so a device that
Updates a location from before a restart gets 4.04 and registers again instead of
refreshing another device's registration), Update refreshes it (and may change lifetime,
binding or object links), De-register removes it, and an entry whose lifetime
passes without an Update expires. Listeners hear about every change as a
:class:`DirectoryEvent`, which the server turns into the platform's
``registration`` / ``update`` / ``deregistration`` / ``registration-expire``
messages.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from enum import Enum

from fleet.clock import Clock, TimerHandle
from fleet.errors import BadRequest, NotFound
from fleet.server.binding import Context

Address = tuple[str, int]


class DirectoryEventKind(Enum):
    REGISTERED = "registration"
    UPDATED = "update"
    DEREGISTERED = "deregistration"
    EXPIRED = "registration-expire"


@dataclass(frozen=True, slots=True)
class Registration:
    """One registered client, as the server knows it."""

    endpoint: str
    location: str
    address: Address
    lifetime: int
    lwm2m_version: str
    binding: str
    queue_mode: bool
    links: str
    registered_at: float
    updated_at: float
    expires_at: float
    registered_wall: float
    updated_wall: float
    security: Context = None
    """The security context it was registered in (see :mod:`fleet.server.binding`)."""

    @property
    def location_path(self) -> tuple[str, str]:
        return ("rd", self.location)


@dataclass(frozen=True, slots=True)
class DirectoryEvent:
    kind: DirectoryEventKind
    registration: Registration
    wall_time: float


Listener = Callable[[DirectoryEvent], None]


def parse_register_query(query: list[str]) -> dict[str, str | None]:
    """Split ``["ep=dev1", "lt=60", "Q"]`` into a dict; repeated keys are a 4.00."""
    items: dict[str, str | None] = {}
    for item in query:
        key, sep, value = item.partition("=")
        if key in items:
            raise BadRequest(f"query parameter {key!r} given twice")
        items[key] = value if sep else None
    return items


@dataclass
class Directory:
    """Registrations by endpoint name and by location, expiring on the clock."""

    clock: Clock
    default_lifetime: int = 86400
    _by_endpoint: dict[str, Registration] = field(default_factory=dict)
    _by_location: dict[str, str] = field(default_factory=dict)
    _timers: dict[str, TimerHandle] = field(default_factory=dict)
    _listeners: list[Listener] = field(default_factory=list)
    location_bytes: int = 8
    """Random bytes in a location (64 bits: unguessable, never reused in practice)."""

    def subscribe(self, listener: Listener) -> Callable[[], None]:
        """Call ``listener`` on every change; returns a function that unsubscribes."""
        self._listeners.append(listener)
        return lambda: self._listeners.remove(listener)

    def register(
        self, query: list[str], links: str, address: Address, security: Context = None
    ) -> Registration:
        """Handle a Register; a second Register of the same endpoint replaces the first
        (whether it may is :func:`fleet.server.binding.may_register`'s call, before)."""
        params = parse_register_query(query)
        endpoint = params.get("ep")
        if not endpoint:
            raise BadRequest("Register without endpoint name (ep=)")
        lifetime = _lifetime(params.get("lt"), self.default_lifetime)
        version = params.get("lwm2m") or "1.0"
        binding = params.get("b") or "U"
        old = self._by_endpoint.get(endpoint)
        if old is not None:
            self._drop(old)
        now, wall = self.clock.now(), self.clock.wall()
        location = self._new_location()
        registration = Registration(
            endpoint=endpoint,
            location=location,
            address=address,
            lifetime=lifetime,
            lwm2m_version=version,
            binding=binding,
            queue_mode="Q" in params or "Q" in binding,
            links=links,
            registered_at=now,
            updated_at=now,
            expires_at=now + lifetime,
            registered_wall=wall,
            updated_wall=wall,
            security=security,
        )
        self._store(registration)
        self._emit(DirectoryEventKind.REGISTERED, registration)
        return registration

    def update(
        self, location: str, query: list[str], links: str | None, address: Address
    ) -> Registration:
        """Handle an Update; an unknown location is :class:`NotFound` (the client re-registers)."""
        current = self.by_location(location)
        params = parse_register_query(query)
        lifetime = _lifetime(params.get("lt"), current.lifetime) if "lt" in params else None
        now, wall = self.clock.now(), self.clock.wall()
        changes: dict[str, object] = {"address": address, "updated_at": now, "updated_wall": wall}
        if lifetime is not None:
            changes["lifetime"] = lifetime
        if params.get("b"):
            changes["binding"] = params["b"]
        if "Q" in params:
            changes["queue_mode"] = True
        if links:
            changes["links"] = links
        updated = replace(current, **changes)  # type: ignore[arg-type]
        updated = replace(updated, expires_at=now + updated.lifetime)
        self._store(updated)
        self._emit(DirectoryEventKind.UPDATED, updated)
        return updated

    def deregister(self, location: str) -> Registration:
        """Handle a De-register; an unknown location is :class:`NotFound`."""
        current = self.by_location(location)
        self._drop(current)
        self._emit(DirectoryEventKind.DEREGISTERED, current)
        return current

    def by_location(self, location: str) -> Registration:
        endpoint = self._by_location.get(location)
        if endpoint is None:
            raise NotFound(f"no registration at /rd/{location}")
        return self._by_endpoint[endpoint]

    def get(self, endpoint: str) -> Registration | None:
        return self._by_endpoint.get(endpoint)

    def __iter__(self) -> Iterator[Registration]:
        return iter(list(self._by_endpoint.values()))

    def __len__(self) -> int:
        return len(self._by_endpoint)

    def clear(self) -> None:
        """Forget everything without events (reset between tests)."""
        for timer in self._timers.values():
            timer.cancel()
        self._timers.clear()
        self._by_endpoint.clear()
        self._by_location.clear()

    def _new_location(self) -> str:
        while True:
            location = secrets.token_hex(self.location_bytes)
            if location not in self._by_location:
                return location

    def _store(self, registration: Registration) -> None:
        self._by_endpoint[registration.endpoint] = registration
        self._by_location[registration.location] = registration.endpoint
        old_timer = self._timers.pop(registration.endpoint, None)
        if old_timer is not None:
            old_timer.cancel()
        endpoint, location = registration.endpoint, registration.location
        self._timers[endpoint] = self.clock.call_at(
            registration.expires_at, lambda: self._expire(endpoint, location)
        )

    def _drop(self, registration: Registration) -> None:
        self._by_endpoint.pop(registration.endpoint, None)
        self._by_location.pop(registration.location, None)
        timer = self._timers.pop(registration.endpoint, None)
        if timer is not None:
            timer.cancel()

    def _expire(self, endpoint: str, location: str) -> None:
        current = self._by_endpoint.get(endpoint)
        if current is None or current.location != location:
            return
        if self.clock.now() < current.expires_at:  # refreshed meanwhile
            return
        self._timers.pop(endpoint, None)
        self._drop(current)
        self._emit(DirectoryEventKind.EXPIRED, current)

    def _emit(self, kind: DirectoryEventKind, registration: Registration) -> None:
        event = DirectoryEvent(kind, registration, self.clock.wall())
        for listener in list(self._listeners):
            listener(event)


def _lifetime(text: str | None, default: int) -> int:
    if text is None or text == "":
        return default
    if not text.isascii() or not text.isdigit() or int(text) == 0:
        raise BadRequest(f"lifetime must be a positive integer, got {text!r}")
    return int(text)
