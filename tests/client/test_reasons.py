"""The words of a failure and its short cause (RFC 7252 §5.5.2 diagnostic payloads,
§12.1.2 code names; ICMP; DTLS alerts, RFC 5246 §7.2)."""

from __future__ import annotations

import socket

import pytest

from fleet.client.coap.dtls_errors import DtlsHandshakeError, DtlsUnavailable, alert_name
from fleet.client.coap.errors import BindError, CoapReset, CoapTimeout, CoapUnreachable
from fleet.client.reasons import DIAGNOSTIC_LIMIT, answered, code_reason, diagnostic, error_cause
from fleet.client.uri import UnresolvedName


def test_codes_are_named() -> None:
    assert code_reason(128) == "4.00 Bad Request"
    assert code_reason("4.12") == "4.12 Precondition Failed"
    assert code_reason(163) == "5.03 Service Unavailable"
    assert code_reason("4.99") == "4.99"


def test_a_refusal_carries_its_diagnostic_payload() -> None:
    assert answered(128) == "answered 4.00 Bad Request"
    assert (
        answered(128, b"lt must be a number") == "answered 4.00 Bad Request: 'lt must be a number'"
    )
    assert answered(128, b"  \n") == "answered 4.00 Bad Request"
    long = diagnostic(b"x" * 500)
    assert long is not None and len(long) == DIAGNOSTIC_LIMIT and long.endswith("...")
    assert diagnostic(b"\xff bad utf-8") == "\ufffd bad utf-8"


@pytest.mark.parametrize(
    ("error", "cause"),
    [
        (CoapTimeout("no answer from 1.2.3.4:5683 after 5 transmissions"), "timeout"),
        (
            CoapUnreachable("127.0.0.1:9: port unreachable (ICMP)", "port unreachable"),
            "port unreachable",
        ),
        (CoapReset("x answered the request with RST"), "reset"),
        (UnresolvedName("coap://x:1", "the name x does not resolve"), "name does not resolve"),
        (DtlsUnavailable("no DTLSSocket"), "DTLS extra not installed"),
        (
            DtlsHandshakeError(
                f"DTLS session with h:1 as 'id' ended: fatal alert {alert_name(40)}"
            ),
            "DTLS alert 40 (handshake_failure) received",
        ),
        (
            DtlsHandshakeError("DTLS handshake with h:1 as 'id': [Errno 111] Connection refused"),
            "port unreachable",
        ),
        (DtlsHandshakeError("DTLS handshake with h:1: no answer in 30 s"), "DTLS handshake failed"),
        (
            DtlsHandshakeError("DTLS session with h:1 ended: fatal alert (certificate unknown)"),
            "DTLS alert (certificate unknown) received",
        ),
        (BindError(98, "cannot bind"), "socket error"),
        (socket.gaierror(-2, "x"), "socket error"),
    ],
)
def test_each_error_has_a_short_cause(error: BaseException, cause: str) -> None:
    assert error_cause(error) == cause
