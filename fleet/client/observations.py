"""The observations one device serves, driven by tree changes and one Clock timer each.

An observation is keyed by the server's ``(remote, token)`` and remembers the
observed path (or paths, for Observe-Composite), the content format of its
answer, the attributes given in the Observe query and its
:class:`~fleet.observe.ObservationState`. Its effective attributes are the
server's Write-Attributes (an :class:`~fleet.observe.AttributeStore`,
inherited object -> instance -> resource, over the default pmin/pmax of
``/1/0/2`` and ``/1/0/3``) with the query's attributes on top; they are worked
out again when Write-Attributes touches the path.

What drives it:

- the tree's change listener calls :meth:`Observations.on_change`; every
  observation whose path overlaps a changed path takes one
  :func:`fleet.observe.evaluate` step with ``changed=True``;
- each observation has at most one Clock timer, at the deadline the last step
  returned (pmin expiry with a pending change, pmax, epmin, epmax);
- a notification is the observed content read and encoded again, sent with
  ``CoapEndpoint.notify``.

Confirmable or not: the 1.2 ``con`` attribute decides when it is set;
otherwise every notification is confirmable when the device is configured so
(``confirmable_notifications``), else non-confirmable except one confirmable
notification at least every 24 hours per observation, as RFC 7641 §4.5 asks
of a server that wants to learn whether the client still cares. A Reset or an
unacknowledged confirmable notification ends the observation (the endpoint
calls the device's ``on_cancel``, which calls :meth:`Observations.cancel`).

A second Observe of the same path(s) from the same server with another token
replaces the first. They are bounded per device by ``limit`` (the CoAP endpoint's
``max_observers``, :attr:`~fleet.client.config.DeviceConfig.limits`): when it is reached a
new Observe is answered as a plain Read without the Observe option, i.e. not established
(RFC 7641 §4.1), and costs nothing afterwards. A read error (the instance was deleted) is sent as a
final error notification. De-registration and reboot :meth:`clear` them all.

Each notification knows when it was due: the deadline its timer was armed for
(pmin ended with a change pending, pmax), or the moment of the change; the
:class:`~fleet.client.events.NotificationSent` event carries it. A queue-mode
device that sleeps (:mod:`fleet.client.queue`) either wakes to send it, or
stores it (content read and encoded when due) and sends it after its next
Update, still with the time it was due, or discards it when /1/0/6 (Notification
Storing When Disabled or Offline) is false.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import partial
from typing import Any, Final, Protocol

from fleet.client.coap.endpoint import CoapEndpoint
from fleet.client.coap.wire import Address, Message
from fleet.client.content import (
    encode_composite_answer,
    encode_node,
    observed_value,
    read_composite,
)
from fleet.client.events import ClientEvent, NotificationSent, ObservationEnded, code_text
from fleet.client.queue import NotifyAction, QueueMode, StoredNotification, notification_storing
from fleet.clock import Clock, TimerHandle
from fleet.codec.formats import ContentFormat
from fleet.device.tree import ObjectTree
from fleet.errors import Lwm2mError
from fleet.model.nodes import Node
from fleet.model.path import Path
from fleet.model.registry import ModelRegistry
from fleet.model.values import Value
from fleet.observe import (
    AttributeStore,
    AttributeUpdate,
    NotificationAttributes,
    ObservationState,
    apply_update,
    evaluate,
    next_deadline,
)

CONTENT: Final = 69  # 2.05
CON_INTERVAL: Final = 86400.0
"""A non-confirmable observation sends a confirmable notification at least this often."""


class ObservationHost(Protocol):
    """What the observations need from their device."""

    @property
    def name(self) -> str: ...

    @property
    def tree(self) -> ObjectTree: ...

    @property
    def clock(self) -> Clock: ...

    @property
    def models(self) -> ModelRegistry: ...

    @property
    def endpoint(self) -> CoapEndpoint | None: ...

    @property
    def attributes(self) -> AttributeStore: ...

    @property
    def confirmable_notifications(self) -> bool: ...

    @property
    def queue(self) -> QueueMode | None:
        """The queue-mode state while the device may sleep (``None``: always awake)."""
        ...

    @property
    def listening(self) -> bool: ...

    def emit(self, event: ClientEvent) -> None: ...


class Observation:
    """One observation a server made on this device."""

    __slots__ = (
        "attrs",
        "composite",
        "con_at",
        "deadline",
        "format",
        "paths",
        "query",
        "remote",
        "single",
        "state",
        "timer",
        "token",
    )

    def __init__(
        self,
        remote: Address,
        token: bytes,
        paths: tuple[Path, ...],
        *,
        composite: bool,
        single: bool,
        fmt: ContentFormat,
        query: AttributeUpdate | None,
        attrs: NotificationAttributes,
        state: ObservationState,
    ) -> None:
        self.remote = remote
        self.token = token
        self.paths = paths
        self.composite = composite
        self.single = single
        """Whether the target holds one value (then it is read at every change)."""
        self.format = fmt
        self.query = query
        self.attrs = attrs
        self.state = state
        self.con_at = state.notified_at
        self.timer: TimerHandle | None = None
        self.deadline: float | None = None
        """When the timer is armed for (a notification then is due then)."""

    @property
    def key(self) -> tuple[Address, bytes]:
        return (self.remote, self.token)

    def __repr__(self) -> str:
        paths = ",".join(str(p) for p in self.paths)
        return f"<Observation {paths} from {self.remote} token {self.token.hex()}>"


class Observations:
    """Every observation of one device."""

    __slots__ = ("_host", "_items", "limit", "refused")

    def __init__(self, host: ObservationHost, limit: int = 256) -> None:
        self._host = host
        self._items: dict[tuple[Address, bytes], Observation] = {}
        self.limit = limit
        """Observations kept at most; beyond it an Observe is not established."""
        self.refused = 0
        """Observes answered without establishing an observation (the limit was reached)."""

    def __len__(self) -> int:
        return len(self._items)

    def get(self, remote: Address, token: bytes) -> Observation | None:
        return self._items.get((remote, token))

    def all(self) -> list[Observation]:
        """The observations, oldest first."""
        return list(self._items.values())

    # -- starting and ending ------------------------------------------------------------

    def admits(self, remote: Address, token: bytes, paths: Sequence[Path], composite: bool) -> bool:
        """Whether an Observe may be established now: below :attr:`limit`, or replacing one
        (same token, or same path(s) from the same server). ``False`` is counted."""
        if len(self._items) < self.limit or (remote, token) in self._items:
            return True
        wanted = tuple(paths)
        for other in self._items.values():
            if other.remote == remote and other.paths == wanted and other.composite == composite:
                return True
        self.refused += 1
        return False

    def start(
        self,
        remote: Address,
        token: bytes,
        paths: Sequence[Path],
        *,
        composite: bool,
        single: bool,
        fmt: ContentFormat,
        query: AttributeUpdate | None,
        value: Value | None,
    ) -> Observation:
        """Begin (or re-register) an observation whose Observe response goes out now."""
        host = self._host
        paths = tuple(paths)
        old = self._items.pop((remote, token), None)
        if old is not None:
            _stop(old)
        endpoint = host.endpoint
        for other in list(self._items.values()):
            if other.remote == remote and other.paths == paths and other.composite == composite:
                self._drop(other, "replaced by a new Observe of the same path")
                if endpoint is not None:
                    endpoint.forget_observer(other.remote, other.token)
        now = host.clock.now()
        attrs = self._attributes_for(paths, composite, query)
        state = ObservationState.start(now, value)
        observation = Observation(
            remote,
            token,
            paths,
            composite=composite,
            single=single,
            fmt=fmt,
            query=query,
            attrs=attrs,
            state=state,
        )
        self._items[observation.key] = observation
        self._arm(observation, next_deadline(attrs, state, now))
        return observation

    def cancel(self, remote: Address, token: bytes, reason: str) -> bool:
        """End an observation the server cancelled; ``False`` if there was none."""
        observation = self._items.get((remote, token))
        if observation is None:
            return False
        self._drop(observation, reason)
        return True

    def clear(self, reason: str) -> None:
        """End every observation (de-registration, reboot); the endpoint forgets them too."""
        endpoint = self._host.endpoint
        for observation in list(self._items.values()):
            self._drop(observation, reason)
            if endpoint is not None:
                endpoint.forget_observer(observation.remote, observation.token)

    # -- what drives them ---------------------------------------------------------------

    def on_change(self, changed: tuple[Path, ...]) -> None:
        """The tree changed ``changed`` (each path with everything below it)."""
        for observation in list(self._items.values()):
            if _overlaps(observation.paths, changed) and observation.key in self._items:
                self._step(observation, changed=True)

    def attributes_changed(self, path: Path | None) -> None:
        """Write-Attributes at ``path`` (``None``: the default periods) changed what applies."""
        now = self._host.clock.now()
        for observation in list(self._items.values()):
            if path is not None and (
                observation.composite or not path.contains(observation.paths[0])
            ):
                continue
            observation.attrs = self._attributes_for(
                observation.paths, observation.composite, observation.query
            )
            self._arm(observation, next_deadline(observation.attrs, observation.state, now))

    def _attributes_for(
        self, paths: tuple[Path, ...], composite: bool, query: AttributeUpdate | None
    ) -> NotificationAttributes:
        store = self._host.attributes
        base = store.defaults if composite else store.effective(paths[0])
        return apply_update(base, query) if query is not None else base

    def _arm(self, observation: Observation, deadline: float | None) -> None:
        if observation.timer is not None:
            observation.timer.cancel()
            observation.timer = None
        observation.deadline = deadline
        if deadline is not None:
            observation.timer = self._host.clock.call_at(deadline, partial(self._wake, observation))

    def _wake(self, observation: Observation) -> None:
        observation.timer = None
        if self._items.get(observation.key) is observation:
            self._step(observation, changed=False, due=observation.deadline)

    def _step(self, observation: Observation, *, changed: bool, due: float | None = None) -> None:
        host = self._host
        endpoint = host.endpoint
        if endpoint is None or not endpoint.observing(observation.remote, observation.token):
            self._drop(observation, "no longer registered with the CoAP endpoint")
            return
        now = host.clock.now()
        node: Node | None = None
        value: Value | None = None
        if observation.single:
            try:
                node = host.tree.read(observation.paths[0])
            except Lwm2mError as error:
                self._end_with_error(observation, error)
                return
            value = observed_value(node)
        step = evaluate(observation.attrs, observation.state, now, value, changed)
        observation.state = step.state
        if step.notify:
            when = now if due is None or due > now else due
            if not self._notify(observation, endpoint, node, now, when):
                return
        self._arm(observation, step.deadline)

    def _notify(
        self,
        observation: Observation,
        endpoint: CoapEndpoint,
        node: Node | None,
        now: float,
        due: float,
    ) -> bool:
        host = self._host
        try:
            if observation.composite:
                composite = read_composite(host.tree, observation.paths)
                payload = encode_composite_answer(
                    observation.format, composite, host.models, observation.paths
                )
            else:
                path = observation.paths[0]
                read = host.tree.read(path) if node is None else node
                payload = encode_node(observation.format, read, path, host.models)
        except Lwm2mError as error:
            self._end_with_error(observation, error)
            return False
        confirmable = self._confirmable(observation, now)
        response = Message(code=CONTENT, payload=payload, content_format=int(observation.format))
        queue = host.queue
        if queue is not None:
            action = queue.on_due(partial(notification_storing, host.tree))
            if action is NotifyAction.STORE:
                send = partial(self._send_stored, observation, response, confirmable)
                queue.store(StoredNotification(due, send))
                return True
            if action is NotifyAction.DISCARD:
                return True
        self._send(observation, endpoint, response, confirmable, due)
        if queue is not None:
            queue.activity()
        return True

    def _send(
        self,
        observation: Observation,
        endpoint: CoapEndpoint,
        response: Any,
        confirmable: bool,
        due: float,
    ) -> None:
        host = self._host
        endpoint.notify(observation.remote, observation.token, response, confirmable=confirmable)
        if host.listening:
            host.emit(
                NotificationSent(
                    endpoint=host.name,
                    time=host.clock.now(),
                    paths=observation.paths,
                    content_format=int(observation.format),
                    confirmable=confirmable,
                    code="2.05",
                    remote=observation.remote,
                    due=due,
                )
            )

    def _send_stored(
        self, observation: Observation, response: Any, confirmable: bool, due: float
    ) -> None:
        """A notification stored while asleep, sent on waking (if still observed)."""
        endpoint = self._host.endpoint
        if self._items.get(observation.key) is not observation or endpoint is None:
            return
        if endpoint.observing(observation.remote, observation.token):
            self._send(observation, endpoint, response, confirmable, due)

    def _confirmable(self, observation: Observation, now: float) -> bool:
        con = observation.attrs.con
        if con is None:
            con = self._host.confirmable_notifications or now - observation.con_at >= CON_INTERVAL
        if con:
            observation.con_at = now
        return con

    def _end_with_error(self, observation: Observation, error: Lwm2mError) -> None:
        """Tell the observer the target is gone (an error notification ends it), then drop it."""
        endpoint = self._host.endpoint
        code = (error.code[0] << 5) | error.code[1]
        if endpoint is not None:
            endpoint.notify(observation.remote, observation.token, Message(code=code))
            endpoint.forget_observer(observation.remote, observation.token)
        self._drop(observation, f"ended with {code_text(code)}: {error}")

    def _drop(self, observation: Observation, reason: str) -> None:
        if self._items.get(observation.key) is observation:
            del self._items[observation.key]
        _stop(observation)
        host = self._host
        if host.listening:
            host.emit(
                ObservationEnded(
                    endpoint=host.name,
                    time=host.clock.now(),
                    paths=observation.paths,
                    reason=reason,
                    remote=observation.remote,
                )
            )


def _stop(observation: Observation) -> None:
    if observation.timer is not None:
        observation.timer.cancel()
        observation.timer = None


def _overlaps(observed: tuple[Path, ...], changed: tuple[Path, ...]) -> bool:
    for path in observed:
        for other in changed:
            if path.contains(other) or other.contains(path):
                return True
    return False
