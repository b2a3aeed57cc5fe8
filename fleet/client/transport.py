"""Opening a device's CoAP endpoint: the one place that picks the transport for its server URI.

:func:`open_endpoint` binds a :class:`~fleet.client.coap.endpoint.CoapEndpoint`
for a :class:`~fleet.client.config.DeviceConfig`: plain UDP for ``coap://``, a
DTLS-PSK session for ``coaps://`` (:func:`~fleet.client.coap.dtls.open_dtls_client`
with the config's ``psk``), or a DTLS session with certificates
(:func:`~fleet.client.coap.dtls_x509.open_x509_client` with its ``x509``). Every
handshake, done or failed, is reported to ``emit`` as a
:class:`~fleet.client.events.Handshake` (its duration on the device clock); a failed
one then raises the :class:`~fleet.client.coap.dtls.DtlsError` (the device's "handshake
failed", retried by the device with back-off). The handshake timeout
(``config.handshake_timeout``) runs on the device clock.
"""

from __future__ import annotations

import ipaddress
import logging
from collections.abc import Callable
from typing import Any

from fleet.client.bootstrap.rules import ServerAccount
from fleet.client.coap.dtls import DtlsError, open_dtls_client
from fleet.client.coap.dtls_x509 import open_x509_client
from fleet.client.coap.endpoint import CoapEndpoint, set_receive_buffer
from fleet.client.coap.params import EndpointLimits
from fleet.client.coap.results import CancelCallback, Handler
from fleet.client.coap.wire import Address
from fleet.client.config import ConfigError, DeviceConfig
from fleet.client.events import ClientEvent, Handshake
from fleet.client.firmware.settings import push_limits
from fleet.client.reasons import error_cause
from fleet.clock import Clock
from fleet.device.randomness import Rng

_log = logging.getLogger("fleet.client")
_warned: set[str] = set()


def endpoint_limits(config: DeviceConfig) -> EndpointLimits:
    """The config's endpoint limits, with room for a pushed firmware package."""
    return config.limits if config.firmware is None else push_limits(config.firmware, config.limits)


async def open_endpoint(
    config: DeviceConfig,
    remote: Address | None = None,
    *,
    handler: Handler,
    clock: Clock,
    rng: Rng | None,
    on_cancel: CancelCallback,
    emit: Callable[[ClientEvent], None] | None = None,
    on_lost: Callable[[str], None] | None = None,
    account: ServerAccount | None = None,
) -> CoapEndpoint:
    """Bind the device's endpoint (an ephemeral port) to talk to ``remote``, the server's
    numeric address (default: ``config.server_address``, a literal or the shard's lookup):
    on ``config.bind_host``, else the loopback or wildcard of its family.

    For a ``coaps://`` server the DTLS handshake happens here; ``emit`` hears a
    :class:`Handshake` either way and a failure raises :class:`DtlsError`
    (:class:`~fleet.client.coap.dtls.DtlsHandshakeError` for a wrong key, no
    server or a timeout; :class:`~fleet.client.coap.dtls.DtlsUnavailable`
    without the optional package). ``on_lost(reason)`` hears when a secure
    session ends under the device (the device must then open a new endpoint:
    a new handshake).

    ``account``: an account a Bootstrap-Server wrote (or the Bootstrap-Server's own):
    its security mode and keys replace the config's (NoSec: plain UDP, PSK: DTLS-PSK).
    """
    psk, x509 = config.psk, config.x509
    if account is not None:
        psk, x509 = account.psk, None
    if remote is None:
        remote = config.server_address
        if remote is None:
            raise ConfigError(f"server URI {config.server!r}: the name is not looked up yet")
    local = config.local_host_for(remote)
    if psk is None and x509 is None:
        endpoint = await CoapEndpoint.bind(
            local,
            0,
            handler=handler,
            clock=clock,
            params=config.params,
            limits=endpoint_limits(config),
            rng=rng,
            on_cancel=on_cancel,
            report_unreachable=True,
        )
        raise_receive_buffer(endpoint, config.receive_buffer)
        return endpoint
    started = clock.now()
    options: dict[str, Any] = {
        "handshake_timeout": config.handshake_timeout,
        "clock": clock,
        "on_lost": on_lost,
        "handler": handler,
        "params": config.params,
        "limits": endpoint_limits(config),
        "rng": rng,
        "on_cancel": on_cancel,
    }
    try:
        if x509 is not None:
            client = await open_x509_client(
                local, remote, x509, host_name=config.uri.host, **options
            )
        else:
            assert psk is not None
            client = await open_dtls_client(local, remote, psk, **options)
    except DtlsError as error:
        if emit is not None:
            now = clock.now()
            why = str(error) or "failed"
            emit(Handshake(config.endpoint, now, remote, now - started, why, error_cause(error)))
        raise
    if emit is not None:
        now = clock.now()
        emit(Handshake(config.endpoint, now, remote, now - started))
    return client.endpoint


def raise_receive_buffer(endpoint: CoapEndpoint, size: int | None) -> None:
    """Give the device's socket ``size`` bytes of receive buffer, as far as the kernel
    allows (past ``net.core.rmem_max`` with CAP_NET_ADMIN), without a warning per device."""
    transport = endpoint._transport
    sock = transport.get_extra_info("socket") if transport is not None else None
    if size is not None and sock is not None:
        set_receive_buffer(sock, size, force=True, warn=False)


def warn_wildcard_bind(config: DeviceConfig, server: Address, local: Address) -> None:
    """Say once per process that devices listen on every interface: a device bound to the
    wildcard (``0.0.0.0`` / ``::``) for a server off this machine is reachable from anywhere
    on the network. ``bind_host`` picks the one interface to listen on."""
    host = local[0]
    if host not in ("0.0.0.0", "::") or host in _warned:
        return
    if ipaddress.ip_address(server[0]).is_loopback:
        return
    _warned.add(host)
    _log.warning(
        "%s: listening on every interface (%s, port %d) for server %s; set bind_host to the"
        " address of the interface towards the server to listen there only (the device"
        " ignores datagrams from any address but its server's)",
        config.endpoint,
        host,
        local[1],
        config.server,
    )
