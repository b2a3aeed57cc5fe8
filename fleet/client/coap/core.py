"""The message layer shared by both roles: one UDP socket, message ids, CON reliability.

:class:`EndpointCore` is the ``asyncio.DatagramProtocol`` of one endpoint. It
parses the 4-byte header of every datagram, handles empty messages (ACK, RST,
ping) without a full decode, hands requests to the server role and responses
to the client role, retransmits outgoing confirmable messages from timers of
the injected :class:`fleet.clock.Clock`, and keeps the bounded deduplication
cache with one sweep timer that exists only while the cache is not empty.
Nothing raised while handling a datagram escapes into the event loop.

State is held in ``__slots__``; maps that only some endpoints need are created
on first use, so an idle endpoint owns no timer, no task and few objects.

A handler's result may also be one of two explicit markers: :data:`NO_REPLY`
(send nothing at all, not even an empty ACK; the deduplication entry keeps no
reply, so the peer's retransmissions are swallowed too and the peer times out)
and :class:`Duplicate` (send the response twice, as a network that duplicates
datagrams would). While :attr:`EndpointCore.asleep` is set (a device in queue
mode with its radio off) every datagram received is ignored before parsing,
and counted. ``on_retransmit(remote)``, when set, hears each retransmission
of one of our confirmable messages.
"""

from __future__ import annotations

import asyncio
import logging
import random
import socket
import weakref
from collections import OrderedDict
from typing import Any, cast

from fleet.client.coap.blockwise import Block1Assembler
from fleet.client.coap.dedup import DedupCache, DedupEntry
from fleet.client.coap.params import (
    DEFAULT_LIMITS,
    DEFAULT_PARAMETERS,
    EndpointLimits,
    TransmissionParameters,
)
from fleet.client.coap.results import (
    CancelCallback,
    Handler,
    RetransmitCallback,
)
from fleet.client.coap.retransmit import ConOwner, Transmission, initial_timeout, next_timeout
from fleet.client.coap.unreachable import REASONS, drain_errors, enable_error_queue
from fleet.client.coap.wire import ACK, CON, RST, Address, decode, empty_message
from fleet.clock import Clock, LoopClock, TimerHandle
from fleet.device.randomness import Rng

_log = logging.getLogger("fleet.client.coap")


_SHARED_RNG = random.Random()
_LOOP_CLOCKS: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, LoopClock] = (
    weakref.WeakKeyDictionary()
)


def _loop_clock() -> LoopClock:
    """One ``LoopClock`` per running loop, shared by its endpoints (saves memory per endpoint)."""
    try:
        loop = asyncio.get_running_loop()
    except RuntimeError:
        return LoopClock()
    clock = _LOOP_CLOCKS.get(loop)
    if clock is None:
        clock = _LOOP_CLOCKS[loop] = LoopClock(loop)
    return clock


