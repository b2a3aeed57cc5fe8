"""What one virtual device is configured with, and what many devices share.

:class:`DeviceConfig` is plain frozen data: endpoint name, server URI,
lifetime, binding, LwM2M version, preferred content format, the objects
(a :class:`~fleet.device.DeviceLayout`, or a compiled
:class:`~fleet.device.TreeTemplate` shared by a fleet), per-device initial
values, whether Send is allowed, the registration retry policy and a few
timings, and for a ``coaps://`` server the DTLS pre-shared key (``psk``). The
``lwm2m_fallback``: the LwM2M versions to try next, in order, when a server refuses the
Register with 4.12 (:meth:`DeviceConfig.falling_back`). The
Security object ``/0/0`` and the Server object ``/1/0`` reflect it
(:func:`server_values`): Server URI, Security Mode (0 PSK for ``coaps://``, 3
NoSec for ``coap://``), PSK identity (``/0/0/3``) and key (``/0/0/5``, never
readable by a server: the tree refuses ``/0`` to it), Short Server ID; lifetime
(``/1/0/1``), default pmin/pmax (``/1/0/2``, ``/1/0/3``), binding (``/1/0/7``),
Bootstrap on Registration Failure (``/1/0/16``, true),
retry resources (``/1/0/17..20``) and Mute Send (``/1/0/23``, true when Send is
off).

:class:`DeviceProfile` is the compiled, shareable part: the tree template and
the object definitions the codecs use. :func:`profile_for` builds it once per
layout (or template) and keeps a few in a small cache, so a thousand configs
naming the same layout share one template; the server values are folded into
the template's initial values so that devices pay nothing per device for them.
The PSK identity and key (:data:`SECRET_PATHS`) never enter the template or the
profile's cache: :func:`device_overrides` adds them to each device's own values.
"""

from __future__ import annotations

import dataclasses
import ipaddress
import math
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from types import MappingProxyType
from typing import Final, TypeAlias

from fleet.client.coap.dtls import DEFAULT_HANDSHAKE_TIMEOUT
from fleet.client.coap.params import (
    DEFAULT_LIMITS,
    DEFAULT_PARAMETERS,
    EndpointLimits,
    TransmissionParameters,
)
from fleet.client.coap.psk import PskCredentials
from fleet.client.coap.x509 import CERTIFICATE, X509Credentials
from fleet.client.firmware.settings import (
    DEFAULT_SETTINGS,
    PROTOCOLS,
    FirmwareSettings,
    supported_protocols,
)
from fleet.client.registration import DEFAULT_LIFETIME, UINT32_MAX, RetryPolicy
from fleet.client.uri import (
    DEFAULT_PORT,
    Address,
    Resolver,
    ServerUri,
    parse_uri,
)
from fleet.codec.formats import ContentFormat, format_label
from fleet.codec.negotiation import formats_for
from fleet.device.layout import SHIPPED_LAYOUT, DeviceLayout
from fleet.device.template import ResolvedValues, TreeTemplate
from fleet.errors import ConfigError as ConfigError  # re-exported: its old home
from fleet.errors import InvalidValue
from fleet.model.path import Path
from fleet.model.registry import ModelRegistry
from fleet.model.shipped import shipped_registry
from fleet.model.values import coerce_value

LWM2M_VERSIONS: Final = ("1.0", "1.1", "1.2")
BINDINGS: Final = ("U", "UQ")
DEFAULT_AWAKE_TIME: Final = 93.0
"""Queue mode: seconds awake after sending (CoAP MAX_TRANSMIT_WAIT, as LwM2M suggests)."""
NO_SEC: Final = 3
"""Security Mode (/0/x/2) 3: NoSec."""
PRE_SHARED_KEY: Final = 0
"""Security Mode (/0/x/2) 0: Pre-Shared Key (DTLS-PSK)."""
DEFAULT_BOOTSTRAP_TIMEOUT: Final = 247.0
"""Seconds a device waits for Bootstrap-Finish: CoAP's EXCHANGE_LIFETIME."""
SECRET_PATHS: Final = ("/0/0/3", "/0/0/4", "/0/0/5")
FIRMWARE_OBJECT, FIRMWARE_PROTOCOLS = 5, "/5/0/8"
ALL_PROTOCOLS: Final = set(PROTOCOLS)
"""``/5/0/8`` as Object 5's behaviour lists it by default: every protocol of the client."""
"""The device's credentials in the Security object (PSK identity and key; certificate, server
certificate or trust anchor, private key): per device, never in a shared template."""


