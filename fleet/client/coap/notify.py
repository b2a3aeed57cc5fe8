"""Server role of RFC 7641 Observe, and slicing of large bodies into Block2 blocks.

A 2.xx response carrying an Observe option to a GET/FETCH with Observe=0
registers the observer ``(remote, token)``; a GET with Observe=1 or a failed
re-registration ends it. :meth:`ObserverRole.notify` sends notifications with
the observer's 24-bit sequence number (the endpoint keeps only that number per
observer). A RST to a notification (matched by message id, for CON and recent
NON notifications), or a confirmable notification never acknowledged (RFC 7641
§4.5), ends the observation and calls ``on_cancel(remote, token)``. A new CON
notification replaces one still in flight, keeping its retransmission state.
"""

from __future__ import annotations

import asyncio
import logging
from collections import OrderedDict
from typing import Any

from fleet.client.coap.blockwise import body_etag, needs_blocks, slice_block
from fleet.client.coap.core import EndpointCore
from fleet.client.coap.retransmit import Transmission
from fleet.client.coap.wire import (
    BLOCK2,
    CON,
    NON,
    OBSERVE,
    Address,
    copy_options,
    encode,
)

_log = logging.getLogger("fleet.client.coap")

_GET, _FETCH = 1, 5
_SIZE2 = 28
_SEQUENCE_MASK = 0xFFFFFF


class _Notification:
    """Outcome of one confirmable notification: ``True`` once acknowledged."""

    __slots__ = ("endpoint", "future", "key")

    def __init__(
        self, endpoint: ObserverRole, key: tuple[Address, bytes], future: asyncio.Future[bool]
    ) -> None:
        self.endpoint = endpoint
        self.key = key
        self.future = future

    def _settle(self, delivered: bool) -> None:
        if not self.future.done():
            self.future.set_result(delivered)

    def _release(self) -> None:
        inflight = self.endpoint._inflight_notes
        if inflight is not None:
            current = inflight.get(self.key)
            if current is not None and current.owner is self:
                del inflight[self.key]

    def on_ack(self, response: Any | None) -> None:
        self._release()
        self._settle(True)

    def on_reset(self) -> None:
        self._release()
        self.endpoint._end_observer(self.key, tell=True)
        self._settle(False)

    def on_timeout(self) -> None:
        self.on_reset()


