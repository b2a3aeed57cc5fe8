"""Which security context may act on a registration: the rules, as pure functions.

A registration is bound to the security context it was made in (LwM2M Core 1.1 §7: the
server authenticates a client by its security association, not by its address):

- the **context** of a request is :data:`NOSEC` (plain ``coap://``) or a :class:`Peer` with
  the mode and identity of the DTLS session it came over (``psk`` and the PSK identity; the
  X.509 work may add ``x509`` and a certificate name);
- a **Register** for an endpoint name whose current registration is bound to a DTLS identity
  is accepted only in that same context (else 4.03 Forbidden: nobody takes over a secured
  name over plain CoAP or with another key);
- an **Update**, a **De-register** or a **Send** is accepted only in the context the
  registration was made in (else 4.00 "forbidden", as Leshan answers: the Registration
  interface lists no 4.03 for them). Within the same context the address may change: over
  DTLS a new session with the same identity (a device that handshook again), over NoSec a
  new source address (NAT rebinding is real): accepted, but reported as
  :attr:`Verdict.REBOUND` so that the server logs and counts it;
- a **request to a device** goes out only in the registration's context: to a DTLS-bound
  registration only over a DTLS session with its identity, never in the clear
  (:func:`may_send`).

Nothing here does I/O; :mod:`fleet.server.inbound` applies the rules, and a bootstrap server
can reuse them. ``docs/security.md`` explains them for users.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

Address = tuple[str, int]


@dataclass(frozen=True, slots=True)
class Peer:
    """A secured context: the DTLS ``mode`` (``"psk"``) and the peer's ``identity``."""

    mode: str
    identity: bytes

    def describe(self) -> str:
        shown = self.identity.decode("utf-8", "replace")
        return f"{self.mode} identity {shown!r}"


Context = Peer | None
"""A request's security context; ``None`` (:data:`NOSEC`) for plain CoAP."""

NOSEC: Context = None


def describe(context: Context) -> str:
    """``"NoSec"`` or ``"psk identity 'dev1'"`` (for log lines and refusals)."""
    return "NoSec" if context is None else context.describe()


class Verdict(Enum):
    """What to do with an Update, De-register or Send to an existing registration."""

    ACCEPT = "accept"
    """Same context, same address."""
    REBOUND = "rebound"
    """Same context, another source address: accepted, logged and counted."""
    REFUSE = "refuse"
    """Another context: refused (4.00), the registration is untouched."""


def judge(bound: Context, address: Address, context: Context, source: Address) -> Verdict:
    """The verdict on a request from ``source`` in ``context`` to a registration made in
    ``bound`` from ``address``."""
    if context != bound:
        return Verdict.REFUSE
    return Verdict.ACCEPT if source == address else Verdict.REBOUND


def may_register(bound: Context, context: Context) -> bool:
    """Whether a Register in ``context`` may replace a registration bound to ``bound``
    (any context replaces a NoSec registration: the name was never secured)."""
    return bound is None or context == bound


def may_send(bound: Context, context: Context) -> bool:
    """Whether a request may go to a registration bound to ``bound`` over the ``context``
    the server now holds for its address (``None``: no DTLS session there now)."""
    return bound is None or context == bound