def is_secure_uri(uri: str) -> bool:
    """Whether ``uri`` names a ``coaps://`` (DTLS) server."""
    return uri.strip().lower().startswith("coaps:")


def default_bind_host(server_host: str) -> str:
    """Loopback of the server's family for a loopback server, else the family's wildcard."""
    address = ipaddress.ip_address(server_host)
    if address.is_loopback:
        return "::1" if address.version == 6 else "127.0.0.1"
    return "::" if address.version == 6 else "0.0.0.0"


DEVICE_RECEIVE_BUFFER: Final = 2 << 20
"""Bytes of UDP receive buffer a device asks for (:attr:`DeviceConfig.receive_buffer`)."""


_NO_VALUES: Final[Mapping[str, object]] = MappingProxyType({})
"""The ``values`` of every configuration that gives none (one shared, read-only)."""


@dataclass(frozen=True, slots=True, eq=False)
class DeviceConfig:
    """One device's configuration. Validated on construction (:class:`ConfigError`).

    ``layout`` is a :class:`DeviceLayout` (compiled against ``registry``, the
    shipped objects by default) or a :class:`TreeTemplate` compiled once for a
    fleet. ``values`` are initial values of this device only (``"/3/0/2":
    "SN-0042"``). ``content_format`` is the format the device answers with
    when a request has no Accept and the format can carry the content.
    ``exchange_timeout`` bounds each Register/Update/De-register/Send
    exchange in device-clock seconds (``None``: the CoAP retransmission
    limits alone). ``reboot_delay``: how long a rebooting device stays away.
    ``confirmable_notifications``: send every notification confirmable
    (default: non-confirmable, see :mod:`fleet.client.observations`).
    ``awake_time``: with binding ``UQ`` (queue mode), how long the device stays
    reachable after each Update or notification before it sleeps.
    ``psk``: the DTLS pre-shared identity and key; required with a ``coaps://``
    server and refused with ``coap://``. ``handshake_timeout``: device-clock
    seconds a DTLS handshake may take before it counts as failed. ``x509``: the
    device certificate and key (and how the server's is checked) instead of a
    ``psk`` (security mode 2). Keys are never part of the ``repr``. ``bind_host``: the
    local address the device's socket binds to (default: loopback for a loopback server,
    else the wildcard ``0.0.0.0`` / ``::``, i.e. every interface, which the device warns
    about once). ``any_source``: answer
    datagrams from any address (test rigs poking a device with coap-client); by default a
    device ignores everything that does not come from its server's address.
    ``receive_buffer``: bytes of UDP receive buffer asked of the kernel, past
    ``net.core.rmem_max`` where the process may (default 2 MiB: a burst of confirmable
    requests overflows Linux's default ~208 KiB; ``None`` keeps the system default).
    ``firmware``: what Object 5 does (downloads, storage, faults;
    :mod:`fleet.client.firmware.settings`; ``None``: defaults). ``resolved``: every
    address the server's name had when the shard looked it up (preferred first), used by
    the device's first connect; ``resolver``: how the device looks the name up again
    (default: the system's; :mod:`fleet.client.addresses`).

    ``bootstrap``: the Bootstrap-Server URI (``coap://`` NoSec, ``coaps://`` with
    ``bootstrap_psk``); the device then starts with only its Bootstrap-Server
    Account in ``/0/0`` and no Server instance, and bootstraps before it
    registers (:mod:`fleet.client.bootstrap`) — unless ``factory_server``, where it
    keeps the ``server`` account in ``/0/0`` and ``/1/0`` and holds the
    Bootstrap-Server Account in ``/0/1`` (for server-initiated bootstrap and the
    fall-back when every server refuses it). ``bootstrap_timeout``: seconds to
    wait for Bootstrap-Finish after the Bootstrap-Request was accepted;
    ``bootstrap_retry``: the back-off of failed attempts; ``bootstrap_hold_off``:
    the Client Hold Off Time (``/0/x/11``) before the first Bootstrap-Request;
    ``bootstrap_forget``: a reboot loses what the bootstrap wrote (a fault: the device
    bootstraps again instead of registering with the accounts it was given).
    """

    endpoint: str
    server: str = f"coap://127.0.0.1:{DEFAULT_PORT}"
    lifetime: int = DEFAULT_LIFETIME
    binding: str = "U"
    lwm2m_version: str = "1.1"
    content_format: ContentFormat | None = None
    layout: DeviceLayout | TreeTemplate | None = None
    registry: ModelRegistry | None = None
    values: Mapping[str, object] = field(default_factory=lambda: _NO_VALUES)
    send_enabled: bool = True
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    short_server_id: int = 1
    default_pmin: int | None = None
    default_pmax: int | None = None
    bind_host: str | None = None
    reboot_delay: float = 5.0
    exchange_timeout: float | None = None
    confirmable_notifications: bool = False
    awake_time: float = DEFAULT_AWAKE_TIME
    params: TransmissionParameters = DEFAULT_PARAMETERS
    limits: EndpointLimits = DEFAULT_LIMITS
    psk: PskCredentials | None = None
    handshake_timeout: float = DEFAULT_HANDSHAKE_TIMEOUT
    firmware: FirmwareSettings | None = None
    any_source: bool = False
    receive_buffer: int | None = DEVICE_RECEIVE_BUFFER
    lwm2m_fallback: tuple[str, ...] = ()
    resolved: tuple[Address, ...] | None = None
    resolver: Resolver | None = field(default=None, repr=False)
    uri: ServerUri = field(init=False, repr=False)
    x509: X509Credentials | None = None
    bootstrap: str | None = None
    bootstrap_psk: PskCredentials | None = None
    factory_server: bool = False
    bootstrap_timeout: float = DEFAULT_BOOTSTRAP_TIMEOUT
    bootstrap_retry: RetryPolicy = field(default_factory=RetryPolicy)
    bootstrap_hold_off: int = 0
    bootstrap_forget: bool = False

    def __post_init__(self) -> None:
        values = self.values
        if values is not _NO_VALUES:  # a fleet's configs mostly have none: share one
            object.__setattr__(
                self, "values", MappingProxyType(dict(values)) if values else _NO_VALUES
            )
        if not self.endpoint or not isinstance(self.endpoint, str):
            raise ConfigError("a device needs an endpoint name")
        object.__setattr__(self, "uri", parse_uri(self.server))
        if self.psk is not None and not isinstance(self.psk, PskCredentials):
            raise ConfigError("psk must be PskCredentials (identity and key)")
        if self.x509 is not None and not isinstance(self.x509, X509Credentials):
            raise ConfigError("x509 must be X509Credentials (certificate and key)")
        if self.psk is not None and self.x509 is not None:
            raise ConfigError("a device has a pre-shared key or a certificate, not both")
        if is_secure_uri(self.server) and not self.secure:
            raise ConfigError(
                f"server {self.server}: a coaps:// server needs a pre-shared key (psk) "
                "or a certificate (x509)"
            )
        _check_bootstrap(self)
        if self.secure and not is_secure_uri(self.server):
            what = "a pre-shared key" if self.psk is not None else "a certificate"
            raise ConfigError(f"server {self.server}: {what} needs a coaps:// server, not coap://")
        if not (self.handshake_timeout > 0 and math.isfinite(self.handshake_timeout)):
            raise ConfigError("handshake_timeout must be a positive number of seconds")
        if isinstance(self.lifetime, bool) or not 1 <= self.lifetime <= UINT32_MAX:
            raise ConfigError(f"lifetime must be 1..{UINT32_MAX} seconds, got {self.lifetime!r}")
        if self.binding not in BINDINGS:
            raise ConfigError(f"binding must be one of {', '.join(BINDINGS)}, got {self.binding!r}")
        object.__setattr__(self, "lwm2m_fallback", tuple(self.lwm2m_fallback))
        versions = (self.lwm2m_version, *self.lwm2m_fallback)
        for version in versions:
            if version not in LWM2M_VERSIONS:
                raise ConfigError(
                    f"LwM2M version must be one of {', '.join(LWM2M_VERSIONS)}, got {version!r}"
                )
        if len(set(versions)) != len(versions):
            raise ConfigError(f"LwM2M versions {', '.join(versions)}: each may be given once")
        if self.content_format is not None:
            fmt = ContentFormat(self.content_format)
            object.__setattr__(self, "content_format", fmt)
            for version in versions:
                if fmt not in formats_for(version):
                    raise ConfigError(
                        f"{format_label(fmt)} is not a data format of LwM2M {version}"
                    )
        if not 1 <= self.short_server_id <= 65534:
            raise ConfigError(f"short server id must be 1..65534, got {self.short_server_id}")
        for name in ("default_pmin", "default_pmax"):
            value = getattr(self, name)
            if value is not None and (isinstance(value, bool) or value < 0):
                raise ConfigError(f"{name} must be a non-negative number of seconds")
        retry = self.retry
        for name in ("retry_count", "retry_timer", "sequence_delay", "sequence_retry_count"):
            value = getattr(retry, name)
            if not (value >= 0 and float(value).is_integer() and value <= UINT32_MAX):
                raise ConfigError(f"retry.{name} must be whole seconds/counts, got {value!r}")
        if not (self.reboot_delay >= 0 and math.isfinite(self.reboot_delay)):
            raise ConfigError("reboot_delay must be a non-negative number of seconds")
        if not (self.awake_time >= 0 and math.isfinite(self.awake_time)):
            raise ConfigError("awake_time must be a non-negative number of seconds")
        if self.exchange_timeout is not None and not self.exchange_timeout > 0:
            raise ConfigError("exchange_timeout must be positive")

    def falling_back(self) -> DeviceConfig | None:
        """The same configuration with the next LwM2M version of ``lwm2m_fallback`` (the
        server answered the Register 4.12: it does not support this one), or ``None``."""
        if not self.lwm2m_fallback:
            return None
        first, *rest = self.lwm2m_fallback
        return dataclasses.replace(self, lwm2m_version=first, lwm2m_fallback=tuple(rest))

    @property
    def secure(self) -> bool:
        """Whether the device talks DTLS (a ``coaps://`` server)."""
        return self.psk is not None or self.x509 is not None

    @property
    def server_address(self) -> Address | None:
        """The server as ``(numeric host, port)``: the URI's literal, else the address its
        name ``resolved`` to first (the shard's lookup); ``None`` until a name is resolved."""
        literal = self.uri.literal
        if literal is not None:
            return literal
        return self.resolved[0] if self.resolved else None

    def local_host_for(self, server: Address) -> str:
        """The address the device's socket binds to when it talks to ``server``."""
        if self.bind_host is not None:
            return self.bind_host
        return default_bind_host(server[0])


