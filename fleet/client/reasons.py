"""Why an exchange failed, in two forms: words for a log line, a short cause to count.

A failed Register or Update says *why* twice: ``reason``, the full story for the log of
``fleet device`` (``"CoapTimeout: no answer from 192.0.2.7:5683 after 5 transmissions"``,
``"answered 4.00 Bad Request: 'lt must be a number'"``), and ``cause``, a short label that
the summary counts per operation (``"timeout"``, ``"port unreachable"``,
``"4.00 Bad Request"``). :func:`error_cause` gives the cause of a transport error,
:func:`code_reason` names a CoAP response code (RFC 7252 §12.1.2, RFC 7959 §2.9.3, RFC
8132 §6), :func:`answered` words a refusal with its diagnostic payload (RFC 7252 §5.5.2:
a human-readable UTF-8 text of the server's, shown cut to :data:`DIAGNOSTIC_LIMIT`).
"""

from __future__ import annotations

import re
from typing import Final

from fleet.client.coap.dtls import DtlsError, DtlsHandshakeError, DtlsUnavailable
from fleet.client.coap.errors import BindError, CoapReset, CoapTimeout, CoapUnreachable
from fleet.client.events import code_text
from fleet.client.uri import UnresolvedName

CODE_NAMES: Final = {
    "2.01": "Created",
    "2.02": "Deleted",
    "2.03": "Valid",
    "2.04": "Changed",
    "2.05": "Content",
    "2.31": "Continue",
    "4.00": "Bad Request",
    "4.01": "Unauthorized",
    "4.02": "Bad Option",
    "4.03": "Forbidden",
    "4.04": "Not Found",
    "4.05": "Method Not Allowed",
    "4.06": "Not Acceptable",
    "4.08": "Request Entity Incomplete",
    "4.09": "Conflict",
    "4.12": "Precondition Failed",
    "4.13": "Request Entity Too Large",
    "4.15": "Unsupported Content-Format",
    "4.22": "Unprocessable Entity",
    "5.00": "Internal Server Error",
    "5.01": "Not Implemented",
    "5.02": "Bad Gateway",
    "5.03": "Service Unavailable",
    "5.04": "Gateway Timeout",
    "5.05": "Proxying Not Supported",
}
DIAGNOSTIC_LIMIT: Final = 120
"""Characters of a diagnostic payload shown in a reason."""

_ALERT: Final = re.compile(r"fatal alert (\d+(?: \(\w+\))?|\([^)]*\))")
TIMEOUT: Final = "timeout"
UNRESOLVED: Final = "name does not resolve"
DTLS_MISSING: Final = "DTLS extra not installed"


def code_reason(code: int | str) -> str:
    """``132`` or ``"4.04"`` -> ``"4.04 Not Found"`` (the bare code when it has no name)."""
    text = code_text(code) if isinstance(code, int) else code
    name = CODE_NAMES.get(text)
    return f"{text} {name}" if name else text


def diagnostic(payload: bytes) -> str | None:
    """The diagnostic payload of an error response as text, or ``None`` when there is none."""
    if not payload:
        return None
    text = payload.decode("utf-8", errors="replace").strip()
    if not text:
        return None
    return text if len(text) <= DIAGNOSTIC_LIMIT else text[: DIAGNOSTIC_LIMIT - 3] + "..."


def answered(code: int, payload: bytes = b"") -> str:
    """``"answered 4.00 Bad Request: 'lt must be a number'"`` (payload when there is one)."""
    text = f"answered {code_reason(code)}"
    said = diagnostic(payload)
    return f"{text}: {said!r}" if said is not None else text


def error_cause(error: BaseException) -> str:
    """The short cause of a failed exchange's error (what the summary counts)."""
    if isinstance(error, CoapUnreachable):
        return error.reason
    if isinstance(error, CoapTimeout):
        return TIMEOUT
    if isinstance(error, CoapReset):
        return "reset"
    if isinstance(error, UnresolvedName):
        return UNRESOLVED
    if isinstance(error, DtlsUnavailable):
        return DTLS_MISSING
    if isinstance(error, DtlsHandshakeError):
        if error.cause:  # told by the library (a refused certificate: wrong CA, expired)
            return error.cause
        text = str(error)
        alert = _ALERT.search(text)
        if alert is not None:
            return f"DTLS alert {alert.group(1)} received"
        if "unreachable" in text.lower() or "refused" in text.lower():
            return "port unreachable"
        return "DTLS handshake failed"
    if isinstance(error, DtlsError):
        return "DTLS error"
    if isinstance(error, BindError | OSError):
        return "socket error"
    return type(error).__name__


def error_reason(error: BaseException) -> str:
    """The full words of a failed exchange's error, for the log."""
    return f"{type(error).__name__}: {error}"
