"""ICMP errors on an unconnected UDP socket: which destination was unreachable, and why.

A device's socket is not connected (it answers its server and sends to it from one
port), and Linux reports ICMP errors only to connected sockets unless ``IP_RECVERR``
(``IPV6_RECVERR``) is set (ip(7), ipv6(7)). With it, the kernel queues each error with
the destination of the datagram that failed: :func:`enable_error_queue` sets the
option, :func:`drain_errors` reads the queue (``MSG_ERRQUEUE``) so it never takes the
receive buffer, and returns ``(destination, errno)`` pairs: ``ECONNREFUSED`` is an ICMP
port unreachable (nothing listens there), ``EHOSTUNREACH`` / ``ENETUNREACH`` a host or
network that cannot be reached. Elsewhere (not Linux) nothing is enabled and CoAP's
retransmission decides as before.
"""

from __future__ import annotations

import errno
import socket
import struct
import sys
from typing import Final

from fleet.client.coap.wire import Address

IP_RECVERR: Final = 11
"""<linux/in.h>; Python's socket module does not name it."""
IPV6_RECVERR: Final = 25
"""<linux/in6.h>."""
_MAX_DRAIN: Final = 64
"""Queued errors read per wake-up at most (the rest are read at the next one)."""

REASONS: Final = {
    errno.ECONNREFUSED: "port unreachable",
    errno.EHOSTUNREACH: "host unreachable",
    errno.ENETUNREACH: "network unreachable",
}
"""The errors that end an exchange at once, with the words the summary counts them by."""


def enable_error_queue(sock: socket.socket) -> bool:
    """Ask the kernel to report ICMP errors on this unconnected UDP socket (Linux only)."""
    if not sys.platform.startswith("linux"):
        return False
    level, option = (
        (socket.IPPROTO_IPV6, IPV6_RECVERR)
        if sock.family == socket.AF_INET6
        else (socket.IPPROTO_IP, IP_RECVERR)
    )
    try:
        sock.setsockopt(level, option, 1)
    except OSError:
        return False
    return True


def drain_errors(sock: socket.socket) -> list[tuple[Address, int]]:
    """The queued ICMP errors: ``(destination, errno)`` of each failed datagram."""
    found: list[tuple[Address, int]] = []
    for _ in range(_MAX_DRAIN):
        try:
            _, ancillary, _, destination = sock.recvmsg(1, 512, socket.MSG_ERRQUEUE)
        except (BlockingIOError, InterruptedError):
            break
        except OSError:
            break
        code = _extended_errno(ancillary)
        if code is not None and isinstance(destination, tuple) and len(destination) >= 2:
            found.append(((str(destination[0]), int(destination[1])), code))
    return found


def _extended_errno(ancillary: list[tuple[int, int, bytes]]) -> int | None:
    """``ee_errno`` of the ``struct sock_extended_err`` in the control messages."""
    wanted = ((socket.IPPROTO_IP, IP_RECVERR), (socket.IPPROTO_IPV6, IPV6_RECVERR))
    for level, kind, data in ancillary:
        if (level, kind) in wanted and len(data) >= 4:
            return int(struct.unpack_from("=I", data)[0])
    return None
