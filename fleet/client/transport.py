"""Opening a device's CoAP endpoint: the one place that picks the transport for its server URI.

:func:`open_endpoint` binds a :class:`~fleet.client.coap.endpoint.CoapEndpoint`
for a :class:`~fleet.client.config.DeviceConfig`: plain UDP for ``coap://``, a
DTLS-PSK session for ``coaps://`` (:func:`~fleet.client.coap.dtls.open_dtls_client`
with the config's ``psk``). Every handshake, done or failed, is reported to
``emit`` as a :class:`~fleet.client.events.Handshake` (its duration on the device
clock); a failed one then raises the :class:`~fleet.client.coap.dtls.DtlsError`
(the device's "handshake failed", retried by the device with back-off). The
handshake timeout (``config.handshake_timeout``) runs on the device clock.
"""

from __future__ import annotations

import random
from collections.abc import Callable

from fleet.client.coap.dtls import DtlsError, open_dtls_client
from fleet.client.coap.endpoint import CoapEndpoint
from fleet.client.coap.psk import PskCredentials
from fleet.client.coap.results import CancelCallback, Handler
from fleet.client.coap.wire import Address
from fleet.client.config import DeviceConfig
from fleet.client.events import ClientEvent, Handshake
from fleet.clock import Clock


async def open_endpoint(
    config: DeviceConfig,
    *,
    remote: Address,
    psk: PskCredentials | None,
    handler: Handler,
    clock: Clock,
    rng: random.Random | None,
    on_cancel: CancelCallback,
    emit: Callable[[ClientEvent], None] | None = None,
    on_lost: Callable[[str], None] | None = None,
) -> CoapEndpoint:
    """Bind the device's endpoint on ``config.local_host`` (an ephemeral port).

    ``remote`` is the server the device talks to and ``psk`` its key (``None``: plain
    UDP): the configured server, or an account a Bootstrap-Server wrote. With a key
    the DTLS handshake happens here; ``emit`` hears a :class:`Handshake` either way
    and a failure raises :class:`DtlsError`
    (:class:`~fleet.client.coap.dtls.DtlsHandshakeError` for a wrong key, no
    server or a timeout; :class:`~fleet.client.coap.dtls.DtlsUnavailable`
    without the optional package). ``on_lost(reason)`` hears when a secure
    session ends under the device (the device must then open a new endpoint:
    a new handshake).
    """
    if psk is None:
        return await CoapEndpoint.bind(
            config.local_host,
            0,
            handler=handler,
            clock=clock,
            params=config.params,
            limits=config.limits,
            rng=rng,
            on_cancel=on_cancel,
        )
    started = clock.now()
    try:
        client = await open_dtls_client(
            config.local_host,
            remote,
            psk,
            handshake_timeout=config.handshake_timeout,
            clock=clock,
            on_lost=on_lost,
            handler=handler,
            params=config.params,
            limits=config.limits,
            rng=rng,
            on_cancel=on_cancel,
        )
    except DtlsError as error:
        if emit is not None:
            now = clock.now()
            emit(Handshake(config.endpoint, now, remote, now - started, str(error) or "failed"))
        raise
    if emit is not None:
        now = clock.now()
        emit(Handshake(config.endpoint, now, remote, now - started))
    return client.endpoint