def _check_bootstrap(config: DeviceConfig) -> None:
    if config.bootstrap is None:
        if config.bootstrap_psk is not None or config.factory_server:
            raise ConfigError("bootstrap_psk and factory_server need a bootstrap server URI")
        return
    parse_uri(config.bootstrap, what="bootstrap server URI")
    if config.bootstrap_psk is not None and not isinstance(config.bootstrap_psk, PskCredentials):
        raise ConfigError("bootstrap_psk must be PskCredentials (identity and key)")
    if is_secure_uri(config.bootstrap) and config.bootstrap_psk is None:
        raise ConfigError(
            f"bootstrap server {config.bootstrap}: a coaps:// server needs a pre-shared key "
            "(bootstrap_psk)"
        )
    if config.bootstrap_psk is not None and not is_secure_uri(config.bootstrap):
        raise ConfigError(
            f"bootstrap server {config.bootstrap}: a pre-shared key needs a coaps:// server"
        )
    if not (config.bootstrap_timeout > 0 and math.isfinite(config.bootstrap_timeout)):
        raise ConfigError("bootstrap_timeout must be a positive number of seconds")
    hold = config.bootstrap_hold_off
    if isinstance(hold, bool) or not isinstance(hold, int) or not 0 <= hold <= UINT32_MAX:
        raise ConfigError(f"bootstrap_hold_off must be whole seconds, got {hold!r}")


