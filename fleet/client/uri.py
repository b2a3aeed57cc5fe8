"""Server URIs: the ONE place that judges ``coap://`` / ``coaps://`` URIs, and resolves names.

Every command and file that names a server (LwM2M or bootstrap) judges it
here: ``fleet run``, ``fleet validate``, ``--server``, ``fleet device``, the
scenario's ``server:``, the pytest plugin. So a URI mistake reads the same
everywhere, with one prefix::

    server URI 'coap//lwm2m': not a URI: write coap://HOST[:PORT]

:func:`parse_uri` takes ``coap://HOST[:PORT]`` or ``coaps://HOST[:PORT]``
(DTLS) where HOST is a DNS name (``lwm2m.example.net``, a Kubernetes Service
``lwm2m.iot.svc``), an IPv4 literal or a bracketed IPv6 literal
(``coap://[::1]:5683``); the port defaults to 5683 (``coap``) or 5684
(``coaps``), as RFC 7252 §6.1 and §6.2 assign. It returns a :class:`ServerUri`
(plain data); it never touches the network.

:func:`lookup` turns a :class:`ServerUri` into every numeric ``(host, port)``
a socket may send to (:func:`resolve`: the first): a literal at once, a name
through a :data:`Resolver`,
by default :func:`system_resolver` (``loop.getaddrinfo``: a thread of the
loop's executor, never blocking the loop; A and AAAA answers in the order
the system prefers, RFC 6724). A name that does not resolve raises
:class:`UnresolvedName`, which says which URI and why. Callers resolve once
per shard (:class:`fleet.runner.fleet.Fleet`) and again when a device
reconnects (:mod:`fleet.client.addresses`: which address is tried when), never per
message; :func:`lookup_blocking` is the same before any loop runs (``fleet run``,
``fleet validate``).
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Final, TypeAlias
from urllib.parse import urlsplit

from fleet.errors import ConfigError

Address: TypeAlias = tuple[str, int]
"""A numeric ``(host, port)`` (the same shape as :data:`fleet.client.coap.wire.Address`)."""

DEFAULT_PORT: Final = 5683
DEFAULT_SECURE_PORT: Final = 5684
SCHEMES: Final = {"coap": DEFAULT_PORT, "coaps": DEFAULT_SECURE_PORT}

Resolver: TypeAlias = Callable[[str, int], Awaitable[Sequence[Address]]]
"""``await resolver(name, port)`` -> the numeric addresses of ``name``, preferred first
(empty, or ``OSError`` / ``socket.gaierror``: the name does not resolve)."""


class UriError(ConfigError):
    """A server URI that cannot be used. ``str()`` is ``"<what> '<uri>': <problem>"``."""

    def __init__(self, uri: str, problem: str, *, what: str = "server URI") -> None:
        super().__init__(f"{what} {uri!r}: {problem}")
        self.uri = uri
        self.problem = problem
        self.what = what


class UnresolvedName(UriError):
    """A server URI whose host name does not resolve (DNS or /etc/hosts)."""


@dataclass(frozen=True, slots=True)
class ServerUri:
    """A judged server URI: ``scheme`` (``coap``/``coaps``), ``host`` (a name, or a numeric
    address in its canonical form, IPv6 without brackets) and ``port``."""

    scheme: str
    host: str
    port: int

    @property
    def secure(self) -> bool:
        """Whether the URI names a DTLS (``coaps://``) server."""
        return self.scheme == "coaps"

    @property
    def literal(self) -> Address | None:
        """``(host, port)`` when the host is a numeric address, else ``None`` (a name)."""
        return (self.host, self.port) if _is_ip(self.host) else None

    @property
    def text(self) -> str:
        """The URI written out: ``coap://host:port`` (IPv6 in brackets)."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{self.scheme}://{host}:{self.port}"

    def __str__(self) -> str:
        return self.text


def parse_uri(value: object, *, what: str = "server URI") -> ServerUri:
    """Judge ``coap[s]://HOST[:PORT]``; raises :class:`UriError` saying what is wrong.

    ``what`` names the URI in messages (``"server URI"``, ``"bootstrap server URI"``).
    The URIs judged last are remembered (a fleet names one server for 100,000 device
    configurations): the same text gives the same, shared :class:`ServerUri`.
    """
    if isinstance(value, str):
        return _parse_text(value, what)
    return _parse(value, what)


@lru_cache(maxsize=256)
def _parse_text(value: str, what: str) -> ServerUri:
    return _parse(value, what)


def _parse(value: object, what: str) -> ServerUri:
    if not isinstance(value, str) or not value.strip():
        shown = repr(value) if isinstance(value, str) else f"a {type(value).__name__}"
        raise UriError(
            str(value) if isinstance(value, str) else shown,
            "a server is a URI like coap://127.0.0.1:5683 or coap://lwm2m.example.net",
            what=what,
        )
    text = value.strip()
    if "://" not in text:
        raise UriError(text, f"not a URI: write coap://{_hint(text)}", what=what)
    try:
        parts = urlsplit(text)
    except ValueError as exc:  # e.g. an unclosed '[' of an IPv6 literal
        raise UriError(text, f"not a URI ({exc})", what=what) from None
    scheme = parts.scheme.lower()
    if scheme not in SCHEMES:
        raise UriError(
            text,
            f"the scheme must be coap:// (NoSec) or coaps:// (DTLS-PSK), got {parts.scheme}://",
            what=what,
        )
    if parts.username is not None or parts.password is not None:
        raise UriError(text, "a CoAP URI has no user name or password", what=what)
    if parts.path not in ("", "/") or parts.query or parts.fragment:
        raise UriError(text, "give only coap://host:port (no path, query or fragment)", what=what)
    hostport = parts.netloc.rpartition("@")[2]
    if hostport.count(":") > 1 and not hostport.startswith("["):  # IPv6 without brackets
        raise UriError(text, _name_problem(hostport) or "", what=what)
    try:
        port = parts.port
    except ValueError:
        raise UriError(text, "the port must be a number 1..65535", what=what) from None
    if port == 0:
        raise UriError(text, "the port must be 1..65535", what=what)
    host = parts.hostname
    if not host:
        raise UriError(text, "names no host", what=what)
    if _is_ip(host):  # urlsplit already refused a bracketed non-IPv6
        host = str(ipaddress.ip_address(host))
    else:
        problem = _name_problem(host)
        if problem is not None:
            raise UriError(text, problem, what=what)
    return ServerUri(scheme, host, SCHEMES[scheme] if port is None else port)


def _hint(text: str) -> str:
    lowered = text.lower()
    for prefix in ("coaps:", "coap:", "coaps", "coap"):
        if lowered.startswith(prefix):
            text = text[len(prefix) :]
            break
    return text.lstrip("/") or "HOST[:PORT]"


def _is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


def _name_problem(host: str) -> str | None:
    """Why ``host`` is no DNS name (RFC 1123 labels), or ``None``."""
    if ":" in host:
        return f"{host} looks like an IPv6 address: write it in brackets, coap://[{host}]"
    if len(host) > 253:
        return "the host name is longer than 253 characters"
    labels = host.rstrip(".").split(".")
    if all(label.isdigit() for label in labels):
        return f"{host} is not an IPv4 address"
    for label in labels:
        if not label or len(label) > 63:
            return f"{host} is not a host name (empty or over-long label)"
        if label.startswith("-") or label.endswith("-"):
            return f"{host} is not a host name (a label starts or ends with '-')"
        if not all(c.isascii() and (c.isalnum() or c in "-_") for c in label):
            return f"{host} is not a host name (letters, digits, '-' and '.' only)"
    return None


async def system_resolver(host: str, port: int) -> list[Address]:
    """The system's answer for ``host`` (A and AAAA, /etc/hosts), preferred first.

    Runs ``getaddrinfo`` in the loop's executor, so the loop never blocks.
    """
    loop = asyncio.get_running_loop()
    infos = await loop.getaddrinfo(host, port, type=socket.SOCK_DGRAM, proto=socket.IPPROTO_UDP)
    return _addresses(infos)


def lookup_blocking(uri: ServerUri, *, what: str = "server URI") -> list[Address]:
    """Every address of ``uri`` (A and AAAA, the system's order) for a command line before
    any loop runs (``fleet run`` planning, ``fleet validate``); a literal is its own answer.

    Raises :class:`UnresolvedName` (``what`` names the URI) when the name does not resolve.
    """
    if uri.literal is not None:
        return [uri.literal]
    try:
        infos = socket.getaddrinfo(
            uri.host, uri.port, type=socket.SOCK_DGRAM, proto=socket.IPPROTO_UDP
        )
    except OSError as error:
        raise _unresolved(uri, error, what) from None
    found = _addresses(infos)
    if not found:
        raise _unresolved(uri, None, what)
    return found


def resolve_blocking(uri: ServerUri) -> Address:
    """The first answer of :func:`lookup_blocking`."""
    return lookup_blocking(uri)[0]


async def lookup(
    uri: ServerUri, resolver: Resolver | None = None, *, what: str = "server URI"
) -> tuple[Address, ...]:
    """Every numeric ``(host, port)`` of ``uri``, preferred first: a literal as it is, a
    name's answers in the resolver's order (IPv4 and IPv6, each once, canonical form).

    Raises :class:`UnresolvedName` when the name does not resolve.
    """
    if uri.literal is not None:
        return (uri.literal,)
    lookup_name = resolver if resolver is not None else system_resolver
    try:
        answers = list(await lookup_name(uri.host, uri.port))
    except OSError as error:
        raise _unresolved(uri, error, what) from None
    found: list[Address] = []
    for answer in answers:
        address = (str(ipaddress.ip_address(answer[0])), int(answer[1]))
        if address not in found:
            found.append(address)
    if not found:
        raise _unresolved(uri, None, what)
    return tuple(found)


async def resolve(uri: ServerUri, resolver: Resolver | None = None) -> Address:
    """The numeric ``(host, port)`` to send to: a literal as it is, a name's first answer
    (:func:`lookup` for all of them).

    Raises :class:`UnresolvedName` when the name does not resolve.
    """
    return (await lookup(uri, resolver))[0]


def _addresses(infos: Sequence[tuple[object, ...]]) -> list[Address]:
    found: list[Address] = []
    for info in infos:
        sockaddr = info[4]
        if isinstance(sockaddr, tuple) and len(sockaddr) >= 2:
            address = (str(sockaddr[0]), int(sockaddr[1]))
            if address not in found:
                found.append(address)
    return found


def _unresolved(uri: ServerUri, error: OSError | None, what: str) -> UnresolvedName:
    why = "no address" if error is None else (error.strerror or str(error))
    return UnresolvedName(uri.text, f"the name {uri.host} does not resolve ({why})", what=what)
