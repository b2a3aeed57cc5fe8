"""Client role of an endpoint: requests, responses, Block2 reassembly, observations.

A request gets a fresh token and message id from the endpoint and is matched
to its response by ``(remote, token)``. A CON request is retransmitted until
acknowledged (RFC 7252 §4.2); a piggybacked response ends it, an empty ACK
makes it wait for a separate response (which is acknowledged in turn), a RST
raises :class:`CoapReset` and silence :class:`CoapTimeout`. A response with a
token nobody waits for is answered with RST (this is how a forgotten
observation is cancelled). NSTART is not enforced: several requests to one
peer may be outstanding at once.
"""

from __future__ import annotations

import asyncio
from typing import Any

from fleet.client.coap.blockwise import CONTINUE, block_size, needs_blocks
from fleet.client.coap.errors import (
    BlockwiseError,
    CoapReset,
    CoapTimeout,
    CoapUnreachable,
    EndpointClosed,
)
from fleet.client.coap.observe import NotificationCallback, Observation
from fleet.client.coap.server import ServerRole
from fleet.client.coap.wire import (
    ACK,
    BLOCK1,
    BLOCK2,
    CON,
    NON,
    OBSERVE,
    RST,
    Address,
    Message,
    copy_options,
    empty_message,
    encode,
    normalize_address,
    unknown_critical_option,
)


def _where(remote: Address) -> str:
    host, port = remote
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


class Exchange:
    """One request waiting for its response (or an observation's registration)."""

    __slots__ = (
        "endpoint",
        "future",
        "observation",
        "remote",
        "timer",
        "token",
        "transmission",
    )

    def __init__(
        self,
        endpoint: ClientRole,
        remote: Address,
        token: bytes,
        future: asyncio.Future[Any],
        observation: Observation | None,
    ) -> None:
        self.endpoint = endpoint
        self.remote = remote
        self.token = token
        self.future = future
        self.observation = observation
        self.timer: Any = None
        self.transmission: Any = None

    # ConOwner of the request's transmission
    def on_ack(self, response: Any | None) -> None:
        self.transmission = None
        if response is not None and response.token == self.token:
            self.deliver(response)
        elif self.timer is None:  # empty ACK: a separate response will follow
            when = self.endpoint._clock.now() + self.endpoint._limits.response_wait(
                self.endpoint._params
            )
            self.timer = self.endpoint._clock.call_at(when, self.expire)

    def on_reset(self) -> None:
        self.fail(CoapReset(f"{_where(self.remote)} answered the request with RST"))

    def on_timeout(self) -> None:
        sent = self.endpoint._params.max_retransmit + 1
        self.fail(CoapTimeout(f"no answer from {_where(self.remote)} after {sent} transmissions"))

    def on_unreachable(self, reason: str) -> None:
        self.fail(CoapUnreachable(f"{_where(self.remote)}: {reason} (ICMP)", reason))

    def expire(self) -> None:
        self.timer = None
        self.fail(CoapTimeout(f"no response from {_where(self.remote)} in time"))

    def deliver(self, response: Any) -> None:
        if self.transmission is not None:  # a response implies the ACK
            self.endpoint._forget_transmission(self.transmission)
            self.transmission = None
        if self.observation is not None:
            if self.timer is not None:
                self.timer.cancel()
                self.timer = None
            self.observation._receive(response)
            return
        self.finish()
        if not self.future.done():
            self.future.set_result(response)

    def finish(self) -> None:
        """Stop waiting: unregister, cancel timers, stop retransmitting."""
        exchanges = self.endpoint._exchanges
        key = (self.remote, self.token)
        if exchanges is not None and exchanges.get(key) is self:
            del exchanges[key]
        if self.timer is not None:
            self.timer.cancel()
            self.timer = None
        if self.transmission is not None:
            self.endpoint._forget_transmission(self.transmission)
            self.transmission = None

    def fail(self, error: BaseException) -> None:
        self.finish()
        if self.observation is not None:
            self.observation._fail(error)
        elif not self.future.done():
            self.future.set_exception(error)


