"""The requests a Bootstrap-Server sends one device, in the order real ones send them (pure).

After answering a Bootstrap-Request 2.04 (LwM2M 1.1 Core 6.1.3, 5.2.7), the
embedded Bootstrap-Server, like Leshan's and Wakaama's, sends:

1. Bootstrap-Discover ``/`` (optional): learns the device's LwM2M version and
   which Security instance is its Bootstrap-Server Account, so the written
   instances do not collide with it (:func:`instance_ids`);
2. Bootstrap-Delete of the configured paths (``/0`` and ``/1`` by default; the
   device spares its Bootstrap-Server Account itself);
3. Bootstrap-Write of each LwM2M Server account: the Security instance
   (``/0/x``: URI, Bootstrap-Server false, Security Mode, PSK identity and key,
   Short Server ID), then the Server instance (``/1/y``: Short Server ID,
   lifetime, default periods, notification storing, binding), at instance
   level or once per object (``level: object``), in TLV or SenML;
4. Bootstrap-Finish (``POST /bs``).

:func:`plan_writes` builds the Write steps as :class:`Step` values (path, node,
content format) that :mod:`.server` encodes and sends.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Final

from fleet.client.bootstrap import rules
from fleet.client.bootstrap.configs import BootstrapConfig
from fleet.client.bootstrap.rules import SecurityMode
from fleet.codec.formats import ContentFormat
from fleet.codec.link import parse_links
from fleet.model.nodes import Node, ObjectInstance, ObjectNode, SingleResource
from fleet.model.path import Path
from fleet.model.values import Value

NOTIFICATION_STORING: Final = 6
LIFETIME, DEFAULT_PMIN, DEFAULT_PMAX, BINDING = 1, 2, 3, 7


@dataclass(frozen=True, slots=True)
class Discovered:
    """What a Bootstrap-Discover of ``/`` told: version, instances, the bootstrap account."""

    lwm2m_version: str | None
    instances: dict[int, tuple[int, ...]]
    bootstrap_instance: int | None


@dataclass(frozen=True, slots=True)
class Step:
    """One Bootstrap-Write to send."""

    path: Path
    node: Node
    content_format: ContentFormat


def parse_discover(payload: bytes) -> Discovered:
    """Read a Bootstrap-Discover answer (5.2.7.3): ``lwm2m=`` on ``</>``, Security instances
    without ``uri`` are the Bootstrap-Server Account."""
    version: str | None = None
    instances: dict[int, list[int]] = {}
    bootstrap: int | None = None
    for link in parse_links(payload):
        if link.target == "/":
            value = link.attributes.get("lwm2m")
            version = value.strip('"') if value else None
            continue
        path = link.path
        if path is None or len(path) != 2:
            continue
        instances.setdefault(path[0], []).append(path[1])
        if path[0] == rules.SECURITY and "uri" not in link.attributes and bootstrap is None:
            bootstrap = path[1]
    return Discovered(version, {o: tuple(i) for o, i in instances.items()}, bootstrap)


def instance_ids(count: int, taken: Iterable[int], first: int) -> list[int]:
    """``count`` instance ids from ``first`` up, skipping ``taken``."""
    avoid = set(taken)
    ids: list[int] = []
    candidate = first
    while len(ids) < count:
        if candidate not in avoid:
            ids.append(candidate)
        candidate += 1
    return ids


def security_node(config: BootstrapConfig, index: int, endpoint: str, iid: int) -> ObjectInstance:
    """The Security instance of server account ``index`` for ``endpoint``."""
    spec = config.servers[index]
    psk = spec.credentials(endpoint)
    values: dict[int, Value] = {
        rules.URI: spec.uri,
        rules.IS_BOOTSTRAP: False,
        rules.MODE: int(spec.security),
        rules.IDENTITY: psk.identity if psk is not None else b"",
        rules.SERVER_KEY: b"",
        rules.SECRET_KEY: psk.key if psk is not None else b"",
        rules.SHORT_SERVER_ID: spec.short_server_id,
    }
    if spec.security is SecurityMode.NO_SEC:
        values[rules.IDENTITY] = b""
    return ObjectInstance(iid, {rid: SingleResource(rid, v) for rid, v in values.items()})


def server_node(config: BootstrapConfig, index: int, iid: int) -> ObjectInstance:
    """The Server instance of server account ``index``."""
    spec = config.servers[index]
    values: dict[int, Value] = {
        rules.SERVER_SHORT_ID: spec.short_server_id,
        LIFETIME: spec.lifetime,
        NOTIFICATION_STORING: True,
        BINDING: spec.binding,
    }
    if spec.default_pmin is not None:
        values[DEFAULT_PMIN] = spec.default_pmin
    if spec.default_pmax is not None:
        values[DEFAULT_PMAX] = spec.default_pmax
    return ObjectInstance(iid, {rid: SingleResource(rid, v) for rid, v in values.items()})


def plan_writes(
    config: BootstrapConfig, endpoint: str, discovered: Discovered | None = None
) -> list[Step]:
    """The Bootstrap-Writes for ``endpoint``: Security instances, then Server instances.

    Security instance ids start at 1 (0 is where factory devices keep their
    Bootstrap-Server Account) and skip the account Discover found; Server
    instance ids start at 0.
    """
    count = len(config.servers)
    spared = (
        ()
        if discovered is None or discovered.bootstrap_instance is None
        else (discovered.bootstrap_instance,)
    )
    first_security = 1 if discovered is None or discovered.bootstrap_instance is None else 0
    security_ids = instance_ids(count, spared, first_security)
    server_ids = instance_ids(count, (), 0)
    securities = [security_node(config, i, endpoint, security_ids[i]) for i in range(count)]
    servers = [server_node(config, i, server_ids[i]) for i in range(count)]
    fmt = config.content_format
    if config.level == "object":
        return [
            Step(
                Path(rules.SECURITY), ObjectNode(rules.SECURITY, {s.id: s for s in securities}), fmt
            ),
            Step(Path(rules.SERVER), ObjectNode(rules.SERVER, {s.id: s for s in servers}), fmt),
        ]
    steps = [Step(Path(rules.SECURITY, s.id), s, fmt) for s in securities]
    steps.extend(Step(Path(rules.SERVER, s.id), s, fmt) for s in servers)
    return steps
