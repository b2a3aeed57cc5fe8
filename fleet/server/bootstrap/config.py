"""What the embedded Bootstrap-Server writes into each device: per-endpoint configurations.

A :class:`BootstrapConfig` says, for the endpoints it matches, which LwM2M
Server accounts to write (:class:`ServerAccountSpec`: server URI, Short Server
ID, lifetime, binding, security mode NoSec or PSK with identity/key patterns
rendered per endpoint), what to delete first, whether to Discover first, and
in which format and at which level (object or instance) to write.
:class:`BootstrapConfigs` picks the configuration of an endpoint: an exact
name first, then the first matching ``fnmatch`` pattern (``sensor-*``, ``*``).

:func:`load_configs` reads a YAML or JSON file (the same shape as a scenario's
``bootstrap.server`` section)::

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

Errors are :class:`~fleet.errors.ScenarioError`-like :class:`BootstrapConfigError`
naming the file, line and key.
"""

from __future__ import annotations

import fnmatch
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path as FilePath
from typing import Any, Final

from fleet.client.bootstrap.rules import SecurityMode
from fleet.client.coap.psk import PskCredentials
from fleet.client.config import BINDINGS
from fleet.client.credentials import CredentialError, PatternCredentials
from fleet.client.registration import UINT32_MAX
from fleet.client.uri import parse_uri
from fleet.codec.formats import ContentFormat
from fleet.errors import FleetError
from fleet.model.path import Path

FORMATS: Final = {
    "tlv": ContentFormat.TLV,
    "senml-cbor": ContentFormat.SENML_CBOR,
    "senml-json": ContentFormat.SENML_JSON,
    "lwm2m-cbor": ContentFormat.LWM2M_CBOR,
}
LEVELS: Final = ("instance", "object")
SECURITY_NAMES: Final = {"nosec": SecurityMode.NO_SEC, "psk": SecurityMode.PRE_SHARED_KEY}


class BootstrapConfigError(FleetError, ValueError):
    """A bootstrap configuration that cannot work; says where (file, line, key)."""


def _rendered(patterns: PatternCredentials | None, endpoint: str) -> PskCredentials | None:
    """``patterns`` rendered for ``endpoint`` (``{index}`` is 0: a Bootstrap-Server knows
    endpoint names, not fleet indexes)."""
    if patterns is None:
        return None
    try:
        return patterns.credentials(0, endpoint)
    except CredentialError as error:
        raise BootstrapConfigError(str(error)) from None


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
            raise BootstrapConfigError(str(error)) from None
        if not 1 <= self.short_server_id <= 65534:
            raise BootstrapConfigError(
                f"short_server_id must be 1..65534, got {self.short_server_id}"
            )
        if isinstance(self.lifetime, bool) or not 1 <= self.lifetime <= UINT32_MAX:
            raise BootstrapConfigError(f"lifetime must be 1..{UINT32_MAX} s, got {self.lifetime!r}")
        if self.binding not in BINDINGS:
            raise BootstrapConfigError(f"binding must be one of {', '.join(BINDINGS)}")
        secure = self.uri.lower().startswith("coaps:")
        if self.security is SecurityMode.PRE_SHARED_KEY:
            if self.psk is None:
                raise BootstrapConfigError(
                    f"{self.uri}: security psk needs psk_identity and psk_key"
                )
            if not secure:
                raise BootstrapConfigError(f"{self.uri}: security psk needs a coaps:// URI")
        elif secure:
            raise BootstrapConfigError(f"{self.uri}: a coaps:// server needs security psk")

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
            raise BootstrapConfigError("a bootstrap configuration writes at least one server")
        ids = [s.short_server_id for s in self.servers]
        if len(set(ids)) != len(ids):
            raise BootstrapConfigError(f"short server ids repeat: {ids}")
        if self.level not in LEVELS:
            raise BootstrapConfigError(f"level must be one of {', '.join(LEVELS)}")
        for path in self.delete:
            if len(path) > 2:
                raise BootstrapConfigError(f"delete {path}: only /, objects or instances")

    def bootstrap_credentials(self, endpoint: str) -> PskCredentials | None:
        """The bootstrap PSK of ``endpoint`` (``None``: plain CoAP is accepted)."""
        return _rendered(self.psk, endpoint)


@dataclass(frozen=True, slots=True)
class BootstrapConfigs:
    """Configurations by endpoint name or ``fnmatch`` pattern, in order."""

    entries: Mapping[str, BootstrapConfig] = field(default_factory=dict)

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


# -- from plain data (YAML / JSON / a scenario section) ---------------------------------

_SERVER_KEYS: Final = frozenset(
    {
        "uri",
        "short_server_id",
        "lifetime",
        "binding",
        "security",
        "psk_identity",
        "psk_key",
        "default_pmin",
        "default_pmax",
    }
)
_CONFIG_KEYS: Final = frozenset(
    {"servers", "delete", "discover", "format", "level", "psk_identity", "psk_key"}
)


def _patterns(data: Mapping[str, Any], where: str) -> PatternCredentials | None:
    identity, key = data.get("psk_identity"), data.get("psk_key")
    if identity is None and key is None:
        return None
    if not isinstance(identity, str) or not isinstance(key, str):
        raise BootstrapConfigError(f"{where}: psk_identity and psk_key are both text")
    try:
        return PatternCredentials(identity, key)
    except CredentialError as error:
        raise BootstrapConfigError(f"{where}: {error}") from None


