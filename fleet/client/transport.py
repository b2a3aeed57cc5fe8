"""Opening a device's CoAP endpoint: the one place that picks the transport for its server URI.

:func:`open_endpoint` binds a :class:`~fleet.client.coap.endpoint.CoapEndpoint`
for a :class:`~fleet.client.config.DeviceConfig`: plain UDP for ``coap://``.
``emit`` (when somebody listens to the device) receives transport events.
"""

from __future__ import annotations

import random
from collections.abc import Callable

from fleet.client.coap.core import CancelCallback, Handler
from fleet.client.coap.endpoint import CoapEndpoint
from fleet.client.config import DeviceConfig
from fleet.client.events import ClientEvent
from fleet.clock import Clock


async def open_endpoint(
    config: DeviceConfig,
    *,
    handler: Handler,
    clock: Clock,
    rng: random.Random | None,
    on_cancel: CancelCallback,
    emit: Callable[[ClientEvent], None] | None = None,
    on_lost: Callable[[str], None] | None = None,
) -> CoapEndpoint:
    """Bind the device's endpoint on ``config.local_host`` (an ephemeral port).

    ``on_lost(reason)`` hears when a secure session ends under the device (the
    device must then open a new endpoint: a new handshake).
    """
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
