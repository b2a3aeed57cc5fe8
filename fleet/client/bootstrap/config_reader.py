"""Reading Bootstrap-Server configurations from plain data: a YAML/JSON file or a scenario section.

:func:`configs_from` turns ``{"endpoints": {pattern: {...}}}`` (the shape shown in
:mod:`fleet.client.bootstrap.configs`) into :class:`BootstrapConfigs`; every
problem is a :class:`BootstrapConfigError` whose ``path`` is the key path of the
offending value. :func:`load_configs` reads a file and names ``file:line:col``
of that value (:func:`position`); a scenario's top-level ``bootstrap:`` section
is checked by :mod:`fleet.scenario.bootstrap_server` with the scenario's own
marks.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path as FilePath
from typing import Any, Final

from fleet.client.bootstrap.configs import (
    FORMATS,
    SECURITY_NAMES,
    BootstrapConfig,
    BootstrapConfigError,
    BootstrapConfigs,
    KeyPath,
    ServerAccountSpec,
)
from fleet.client.bootstrap.server_faults import KINDS, BootstrapFault
from fleet.client.credentials import CredentialError, PatternCredentials
from fleet.codec import json_text
from fleet.errors import FleetError
from fleet.model.path import Path

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
_FAULT_KEYS: Final = frozenset({"kind", "endpoints", "probability", "seconds"})
_CONFIG_KEYS: Final = frozenset(
    {"servers", "delete", "discover", "format", "level", "psk_identity", "psk_key"}
)


def _patterns(data: Mapping[str, Any], where: KeyPath) -> PatternCredentials | None:
    identity, key = data.get("psk_identity"), data.get("psk_key")
    if identity is None and key is None:
        return None
    if not isinstance(identity, str) or not isinstance(key, str):
        missing = "psk_key" if isinstance(identity, str) else "psk_identity"
        raise BootstrapConfigError("psk_identity and psk_key are both text", where, key=missing)
    try:
        return PatternCredentials(identity, key)
    except CredentialError as error:
        raise BootstrapConfigError(str(error), where, key="psk_identity") from None


def _keys(data: object, allowed: frozenset[str], where: KeyPath) -> Mapping[str, Any]:
    if not isinstance(data, Mapping):
        raise BootstrapConfigError(f"expected a mapping, got {type(data).__name__}", where)
    unknown = sorted(str(k) for k in data if k not in allowed)
    if unknown:
        raise BootstrapConfigError(
            f"unknown key {unknown[0]!r} (known: {', '.join(sorted(allowed))})",
            (*where, unknown[0]),
            at_key=True,
        )
    return data


def _int(data: Mapping[str, Any], key: str, default: int | None, where: KeyPath) -> int | None:
    value = data.get(key, default)
    if value is not None and (isinstance(value, bool) or not isinstance(value, int)):
        raise BootstrapConfigError(f"expected a whole number, got {value!r}", where, key=key)
    return value


def _required_int(data: Mapping[str, Any], key: str, default: int, where: KeyPath) -> int:
    value = _int(data, key, default, where)
    if value is None:
        raise BootstrapConfigError("expected a whole number, got null", where, key=key)
    return value


def server_spec(data: object, where: KeyPath = ()) -> ServerAccountSpec:
    """A :class:`ServerAccountSpec` from a mapping (``where``: its key path, for errors)."""
    data = _keys(data, _SERVER_KEYS, where)
    uri = data.get("uri")
    if not isinstance(uri, str):
        raise BootstrapConfigError("the server URI is required", where, key="uri")
    security_name = str(data.get("security", "psk" if "psk_identity" in data else "nosec"))
    security = SECURITY_NAMES.get(security_name.lower())
    if security is None:
        raise BootstrapConfigError(
            f"{security_name!r} is not one of {', '.join(SECURITY_NAMES)}", where, key="security"
        )
    short_server_id = _required_int(data, "short_server_id", 1, where)
    lifetime = _required_int(data, "lifetime", 86400, where)
    psk = _patterns(data, where)
    default_pmin = _int(data, "default_pmin", None, where)
    default_pmax = _int(data, "default_pmax", None, where)
    try:
        return ServerAccountSpec(
            uri=uri,
            short_server_id=short_server_id,
            lifetime=lifetime,
            binding=str(data.get("binding", "U")),
            security=security,
            psk=psk,
            default_pmin=default_pmin,
            default_pmax=default_pmax,
        )
    except BootstrapConfigError as error:  # the checks of the spec itself: under ``where``
        raise error.under(where) from None


def endpoint_config(data: object, where: KeyPath = ()) -> BootstrapConfig:
    """A :class:`BootstrapConfig` from a mapping."""
    data = _keys(data, _CONFIG_KEYS, where)
    servers = data.get("servers")
    if not isinstance(servers, list) or not servers:
        raise BootstrapConfigError("a list of at least one server account", where, key="servers")
    specs = tuple(server_spec(item, (*where, "servers", i)) for i, item in enumerate(servers))
    delete_raw = data.get("delete", ["/0", "/1"])
    if not isinstance(delete_raw, list):
        raise BootstrapConfigError("a list of paths", where, key="delete")
    delete: list[Path] = []
    for i, item in enumerate(delete_raw):
        try:
            delete.append(Path.parse(str(item)) if item != "/" else Path())
        except FleetError as error:
            raise BootstrapConfigError(str(error), (*where, "delete", i)) from None
    fmt_name = str(data.get("format", "tlv")).lower()
    fmt = FORMATS.get(fmt_name)
    if fmt is None:
        raise BootstrapConfigError(
            f"{fmt_name!r} is not one of {', '.join(FORMATS)}", where, key="format"
        )
    discover = data.get("discover", True)
    if not isinstance(discover, bool):
        raise BootstrapConfigError(f"true or false, got {discover!r}", where, key="discover")
    psk = _patterns(data, where)
    try:
        return BootstrapConfig(
            servers=specs,
            delete=tuple(delete),
            discover=discover,
            content_format=fmt,
            level=str(data.get("level", "instance")),
            psk=psk,
        )
    except BootstrapConfigError as error:  # the checks of the configuration itself
        raise error.under(where) from None


def fault_from(data: object, where: KeyPath = ()) -> BootstrapFault:
    """A :class:`BootstrapFault` from ``{kind, endpoints, probability, seconds}``."""
    data = _keys(data, _FAULT_KEYS, where)
    kind = data.get("kind")
    if not isinstance(kind, str):
        raise BootstrapConfigError(f"one of {', '.join(KINDS)}", where, key="kind")
    endpoints = data.get("endpoints", "*")
    if not isinstance(endpoints, str) or not endpoints:
        raise BootstrapConfigError("an endpoint name or pattern", where, key="endpoints")
    numbers: dict[str, float] = {}
    for key, default in (("probability", 1.0), ("seconds", 0.0)):
        value = data.get(key, default)
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise BootstrapConfigError(f"expected a number, got {value!r}", where, key=key)
        numbers[key] = float(value)
    try:
        return BootstrapFault(kind, endpoints, numbers["probability"], numbers["seconds"])
    except BootstrapConfigError as error:
        raise error.under(where) from None


def faults_from(data: object, where: KeyPath = ()) -> tuple[BootstrapFault, ...]:
    """The ``faults:`` list."""
    if not isinstance(data, list):
        raise BootstrapConfigError(f"a list of faults, got {type(data).__name__}", where)
    return tuple(fault_from(item, (*where, i)) for i, item in enumerate(data))


def configs_from(data: object, where: KeyPath = ()) -> BootstrapConfigs:
    """:class:`BootstrapConfigs` from ``{"endpoints": {pattern: config}, "faults": [...],
    "seed": N}`` (``faults`` and ``seed`` optional)."""
    top = _keys(data, frozenset({"endpoints", "faults", "seed"}), where)
    endpoints = top.get("endpoints")
    if not isinstance(endpoints, Mapping) or not endpoints:
        raise BootstrapConfigError(
            "a mapping of endpoint name or pattern to configuration", where, key="endpoints"
        )
    faults = faults_from(top["faults"], (*where, "faults")) if "faults" in top else ()
    seed = _required_int(top, "seed", 0, where)
    return BootstrapConfigs(
        {
            str(name): endpoint_config(item, (*where, "endpoints", str(name)))
            for name, item in endpoints.items()
        },
        faults,
        seed,
    )


def load_configs(path: str | FilePath) -> BootstrapConfigs:
    """Read a YAML (``.yaml``/``.yml``) or JSON file; errors say ``file:line:col: key: what``."""
    file = FilePath(path)
    try:
        text = file.read_text(encoding="utf-8")
    except OSError as error:
        raise BootstrapConfigError(f"{file}: {error.strerror}") from None
    except UnicodeDecodeError:
        raise BootstrapConfigError(f"{file}: the file is not UTF-8 text") from None
    if file.suffix.lower() == ".json":
        try:
            data = json_text.loads(text)
        except json.JSONDecodeError as error:
            raise BootstrapConfigError(
                f"{file}:{error.lineno}:{error.colno}: {error.msg}"
            ) from None
    else:
        import yaml

        try:
            data = yaml.safe_load(text)
        except yaml.YAMLError as error:
            mark = getattr(error, "problem_mark", None)
            line = f":{mark.line + 1}:{mark.column + 1}" if mark is not None else ""
            raise BootstrapConfigError(f"{file}{line}: {error}") from None
    try:
        return configs_from(data)
    except BootstrapConfigError as error:
        where = position(text, error.path, at_key=error.at_key)
        raise BootstrapConfigError(f"{file}{where}: {error}") from None


def position(text: str, path: KeyPath, *, at_key: bool = False) -> str:
    """``:line:col`` of the value at ``path`` in a YAML (or JSON) text, ``""`` if not found;
    ``at_key``: of its key. The nearest enclosing value when ``path`` goes deeper than the
    document (a missing key)."""
    import yaml

    try:
        node: Any = yaml.compose(text)
    except yaml.YAMLError:
        return ""
    if node is None:
        return ""
    mark = node.start_mark
    for part in path:
        found = None
        if isinstance(node, yaml.MappingNode):
            for key, value in node.value:
                if str(key.value) == str(part):
                    found, mark = value, (key.start_mark if at_key else value.start_mark)
                    break
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int):
            found = node.value[part] if 0 <= part < len(node.value) else None
            mark = found.start_mark if found is not None else mark
        if found is None:
            break
        node = found
    return f":{mark.line + 1}:{mark.column + 1}"