class EndpointCore(asyncio.DatagramProtocol):
    """Socket, header parsing, message ids, tokens, retransmission, deduplication."""

    __slots__ = (
        "_address",
        "_block1",
        "_clock",
        "_closed",
        "_dedup",
        "_errors",
        "_exchanges",
        "_foreign",
        "_handler",
        "_held",
        "_ignored",
        "_inflight_notes",
        "_limits",
        "_loop",
        "_malformed",
        "_mid",
        "_observers",
        "_on_cancel",
        "_outstanding",
        "_params",
        "_recent_notes",
        "_resets",
        "_retransmissions",
        "_rng",
        "_sweep",
        "_tasks",
        "_timeouts",
        "_token",
        "_transport",
        "asleep",
        "handler_errors",
        "on_retransmit",
        "peers",
    )

    def __init__(
        self,
        *,
        handler: Handler | None = None,
        clock: Clock | None = None,
        params: TransmissionParameters = DEFAULT_PARAMETERS,
        limits: EndpointLimits = DEFAULT_LIMITS,
        rng: Rng | None = None,
        on_cancel: CancelCallback | None = None,
    ) -> None:
        self._handler = handler
        self._clock: Clock = clock if clock is not None else _loop_clock()
        self._params = params
        self._limits = limits
        self._rng = rng if rng is not None else _SHARED_RNG
        self._on_cancel = on_cancel
        self._transport: asyncio.DatagramTransport | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._address: Address = ("", 0)
        self._closed = False
        self._errors: socket.socket | None = None
        self._mid = self._rng.getrandbits(16)
        self._token = self._rng.getrandbits(32)
        self._outstanding: dict[tuple[Address, int], Transmission] | None = None
        self._dedup: DedupCache | None = None
        self._sweep: TimerHandle | None = None
        self._exchanges: dict[tuple[Address, bytes], Any] | None = None
        self._observers: dict[tuple[Address, bytes], int] | None = None
        self._inflight_notes: dict[tuple[Address, bytes], Transmission] | None = None
        self._recent_notes: OrderedDict[tuple[Address, int], bytes] | None = None
        self._block1: Block1Assembler | None = None
        self._held: OrderedDict[tuple[Any, ...], tuple[float, Any]] | None = None
        self._tasks: set[asyncio.Future[Any]] | None = None
        self._retransmissions = 0
        self._timeouts = 0
        self._resets = 0
        self._malformed = 0
        self._ignored = 0
        self._foreign = 0
        self.handler_errors = 0
        self.peers: frozenset[Address] | None = None
        """While set, datagrams from any other address are ignored (a device answers only its
        servers) and counted as ``foreign``."""
        self.asleep = False
        """While set, every datagram received is ignored (queue mode: the radio is off)."""
        self.on_retransmit: RetransmitCallback | None = None
        """Hears each retransmission of one of our confirmable messages (for metrics)."""

    # -- asyncio.DatagramProtocol -------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        transport = cast(asyncio.DatagramTransport, transport)
        self._transport = transport
        sockname = transport.get_extra_info("sockname")
        if sockname is not None:
            self._address = (sockname[0], sockname[1])
        try:
            self._loop = asyncio.get_running_loop()
        except RuntimeError:  # attached outside a loop (tests with a fake transport)
            self._loop = None

    def connection_lost(self, exc: Exception | None) -> None:
        self.close()

    def error_received(self, exc: Exception) -> None:
        """ICMP errors. With the socket's error queue on (:meth:`report_unreachable`), the
        exchanges waiting on the unreachable destination end at once; otherwise ignored:
        retransmission and timeouts decide."""
        sock = self._errors
        if sock is None or self._closed:
            return
        for remote, code in drain_errors(sock):
            reason = REASONS.get(code)
            if reason is not None:
                self._on_unreachable(remote, reason)

    def report_unreachable(self, sock: socket.socket) -> bool:
        """Read ICMP errors of ``sock`` (this endpoint's own, unconnected socket) so that a
        port unreachable ends the exchange at once (Linux); ``False`` where not possible."""
        if not enable_error_queue(sock):
            return False
        self._errors = sock
        return True

    def _on_unreachable(self, remote: Address, reason: str) -> None:
        """Our confirmable messages to ``remote`` will not be answered: their owners hear
        it now (an owner without ``on_unreachable`` keeps retransmitting)."""
        outstanding = self._outstanding
        if not outstanding:
            return
        for key, transmission in list(outstanding.items()):
            heard = getattr(transmission.owner, "on_unreachable", None)
            if key[0] != remote or heard is None:
                continue
            self._forget_transmission(transmission)
            self._timeouts += 1
            heard(reason)

    def datagram_received(self, data: bytes, addr: tuple[Any, ...]) -> None:
        try:
            self._receive(data, (addr[0], addr[1]))
        except Exception:
            self.handler_errors += 1
            _log.exception("CoAP endpoint %s: failed to handle a datagram from %s", self, addr)

    # -- receiving ----------------------------------------------------------------------

    def _receive(self, data: bytes, remote: Address) -> None:
        if self.asleep and not self._closed:
            self._ignored += 1
            return
        if self.peers is not None and remote not in self.peers:
            self._foreign += 1
            return
        if self._closed or len(data) < 4:
            self._malformed += 1
            return
        first = data[0]
        if first >> 6 != 1:  # unknown version: silently ignored (RFC 7252 §3)
            self._malformed += 1
            return
        mtype = (first >> 4) & 3
        code = data[1]
        mid = (data[2] << 8) | data[3]
        if code == 0:
            if len(data) != 4 or first & 0x0F:
                self._reject(mtype, mid, remote)
            elif mtype == ACK:
                self._on_acknowledged(remote, mid, None)
            elif mtype == RST:
                self._on_reset(remote, mid)
            elif mtype == CON:  # CoAP ping
                self._send(empty_message(RST, mid), remote)
            return
        if first & 0x0F > 8 or mtype == RST:
            self._reject(mtype, mid, remote)
            return
        try:
            message = decode(data, remote)
        except Exception:
            self._reject(mtype, mid, remote)
            return
        if code < 32:
            if mtype == ACK:
                self._malformed += 1
            else:
                self._on_request(message, mtype, mid)
        elif 64 <= code < 192:
            self._on_response(message, mtype, mid)
        else:
            self._reject(mtype, mid, remote)

    def _reject(self, mtype: int, mid: int, remote: Address) -> None:
        """A message we cannot process: RST for a CON, silence otherwise (RFC 7252 §4.2, 4.3)."""
        self._malformed += 1
        if mtype == CON:
            self._send(empty_message(RST, mid), remote)

    def _on_request(self, message: Any, mtype: int, mid: int) -> None:
        raise NotImplementedError

    def _on_response(self, message: Any, mtype: int, mid: int) -> None:
        raise NotImplementedError

    def _on_unmatched_reset(self, remote: Address, mid: int) -> None:
        """A RST that matches no outstanding CON (e.g. one answering a NON notification)."""

    def _on_acknowledged(self, remote: Address, mid: int, response: Any | None) -> bool:
        """Stop retransmitting the CON that ``mid`` acknowledges; ``False`` if none."""
        outstanding = self._outstanding
        transmission = outstanding.pop((remote, mid), None) if outstanding else None
        if transmission is None:
            return False
        if transmission.timer is not None:
            transmission.timer.cancel()
            transmission.timer = None
        if transmission.owner is not None:
            transmission.owner.on_ack(response)
        return True

    def _on_reset(self, remote: Address, mid: int) -> None:
        self._resets += 1
        outstanding = self._outstanding
        transmission = outstanding.pop((remote, mid), None) if outstanding else None
        if transmission is None:
            self._on_unmatched_reset(remote, mid)
            return
        if transmission.timer is not None:
            transmission.timer.cancel()
            transmission.timer = None
        if transmission.owner is not None:
            transmission.owner.on_reset()

    # -- sending ------------------------------------------------------------------------

    def _send(self, data: bytes, remote: Address) -> None:
        transport = self._transport
        if transport is not None and not self._closed:
            transport.sendto(data, remote)

    def _next_mid(self) -> int:
        self._mid = mid = (self._mid + 1) & 0xFFFF
        return mid

    def _next_token(self) -> bytes:
        self._token = token = (self._token + 1) & 0xFFFFFFFF
        return token.to_bytes(4, "big")

    def _transmit(
        self,
        remote: Address,
        mid: int,
        data: bytes,
        owner: ConOwner | None,
        inherit: Transmission | None = None,
    ) -> Transmission:
        """Send a CON now and retransmit it until acknowledged (RFC 7252 §4.2).

        ``inherit``: a CON this one replaces; its retransmission counter and
        timeout carry over (RFC 7641 §4.5.2), and it is no longer retransmitted.
        """
        if inherit is not None:
            self._forget_transmission(inherit)
            timeout = inherit.timeout
        else:
            timeout = initial_timeout(self._params, self._rng)
        transmission = Transmission(self, remote, mid, data, owner, timeout)
        if inherit is not None:
            transmission.retries = inherit.retries
        outstanding = self._outstanding
        if outstanding is None:
            outstanding = self._outstanding = {}
        outstanding[(remote, mid)] = transmission
        self._send(data, remote)
        transmission.timer = self._clock.call_at(self._clock.now() + timeout, transmission.fire)
        return transmission

    def _retransmit(self, transmission: Transmission) -> None:
        transmission.timer = None
        if self._closed:
            return
        if transmission.retries >= self._params.max_retransmit:
            if self._outstanding is not None:
                self._outstanding.pop((transmission.remote, transmission.mid), None)
            self._timeouts += 1
            if transmission.owner is not None:
                transmission.owner.on_timeout()
            return
        transmission.retries += 1
        transmission.timeout = next_timeout(transmission.timeout)
        self._retransmissions += 1
        self._send(transmission.data, transmission.remote)
        if self.on_retransmit is not None:
            self.on_retransmit(transmission.remote)
        when = self._clock.now() + transmission.timeout
        transmission.timer = self._clock.call_at(when, transmission.fire)

    def _forget_transmission(self, transmission: Transmission) -> None:
        """Stop retransmitting without telling the owner."""
        if transmission.timer is not None:
            transmission.timer.cancel()
            transmission.timer = None
        if self._outstanding is not None:
            key = (transmission.remote, transmission.mid)
            if self._outstanding.get(key) is transmission:
                del self._outstanding[key]

    # -- deduplication ------------------------------------------------------------------

    def _dedup_cache(self) -> DedupCache:
        cache = self._dedup
        if cache is None:
            limits = self._limits
            cache = DedupCache(limits.dedup_max_entries, limits.dedup_age(self._params))
            self._dedup = cache
        return cache

    def _dedup_seen(self, remote: Address, mid: int, now: float) -> DedupEntry | None:
        """The entry of an earlier copy of this message, or ``None`` (then it is recorded)."""
        cache = self._dedup_cache()
        key = (remote, mid)
        entry = cache.find(key, now)
        if entry is not None:
            return entry
        cache.add(key, now)
        if self._sweep is None:
            self._arm_sweep()
        return None

    def _dedup_reply(self, remote: Address, mid: int, reply: bytes) -> None:
        if self._dedup is not None:
            self._dedup.set_reply((remote, mid), reply)

    def _arm_sweep(self) -> None:
        cache = self._dedup
        oldest = None if cache is None or self._closed else cache.oldest_stamp()
        if cache is None or oldest is None:
            self._sweep = None
            return
        self._sweep = self._clock.call_at(oldest + cache.max_age, self._sweep_dedup)

    def _sweep_dedup(self) -> None:
        if self._dedup is not None:
            self._dedup.expire(self._clock.now())
        self._arm_sweep()

    # -- tasks and closing --------------------------------------------------------------

    def _future(self) -> asyncio.Future[Any]:
        loop = self._loop if self._loop is not None else asyncio.get_running_loop()
        return loop.create_future()

    def _keep_task(self, future: asyncio.Future[Any]) -> None:
        tasks = self._tasks
        if tasks is None:
            tasks = self._tasks = set()
        tasks.add(future)
        future.add_done_callback(tasks.discard)

    @property
    def outstanding_count(self) -> int:
        """Our confirmable messages still waiting for an ACK."""
        return len(self._outstanding) if self._outstanding else 0

    @property
    def in_flight(self) -> int:
        """Our requests still waiting for their response (observations excluded) and the
        server's requests still being answered (deferred handlers): queue mode stays awake."""
        exchanges = self._exchanges
        waiting = (
            sum(1 for e in exchanges.values() if getattr(e, "observation", None) is None)
            if exchanges
            else 0
        )
        return waiting + (len(self._tasks) if self._tasks else 0)

    @property
    def closed(self) -> bool:
        """Whether :meth:`close` was called (or the socket was lost)."""
        return self._closed

    def close(self) -> None:
        """Close the socket, stop every timer, fail waiting exchanges with ``EndpointClosed``."""
        if self._closed:
            return
        self._closed = True
        if self._sweep is not None:
            self._sweep.cancel()
            self._sweep = None
        outstanding = self._outstanding
        self._outstanding = None
        if outstanding:
            for transmission in outstanding.values():
                if transmission.timer is not None:
                    transmission.timer.cancel()
                    transmission.timer = None
        self._close_roles(outstanding)
        self._held = None
        self._errors = None
        if self._tasks:
            for task in list(self._tasks):
                task.cancel()
        if self._transport is not None:
            self._transport.close()

    def _close_roles(self, outstanding: dict[tuple[Address, int], Transmission] | None) -> None:
        """Hook: roles release their own state (``outstanding`` is what was in flight)."""
