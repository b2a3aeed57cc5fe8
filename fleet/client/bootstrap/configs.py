"""What a Bootstrap-Server writes into each device: per-endpoint configurations (pure data).

A :class:`BootstrapConfig` says, for the endpoints it matches, which LwM2M
Server accounts to write (:class:`ServerAccountSpec`: server URI, Short Server
ID, lifetime, binding, security mode NoSec or PSK with identity/key patterns
rendered per endpoint), what to delete first, whether to Discover first, and
in which format and at which level (object or instance) to write.
:class:`BootstrapConfigs` picks the configuration of an endpoint: an exact
name first, then the first matching ``fnmatch`` pattern (``sensor-*``, ``*``).

:func:`~fleet.client.bootstrap.config_reader.load_configs` reads a YAML or JSON
file of this shape, and a scenario's top-level ``bootstrap:`` section has the same
shape (:mod:`fleet.scenario.bootstrap_server`)::

    endpoints:
      "dev-*":
        servers:
          - uri: coaps://127.0.0.1:5684
            short_server_id: 101
            lifetime: 300
            binding: U
            security: psk
            psk_identity: "{endpoint}"
            psk_key: "hex:00112233445566778899aabbccddeeff"
        delete: ["/0", "/1"]
        discover: true
        format: tlv
        level: instance
        psk_identity: "bs-{endpoint}"      # the bootstrap account's identity (DTLS)
        psk_key: "hex:..."
    faults:                                # optional: the server fails on purpose
      - {kind: unauthorized, endpoints: "dev-00*", probability: 0.1}
      - {kind: slow, seconds: 2}
    seed: 7                                # of the faults' draws

Errors are :class:`BootstrapConfigError`: ``path`` is the key path of the
offending value (``("endpoints", "dev-*", "servers", 0, "lifetime")``), so a file
error names ``file:line:col`` of that value and a scenario's checks locate it
like every other scenario problem. The data model lives with the client's
bootstrap rules (below ``scenario/`` and ``server/``, which both read it); the
embedded Bootstrap-Server (:mod:`fleet.server.bootstrap`) acts on it.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Final

from fleet.client.bootstrap.rules import SecurityMode
from fleet.client.coap.psk import PskCredentials
from fleet.client.config import BINDINGS
from fleet.client.credentials import CredentialError, PatternCredentials
from fleet.client.registration import UINT32_MAX
from fleet.client.uri import parse_uri
from fleet.codec.formats import ContentFormat
from fleet.errors import FleetError
from fleet.model.path import Path

if TYPE_CHECKING:
    from fleet.client.bootstrap.server_faults import BootstrapFault

FORMATS: Final = {
    "tlv": ContentFormat.TLV,
    "senml-cbor": ContentFormat.SENML_CBOR,
    "senml-json": ContentFormat.SENML_JSON,
    "lwm2m-cbor": ContentFormat.LWM2M_CBOR,
}
LEVELS: Final = ("instance", "object")
SECURITY_NAMES: Final = {"nosec": SecurityMode.NO_SEC, "psk": SecurityMode.PRE_SHARED_KEY}


KeyPath = tuple[str | int, ...]
"""Where a value sits: mapping keys and list indexes from the top of the document."""


def key_label(path: KeyPath) -> str:
    """A key path as the scenario writes it: ``endpoints.dev-*.servers.0.lifetime``."""
    return ".".join(str(part) for part in path)


class BootstrapConfigError(FleetError, ValueError):
    """A bootstrap configuration that cannot work; ``path`` says where (``at_key``: the key
    itself is wrong, not its value), ``reason`` what."""

    def __init__(
        self, reason: str, path: KeyPath = (), *, key: str | None = None, at_key: bool = False
    ) -> None:
        self.reason = reason
        self.path: KeyPath = path if key is None else (*path, key)
        self.at_key = at_key
        super().__init__(f"{key_label(self.path)}: {reason}" if self.path else reason)

    def under(self, where: KeyPath) -> BootstrapConfigError:
        """The same problem with ``where`` in front of its path."""
        return BootstrapConfigError(self.reason, (*where, *self.path), at_key=self.at_key)


def _rendered(patterns: PatternCredentials | None, endpoint: str) -> PskCredentials | None:
    """``patterns`` rendered for ``endpoint`` (``{index}`` is 0: a Bootstrap-Server knows
    endpoint names, not fleet indexes)."""
    if patterns is None:
        return None
    try:
        return patterns.credentials(0, endpoint)
    except CredentialError as error:
        raise BootstrapConfigError(str(error), key="psk_identity") from None


@dataclass(frozen=True, slots=True)
class ServerAccountSpec:
    """One LwM2M Server account to write: ``/0/x`` (security) and ``/1/y`` (server)."""

    uri: str
    short_server_id: int = 1
    lifetime: int = 86400
    binding: str = "U"
    security: SecurityMode = SecurityMode.NO_SEC
    psk: PatternCredentials | None = None
    default_pmin: int | None = None
    default_pmax: int | None = None

    def __post_init__(self) -> None:
        try:
            parse_uri(self.uri)
        except FleetError as error:
            raise BootstrapConfigError(str(error), key="uri") from None
        if not 1 <= self.short_server_id <= 65534:
            raise BootstrapConfigError(
                f"short_server_id must be 1..65534, got {self.short_server_id}",
                key="short_server_id",
            )
        if isinstance(self.lifetime, bool) or not 1 <= self.lifetime <= UINT32_MAX:
            raise BootstrapConfigError(
                f"lifetime must be 1..{UINT32_MAX} s, got {self.lifetime!r}", key="lifetime"
            )
        if self.binding not in BINDINGS:
            raise BootstrapConfigError(
                f"binding must be one of {', '.join(BINDINGS)}, got {self.binding!r}",
                key="binding",
            )
        secure = self.uri.lower().startswith("coaps:")
        if self.security is SecurityMode.PRE_SHARED_KEY:
            if self.psk is None:
                raise BootstrapConfigError(
                    f"{self.uri}: security psk needs psk_identity and psk_key", key="security"
                )
            if not secure:
                raise BootstrapConfigError(
                    f"{self.uri}: security psk needs a coaps:// URI", key="uri"
                )
        elif secure:
            raise BootstrapConfigError(
                f"{self.uri}: a coaps:// server needs security psk", key="uri"
            )

    def credentials(self, endpoint: str) -> PskCredentials | None:
        """The PSK identity and key written for ``endpoint`` (``None``: NoSec)."""
        return _rendered(self.psk, endpoint)


@dataclass(frozen=True, slots=True)
class BootstrapConfig:
    """What the Bootstrap-Server does with one endpoint (see the module docstring)."""

    servers: tuple[ServerAccountSpec, ...]
    delete: tuple[Path, ...] = (Path(0), Path(1))
    discover: bool = True
    content_format: ContentFormat = ContentFormat.TLV
    level: str = "instance"
    psk: PatternCredentials | None = None
    """The identity and key the device's Bootstrap-Server Account uses over DTLS."""

    def __post_init__(self) -> None:
        if not self.servers:
            raise BootstrapConfigError(
                "a bootstrap configuration writes at least one server", key="servers"
            )
        ids = [s.short_server_id for s in self.servers]
        if len(set(ids)) != len(ids):
            raise BootstrapConfigError(f"short server ids repeat: {ids}", key="servers")
        if self.level not in LEVELS:
            raise BootstrapConfigError(
                f"level must be one of {', '.join(LEVELS)}, got {self.level!r}", key="level"
            )
        for path in self.delete:
            if len(path) > 2:
                raise BootstrapConfigError(
                    f"{path}: only /, objects or instances are deleted", key="delete"
                )

    def bootstrap_credentials(self, endpoint: str) -> PskCredentials | None:
        """The bootstrap PSK of ``endpoint`` (``None``: plain CoAP is accepted)."""
        return _rendered(self.psk, endpoint)