def _keys(data: object, allowed: frozenset[str], where: str) -> Mapping[str, Any]:
    if not isinstance(data, Mapping):
        raise BootstrapConfigError(f"{where}: expected a mapping")
    unknown = sorted(str(k) for k in data if k not in allowed)
    if unknown:
        raise BootstrapConfigError(
            f"{where}: unknown key {unknown[0]!r} (known: {', '.join(sorted(allowed))})"
        )
    return data


def _int(data: Mapping[str, Any], key: str, default: int | None, where: str) -> int | None:
    value = data.get(key, default)
    if value is not None and (isinstance(value, bool) or not isinstance(value, int)):
        raise BootstrapConfigError(f"{where}.{key}: expected a whole number, got {value!r}")
    return value


def _required_int(data: Mapping[str, Any], key: str, default: int, where: str) -> int:
    value = _int(data, key, default, where)
    if value is None:
        raise BootstrapConfigError(f"{where}.{key}: expected a whole number, got null")
    return value


def server_spec(data: object, where: str) -> ServerAccountSpec:
    """A :class:`ServerAccountSpec` from a mapping (``where`` names it in errors)."""
    data = _keys(data, _SERVER_KEYS, where)
    uri = data.get("uri")
    if not isinstance(uri, str):
        raise BootstrapConfigError(f"{where}.uri: the server URI is required")
    security_name = str(data.get("security", "psk" if "psk_identity" in data else "nosec"))
    security = SECURITY_NAMES.get(security_name.lower())
    if security is None:
        raise BootstrapConfigError(
            f"{where}.security: {security_name!r} is not one of {', '.join(SECURITY_NAMES)}"
        )
    try:
        return ServerAccountSpec(
            uri=uri,
            short_server_id=_required_int(data, "short_server_id", 1, where),
            lifetime=_required_int(data, "lifetime", 86400, where),
            binding=str(data.get("binding", "U")),
            security=security,
            psk=_patterns(data, where),
            default_pmin=_int(data, "default_pmin", None, where),
            default_pmax=_int(data, "default_pmax", None, where),
        )
    except BootstrapConfigError as error:
        raise BootstrapConfigError(f"{where}: {error}") from None


def endpoint_config(data: object, where: str) -> BootstrapConfig:
    """A :class:`BootstrapConfig` from a mapping."""
    data = _keys(data, _CONFIG_KEYS, where)
    servers = data.get("servers")
    if not isinstance(servers, list) or not servers:
        raise BootstrapConfigError(f"{where}.servers: a list of at least one server account")
    specs = tuple(server_spec(item, f"{where}.servers[{i}]") for i, item in enumerate(servers))
    delete_raw = data.get("delete", ["/0", "/1"])
    if not isinstance(delete_raw, list):
        raise BootstrapConfigError(f"{where}.delete: a list of paths")
    try:
        delete = tuple(Path.parse(str(p)) if p != "/" else Path() for p in delete_raw)
    except FleetError as error:
        raise BootstrapConfigError(f"{where}.delete: {error}") from None
    fmt_name = str(data.get("format", "tlv")).lower()
    fmt = FORMATS.get(fmt_name)
    if fmt is None:
        raise BootstrapConfigError(
            f"{where}.format: {fmt_name!r} is not one of {', '.join(FORMATS)}"
        )
    discover = data.get("discover", True)
    if not isinstance(discover, bool):
        raise BootstrapConfigError(f"{where}.discover: true or false")
    try:
        return BootstrapConfig(
            servers=specs,
            delete=delete,
            discover=discover,
            content_format=fmt,
            level=str(data.get("level", "instance")),
            psk=_patterns(data, where),
        )
    except BootstrapConfigError as error:
        raise BootstrapConfigError(f"{where}: {error}") from None


def configs_from(data: object, where: str = "bootstrap") -> BootstrapConfigs:
    """:class:`BootstrapConfigs` from ``{"endpoints": {pattern: config}}``."""
    top = _keys(data, frozenset({"endpoints"}), where)
    endpoints = top.get("endpoints")
    if not isinstance(endpoints, Mapping) or not endpoints:
        raise BootstrapConfigError(f"{where}.endpoints: a mapping of endpoint name or pattern")
    return BootstrapConfigs(
        {
            str(name): endpoint_config(item, f"{where}.endpoints[{name!r}]")
            for name, item in endpoints.items()
        }
    )


def load_configs(path: str | FilePath) -> BootstrapConfigs:
    """Read a YAML (``.yaml``/``.yml``) or JSON file; errors name the file (and line)."""
    file = FilePath(path)
    try:
        text = file.read_text(encoding="utf-8")
    except OSError as error:
        raise BootstrapConfigError(f"{file}: {error.strerror}") from None
    if file.suffix.lower() == ".json":
        try:
            data = json.loads(text)
        except json.JSONDecodeError as error:
            raise BootstrapConfigError(f"{file}:{error.lineno}: {error.msg}") from None
    else:
        import yaml

        try:
            data = yaml.safe_load(text)
        except yaml.YAMLError as error:
            mark = getattr(error, "problem_mark", None)
            line = f":{mark.line + 1}" if mark is not None else ""
            raise BootstrapConfigError(f"{file}{line}: {error}") from None
    try:
        return configs_from(data, where="bootstrap")
    except BootstrapConfigError as error:
        raise BootstrapConfigError(f"{file}{_line_of(str(error), text)}: {error}") from None


def _line_of(message: str, text: str) -> str:
    """``:N`` for the line of the endpoint name the message names (``""``: none found)."""
    start = message.find("[")
    if start < 0:
        return ""
    name = message[start + 1 :].split("]", 1)[0].strip("'\"")
    for number, line in enumerate(text.splitlines(), 1):
        if name and line.strip().strip("'\"").startswith(name):
            return f":{number}"
    return ""
