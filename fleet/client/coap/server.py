"""Server role of an endpoint: answering requests, synchronously when possible.

Incoming requests are deduplicated, checked for unknown critical options and
handed to the endpoint's handler. A handler that returns a response is answered
in the same call, without a task (piggybacked on the ACK for a CON); one that
returns an awaitable runs as a task, gets an empty ACK if it takes longer than
``empty_ack_delay`` and then a separate confirmable response, acknowledged by
the peer. Handler exceptions become responses (an ``Lwm2mError`` its own code,
anything else 5.00); they never reach the event loop. A handler (or its
awaitable) may also give :data:`~fleet.client.coap.core.NO_REPLY` (nothing is
sent, not even an empty ACK: the peer times out) or a
:class:`~fleet.client.coap.core.Duplicate` (its response is sent twice).

Block-wise (RFC 7959): a response larger than the block size is sliced per
request. For GET and FETCH the handler simply runs again for each block (the
ETag derived from the body lets the client notice a change); for other methods
the response is held in a small bounded cache so that the action is not
repeated. Incoming Block1 bodies are assembled within bounds.
"""

from __future__ import annotations

import asyncio
import logging
from collections import OrderedDict
from typing import Any

from fleet.client.coap.blockwise import (
    CONTINUE,
    REQUEST_ENTITY_INCOMPLETE,
    REQUEST_ENTITY_TOO_LARGE,
    Block1Assembler,
    needs_blocks,
)
from fleet.client.coap.notify import ObserverRole
from fleet.client.coap.results import NO_REPLY, Duplicate
from fleet.client.coap.wire import (
    ACK,
    BLOCK1,
    CON,
    NON,
    PROXY_OPTIONS,
    RST,
    Message,
    Options,
    copy_options,
    default_code,
    empty_message,
    encode,
    is_plain,
    unknown_critical_option,
)
from fleet.errors import Lwm2mError

_log = logging.getLogger("fleet.client.coap")

_SAFE_METHODS = frozenset({1, 5})  # GET, FETCH: may run again for every block
_BAD_REQUEST, _BAD_OPTION, _NOT_FOUND = 128, 130, 132
_INTERNAL_SERVER_ERROR, _PROXYING_NOT_SUPPORTED = 160, 165


class _Deferred:
    """The answer of an asynchronous handler, still to come."""

    __slots__ = ("acked", "endpoint", "mid", "mtype", "request", "timer")

    def __init__(self, endpoint: ServerRole, request: Any, mtype: int, mid: int) -> None:
        self.endpoint = endpoint
        self.request = request
        self.mtype = mtype
        self.mid = mid
        self.acked = False
        self.timer: Any = None

    def send_empty_ack(self) -> None:
        self.timer = None
        endpoint = self.endpoint
        if self.acked or endpoint._closed:
            return
        self.acked = True
        data = empty_message(ACK, self.mid)
        endpoint._send(data, self.request.remote)
        endpoint._dedup_reply(self.request.remote, self.mid, data)

    def done(self, future: asyncio.Future[Any]) -> None:
        if self.timer is not None:
            self.timer.cancel()
            self.timer = None
        endpoint = self.endpoint
        if endpoint._closed or future.cancelled():
            return
        error = future.exception()
        response = endpoint._error_response(error) if error is not None else future.result()
        endpoint._answer(self.request, self.mtype, self.mid, response, separate=self.acked)