def server_values(config: DeviceConfig) -> dict[str, object]:
    """Initial values of ``/0/0`` and ``/1/0`` that reflect ``config``."""
    retry = config.retry
    values: dict[str, object] = {
        "/0/0/0": config.server,
        "/0/0/1": False,
        "/0/0/2": NO_SEC if config.psk is None else PRE_SHARED_KEY,  # x509: below
        "/0/0/10": config.short_server_id,
        "/1/0/0": config.short_server_id,
        "/1/0/1": config.lifetime,
        "/1/0/7": config.binding,
        # Bootstrap on Registration Failure: "true" when absent (E.2); the type's
        # blank value (false) would silently keep a failed device from bootstrapping
        "/1/0/16": True,
        "/1/0/17": int(retry.retry_count),
        "/1/0/18": int(retry.retry_timer),
        "/1/0/19": int(retry.sequence_delay),
        "/1/0/20": int(retry.sequence_retry_count),
        "/1/0/23": not config.send_enabled,
        # absent default periods are 0: no minimum, no periodic notification
        "/1/0/2": config.default_pmin or 0,
        "/1/0/3": config.default_pmax or 0,
    }
    if config.psk is not None:
        values["/0/0/3"] = config.psk.identity
        values["/0/0/5"] = config.psk.key
    if config.x509 is not None:
        values.update(certificate_values(config.x509))
    return values


