"""Which optional packages a scenario needs that this machine lacks, said once at start.

A ``coaps://`` fleet (or a group bootstrapping from a ``coaps://`` Bootstrap-Server) needs
DTLS: the ``dtls`` extra (DTLSSocket, tinydtls) for groups with pre-shared keys, the
``x509`` extra (pyOpenSSL, cryptography) for groups with certificates.
Without them every device would fail its handshake, one log line each, retried forever;
:func:`missing_extras` finds it before anything starts, so ``fleet run`` refuses with one
line and ``fleet validate`` says it once (the file itself is still valid);
:func:`missing_extra` is the same question for one device (``fleet device``, the pytest
plugin).
"""

from __future__ import annotations

from fleet.client.coap.dtls import dtls_available
from fleet.client.coap.x509 import x509_available
from fleet.client.config import DeviceConfig
from fleet.errors import FleetError
from fleet.runner.configs import device_config
from fleet.scenario import Scenario


def missing_extra(config: DeviceConfig) -> str | None:
    """Why this machine cannot run a device of ``config`` (``None``: it can)."""
    if config.psk is not None or config.bootstrap_psk is not None:
        return dtls_available()
    if config.x509 is not None:
        return x509_available()
    return None


def missing_extras(scenario: Scenario) -> list[str]:
    """Why this machine cannot run ``scenario``'s secure devices (empty: it can), each once:
    a ``coaps://`` server, or a group that bootstraps from a ``coaps://`` Bootstrap-Server."""
    reasons: list[str] = []
    for group in scenario.groups:
        if scenario.server.scheme != "coaps" and (
            group.bootstrap is None or not group.bootstrap.secure
        ):
            continue
        try:
            config = device_config(scenario, group.first_index)
        except FleetError:  # e.g. no key for that device: reported elsewhere
            continue
        reason = missing_extra(config)
        if reason is not None and reason not in reasons:
            reasons.append(reason)
    return reasons
