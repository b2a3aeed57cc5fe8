"""What a request handler may return, and the callbacks an endpoint calls (types only).

A handler answers with a response, ``None`` (an empty ACK), :data:`NO_REPLY`
(nothing at all) or :class:`Duplicate` (the response sent twice), or an awaitable
of one of those; see :data:`Handler`.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Final

from fleet.client.coap.wire import Address


class NoReply:
    """The type of :data:`NO_REPLY` (one instance)."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "NO_REPLY"


NO_REPLY: Final = NoReply()
"""A handler result: send nothing for this request, not even an empty ACK (the peer times out)."""


@dataclass(frozen=True, slots=True)
class Duplicate:
    """A handler result: answer ``response`` and send the very same datagram a second time."""

    response: Any


Handler = Callable[[Any], "Any | Awaitable[Any | None] | None"]
"""Server role: ``handler(request) -> response | None | NO_REPLY | Duplicate | awaitable``.

Returning a response (an aiocoap ``Message``) answers at once, without a task;
``None`` answers nothing (an empty ACK for a CON request); :data:`NO_REPLY`
sends nothing at all; :class:`Duplicate` sends its response twice; an awaitable
is run as a task and answered when done with what it returns (piggybacked, or
separately after an empty ACK).
"""

RetransmitCallback = Callable[[Address], None]
"""``on_retransmit(remote)``: one of our confirmable messages to ``remote`` went out again."""

CancelCallback = Callable[[Address, bytes], None]
"""Server role: ``on_cancel(remote, token)`` when a peer ends an observation by RST
or stops acknowledging confirmable notifications."""
