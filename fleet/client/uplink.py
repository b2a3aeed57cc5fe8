"""Uplink faults: what a device's own Register, Update and De-register meet on the way out.

A fault injector adds ``fn(operation) -> Verdict | None`` with
:meth:`Device.add_uplink_interceptor <fleet.client.device.Device.add_uplink_interceptor>`;
``operation`` is one of :data:`UPLINK_OPERATIONS`. The first interceptor that
returns a :class:`~fleet.client.site.Verdict` decides (``None``: send as usual):

- ``Verdict.drop()``: the message is lost on the way; nothing is sent and the
  exchange ends as a real unanswered one would, with a :class:`UplinkDropped`
  (a :class:`~fleet.client.coap.errors.CoapTimeout`) after :func:`drop_wait`
  seconds; the retry policy then applies as usual;
- ``Verdict.delay(s)``: the message leaves ``s`` seconds late (the exchange
  duration includes the wait);
- ``Verdict.answer(code)``: nothing is sent and the device acts as if the
  server had answered ``code`` (4.03 to a Register, 4.04 to an Update...);
- ``corrupt`` and ``duplicate`` apply to answers, not to uplink: such a
  verdict is logged and the message sent as usual.

:func:`exchange` carries one message through these rules; the registrar calls it.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Final

from fleet.client.coap.endpoint import CoapEndpoint
from fleet.client.coap.errors import CoapTimeout
from fleet.client.coap.params import TransmissionParameters
from fleet.client.coap.wire import Address, Message
from fleet.client.site import Verdict
from fleet.clock import Clock

_log = logging.getLogger("fleet.client.uplink")

UPLINK_OPERATIONS: Final = ("Register", "Update", "De-register")
"""What an uplink interceptor is asked about."""

UplinkInterceptor = Callable[[str], "Verdict | None"]
"""``fn(operation) -> Verdict | None``; ``operation`` is ``Register``, ``Update`` or
``De-register``."""


class UplinkDropped(CoapTimeout):
    """An uplink fault dropped the message: the exchange timed out without the server."""


@dataclass(frozen=True, slots=True)
class Answer:
    """The outcome of one uplink exchange: the response, and whether a fault made it."""

    response: Any
    injected: bool


def uplink_verdict(interceptors: Sequence[UplinkInterceptor], operation: str) -> Verdict | None:
    """The first verdict of ``interceptors`` about ``operation`` (``None``: send as usual)."""
    for interceptor in interceptors:
        verdict = interceptor(operation)
        if verdict is not None:
            return verdict
    return None


def drop_wait(params: TransmissionParameters, exchange_timeout: float | None) -> float:
    """How long a dropped exchange takes to fail: CoAP's MAX_TRANSMIT_WAIT (the time a
    sender gives up on a confirmable message), or the exchange timeout when shorter."""
    wait = params.max_transmit_wait
    return wait if exchange_timeout is None else min(wait, exchange_timeout)


async def exchange(
    endpoint: CoapEndpoint,
    message: Message,
    remote: Address,
    *,
    operation: str,
    verdict: Verdict | None,
    clock: Clock,
    params: TransmissionParameters,
    timeout: float | None,
) -> Answer:
    """Send ``message`` under ``verdict`` (see the module docstring) and return its answer.

    Raises what ``endpoint.request`` raises, and :class:`UplinkDropped`.
    """
    if verdict is not None:
        if verdict.dropped:
            await clock.sleep_until(clock.now() + drop_wait(params, timeout))
            raise UplinkDropped(f"{operation} dropped by an uplink fault: no answer")
        if verdict.delay_s > 0:
            await clock.sleep_until(clock.now() + verdict.delay_s)
            if timeout is not None:
                timeout = max(0.0, timeout - verdict.delay_s)
        if verdict.code is not None:
            return Answer(Message(code=verdict.code), True)
        if verdict.corrupted or verdict.duplicated:
            _log.warning(
                "uplink %s: a %s verdict does not apply to uplink; sent as usual",
                operation,
                verdict.kind,
            )
    response = await endpoint.request(message, remote, timeout=timeout)
    return Answer(response, False)