@dataclass(frozen=True, slots=True)
class BootstrapConfigs:
    """Configurations by endpoint name or ``fnmatch`` pattern, in order."""

    entries: Mapping[str, BootstrapConfig] = field(default_factory=dict)
    faults: tuple[BootstrapFault, ...] = ()
    """How the Bootstrap-Server fails on purpose (``faults:``, :mod:`.server_faults`)."""
    seed: int = 0
    """Seed of the faults' draws (``seed:``): the same seed replays the same failures."""

    def for_endpoint(self, endpoint: str) -> BootstrapConfig | None:
        exact = self.entries.get(endpoint)
        if exact is not None:
            return exact
        for pattern, config in self.entries.items():
            if fnmatch.fnmatchcase(endpoint, pattern):
                return config
        return None

    def key_for(self, identity: bytes) -> bytes | None:
        """The bootstrap PSK of ``identity`` (what the DTLS socket asks during a handshake)."""
        for config in self.entries.values():
            if config.psk is not None:
                key = config.psk.key_for(identity)
                if key is not None:
                    return key
        return None

    @property
    def secure(self) -> bool:
        """Whether any configuration names a bootstrap PSK (the server then serves DTLS)."""
        return any(config.psk is not None for config in self.entries.values())

    def __len__(self) -> int:
        return len(self.entries)


def single(
    servers: Iterable[ServerAccountSpec], pattern: str = "*", **options: Any
) -> BootstrapConfigs:
    """One configuration for every endpoint matching ``pattern`` (tests, demos)."""
    return BootstrapConfigs({pattern: BootstrapConfig(tuple(servers), **options)})
