"""The DTLS-PSK session of a ``coaps://`` download: its own socket, its own handshake.

A device's LwM2M endpoint talks to its LwM2M Server only (over DTLS, one session on a
connected socket), so a package at ``coaps://FILE-SERVER`` is fetched over a second
session: :class:`SecureLink` binds a UDP socket on the device's host, handshakes with the
file server (DTLS 1.2, PSK, tinydtls as for registration) and gives the download its
endpoint; after a loss the download asks for a fresh session (:meth:`SecureLink.reopen`);
when the download ends the session is closed (close_notify).

Credentials: :attr:`FirmwareSettings.download_psk
<fleet.client.firmware.settings.FirmwareSettings.download_psk>` when the group gives
them (``firmware: {download_psk: {identity, key}}``), else the device's own PSK for its
LwM2M Server (file servers of a platform often share the devices' keys); a device with
neither cannot download over CoAPS (:func:`download_credentials` answers ``None``, the
download ends with Update Result 9). The keys never appear in a log or an error.
"""

from __future__ import annotations

from typing import Any

from fleet.client.coap.dtls import DEFAULT_HANDSHAKE_TIMEOUT, DtlsClient, open_dtls_client
from fleet.client.coap.psk import PskCredentials
from fleet.client.firmware.settings import FirmwareSettings
from fleet.client.firmware.uri import Target
from fleet.clock import Clock


def download_credentials(
    settings: FirmwareSettings, server_psk: PskCredentials | None
) -> PskCredentials | None:
    """The PSK for ``coaps://`` downloads: the settings' ``download_psk``, else the
    device's PSK for its LwM2M Server (``server_psk``), else ``None``."""
    return settings.download_psk if settings.download_psk is not None else server_psk


def local_host(target: Target) -> str:
    """The address a download socket binds: loopback of the target's family, else any."""
    if ":" in target.host:
        return "::1" if target.host == "::1" else "::"
    return "127.0.0.1" if target.host.startswith("127.") else "0.0.0.0"


class SecureLink:
    """One download's DTLS session to its file server (see the module docstring)."""

    __slots__ = ("_client", "clock", "credentials", "handshake_timeout", "target")

    def __init__(
        self,
        target: Target,
        credentials: PskCredentials,
        clock: Clock,
        handshake_timeout: float = DEFAULT_HANDSHAKE_TIMEOUT,
    ) -> None:
        self.target = target
        self.credentials = credentials
        self.clock = clock
        self.handshake_timeout = handshake_timeout
        self._client: DtlsClient | None = None

    def endpoint(self) -> Any:
        """The session's endpoint (``None`` before the handshake or after a close)."""
        return None if self._client is None else self._client.endpoint

    async def reopen(self) -> None:
        """Close the session (if any) and handshake again; raises like
        :func:`~fleet.client.coap.dtls.open_dtls_client` (a loss to the download)."""
        self.close()
        self._client = await open_dtls_client(
            local_host(self.target),
            (self.target.host, self.target.port),
            self.credentials,
            clock=self.clock,
            handshake_timeout=self.handshake_timeout,
        )

    def close(self) -> None:
        client, self._client = self._client, None
        if client is not None:
            client.close()