def certificate_values(x509: X509Credentials) -> dict[str, object]:
    """/0/0 of a certificate device (LwM2M 1.1, E.1): mode 2, its certificate (3), the
    server's certificate or trust anchor (4), its private key (5), certificate usage (15)."""
    return {
        "/0/0/2": CERTIFICATE,
        "/0/0/3": x509.certificate,
        "/0/0/4": x509.server_public_key,
        "/0/0/5": x509.key,
        "/0/0/15": x509.usage,
    }


_GroupKey: TypeAlias = tuple[tuple[tuple[str, object], ...], tuple[tuple[str, object], ...]]
"""What makes configs of one profile alike: their server values and firmware protocols."""


class DeviceProfile:
    """The compiled part devices share: the tree template and the definitions codecs use."""

    __slots__ = ("_overrides", "_resolved", "models", "template")

    def __init__(self, template: TreeTemplate) -> None:
        self.template = template
        self.models = ModelRegistry(plan.model for plan in template)
        """Exactly the object versions of the template (one per object)."""
        self._overrides: OrderedDict[_GroupKey, dict[str, object]] = OrderedDict()
        self._resolved: dict[int, tuple[dict[str, object], ResolvedValues]] = {}

    def server_overrides(
        self, values: Mapping[str, object], protocols: Mapping[str, object] = _NO_VALUES
    ) -> dict[str, object]:
        """Those of ``values`` (server values of a config) the template does not hold yet,
        and ``protocols`` (:func:`firmware_protocols`, when narrowed).

        Both together define a group of like devices: remembered for the last few groups,
        so that a fleet pays once.
        """
        key = (tuple(sorted(values.items())), tuple(protocols.items()))
        cached = self._overrides.get(key)
        if cached is None:
            cached = _differing(self.template, values)
            cached.update(protocols)
            self._overrides[key] = cached
            while len(self._overrides) > _CACHE_SIZE:
                popped = self._overrides.popitem(last=False)[1]
                self._resolved.pop(id(popped), None)
        return cached

    def initial_values(self, config: DeviceConfig) -> ResolvedValues | dict[str, object]:
        """What a tree of ``config`` needs beyond the template (:func:`device_overrides`).

        A device with no values of its own and no key (the common fleet device) gets the
        resolved overrides shared by every like config (same server values, same firmware
        protocols): one object for the whole group instead of a few dicts per device.
        Otherwise its own values, as before."""
        values = server_values(config)
        if config.values or any(path in values for path in SECRET_PATHS):
            return device_overrides(config, self)
        shared = self.server_overrides(values, firmware_protocols(config, self.template))
        found = self._resolved.get(id(shared))
        if found is None or found[0] is not shared:
            found = self._resolved[id(shared)] = (shared, ResolvedValues(self.template, shared))
        return found[1]


