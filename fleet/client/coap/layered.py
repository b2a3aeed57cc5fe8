"""A datagram transport layered over other sockets: what every such adapter repeats.

The DTLS server sockets (:mod:`fleet.client.coap.dtls_server`) and the embedded server's
plain-plus-DTLS transport (:mod:`fleet.server.secure`) each stand between a
:class:`~fleet.client.coap.CoapEndpoint` and the sockets beneath. A
:class:`LayeredTransport` answers ``get_extra_info`` from the socket beneath
(:meth:`~LayeredTransport._beneath`: the one whose address the endpoint reports) and
closes once: :meth:`~LayeredTransport.close` (and ``abort``) run the subclass's
:meth:`~LayeredTransport._shut` the first time only, and ``is_closing`` is true from then on.
"""

from __future__ import annotations

import asyncio
from typing import Any


class LayeredTransport(asyncio.DatagramTransport):
    """A transport over other sockets (see the module documentation)."""

    def __init__(self) -> None:
        super().__init__()
        self._closing = False

    def _beneath(self) -> asyncio.BaseTransport | None:
        """The socket whose details ``get_extra_info`` gives (``None``: none yet)."""
        raise NotImplementedError

    def _shut(self) -> None:
        """Close what is beneath (called once, by the first :meth:`close`)."""
        raise NotImplementedError

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        beneath = self._beneath()
        return default if beneath is None else beneath.get_extra_info(name, default)

    def is_closing(self) -> bool:
        return self._closing

    def close(self) -> None:
        if self._closing:
            return
        self._closing = True
        self._shut()

    def abort(self) -> None:
        self.close()
