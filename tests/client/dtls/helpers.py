"""Shared bits of the DTLS tests: the skip gate (same reason as the package gives) and ports."""

from __future__ import annotations

import socket

import pytest

from fleet.client.coap.dtls import dtls_available

REASON = dtls_available()
requires_dtls = pytest.mark.skipif(REASON is not None, reason=REASON or "")


def free_port_pair() -> int:
    """A UDP port ``p`` on 127.0.0.1 with ``p + 1`` free too (libcoap serves DTLS on p + 1)."""
    for _ in range(100):
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as first:
            first.bind(("127.0.0.1", 0))
            port = int(first.getsockname()[1])
            if port >= 65534:
                continue
            with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as second:
                try:
                    second.bind(("127.0.0.1", port + 1))
                except OSError:
                    continue
        return port
    raise RuntimeError("no free pair of UDP ports")