class ServerRole(ObserverRole):
    """Requests in, responses out."""

    __slots__ = ()

    # -- requests -----------------------------------------------------------------------

    def _on_request(self, request: Any, mtype: int, mid: int) -> None:
        remote = request.remote
        now = self._clock.now()
        seen = self._dedup_seen(remote, mid, now)
        if seen is not None:
            if seen.reply is not None:
                self._send(seen.reply, remote)
            return
        plain = is_plain(request)
        if not plain and not self._special_request(request, mtype, mid, now):
            return
        handler = self._handler
        if handler is None:
            result: Any = Message(code=_NOT_FOUND)
        else:
            try:
                result = handler(request)
            except Exception as error:
                result = self._error_response(error)
        if isinstance(result, Message):
            self._respond(request, mtype, mid, result, plain=plain)
            return
        if result is None or isinstance(result, Duplicate) or result is NO_REPLY:
            self._answer(request, mtype, mid, result)
            return
        try:
            future = asyncio.ensure_future(result)
        except TypeError as error:  # neither a response nor an awaitable
            self._respond(request, mtype, mid, self._error_response(error))
            return
        deferred = _Deferred(self, request, mtype, mid)
        if mtype == CON:
            when = now + self._limits.empty_ack_delay
            deferred.timer = self._clock.call_at(when, deferred.send_empty_ack)
        self._keep_task(future)
        future.add_done_callback(deferred.done)

    def _special_request(self, request: Any, mtype: int, mid: int, now: float) -> bool:
        """Options other than plain ones: unknown critical options, blocks. ``False`` when
        answered here (the handler is not called)."""
        remote = request.remote
        critical = unknown_critical_option(request)
        if critical is not None:
            if critical in PROXY_OPTIONS:
                self._respond(request, mtype, mid, Message(code=_PROXYING_NOT_SUPPORTED))
            elif mtype == CON:
                self._respond(request, mtype, mid, Message(code=_BAD_OPTION))
            else:
                self._malformed += 1
                self._send(empty_message(RST, mid), remote)
            return False
        opt = request.opt
        if opt.block1 is not None and not self._assemble_block1(request, mtype, mid, now):
            return False
        block2 = opt.block2
        if block2 is not None and block2.block_number > 0 and request.code not in _SAFE_METHODS:
            held = self._held_response(request, now)
            if held is None:
                held = Message(code=REQUEST_ENTITY_INCOMPLETE)
            self._respond(request, mtype, mid, held)
            return False
        return True

    def _error_response(self, error: BaseException) -> Any:
        """The response for an exception out of a handler: its code, or 5.00."""
        if isinstance(error, Lwm2mError):
            return Message(code=(error.code[0] << 5) | error.code[1])
        self.handler_errors += 1
        _log.warning("CoAP handler failed; answering 5.00", exc_info=error)
        return Message(code=_INTERNAL_SERVER_ERROR)

    def _answer(
        self, request: Any, mtype: int, mid: int, result: Any, *, separate: bool = False
    ) -> None:
        """Act on a handler's result: a response, ``None``, NO_REPLY or a Duplicate."""
        if result is NO_REPLY:
            return
        if isinstance(result, Duplicate):
            self._respond(request, mtype, mid, result.response, separate=separate, copies=2)
            return
        self._respond(request, mtype, mid, result, separate=separate)

    def _respond(
        self,
        request: Any,
        mtype: int,
        mid: int,
        response: Any,
        *,
        separate: bool = False,
        copies: int = 1,
        plain: bool = False,
    ) -> None:
        """Encode and send the answer to ``request`` (piggybacked, NON, or separate CON);
        ``copies`` > 1 sends the same datagram again (a duplicating network); ``plain``: the
        request has no Observe and no block option (:func:`~fleet.client.coap.wire.is_plain`)."""
        remote = request.remote
        if response is None:
            if mtype == CON and not separate:
                data = empty_message(ACK, mid)
                self._send(data, remote)
                self._dedup_reply(remote, mid, data)
            return
        code = response.code
        if code is None:
            code = default_code(request.code)
        options = response.opt
        payload: bytes = response.payload
        if not 64 <= code < 192:
            code, options, payload = _INTERNAL_SERVER_ERROR, Options(), b""
        if plain:
            block2 = None
        else:
            ropt = request.opt
            if ropt.observe is not None:
                options = self._track_observer(request, code, options)
            block1 = ropt.block1
            if block1 is not None and code < 96 and options.block1 is None:
                options = copy_options(options, frozenset({BLOCK1}))
                options.block1 = (block1.block_number, False, block1.size_exponent)
            block2 = ropt.block2
        big = needs_blocks(len(payload), self._limits.block_szx)
        if big or (block2 is not None and code < 96):  # errors need no Block2 unless large
            if request.code not in _SAFE_METHODS and (block2 is None or block2.block_number == 0):
                self._hold_response(request, response)
            sliced = self._slice(options, payload, block2)
            if sliced is None:
                code, options, payload = _BAD_REQUEST, Options(), b""
            else:
                options, payload = sliced
        if separate:
            out_type, out_mid = (CON if mtype == CON else NON), self._next_mid()
        elif mtype == CON:
            out_type, out_mid = ACK, mid
        else:
            out_type, out_mid = NON, self._next_mid()
        try:
            data = encode(out_type, code, out_mid, request.token, options, payload)
        except Exception:
            self.handler_errors += 1
            _log.warning("CoAP response could not be encoded; answering 5.00", exc_info=True)
            data = encode(out_type, _INTERNAL_SERVER_ERROR, out_mid, request.token, Options(), b"")
        if out_type == CON:
            self._transmit(remote, out_mid, data, None)
            for _ in range(copies - 1):
                self._send(data, remote)
            return
        for _ in range(copies):
            self._send(data, remote)
        if out_type == ACK:
            self._dedup_reply(remote, mid, data)

    # -- block-wise ---------------------------------------------------------------------

    def _assemble_block1(self, request: Any, mtype: int, mid: int, now: float) -> bool:
        """Take a Block1 request; ``True`` when its body is complete (then in ``payload``)."""
        assembler = self._block1
        if assembler is None:
            limits = self._limits
            assembler = self._block1 = Block1Assembler(
                max_transfers=limits.max_block1_transfers,
                max_body=limits.max_body_size,
                max_age=self._params.exchange_lifetime,
                szx=limits.block_szx,
            )
        opt = request.opt
        block1 = opt.block1
        key = (request.remote, int(request.code), opt.uri_path, opt.uri_query)
        outcome = assembler.feed(
            key,
            block1.block_number,
            bool(block1.more),
            block1.size_exponent,
            request.payload,
            now,
            opt.size1,
        )
        if outcome.code is None:
            request.payload = outcome.body
            return True
        response = Message(code=outcome.code)
        if outcome.code == CONTINUE:
            response.opt.block1 = (block1.block_number, True, outcome.szx)
        elif outcome.code == REQUEST_ENTITY_TOO_LARGE:
            response.opt.size1 = self._limits.max_body_size
        self._respond(request, mtype, mid, response)
        return False

    def _held_key(self, request: Any) -> tuple[Any, ...]:
        opt = request.opt
        return (request.remote, int(request.code), opt.uri_path, opt.uri_query)

    def _hold_response(self, request: Any, response: Any) -> None:
        """Keep the response of an unsafe request whose body goes out in blocks."""
        held = self._held
        if held is None:
            held = self._held = OrderedDict()
        key = self._held_key(request)
        held.pop(key, None)
        held[key] = (self._clock.now(), response)
        while len(held) > self._limits.max_held_responses:
            held.popitem(last=False)

    def _held_response(self, request: Any, now: float) -> Any:
        """The held response a later Block2 request asks for, or ``None``."""
        held = self._held
        if not held:
            return None
        age = self._params.exchange_lifetime
        while held:
            key, (stamp, _) = next(iter(held.items()))
            if now - stamp < age:
                break
            del held[key]
        entry = held.get(self._held_key(request))
        return None if entry is None else entry[1]
