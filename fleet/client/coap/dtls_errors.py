"""The DTLS errors, whichever library runs the session (tinydtls for PSK, OpenSSL for X.509)."""

from __future__ import annotations

from typing import Final

from fleet.client.coap.errors import CoapError

ALERTS: Final = {
    10: "unexpected_message",
    20: "bad_record_mac",
    40: "handshake_failure",
    42: "bad_certificate",
    47: "illegal_parameter",
    50: "decode_error",
    51: "decrypt_error",
    70: "protocol_version",
    80: "internal_error",
    115: "unknown_psk_identity",
}
"""TLS alert descriptions (RFC 5246 §7.2, RFC 4279 §2) a DTLS 1.2 peer may send."""


def alert_name(code: int) -> str:
    """``40`` -> ``"40 (handshake_failure)"``."""
    name = ALERTS.get(code)
    return f"{code} ({name})" if name else str(code)


def alert_received(code: int) -> str:
    """``40`` -> ``"DTLS alert 40 (handshake_failure) received"``: the cause of a handshake
    the server ended with an alert."""
    return f"DTLS alert {alert_name(code)} received"


HANDSHAKE_TIMEOUT: Final = "handshake timeout"
"""The cause of a handshake that got no alert and did not finish in time."""


class DtlsError(CoapError):
    """Root of the DTLS errors."""


class DtlsUnavailable(DtlsError):
    """An optional DTLS package is missing; the message says how to install it."""


class DtlsHandshakeError(DtlsError):
    """The handshake failed or did not finish in time (wrong key or identity, a certificate
    refused, no server); the message says why, never shows a key. ``cause``: the short
    cause a summary counts, when the library told it (``wrong CA``, ``expired
    certificate``)."""

    def __init__(self, message: str, cause: str | None = None) -> None:
        super().__init__(message)
        self.cause = cause