class ObserverRole(EndpointCore):
    """Observers of this endpoint's resources, and Block2 slicing shared with responses."""

    __slots__ = ()

    def _slice(self, options: Any, payload: bytes, block2: Any) -> tuple[Any, bytes] | None:
        """The requested block of a response body (block 0 unless asked), or ``None``."""
        szx = self._limits.block_szx
        number = 0
        if block2 is not None:
            asked = min(block2.size_exponent, 6)
            number = block2.block_number
            if asked > szx:  # we prefer smaller blocks: same offset, smaller size
                number <<= asked - szx
            else:
                szx = asked
        if number == 0 and not needs_blocks(len(payload), szx):
            return options, payload
        part = slice_block(payload, number, szx)
        if part is None:
            return None
        chunk, more = part
        sliced = copy_options(options, frozenset({BLOCK2, _SIZE2}))
        sliced.block2 = (number, more, szx)
        if number == 0:
            sliced.size2 = len(payload)
        if options.etag is None:
            sliced.etag = body_etag(payload)
        return sliced, chunk

    # -- observe ------------------------------------------------------------------------

    def _track_observer(self, request: Any, code: int, options: Any) -> Any:
        """Register or end an observation as the request asks; the options to send."""
        key = (request.remote, request.token)
        if request.opt.observe == 0 and request.code in (_GET, _FETCH):
            if 64 <= code < 96 and options.observe is not None:
                observers = self._observers
                if observers is None:
                    observers = self._observers = {}
                previous = observers.get(key)
                if previous is None and len(observers) >= self._limits.max_observers:
                    return copy_options(options, frozenset({OBSERVE}))
                # a new observer starts at the number the handler chose (some clients,
                # e.g. node-coap 0.22, drop a first answer numbered 0)
                first = int(options.observe) & _SEQUENCE_MASK
                sequence = first if previous is None else (previous + 1) & _SEQUENCE_MASK
                observers[key] = sequence
                registered = copy_options(options, frozenset({OBSERVE}))
                registered.observe = sequence
                return registered
            self._end_observer(key, tell=False)
            if options.observe is not None:
                return copy_options(options, frozenset({OBSERVE}))
        elif request.opt.observe == 1:
            self._end_observer(key, tell=False)
        return options

    def _end_observer(self, key: tuple[Address, bytes], *, tell: bool) -> None:
        observers = self._observers
        if not observers or observers.pop(key, None) is None:
            return
        inflight = self._inflight_notes
        transmission = inflight.pop(key, None) if inflight else None
        if transmission is not None:
            self._forget_transmission(transmission)
            if isinstance(transmission.owner, _Notification):
                transmission.owner._settle(False)
        if tell and self._on_cancel is not None:
            try:
                self._on_cancel(key[0], key[1])
            except Exception:
                _log.exception("on_cancel callback failed for %s", key)

    def _on_unmatched_reset(self, remote: Address, mid: int) -> None:
        recent = self._recent_notes
        token = recent.pop((remote, mid), None) if recent else None
        if token is not None:
            self._end_observer((remote, token), tell=True)

    def observing(self, remote: Address, token: bytes) -> bool:
        """Whether ``(remote, token)`` is a registered observer of this endpoint."""
        return bool(self._observers) and (remote, token) in self._observers  # type: ignore[operator]

    @property
    def observer_count(self) -> int:
        """How many observations this endpoint serves."""
        return len(self._observers) if self._observers else 0

    def forget_observer(self, remote: Address, token: bytes) -> None:
        """Drop an observation (no message is sent, ``on_cancel`` is not called)."""
        self._end_observer((remote, token), tell=False)

    def notify(
        self, remote: Address, token: bytes, response: Any, *, confirmable: bool = False
    ) -> asyncio.Future[bool]:
        """Send a notification to the observer ``(remote, token)``.

        The endpoint sets the Observe sequence number (and Block2 for a large
        body). The future is ``True`` once sent (NON) or acknowledged (CON);
        ``False`` if there is no such observer, the peer answered RST, a CON went
        unacknowledged, or a newer CON notification replaced this one in flight.
        """
        future: asyncio.Future[bool] = self._future()
        key = (remote, token)
        observers = self._observers
        if self._closed or not observers or key not in observers:
            future.set_result(False)
            return future
        sequence = observers[key] = (observers[key] + 1) & _SEQUENCE_MASK
        options = copy_options(response.opt, frozenset({OBSERVE}))
        options.observe = sequence
        payload: bytes = response.payload
        if needs_blocks(len(payload), self._limits.block_szx):
            sliced = self._slice(options, payload, None)
            assert sliced is not None
            options, payload = sliced
        code = response.code if response.code is not None else 69
        mid = self._next_mid()
        data = encode(CON if confirmable else NON, code, mid, token, options, payload)
        if confirmable:
            inflight = self._inflight_notes
            if inflight is None:
                inflight = self._inflight_notes = {}
            previous = inflight.pop(key, None)
            transmission = self._transmit(
                remote, mid, data, _Notification(self, key, future), inherit=previous
            )
            if previous is not None and isinstance(previous.owner, _Notification):
                previous.owner._settle(False)
            inflight[key] = transmission
        else:
            self._send(data, remote)
            self._remember_non(remote, mid, token)
            future.set_result(True)
        return future

    def _remember_non(self, remote: Address, mid: int, token: bytes) -> None:
        limit = self._limits.max_non_notifications
        if limit == 0:
            return
        recent = self._recent_notes
        if recent is None:
            recent = self._recent_notes = OrderedDict()
        recent[(remote, mid)] = token
        while len(recent) > limit:
            recent.popitem(last=False)

    def _close_roles(self, outstanding: dict[tuple[Address, int], Transmission] | None) -> None:
        inflight = self._inflight_notes
        self._inflight_notes = None
        if inflight:
            for transmission in inflight.values():
                if isinstance(transmission.owner, _Notification):
                    transmission.owner._settle(False)
        self._observers = None
        self._recent_notes = None
        super()._close_roles(outstanding)
