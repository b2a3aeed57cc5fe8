"""Which Package URIs a device downloads from (pure): Update Result 7 or 9, or a target.

``coap://`` and ``coaps://HOST[:PORT]/path?query`` are downloaded with Block2,
``http://`` and ``https://`` with HTTP/1.1 GETs; ``HOST`` is an IP literal or
``localhost`` (no DNS lookups, like the server URI). A URI that does not parse,
names no host, has a bad port or user information is 7 Invalid URI (the
definition's "Invalid URI"); a scheme the device does not support — one not listed
in ``/5/0/8`` Firmware Update Protocol Support (0 CoAP, 1 CoAPS, 2 HTTP 1.1, 3
HTTPS 1.1), or one the client has no download for (``coap+tcp`` 4, ``coap+ws``...) —
is 9 Unsupported protocol.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from typing import Final
from urllib.parse import unquote, urlsplit

from fleet.device.firmware.machine import UpdateResult

PROTOCOL_NUMBERS: Final = {"coap": 0, "coaps": 1, "http": 2, "https": 3, "coap+tcp": 4}
"""``/5/0/8`` Firmware Update Protocol Support codes by URI scheme."""
DEFAULT_PORTS: Final = {"coap": 5683, "coaps": 5684, "http": 80, "https": 443}


@dataclass(frozen=True, slots=True)
class Target:
    """Where a package lives: ``scheme``, numeric ``host``, ``port``, path and query."""

    scheme: str
    host: str
    port: int
    path: tuple[str, ...]
    query: tuple[str, ...]


def parse_package_uri(uri: str, supported: frozenset[int]) -> Target | UpdateResult:
    """The download target of ``uri``, or the Update Result that refuses it."""
    try:
        parts = urlsplit(uri.strip())
        port = parts.port
    except ValueError:
        return UpdateResult.INVALID_URI
    scheme = parts.scheme.lower()
    if not scheme or not parts.netloc or parts.username is not None or parts.fragment:
        return UpdateResult.INVALID_URI
    number = PROTOCOL_NUMBERS.get(scheme)
    if number is None or number not in supported or scheme not in DEFAULT_PORTS:
        return UpdateResult.UNSUPPORTED_PROTOCOL
    host = parts.hostname or ""
    if host == "localhost":
        host = "127.0.0.1"
    try:
        host = str(ipaddress.ip_address(host))
    except ValueError:
        return UpdateResult.INVALID_URI
    path = tuple(unquote(s) for s in parts.path.split("/")[1:] if s != "")
    query = tuple(unquote(q) for q in parts.query.split("&") if q) if parts.query else ()
    return Target(scheme, host, DEFAULT_PORTS[scheme] if port is None else port, path, query)
