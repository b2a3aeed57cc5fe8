"""The pure side of the Registration interface: states, parameters, timing, retries.

Nothing here sends a message. The client's driver asks these functions what
to put in a Register / Update and when to act next; tests check the rules
without a network or a real clock.

Facts from the OMA LwM2M Core TS 1.1 (6.2.1 Register, 6.2.2 Update, 6.2.1.1
registration procedures, Appendix E.2 LwM2M Server object):

- Register is ``POST /rd?ep=..&lt=..&lwm2m=..&b=..`` with the link-format list
  of objects and instances; the server answers 2.01 Created with the location
  (``/rd/<id>``) used by Update (``POST``) and De-register (``DELETE``).
- An Update carries only what changed since the last Register/Update
  (lifetime, binding, object list); an Update answered 4.04 means the server
  no longer knows the client: register again.
- Server object resources 17..20 drive retries: Communication Retry Count
  (default 5), Communication Retry Timer (default 60 s, doubled at each
  attempt: ``timer * 2**(attempt-1)``), Communication Sequence Delay Timer
  (default 86400 s, ``MAX`` meaning never again) and Communication Sequence
  Retry Count (default 1).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from typing import Final
from urllib.parse import quote

UINT32_MAX: Final = 2**32 - 1
DEFAULT_LIFETIME: Final = 86400
# The longest a confirmable exchange can take with RFC 7252 defaults (MAX_TRANSMIT_WAIT).
MAX_TRANSMIT_WAIT: Final = 93.0


class RegistrationState(Enum):
    """Where a device stands with its LwM2M server."""

    STOPPED = "stopped"
    REGISTERING = "registering"
    REGISTERED = "registered"
    UPDATING = "updating"
    WAITING_RETRY = "waiting-retry"
    DEREGISTERING = "deregistering"
    REBOOTING = "rebooting"
    FAILED = "failed"


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """The Server object's communication retry resources (/1/x/17..20)."""

    retry_count: int = 5
    retry_timer: float = 60.0
    sequence_delay: float = 86400.0
    sequence_retry_count: int = 1

    def delay_after_failure(self, attempt: int, sequence: int) -> float | None:
        """Seconds to wait after failed ``attempt`` (1-based) of ``sequence`` (1-based).

        ``None`` means the registration has failed for good.
        """
        if attempt < 1 or sequence < 1:
            raise ValueError("attempt and sequence count from 1")
        if attempt < max(self.retry_count, 1):
            return float(self.retry_timer * 2 ** (attempt - 1))
        if sequence < max(self.sequence_retry_count, 1) and self.sequence_delay < UINT32_MAX:
            return float(self.sequence_delay)
        return None

    def next_attempt(self, attempt: int, sequence: int) -> tuple[int, int]:
        """The (attempt, sequence) numbers that follow a failure of ``attempt``."""
        if attempt < max(self.retry_count, 1):
            return attempt + 1, sequence
        return 1, sequence + 1


def update_margin(lifetime: float) -> float:
    """How long before the lifetime ends a device sends its Update.

    Ten percent of the lifetime, but at least one MAX_TRANSMIT_WAIT so that a
    retransmitted Update still arrives in time, and never more than half of it.
    """
    return min(max(0.1 * lifetime, MAX_TRANSMIT_WAIT), 0.5 * lifetime)


def update_due(registered_at: float, lifetime: float) -> float:
    """When the next Update must be sent after a Register/Update at ``registered_at``."""
    return registered_at + lifetime - update_margin(lifetime)


@dataclass(frozen=True, slots=True)
class RegistrationParams:
    """What a Register announces about the device.

    ``binding`` is written as a user configures it: ``"U"`` or ``"UQ"`` (UDP in
    queue mode). LwM2M 1.0 sends it as ``b=UQ``; 1.1 and later send ``b=U`` and
    the separate ``Q`` parameter, since 1.1 moved queue mode out of the binding.
    """

    endpoint: str
    lifetime: int = DEFAULT_LIFETIME
    lwm2m_version: str = "1.1"
    binding: str = "U"

    @property
    def queue_mode(self) -> bool:
        return "Q" in self.binding

    def _binding_items(self) -> list[str]:
        if self.lwm2m_version == "1.0":
            return [f"b={self.binding}"]
        items = [f"b={self.binding.replace('Q', '') or 'U'}"]
        if self.queue_mode:
            items.append("Q")
        return items

    def register_query(self) -> list[str]:
        """Query items of the Register request."""
        query = [f"ep={quote(self.endpoint, safe=':-._~')}", f"lt={self.lifetime}"]
        query.append(f"lwm2m={self.lwm2m_version}")
        return query + self._binding_items()


def update_query(old: RegistrationParams, new: RegistrationParams) -> list[str]:
    """Query items of an Update: only the parameters that changed."""
    query: list[str] = []
    if old.lifetime != new.lifetime:
        query.append(f"lt={new.lifetime}")
    if old.binding != new.binding:
        query.extend(new._binding_items())
    return query
