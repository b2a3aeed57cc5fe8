"""A group's ``security:`` key: how its devices get DTLS pre-shared keys.

:data:`SECURITY` declares the key for :mod:`fleet.scenario.spec`;
:func:`build_security` turns the checked entry into a
:class:`~fleet.client.credentials.CredentialSource` (``None`` without one).
Two forms (see ``docs/dtls.md``)::

    security:                       # patterns on the device
      identity: sim-{index:06d}     # {index}: fleet index, {endpoint}: endpoint name
      key: hex:00112233{index:024x} # hex:..., base64:..., or bare hex / base64

    security:
      keys_file: data/dtls-keys.csv # endpoint,identity,key per line; relative to the scenario

Everything that can be checked before a run is checked here, so ``fleet
validate`` reports it with file:line:col: the placeholders, the key text of the
first, a middle and the last device of the group, and the whole keys file
(missing file, bad line as ``keys.csv:LINE``). Keys never appear in a message.
"""

from __future__ import annotations

from typing import Final

from fleet.client.credentials import (
    CredentialError,
    CredentialSource,
    KeysFile,
    PatternCredentials,
)
from fleet.scenario.containers import Field, Record, Variants
from fleet.scenario.group_context import GroupContext
from fleet.scenario.kinds import Text, label
from fleet.scenario.problems import KeyPath

PATTERNS: Final = Record(
    "security (patterns)",
    "Pre-shared identity and key rendered for each device.",
    (
        Field(
            "identity",
            Text(),
            "PSK identity pattern: {index} (the device's fleet index, e.g. {index:06d}) and "
            "{endpoint} (its endpoint name), e.g. sim-{index:06d}.",
            required=True,
        ),
        Field(
            "key",
            Text(),
            "Key pattern, hex or base64 as platforms export keys: hex:00112233{index:024x}, "
            "base64:..., or bare hex digits.",
            required=True,
        ),
    ),
)
KEYS_FILE: Final = Record(
    "security (keys file)",
    "Pre-shared identity and key of each device from a CSV file.",
    (
        Field(
            "keys_file",
            Text(),
            "CSV file of endpoint,identity,key lines (relative to the scenario file); "
            "keys in hex or base64.",
            required=True,
        ),
    ),
)
SECURITY: Final = Variants("security entry", (("identity", PATTERNS), ("keys_file", KEYS_FILE)))


def build_security(
    g: GroupContext, raw: object, first_index: int, count: int
) -> CredentialSource | None:
    """The group's credential source; problems go to ``g.error``."""
    if raw is None or not isinstance(raw, dict):
        return None
    where = (*g.path, "security")
    if raw.get("_variant") == "keys_file":
        return _keys_file(g, raw.get("keys_file"), (*where, "keys_file"))
    identity, key = raw.get("identity"), raw.get("key")
    if not isinstance(identity, str) or not isinstance(key, str):
        return None  # reported by the kinds
    try:
        source = PatternCredentials(identity, key, first=first_index, count=count)
    except CredentialError as error:
        at = "identity" if "identity pattern" in str(error) else "key"
        g.error((*where, at), f"{label((*where, at))}: {error}")
        return None
    if source.uses("endpoint", key_only=True):
        return source  # the key depends on endpoint names the group renders later
    last = first_index + count - 1
    for index in dict.fromkeys((first_index, (first_index + last) // 2, last)):
        try:
            source.credentials(index, f"device-{index}")
        except CredentialError as error:
            g.error((*where, "key"), f"{label((*where, 'key'))}: device {index}: {_why(error)}")
            return None
    return source


def _why(error: CredentialError) -> str:
    """The reason of a rendering error without the device name it starts with."""
    text = str(error)
    return text.split(": ", 1)[1] if text.startswith("device ") and ": " in text else text


def _keys_file(g: GroupContext, raw: object, where: KeyPath) -> KeysFile | None:
    if not isinstance(raw, str):
        return None
    path = g.base_dir / raw
    if not path.is_file():
        g.error(where, f"{label(where)}: no keys file {raw!r} (looked for {path})")
        return None
    try:
        return KeysFile.load(path)
    except CredentialError as error:
        g.error(where, f"{label(where)}: {error}")
        return None
