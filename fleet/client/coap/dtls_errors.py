"""The DTLS errors, whichever library runs the session (tinydtls for PSK, OpenSSL for X.509)."""

from __future__ import annotations

from fleet.client.coap.errors import CoapError


class DtlsError(CoapError):
    """Root of the DTLS errors."""


class DtlsUnavailable(DtlsError):
    """An optional DTLS package is missing; the message says how to install it."""


class DtlsHandshakeError(DtlsError):
    """The handshake failed or did not finish in time (wrong key or identity, a certificate
    refused, no server); the message says why, never shows a key."""
