"""Where one server is, for one device: every address its name has, and the one in use.

A server named in DNS may have several addresses, IPv4 (A) and IPv6 (AAAA). A device
honours them all, as a demanding user expects of any client:

- each time the device opens a socket toward the server (start, reboot, flap, a lost
  DTLS session, a retry after every address failed) the name is looked up again
  (:func:`fleet.client.uri.lookup`, never blocking the loop) and the device begins with
  the resolver's first answer (the system's order, RFC 6724); the shard's answer stands
  in for the first lookup of its devices, so a fleet starts with one lookup per shard;
- when a Register (or an Update) to one address fails at the transport level (no answer
  after CoAP's transmissions, ICMP port/host unreachable, the socket or DTLS handshake
  cannot be made) the device moves at once to the next address of that answer (a new
  socket: the family may differ), saying which; an answer of the server (any response
  code) is the server's verdict, not a reason to move;
- when every address failed, that is one failed attempt of the retry policy
  (``/1/0/17..20``); the retry looks the name up again and starts from its first answer;
- an Update answered 4.04 (the server forgot the device) looks the name up again too.

A literal address (``coap://[::1]:5683``) is its own and only answer: nothing is looked
up, nothing to move to. :class:`ServerAddresses` is the plain state of that (no I/O
beyond the lookup it is asked to make); the device and its server links drive it.
"""

from __future__ import annotations

from fleet.client.uri import Address, Resolver, ServerUri, lookup


class ServerAddresses:
    """The answers of the last lookup of one server and the one in use (see the module)."""

    __slots__ = ("_keep", "answers", "index")

    def __init__(self, answers: tuple[Address, ...] | None = None) -> None:
        """``answers``: a lookup already made (the shard's), used by the first connect."""
        self.answers: tuple[Address, ...] = answers or ()
        self.index = 0
        self._keep = bool(self.answers)

    @property
    def current(self) -> Address | None:
        """The address in use (``None`` before the first lookup)."""
        return self.answers[self.index] if self.answers else None

    async def for_connect(self, uri: ServerUri, resolver: Resolver | None) -> Address:
        """The address a new socket talks to: the one :meth:`advance` moved to (or the
        shard's answer, once), else the first answer of a fresh lookup.

        Raises :class:`~fleet.client.uri.UnresolvedName` when the name does not resolve.
        """
        if self._keep and self.answers:
            self._keep = False
            return self.answers[self.index]
        return await self.look_up(uri, resolver)

    async def look_up(self, uri: ServerUri, resolver: Resolver | None) -> Address:
        """Look the name up now and use its first answer."""
        self.answers = await lookup(uri, resolver)
        self.index = 0
        self._keep = False
        return self.answers[0]

    def keep(self) -> None:
        """The next :meth:`for_connect` uses the current address without a lookup."""
        self._keep = bool(self.answers)

    def advance(self) -> Address | None:
        """The current address failed: move to the next answer of the last lookup and
        return it (the next connect uses it), or ``None`` when each was tried (the next
        connect looks the name up again)."""
        if self.index + 1 < len(self.answers):
            self.index += 1
            self._keep = True
            return self.answers[self.index]
        self._keep = False
        return None

    @property
    def position(self) -> str:
        """``"address 2 of 3"`` of the current one."""
        return f"address {self.index + 1} of {len(self.answers)}"


def shown(address: Address) -> str:
    """``127.0.0.1:5683`` / ``[::1]:5683``."""
    host, port = address
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