@lru_cache(maxsize=1)
def default_registry() -> ModelRegistry:
    """The shipped object definitions, loaded once per process."""
    return shipped_registry()


_CACHE_SIZE: Final = 32
_profiles: OrderedDict[tuple[object, ...], tuple[object, DeviceProfile]] = OrderedDict()


def profile_for(config: DeviceConfig) -> DeviceProfile:
    """The shared profile of ``config``'s objects (compiled once, then cached).

    A :class:`DeviceLayout` is compiled once per layout and registry, with the
    :func:`server_values` of the first config folded in (for the objects and
    instances the layout has), so that a fleet of like devices pays nothing
    per device for them; a :class:`TreeTemplate` is used as it is. What a
    device needs beyond its template comes from :func:`device_overrides`.
    """
    layout = config.layout if config.layout is not None else SHIPPED_LAYOUT
    registry = config.registry if config.registry is not None else default_registry()
    if isinstance(layout, TreeTemplate):
        key: tuple[object, ...] = ("template", id(layout))
    else:
        key = ("layout", id(layout), id(registry))
    cached = _profiles.get(key)
    if cached is not None:
        _profiles.move_to_end(key)
        return cached[1]
    if isinstance(layout, TreeTemplate):
        profile = DeviceProfile(layout)
    else:
        shared = server_values(config)
        for secret in SECRET_PATHS:  # per device: never folded into a shared template
            shared.pop(secret, None)
        folded = _applicable(layout, shared)
        profile = DeviceProfile(TreeTemplate.compile(registry, layout.with_values(folded)))
    _profiles[key] = ((layout, registry), profile)
    while len(_profiles) > _CACHE_SIZE:
        _profiles.popitem(last=False)
    return profile


def device_overrides(config: DeviceConfig, profile: DeviceProfile) -> dict[str, object]:
    """Initial values this device needs beyond its template: the server values of
    ``config`` the template does not already hold, then ``config.values``.

    The PSK identity and key (:data:`SECRET_PATHS`) are added per device, outside the
    profile's cache of server overrides, so no shared structure keeps a device's key."""
    values = server_values(config)
    secrets: dict[str, object] = {p: values.pop(p) for p in SECRET_PATHS if p in values}
    protocols = firmware_protocols(config, profile.template)
    overrides = dict(profile.server_overrides(values, protocols))  # cached: never a device's key
    overrides.update(_differing(profile.template, secrets))
    overrides.update(config.values)
    return overrides


def firmware_protocols(config: DeviceConfig, template: TreeTemplate) -> dict[str, object]:
    """``/5/0/8`` as the device can download: its settings' protocols, CoAPS only with a
    PSK to use (nothing when that is the definition's default of all four); a tuple, so
    that it can be part of a like group's key (:meth:`DeviceProfile.server_overrides`)."""
    if FIRMWARE_OBJECT not in template.plans:
        return {}
    settings = config.firmware if config.firmware is not None else DEFAULT_SETTINGS
    codes = set(supported_protocols(settings))
    if settings.download_psk is None and config.psk is None:
        codes.discard(1)
    return {} if codes == ALL_PROTOCOLS else {FIRMWARE_PROTOCOLS: tuple(sorted(codes))}


def _differing(template: TreeTemplate, values: Mapping[str, object]) -> dict[str, object]:
    """The values whose resource the template instantiates with another initial value."""
    differing: dict[str, object] = {}
    for text, raw in values.items():
        path = Path.parse(text)
        plan = template.plans.get(path[0])
        if plan is None or path[1] not in plan.initial:
            continue
        idx = plan.index.get(path[2])
        if idx is None:
            continue
        try:
            wanted = coerce_value(plan.resources[idx], raw)
        except InvalidValue:
            continue
        current = plan.initial[path[1]][idx]
        if type(current) is not type(wanted) or current != wanted:
            differing[text] = raw
    return differing


def _applicable(layout: DeviceLayout, values: Mapping[str, object]) -> dict[str, object]:
    """The values whose object and instance the layout has."""
    kept: dict[str, object] = {}
    for text, value in values.items():
        path = Path.parse(text)
        spec = layout.objects.get(path[0])
        if spec is not None and path[1] in spec.instances:
            kept[text] = value
    return kept
