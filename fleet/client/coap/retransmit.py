"""RFC 7252 §4.2 retransmission of confirmable messages: the schedule, and one CON in flight.

A CON is first sent at time 0 with an initial timeout drawn uniformly from
[ACK_TIMEOUT, ACK_TIMEOUT * ACK_RANDOM_FACTOR]; each time the timeout fires
without an ACK or RST the message is sent again and the timeout doubles, up to
MAX_RETRANSMIT retransmissions; when the last timeout fires the sender gives up.
The endpoint's timers follow exactly :func:`schedule`; a :class:`Transmission` is the
state of one CON in flight, a :class:`ConOwner` hears how it ended.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from fleet.client.coap.params import TransmissionParameters
from fleet.clock import TimerHandle

if TYPE_CHECKING:
    from fleet.client.coap.core import EndpointCore
    from fleet.client.coap.wire import Address
    from fleet.device.randomness import Rng


def initial_timeout(params: TransmissionParameters, rng: Rng) -> float:
    """The randomised first timeout of one confirmable message."""
    spread = params.ack_timeout * (params.ack_random_factor - 1.0)
    return params.ack_timeout + spread * rng.random()


def next_timeout(timeout: float) -> float:
    """The timeout after a retransmission (binary exponential back-off)."""
    return timeout * 2.0


@dataclass(frozen=True, slots=True)
class Schedule:
    """When a CON is retransmitted and when the sender gives up, relative to the first send."""

    retransmissions: tuple[float, ...]
    give_up: float


def schedule(params: TransmissionParameters, first_timeout: float) -> Schedule:
    """The full retransmission schedule for a given initial timeout."""
    times: list[float] = []
    elapsed = 0.0
    timeout = first_timeout
    for _ in range(params.max_retransmit):
        elapsed += timeout
        times.append(elapsed)
        timeout = next_timeout(timeout)
    return Schedule(tuple(times), elapsed + timeout)


class ConOwner(Protocol):
    """Who learns the outcome of an outgoing confirmable message."""

    def on_ack(self, response: Any | None) -> None: ...

    def on_reset(self) -> None: ...

    def on_timeout(self) -> None: ...


class Transmission:
    """One outgoing CON being retransmitted until ACK, RST or give-up."""

    __slots__ = ("data", "endpoint", "mid", "owner", "remote", "retries", "timeout", "timer")

    def __init__(
        self,
        endpoint: EndpointCore,
        remote: Address,
        mid: int,
        data: bytes,
        owner: ConOwner | None,
        timeout: float,
    ) -> None:
        self.endpoint = endpoint
        self.remote = remote
        self.mid = mid
        self.data = data
        self.owner = owner
        self.timeout = timeout
        self.retries = 0
        self.timer: TimerHandle | None = None

    def fire(self) -> None:
        self.endpoint._retransmit(self)
