"""Server URIs: one judge for every command (DNS names, IPv4, IPv6 literals), and the lookup.

RFC 7252 §6.1/§6.2: ``coap://host[:port]`` (5683) and ``coaps://`` (5684); RFC 3986
§3.2.2: an IPv6 literal goes in brackets; RFC 1123 §2.1: host name labels.
"""

from __future__ import annotations

import asyncio
import socket
import threading
from collections.abc import Sequence

import pytest

from fleet.client.uri import (
    ServerUri,
    UnresolvedName,
    UriError,
    lookup,
    parse_uri,
    resolve,
    resolve_blocking,
    system_resolver,
)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("coap://127.0.0.1:5684", ServerUri("coap", "127.0.0.1", 5684)),
        ("coap://localhost", ServerUri("coap", "localhost", 5683)),
        ("coap://lwm2m.example.net", ServerUri("coap", "lwm2m.example.net", 5683)),
        ("coaps://lwm2m.iot.svc:15684", ServerUri("coaps", "lwm2m.iot.svc", 15684)),
        (
            "coap://lwm2m.iot.svc.cluster.local.",
            ServerUri("coap", "lwm2m.iot.svc.cluster.local.", 5683),
        ),
        ("coap://[::1]:9000", ServerUri("coap", "::1", 9000)),
        ("coap://[0:0:0:0:0:0:0:1]", ServerUri("coap", "::1", 5683)),
        ("coap://10.1.2.3/", ServerUri("coap", "10.1.2.3", 5683)),
        ("coaps://[2001:DB8::7]", ServerUri("coaps", "2001:db8::7", 5684)),
        ("COAPS://Localhost", ServerUri("coaps", "localhost", 5684)),
        ("  coap://my_host  ", ServerUri("coap", "my_host", 5683)),
    ],
)
def test_uris_that_name_a_server(text: str, expected: ServerUri) -> None:
    assert parse_uri(text) == expected


def test_literal_and_text() -> None:
    assert parse_uri("coap://[::1]:9").literal == ("::1", 9)
    assert parse_uri("coap://[::1]:9").text == "coap://[::1]:9"
    assert parse_uri("coap://lwm2m.example.net").literal is None
    assert parse_uri("coaps://h").secure and not parse_uri("coap://h").secure


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        (
            "http://127.0.0.1",
            "the scheme must be coap:// (NoSec) or coaps:// (DTLS-PSK), got http://",
        ),
        ("127.0.0.1:5683", "not a URI: write coap://127.0.0.1:5683"),
        ("coap//lwm2m", "not a URI: write coap://lwm2m"),
        ("coap://127.0.0.1:99999", "the port must be a number 1..65535"),
        ("coap://127.0.0.1:0", "the port must be 1..65535"),
        ("coap://127.0.0.1/rd", "give only coap://host:port (no path, query or fragment)"),
        ("coap://:5683", "names no host"),
        ("coap://u:p@host", "a CoAP URI has no user name or password"),
        ("coap://[::1", "not a URI (Invalid IPv6 URL)"),
        ("coap://[127.0.0.1]", "not a URI (An IPv4 address cannot be in brackets)"),
        (
            "coap://[fe80::zz]",
            "not a URI ('fe80::zz' does not appear to be an IPv4 or IPv6 address)",
        ),
        ("coap://::1", "::1 looks like an IPv6 address: write it in brackets, coap://[::1]"),
        (
            "coap://fe80::1:5683",
            "fe80::1:5683 looks like an IPv6 address: write it in brackets, coap://[fe80::1:5683]",
        ),
        ("coap://999.1.1.1", "999.1.1.1 is not an IPv4 address"),
        (
            "coap://-bad.example",
            "-bad.example is not a host name (a label starts or ends with '-')",
        ),
        ("coap://a..b", "a..b is not a host name (empty or over-long label)"),
        ("coap://bad$name", "bad$name is not a host name (letters, digits, '-' and '.' only)"),
    ],
)
def test_one_message_per_mistake(text: str, problem: str) -> None:
    with pytest.raises(UriError) as caught:
        parse_uri(text)
    assert caught.value.problem == problem
    assert str(caught.value) == f"server URI {text.strip()!r}: {problem}"
    assert isinstance(caught.value, ValueError)