class ClientRole(ServerRole):
    """Requests out, responses and notifications in."""

    __slots__ = ()

    def _on_response(self, response: Any, mtype: int, mid: int) -> None:
        remote = response.remote
        critical = unknown_critical_option(response)
        if mtype == ACK:
            if critical is None:
                self._on_acknowledged(remote, mid, response)
            else:  # rejecting an ACK means ignoring it (RFC 7252 §4.2)
                self._malformed += 1
            return
        seen = self._dedup_seen(remote, mid, self._clock.now())
        if seen is not None:
            if seen.reply is not None:
                self._send(seen.reply, remote)
            return
        exchanges = self._exchanges
        exchange = exchanges.get((remote, response.token)) if exchanges else None
        if exchange is None or critical is not None:
            reset = empty_message(RST, mid)
            self._send(reset, remote)
            self._dedup_reply(remote, mid, reset)
            return
        if mtype == CON:
            ack = empty_message(ACK, mid)
            self._send(ack, remote)
            self._dedup_reply(remote, mid, ack)
        exchange.deliver(response)

    # -- requests -----------------------------------------------------------------------

    async def request(
        self,
        message: Any,
        remote: Address,
        *,
        confirmable: bool = True,
        timeout: float | None = None,
        reassemble: bool = True,
        block1: bool = False,
    ) -> Any:
        """Send ``message`` (an aiocoap ``Message`` with a request code) and return the response.

        The endpoint chooses token, message id and type; ``message`` itself is not
        modified. A Block2 response is reassembled (bounded by
        ``limits.max_body_size``) unless ``reassemble`` is false (then the one
        block asked for comes back as it is: a firmware download fetches block by
        block). With ``block1`` a body larger than one block goes out in Block1
        blocks (RFC 7959 §2.5; smaller ones when the peer asks), a firmware push.
        ``timeout`` bounds the whole exchange.
        Raises :class:`CoapTimeout`, :class:`CoapReset`, :class:`BlockwiseError`,
        :class:`EndpointClosed`.
        """
        deadline = None if timeout is None else self._clock.now() + timeout
        if block1 and needs_blocks(len(message.payload), self._limits.block_szx):
            response = await self._send_blocks(message, remote, confirmable, deadline)
        else:
            response = await self._exchange(message, remote, confirmable, deadline)
        block2 = response.opt.block2
        if reassemble and block2 is not None and block2.more:
            response = await self._fetch_rest(message, remote, response, confirmable, deadline)
        return response

    async def _exchange(
        self,
        message: Any,
        remote: Address,
        confirmable: bool,
        deadline: float | None,
        token: bytes | None = None,
    ) -> Any:
        exchange = self._start(message, remote, confirmable, deadline, None, token)
        try:
            return await exchange.future
        finally:
            exchange.finish()

    def _start(
        self,
        message: Any,
        remote: Address,
        confirmable: bool,
        deadline: float | None,
        observation: Observation | None,
        token: bytes | None = None,
    ) -> Exchange:
        if self._closed:
            raise EndpointClosed("the endpoint is closed")
        code = message.code
        if code is None or not 1 <= code < 32:
            raise ValueError(f"not a request code: {code}")
        remote = normalize_address(remote)
        if token is None:
            token = self._next_token()
        mid = self._next_mid()
        data = encode(CON if confirmable else NON, code, mid, token, message.opt, message.payload)
        exchange = Exchange(self, remote, token, self._future(), observation)
        exchanges = self._exchanges
        if exchanges is None:
            exchanges = self._exchanges = {}
        exchanges[(remote, token)] = exchange
        if confirmable:
            exchange.transmission = self._transmit(remote, mid, data, exchange)
        else:
            self._send(data, remote)
        if deadline is not None:
            exchange.timer = self._clock.call_at(deadline, exchange.expire)
        elif not confirmable:
            when = self._clock.now() + self._limits.response_wait(self._params)
            exchange.timer = self._clock.call_at(when, exchange.expire)
        return exchange

    async def _send_blocks(
        self, message: Any, remote: Address, confirmable: bool, deadline: float | None
    ) -> Any:
        """Send ``message``'s body in Block1 blocks; the answer to the last one (or an error)."""
        payload = bytes(message.payload)
        szx = self._limits.block_szx
        offset = 0
        while True:
            size = block_size(szx)
            chunk = payload[offset : offset + size]
            more = offset + len(chunk) < len(payload)
            part = Message(code=message.code, payload=chunk)
            part.opt = copy_options(message.opt, frozenset({BLOCK1, BLOCK2}))
            part.opt.block1 = (offset // size, more, szx)
            if offset == 0:
                part.opt.size1 = len(payload)
            response = await self._exchange(part, remote, confirmable, deadline)
            if not more or response.code != CONTINUE:
                return response
            asked = response.opt.block1
            if asked is not None and asked.size_exponent < szx:
                szx = asked.size_exponent
            offset += len(chunk)

    def _derived(self, message: Any, *, observe: int | None = None, block2: Any = None) -> Any:
        """A copy of a request with Observe and Block2 replaced (and Block1 dropped)."""
        derived = Message(code=message.code, payload=message.payload)
        derived.opt = copy_options(message.opt, frozenset({OBSERVE, BLOCK1, BLOCK2}))
        if observe is not None:
            derived.opt.observe = observe
        if block2 is not None:
            derived.opt.block2 = block2
        return derived

    async def _fetch_rest(
        self, message: Any, remote: Address, first: Any, confirmable: bool, deadline: float | None
    ) -> Any:
        """Fetch the blocks after ``first`` and return ``first`` with the whole body."""
        limit = self._limits.max_body_size
        size2 = first.opt.size2
        if size2 is not None and size2 > limit:
            raise BlockwiseError(f"response body of {size2} bytes exceeds {limit}")
        etag = first.opt.etag
        body = bytearray(first.payload)
        block2 = first.opt.block2
        for _ in range(limit // 16 + 1):
            if not block2.more:
                first.payload = bytes(body)
                first.opt.block2 = None
                return first
            if len(body) > limit:
                raise BlockwiseError(f"response body exceeds {limit} bytes")
            szx = min(block2.size_exponent, 6)
            number = len(body) // block_size(szx)
            follow = self._derived(message, block2=(number, False, szx))
            response = await self._exchange(follow, remote, confirmable, deadline)
            block2 = response.opt.block2
            if not 64 <= response.code < 96:
                return response
            if block2 is None:
                raise BlockwiseError("a follow-up response carries no Block2 option")
            if response.opt.etag != etag:
                raise BlockwiseError("the representation changed during the transfer")
            if block2.block_number * block_size(block2.size_exponent) != len(body):
                raise BlockwiseError("a block arrived out of sequence")
            body += response.payload
        raise BlockwiseError("too many blocks")

    # -- observations -------------------------------------------------------------------

    def observe(
        self,
        message: Any,
        remote: Address,
        *,
        confirmable: bool = True,
        timeout: float | None = None,
        callback: NotificationCallback | None = None,
    ) -> Observation:
        """Register an observation (``message`` gets Observe=0) and return it at once.

        ``await observation.response`` gives the first response (``timeout``
        bounds only that wait); ``async for`` over it, or ``callback``, gives the
        fresh notifications that follow.
        """
        request = self._derived(message, observe=0)
        if message.opt.block2 is not None:
            request.opt.block2 = message.opt.block2
        observation = Observation(
            self,
            request,
            normalize_address(remote),
            confirmable=confirmable,
            callback=callback,
            queue_size=self._limits.observation_queue,
            response=self._future(),
        )
        deadline = None if timeout is None else self._clock.now() + timeout
        exchange = self._start(request, remote, confirmable, deadline, observation)
        observation.exchange = exchange
        observation.token = exchange.token
        return observation

    def _close_roles(self, outstanding: Any) -> None:
        exchanges = self._exchanges
        self._exchanges = None
        if exchanges:
            for exchange in list(exchanges.values()):
                exchange.fail(EndpointClosed("the endpoint was closed"))
        super()._close_roles(outstanding)
