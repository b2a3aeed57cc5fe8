"""The Send operation (LwM2M 1.1 Information Reporting): values pushed to ``POST /dp``.

A device sends the current values of some paths in SenML CBOR (or SenML JSON)
without being asked, either through the API (``await device.send(paths)``) or
because the server executed the test object's Send Data (``/3442/0/5``).
Send is refused (:class:`SendNotAllowed`) for an LwM2M 1.0 device, while the
device is not registered, and while Mute Send (``/1/0/23``) is true, which is
how ``DeviceConfig.send_enabled=False`` switches it off. The server's answer
(2.04 expected) is reported in a :class:`~fleet.client.events.SendDone`.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Final, Protocol

from fleet.client.coap.errors import CoapError
from fleet.client.coap.wire import Message
from fleet.client.content import read_composite
from fleet.client.events import SendDone, code_text
from fleet.client.hosts import EndpointHost
from fleet.codec.composite import encode_send
from fleet.codec.formats import ContentFormat, format_label
from fleet.device.tree import ObjectTree
from fleet.errors import FleetError
from fleet.model.path import Path
from fleet.model.registry import ModelRegistry, version_key

_log = logging.getLogger("fleet.client.send")

POST: Final = 2
SEND_PATH: Final = ("dp",)
SEND_FORMATS: Final = frozenset({ContentFormat.SENML_CBOR, ContentFormat.SENML_JSON})
MUTE_SEND: Final = (1, 0, 23)


class SendNotAllowed(FleetError):
    """The device may not Send now (LwM2M 1.0, not registered, or Mute Send is on)."""


class SendHost(EndpointHost, Protocol):
    """What Send needs from its device."""

    @property
    def tree(self) -> ObjectTree: ...

    @property
    def models(self) -> ModelRegistry: ...

    @property
    def lwm2m_version(self) -> str: ...

    @property
    def is_registered(self) -> bool: ...

    @property
    def send_enabled(self) -> bool: ...


def muted(host: SendHost) -> bool:
    """Whether Mute Send is on (``/1/0/23``; the configuration when the resource is absent)."""
    value = host.tree.stored(*MUTE_SEND)
    if isinstance(value, bool):
        return value
    return not host.send_enabled


async def send_values(
    host: SendHost,
    paths: Iterable[Path | str],
    *,
    content_format: ContentFormat | int = ContentFormat.SENML_CBOR,
    timeout: float | None = None,
    timestamp: bool = False,
) -> SendDone:
    """Send the current values at ``paths``; the outcome (also emitted as an event).

    ``timestamp`` stamps the values with the device's wall clock (SenML ``bt``).
    Raises :class:`SendNotAllowed` when Send is not possible now, and the tree's
    errors when no path can be read.
    """
    if version_key(host.lwm2m_version) < version_key("1.1"):
        raise SendNotAllowed(f"{host.name}: Send needs LwM2M 1.1, the device speaks 1.0")
    if muted(host):
        raise SendNotAllowed(f"{host.name}: Mute Send (/1/0/23) is on")
    endpoint = host.endpoint
    if endpoint is None or not host.is_registered:
        raise SendNotAllowed(f"{host.name}: not registered")
    try:
        fmt = ContentFormat(content_format)
    except ValueError:
        fmt = None
    if fmt not in SEND_FORMATS:
        raise SendNotAllowed(f"{format_label(content_format)}: Send uses SenML CBOR or JSON")
    assert fmt is not None
    targets = [p if isinstance(p, Path) else Path.parse(p) for p in paths]
    composite = read_composite(host.tree, targets)
    payload = encode_send(
        composite, host.models, fmt, time=host.clock.wall() if timestamp else None
    )
    message = Message(code=POST, uri_path=SEND_PATH, content_format=int(fmt), payload=payload)
    sent = tuple(targets)
    try:
        response = await endpoint.request(
            message,
            host.server_address,
            timeout=timeout if timeout is not None else host.exchange_timeout,
        )
    except CoapError as error:
        _log.info("%s: Send got no answer: %s", host.name, error)
        done = SendDone(host.name, host.clock.now(), sent, int(fmt), None, str(error))
    else:
        done = SendDone(host.name, host.clock.now(), sent, int(fmt), code_text(int(response.code)))
    if host.listening:
        host.emit(done)
    return done
