"""Where each device's DTLS pre-shared key comes from.

A :class:`CredentialSource` gives the PSK identity and key of the device with
a given fleet index and endpoint name.
"""

from __future__ import annotations

from typing import Protocol

from fleet.client.coap.dtls import PskCredentials


class CredentialSource(Protocol):
    """PSK identity and key per device."""

    def credentials(self, index: int, endpoint: str) -> PskCredentials:
        """The identity and key of device ``index`` (endpoint name ``endpoint``)."""
        ...
