"""What a device tells its server, read from its Server object with the configuration as fallback.

The Server object instance ``/1/0`` (or, after a bootstrap, the instance of the
account in use: the ``instance`` argument) holds what the server may change:
lifetime (1), default pmin/pmax (2, 3), binding (7) and the retry resources
(17..20). These functions read them from the tree, falling back on the
:class:`~fleet.client.config.DeviceConfig` when the layout lacks the object
or the resource, and build what the Registration interface sends.
"""

from __future__ import annotations

from typing import Final

from fleet.client.config import DeviceConfig
from fleet.client.registration import RegistrationParams, RetryPolicy
from fleet.codec.link import ObjectEntry, register_payload
from fleet.codec.negotiation import announced_format
from fleet.device.store import DeviceStore
from fleet.model.path import Path

SERVER_OBJECT: Final = 1
SERVER_INSTANCE: Final = 0
LIFETIME, DEFAULT_PMIN, DEFAULT_PMAX, BINDING = 1, 2, 3, 7
RETRY_RESOURCES: Final = (17, 18, 19, 20)


def server_setting(tree: DeviceStore, resource_id: int, instance: int = SERVER_INSTANCE) -> object:
    """A resource of ``/1/<instance>`` as stored (``None`` when the device has none)."""
    return tree.stored(SERVER_OBJECT, instance, resource_id)


def _integer(value: object) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def registration_params(
    tree: DeviceStore, config: DeviceConfig, instance: int = SERVER_INSTANCE
) -> RegistrationParams:
    """Endpoint, lifetime (``/1/0/1``), LwM2M version and binding (``/1/0/7``) as of now."""
    lifetime = _integer(server_setting(tree, LIFETIME, instance))
    binding = server_setting(tree, BINDING, instance)
    return RegistrationParams(
        endpoint=config.endpoint,
        lifetime=config.lifetime if lifetime is None else lifetime,
        lwm2m_version=config.lwm2m_version,
        binding=binding if isinstance(binding, str) and binding else config.binding,
    )


def register_links(tree: DeviceStore, config: DeviceConfig) -> bytes:
    """The link-format payload of a Register or Update: objects, versions, instances.

    A root link ``</>;ct=..`` names the device's preferred format when servers of its
    LwM2M version can be expected to know it (:func:`~fleet.codec.negotiation.announced_format`:
    ``ct=112`` for SenML CBOR, none for TLV or for a 1.0 device).

    The devices of a fleet share a layout, so the payload is built once per template,
    LwM2M version, preferred format and set of instances, and the same bytes are handed
    to every such device (:data:`_LINKS`, the last :data:`LINKS_CACHE` kinds).
    """
    key = (tree.template, config.lwm2m_version, config.content_format, tree.instance_shape())
    found = _LINKS.get(key)
    if found is not None:
        return found
    objects = [
        ObjectEntry(oid, version, tree.instances(oid))
        for oid, version in tree.object_versions().items()
    ]
    version = config.lwm2m_version
    announced = announced_format(version, config.content_format)
    formats = () if announced is None else (int(announced),)
    payload = register_payload(objects, lwm2m_version=version, content_formats=formats).encode()
    _LINKS[key] = payload
    while len(_LINKS) > LINKS_CACHE:
        del _LINKS[next(iter(_LINKS))]
    return payload


LINKS_CACHE: Final = 64
"""How many kinds of Register payload (layout, version, format, instances) are kept."""

_LINKS: dict[tuple[object, ...], bytes] = {}


def retry_policy(
    tree: DeviceStore, config: DeviceConfig, instance: int = SERVER_INSTANCE
) -> RetryPolicy:
    """The retry policy of ``/1/0/17..20`` (each missing one from the configuration)."""
    count, timer, delay, sequences = (
        _integer(server_setting(tree, rid, instance)) for rid in RETRY_RESOURCES
    )
    configured = config.retry
    return RetryPolicy(
        retry_count=configured.retry_count if count is None else count,
        retry_timer=configured.retry_timer if timer is None else timer,
        sequence_delay=configured.sequence_delay if delay is None else delay,
        sequence_retry_count=(configured.sequence_retry_count if sequences is None else sequences),
    )


def default_periods(
    tree: DeviceStore, config: DeviceConfig, instance: int = SERVER_INSTANCE
) -> tuple[int | None, int | None]:
    """Default Minimum and Maximum Period (``/1/0/2``, ``/1/0/3``)."""
    pmin = _integer(server_setting(tree, DEFAULT_PMIN, instance))
    pmax = _integer(server_setting(tree, DEFAULT_PMAX, instance))
    return (
        config.default_pmin if pmin is None else pmin,
        config.default_pmax if pmax is None else pmax,
    )


def touches_server_resource(
    path: Path, resources: tuple[int, ...], instance: int = SERVER_INSTANCE
) -> bool:
    """Whether a changed ``path`` (it and everything below) covers one of ``/1/0/<resources>``."""
    if len(path) >= 1 and path[0] != SERVER_OBJECT:
        return False
    if len(path) >= 2 and path[1] != instance:
        return False
    return len(path) < 3 or path[2] in resources


def touched_settings(paths: tuple[Path, ...], instance: int = SERVER_INSTANCE) -> tuple[bool, bool]:
    """Whether changed ``paths`` cover ``/1/<instance>``'s lifetime or binding (an Update
    may be due), and its default periods (observations get new defaults)."""
    registration = periods = False
    for path in paths:
        registration = registration or touches_server_resource(path, (LIFETIME, BINDING), instance)
        periods = periods or touches_server_resource(path, (DEFAULT_PMIN, DEFAULT_PMAX), instance)
    return registration, periods
