"""Tuning of the CoAP message layer: RFC 7252 transmission parameters and our own bounds.

:class:`TransmissionParameters` holds the parameters of RFC 7252 §4.8 and the
values derived from them (§4.8.2). :class:`EndpointLimits` holds what the RFC
leaves to the implementation and what keeps an endpoint's memory bounded:
deduplication cache size and age, block size, body sizes, observer counts.
Both are frozen and meant to be shared by every endpoint of a fleet.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class TransmissionParameters:
    """RFC 7252 §4.8 transmission parameters (defaults are the RFC's).

    ``nstart`` is recorded but not enforced: an endpoint may have several
    outstanding exchanges with one peer (a documented relaxation of NSTART=1,
    needed by servers that talk to many devices and harmless on loopback).
    """

    ack_timeout: float = 2.0
    ack_random_factor: float = 1.5
    max_retransmit: int = 4
    nstart: int = 1
    default_leisure: float = 5.0
    probing_rate: float = 1.0
    max_latency: float = 100.0

    def __post_init__(self) -> None:
        if self.ack_timeout <= 0:
            raise ValueError("ack_timeout must be positive")
        if self.ack_random_factor < 1.0:
            raise ValueError("ack_random_factor must be at least 1.0")
        if self.max_retransmit < 0:
            raise ValueError("max_retransmit must not be negative")
        if self.nstart < 1:
            raise ValueError("nstart must be at least 1")
        if self.max_latency < 0:
            raise ValueError("max_latency must not be negative")

    @property
    def max_transmit_span(self) -> float:
        """Longest time from the first transmission of a CON to its last retransmission."""
        return self.ack_timeout * ((1 << self.max_retransmit) - 1) * self.ack_random_factor

    @property
    def max_transmit_wait(self) -> float:
        """Longest time from the first transmission of a CON until the sender gives up."""
        return self.ack_timeout * ((1 << (self.max_retransmit + 1)) - 1) * self.ack_random_factor

    @property
    def processing_delay(self) -> float:
        """Time a node takes to turn a CON into an ACK (the RFC sets it to ACK_TIMEOUT)."""
        return self.ack_timeout

    @property
    def max_rtt(self) -> float:
        """Maximum round-trip time."""
        return 2 * self.max_latency + self.processing_delay

    @property
    def exchange_lifetime(self) -> float:
        """How long a message id of a CON may be answered or repeated."""
        return self.max_transmit_span + 2 * self.max_latency + self.processing_delay

    @property
    def non_lifetime(self) -> float:
        """How long a message id of a NON may be seen again."""
        return self.max_transmit_span + self.max_latency


DEFAULT_PARAMETERS = TransmissionParameters()


@dataclass(frozen=True, slots=True)
class EndpointLimits:
    """Implementation choices and memory bounds of one endpoint.

    - ``dedup_max_entries`` / ``dedup_max_age``: the deduplication cache keeps
      at most that many (remote, message id) entries, none older than that many
      seconds (``None``: EXCHANGE_LIFETIME). A duplicate that arrives after its
      entry was evicted is handled as a new message.
    - ``empty_ack_delay``: an asynchronous handler that has not answered a CON
      request within this delay gets an empty ACK, then a separate response.
    - ``response_timeout``: how long a request waits for a response when no
      retransmission bounds it (a NON request, or a CON request after an empty
      ACK) and the caller gave no timeout (``None``: MAX_TRANSMIT_WAIT).
    - ``block_szx``: preferred block size exponent (size = 2 ** (szx + 4); 6 is
      1024 bytes); a peer asking for a smaller size gets it.
    - ``max_body_size``: largest body reassembled from blocks (client Block2,
      server Block1); ``max_block1_transfers``: concurrent incoming Block1 transfers;
      ``max_held_responses``: responses to non-GET requests held for their Block2
      follow-ups (GET and FETCH are answered by running the handler again).
    - ``max_observers``: observations this endpoint serves as a server; beyond
      it a registration is answered without Observe (not established).
    - ``observation_queue``: notifications buffered per client observation
      (oldest dropped first: only the freshest state matters).
    - ``max_non_notifications``: message ids of recent NON notifications kept to
      map a Reset back to its observation.
    """

    dedup_max_entries: int = 256
    dedup_max_age: float | None = None
    empty_ack_delay: float = 0.1
    response_timeout: float | None = None
    block_szx: int = 6
    max_body_size: int = 64 * 1024
    max_block1_transfers: int = 4
    max_held_responses: int = 4
    max_observers: int = 256
    observation_queue: int = 64
    max_non_notifications: int = 64

    def __post_init__(self) -> None:
        if self.dedup_max_entries < 1:
            raise ValueError("dedup_max_entries must be at least 1")
        if self.dedup_max_age is not None and self.dedup_max_age <= 0:
            raise ValueError("dedup_max_age must be positive")
        if self.empty_ack_delay < 0:
            raise ValueError("empty_ack_delay must not be negative")
        if not 0 <= self.block_szx <= 6:
            raise ValueError("block_szx must be within 0..6 (16..1024 bytes)")
        if self.max_body_size < 16:
            raise ValueError("max_body_size must be at least 16 bytes")
        for name in (
            "max_block1_transfers",
            "max_held_responses",
            "max_observers",
            "observation_queue",
        ):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be at least 1")
        if self.max_non_notifications < 0:
            raise ValueError("max_non_notifications must not be negative")

    def dedup_age(self, params: TransmissionParameters) -> float:
        """The deduplication age in effect with ``params``."""
        return params.exchange_lifetime if self.dedup_max_age is None else self.dedup_max_age

    def response_wait(self, params: TransmissionParameters) -> float:
        """The response timeout in effect with ``params``."""
        if self.response_timeout is None:
            return params.max_transmit_wait
        return self.response_timeout


DEFAULT_LIMITS = EndpointLimits()
