"""What each device of a scenario is configured with: scenario + index -> DeviceConfig.

:func:`device_config` also hands each device of a group with ``security:`` its
DTLS pre-shared identity and key; :func:`scenario_key_lookup` is the other side,
what a server (``fleet server --scenario``) asks to find the key of an identity.
:func:`credential_problems` finds the devices that would get no key (e.g. an
endpoint missing from a keys file) before any of them starts.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache
from typing import Any

from fleet.client.certificates import CertificateSource
from fleet.client.coap.psk import PskCredentials
from fleet.client.coap.x509 import X509Credentials
from fleet.client.config import DeviceConfig
from fleet.client.credentials import (
    CredentialError,
    CredentialSource,
    KeyStore,
    PatternCredentials,
    key_lookup,
)
from fleet.client.uri import Address, Resolver
from fleet.scenario import Scenario
from fleet.scenario.model import ServerTarget


def device_config(
    scenario: Scenario,
    index: int,
    *,
    server: str | None = None,
    resolved: tuple[Address, ...] | None = None,
    resolver: Resolver | None = None,
) -> DeviceConfig:
    """The configuration of device ``index`` of ``scenario`` (``server``: another target;
    ``resolved``: the addresses the shard looked the server's name up to; ``resolver``:
    how the device looks it up again when it reconnects).

    Raises :class:`~fleet.client.credentials.CredentialError` if the group's keys
    cannot give this device a key (e.g. its endpoint is missing from the keys file).
    """
    group = scenario.group_of(index)
    endpoint = group.endpoint(index)
    psk, x509 = _credentials(group.security, index, endpoint)
    bootstrap = group.bootstrap
    boot: dict[str, Any] = {}
    if bootstrap is not None:
        psk = x509 = None  # the Bootstrap-Server writes the server account's keys
        boot = {
            "bootstrap": bootstrap.uri,
            "bootstrap_hold_off": bootstrap.hold_off,
            "bootstrap_timeout": bootstrap.timeout,
            "bootstrap_forget": bootstrap.forget_on_reboot,
        }
        if bootstrap.security is not None:
            boot["bootstrap_psk"] = bootstrap.security.credentials(index, endpoint)
    return DeviceConfig(
        endpoint=endpoint,
        server=_server_text(scenario.server) if server is None else server,
        lifetime=group.lifetime,
        binding=group.binding,
        lwm2m_version=group.lwm2m_version,
        lwm2m_fallback=group.lwm2m_fallback,
        content_format=group.content_format,
        layout=group.template,
        registry=scenario.registry,
        send_enabled=group.send_enabled,
        awake_time=group.awake_time,
        psk=psk,
        x509=x509,
        resolved=resolved,
        resolver=resolver,
        firmware=group.firmware,
        **boot,
    )


@lru_cache(maxsize=8)
def _server_text(spec: ServerTarget) -> str:
    """The scenario's server URI, written once (one string for every device's config)."""
    return spec.uri


def _credentials(
    security: CredentialSource | CertificateSource | None, index: int, endpoint: str
) -> tuple[PskCredentials | None, X509Credentials | None]:
    """The PSK or the certificate credentials of a device (``CredentialError`` if none)."""
    if security is None:
        return None, None
    if isinstance(security, CertificateSource):
        return None, security.x509(index, endpoint)
    return security.credentials(index, endpoint), None


def scenario_key_lookup(scenario: Scenario) -> Callable[[bytes], bytes | None]:
    """``lookup(identity) -> key`` over the keys of every group of ``scenario``."""
    stores: list[KeyStore] = []
    for group in scenario.groups:
        security = group.security
        if isinstance(security, PatternCredentials):
            stores.append(security.with_endpoints(scenario.endpoint))
        elif isinstance(security, KeyStore):
            stores.append(security)
    return key_lookup(stores)


def credential_problems(scenario: Scenario, limit: int = 5) -> list[str]:
    """Why devices of ``scenario`` would get no key (at most ``limit`` reasons, then a count).

    Checks every device of every group with ``security:`` (rendering its endpoint name and
    credentials); empty when all can start.
    """
    problems: list[str] = []
    missing = 0
    for group in scenario.groups:
        security = group.security
        if security is None:
            continue
        for index in range(group.first_index, group.first_index + group.count):
            try:
                _credentials(security, index, group.endpoint(index))
            except CredentialError as error:
                missing += 1
                if len(problems) < limit:
                    problems.append(f"group {group.name}: device {index}: {error}")
    if missing > len(problems):
        problems.append(f"... {missing - len(problems)} more devices without keys")
    return problems
