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
validate`` reports it with file:line:col: the placeholders and their format specs,
the identity and key text of every device of the group (:func:`checked_indexes`:
all of them up to :data:`CHECK_ALL` devices, else the first, middle, last and
every index where the rendered width of ``{index}`` changes), and the whole keys
file (missing file, bad line as ``keys.csv:LINE``). Keys never appear in a message.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Final

from fleet.client.certificates import CertificateSource
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
from fleet.scenario.security_modes import SecurityEntry, build_certificates, is_nosec, is_x509

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
CHECK_ALL: Final = 100_000
"""Groups up to this many devices get every device's credentials rendered at load."""
PSK_SECURITY: Final = Variants("security entry", (("identity", PATTERNS), ("keys_file", KEYS_FILE)))
SECURITY: Final = SecurityEntry(PSK_SECURITY)
"""``security:``: the PSK forms, or ``mode: x509|nosec`` (:mod:`fleet.scenario.security_modes`)."""


def build_security(
    g: GroupContext,
    raw: object,
    first_index: int,
    count: int,
    endpoint_pattern: str | None = None,
    *,
    entry: tuple[str, ...] = ("security",),
) -> CredentialSource | CertificateSource | None:
    """The group's credential source (``None`` without one or with ``mode: nosec``);
    problems go to ``g.error``. ``mode: x509`` gives a certificate source.

    With the group's ``endpoint_pattern``, a keys file must list every device of the
    group and a key pattern using ``{endpoint}`` is rendered for real names. ``entry``:
    where the entry sits in the group (``("bootstrap", "security")`` for the bootstrap
    account's keys), for messages.
    """
    if raw is None or not isinstance(raw, dict) or is_nosec(raw):
        return None
    if is_x509(raw):
        pattern = endpoint_pattern or "device-{index}"
        indexes = list(checked_indexes(first_index, count))
        return build_certificates(g, raw, indexes, lambda index: _render(pattern, index))
    where = (*g.path, *entry)
    if raw.get("_variant") == "keys_file":
        keys = _keys_file(g, raw.get("keys_file"), (*where, "keys_file"))
        if keys is None or endpoint_pattern is None:
            return keys
        covered = _covers(g, keys, (*where, "keys_file"), endpoint_pattern, first_index, count)
        return keys if covered else None
    identity, key = raw.get("identity"), raw.get("key")
    if not isinstance(identity, str) or not isinstance(key, str):
        return None  # reported by the kinds
    try:
        source = PatternCredentials(identity, key, first=first_index, count=count)
    except CredentialError as error:
        at = "identity" if "identity pattern" in str(error) else "key"
        g.error((*where, at), f"{label((*where, at))}: {error}")
        return None
    if source.uses("endpoint", key_only=True) and endpoint_pattern is None:
        return source  # the key depends on endpoint names the caller did not give
    failed = [
        (index, problem)
        for index in checked_indexes(first_index, count)
        if (problem := _try(source, index, endpoint_pattern)) is not None
    ]
    if failed:
        index, problem = failed[0]
        more = ""
        if len(failed) > 1:  # a count of all the group's devices, or of those sampled
            more = f" (and {len(failed) - 1} more {'devices' if count <= CHECK_ALL else 'checked'})"
        g.error((*where, "key"), f"{label((*where, 'key'))}: device {index}: {_why(problem)}{more}")
        return None
    return source


def checked_indexes(first_index: int, count: int) -> Iterator[int]:
    """The devices whose credentials :func:`build_security` renders.

    Every device of a group of up to :data:`CHECK_ALL` devices; in a larger one the
    first, middle and last and each index where the rendered width of ``{index}``
    can change (a power of 2, 8, 10 or 16 and the index before it), which is where a
    constant pattern starts or stops rendering odd-length hex or bad base64.
    """
    last = first_index + count - 1
    if count <= CHECK_ALL:
        yield from range(first_index, last + 1)
        return
    picked = {first_index, (first_index + last) // 2, last}
    for base in (2, 8, 10, 16):
        power = 1
        while power <= last + 1:
            picked.update(i for i in (power - 1, power) if first_index <= i <= last)
            power *= base
    yield from sorted(picked)


def _try(
    source: CredentialSource, index: int, endpoint_pattern: str | None
) -> CredentialError | None:
    name = f"device-{index}" if endpoint_pattern is None else _render(endpoint_pattern, index)
    try:
        source.credentials(index, name)
    except CredentialError as error:
        return error
    return None


def _why(error: CredentialError) -> str:
    """The reason of a rendering error without the device name it starts with."""
    text = str(error)
    return text.split(": ", 1)[1] if text.startswith("device ") and ": " in text else text


def _render(pattern: str, index: int) -> str:
    try:
        return pattern.format(index=index)
    except (ValueError, KeyError, IndexError):  # reported by the endpoint check
        return f"device-{index}"


def _covers(
    g: GroupContext,
    keys: KeysFile,
    where: KeyPath,
    pattern: str,
    first_index: int,
    count: int,
) -> bool:
    """Every device of the group has a line in the keys file (a bounded check: a file
    with fewer lines than the group has devices fails at once)."""
    if count > len(keys):
        g.error(
            where,
            f"{label(where)}: the group has {count} devices but {keys.path.name} lists {len(keys)}",
        )
        return False
    missing = [
        name
        for name in (_render(pattern, i) for i in range(first_index, first_index + count))
        if name not in keys.by_endpoint
    ]
    if missing:
        shown = ", ".join(repr(name) for name in missing[:3])
        more = f" and {len(missing) - 3} more" if len(missing) > 3 else ""
        g.error(where, f"{label(where)}: {keys.path.name} has no keys for {shown}{more}")
        return False
    return True


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