def test_the_uri_is_named_as_the_caller_says() -> None:
    with pytest.raises(UriError, match=r"^bootstrap server URI 'coap:x': not a URI"):
        parse_uri("coap:x", what="bootstrap server URI")
    with pytest.raises(UriError, match=r"^server URI '': a server is a URI like"):
        parse_uri("")


@pytest.mark.asyncio
async def test_a_literal_needs_no_lookup() -> None:
    async def refuse(host: str, port: int) -> Sequence[tuple[str, int]]:
        raise AssertionError("looked up a literal")

    assert await resolve(parse_uri("coap://[::1]:7"), refuse) == ("::1", 7)
    assert resolve_blocking(parse_uri("coap://127.0.0.1:7")) == ("127.0.0.1", 7)


@pytest.mark.asyncio
async def test_a_name_takes_the_first_answer_of_the_resolver() -> None:
    asked: list[tuple[str, int]] = []

    async def resolver(host: str, port: int) -> Sequence[tuple[str, int]]:
        asked.append((host, port))
        return [("0:0::1", port), ("127.0.0.1", port)]  # AAAA first, as the system prefers

    assert await resolve(parse_uri("coap://lwm2m.test:5999"), resolver) == ("::1", 5999)
    assert asked == [("lwm2m.test", 5999)]


@pytest.mark.asyncio
async def test_the_system_resolver_knows_localhost_without_blocking() -> None:
    found = await system_resolver("localhost", 5683)
    assert found and all(host in ("127.0.0.1", "::1") for host, _ in found)
    assert found[0][1] == 5683
    address = await resolve(parse_uri("coap://localhost:5700"))
    assert address[0] in ("127.0.0.1", "::1") and address[1] == 5700


@pytest.mark.asyncio
async def test_a_name_that_does_not_resolve_says_so() -> None:
    async def nxdomain(host: str, port: int) -> Sequence[tuple[str, int]]:
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    async def empty(host: str, port: int) -> Sequence[tuple[str, int]]:
        return []

    with pytest.raises(UnresolvedName) as caught:
        await resolve(parse_uri("coap://lwm2m.nowhere.test"), nxdomain)
    assert str(caught.value) == (
        "server URI 'coap://lwm2m.nowhere.test:5683': the name lwm2m.nowhere.test does not "
        "resolve (Name or service not known)"
    )
    with pytest.raises(UnresolvedName, match=r"does not resolve \(no address\)"):
        await resolve(parse_uri("coap://x.test"), empty)


@pytest.mark.asyncio
async def test_a_name_is_looked_up_off_the_loops_thread_with_every_answer(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    if type(asyncio.get_running_loop()).__module__.startswith("uvloop"):
        pytest.skip("uvloop looks names up in libuv's thread pool, not via socket.getaddrinfo")
    threads: list[int] = []

    def getaddrinfo(host: str, port: int, *args: object, **kwargs: object) -> list[object]:
        threads.append(threading.get_ident())  # where the (possibly slow) lookup runs
        udp = (socket.SOCK_DGRAM, socket.IPPROTO_UDP, "")
        return [
            (socket.AF_INET6, *udp, ("::1", port, 0, 0)),
            (socket.AF_INET, *udp, ("127.0.0.1", port)),
            (socket.AF_INET, *udp, ("127.0.0.1", port)),  # the same address again: once
        ]

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    found = await lookup(parse_uri("coap://lwm2m.iot.svc:5690"))
    assert found == (("::1", 5690), ("127.0.0.1", 5690))  # AAAA and A, the system's order
    assert threads and threading.get_ident() not in threads  # never on the loop's thread
    assert await resolve(parse_uri("coap://lwm2m.iot.svc:5690")) == ("::1", 5690)
