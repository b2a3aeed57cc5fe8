"""A group's ``firmware:`` key: how its devices' Object 5 downloads and updates behave.

:data:`FIRMWARE` declares the key for :mod:`fleet.scenario.spec`;
:func:`build_firmware` turns the checked entry into the group's
:class:`~fleet.client.firmware.settings.FirmwareSettings` (``None`` without one). A group
with ``firmware:`` gets Object 5 (instance 0) in its objects when it does not list it. How
individual devices fail (hang, integrity, lose, reject, brick, fail-update) is said by
the scenario's ``faults:`` with the ``firmware-*`` actions, seeded like every fault::

    firmware:
      link_speed: nb-iot        # bytes/s, or nb-iot, gprs, lte-m, lte
      storage: 512KiB           # bytes the device can hold (bigger: Update Result 2)
      package_types: [fleet]    # header types accepted (default: any)
      on_loss: resume           # resume | restart | fail
      retries: 3
      retry_delay: 5s
      update_duration: 10s
      reboot_delay: 5s
      protocols: [coap, coaps, http, https]   # /5/0/8 (default: all the client can do)
      download_psk: {identity: fw-files, key: 66772d6b6579}  # coaps:// (default: its own)
      https_ca: ca.pem          # https:// trusts these CAs (default: the system's)
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Final

from fleet.client.coap.psk import PskCredentials
from fleet.client.firmware.settings import (
    LINK_SPEEDS,
    ON_LOSS,
    PROTOCOLS,
    FirmwareConfigError,
    FirmwareSettings,
)
from fleet.scenario.containers import Field, Key, ListOf, MapOf, Record
from fleet.scenario.group_context import GroupContext
from fleet.scenario.kinds import INVALID, Boolean, Choice, Custom, Duration, Integer, Text, label

_UNITS: Final = {"": 1, "b": 1, "k": 1000, "kb": 1000, "kib": 1024, "m": 10**6, "mb": 10**6}
_UNITS_MORE: Final = {"mib": 1024 * 1024}
_SIZE: Final = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([A-Za-z]*)\s*$")


def parse_size(value: object) -> int:
    """``262144``, ``256KiB``, ``1MiB``, ``64k`` -> bytes (``ValueError`` otherwise)."""
    if isinstance(value, bool):
        raise ValueError(f"expected a size like 256KiB, got {value!r}")
    if isinstance(value, int):
        if value < 1:
            raise ValueError(f"a size must be at least 1 byte, got {value}")
        return value
    match = _SIZE.match(value) if isinstance(value, str) else None
    units = {**_UNITS, **_UNITS_MORE}
    if match is None or match.group(2).lower() not in units:
        raise ValueError(f"expected a size like 262144, 256KiB or 1MiB, got {value!r}")
    size = int(float(match.group(1)) * units[match.group(2).lower()])
    if size < 1:
        raise ValueError(f"a size must be at least 1 byte, got {value!r}")
    return size


def parse_link_speed(value: object) -> float:
    """Bytes per second, or a name of :data:`~fleet.client.firmware.settings.LINK_SPEEDS`."""
    if isinstance(value, str) and value in LINK_SPEEDS:
        return LINK_SPEEDS[value]
    if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
        names = ", ".join(LINK_SPEEDS)
        raise ValueError(f"expected bytes per second or one of {names}, got {value!r}")
    return float(value)


def _sha256(value: object) -> str:
    if not isinstance(value, str) or not re.fullmatch(r"[0-9a-fA-F]{64}", value):
        raise ValueError(f"expected a SHA-256 in hex (64 digits), got {value!r}")
    return value.lower()


_SIZE_KIND: Final = Custom(
    parse_size, {"anyOf": [{"type": "integer", "minimum": 1}, {"type": "string"}]}
)
FIRMWARE: Final = Record(
    "firmware",
    "How the group's devices download and install firmware (Object 5).",
    (
        Field(
            "link_speed",
            Custom(
                parse_link_speed,
                {"anyOf": [{"type": "number", "exclusiveMinimum": 0}, {"enum": list(LINK_SPEEDS)}]},
            ),
            "Downlink bytes per second, or nb-iot, gprs, lte-m, lte (default: unthrottled).",
        ),
        Field("storage", _SIZE_KIND, "Bytes a device can hold: 256KiB, 1MiB (default 4MiB)."),
        Field("max_push", _SIZE_KIND, "Largest pushed package (default 1MiB)."),
        Field(
            "package_types",
            ListOf(Text(), single=True),
            "Package header types accepted (default: any).",
        ),
        Field(
            "versions",
            MapOf(Key(_sha256, {"pattern": "^[0-9a-fA-F]{64}$"}, "SHA-256 digests"), Text()),
            "Headerless images: SHA-256 (hex) -> the version they install.",
        ),
        Field("on_loss", Choice(ON_LOSS), "After a lost block: resume, restart or fail."),
        Field("retries", Integer(0, 1000), "Lost blocks tolerated before Update Result 4."),
        Field("retry_delay", Duration(positive=False), "Pause before asking again."),
        Field("block_timeout", Duration(), "How long one block may take."),
        Field("update_duration", Duration(positive=False), "Time spent in Updating."),
        Field("reboot", Boolean(), "Reboot after a successful update (default true)."),
        Field("deregister", Boolean(), "De-register before that reboot (default true)."),
        Field("reboot_delay", Duration(positive=False), "How long the reboot keeps it away."),
        Field(
            "protocols",
            ListOf(Choice(tuple(PROTOCOLS.values())), single=True),
            "/5/0/8: the schemes the devices download with (default: coap, coaps when they "
            "have a PSK, http, https).",
        ),
        Field(
            "download_psk",
            Record(
                "download PSK",
                "The PSK for coaps:// downloads (default: the device's own server PSK).",
                (
                    Field("identity", Text(), "PSK identity (text).", required=True),
                    Field("key", Text(), "The key, hex or base64.", required=True),
                ),
            ),
            "The PSK for coaps:// downloads (default: the device's own server PSK).",
        ),
        Field(
            "https_ca",
            Text(),
            "PEM file (relative to the scenario) of the CAs https:// file servers chain to "
            "(default: the system's trust store).",
        ),
    ),
)
_CODES: Final = {name: code for code, name in PROTOCOLS.items()}
FIRMWARE_OBJECT: Final = 5
SOFTWARE_OBJECT: Final = 9


def _invalid(value: object) -> bool:
    """Whether a checked value holds a part that was refused (its problem is reported)."""
    if value is INVALID:
        return True
    if isinstance(value, Mapping):
        return any(_invalid(v) for v in value.values())
    if isinstance(value, list | tuple):
        return any(_invalid(v) for v in value)
    return False


def build_firmware(g: GroupContext, raw: object) -> FirmwareSettings | None:
    """The group's firmware settings (problems reported to ``g``); ``None`` without the key
    or after a problem (then ``g`` has it)."""
    if not isinstance(raw, Mapping):
        return None  # nothing given
    where = (*g.path, "firmware")
    options = {str(k): v for k, v in raw.items() if v is not None}
    ca = options.get("https_ca")
    if isinstance(ca, str):
        path = g.base_dir / ca
        if not path.is_file():
            at = (*where, "https_ca")
            g.error(at, f"{label(at)}: no CA file {ca!r} (looked for {path})")
            return None
        options["https_ca"] = str(path)
    if _invalid(raw):
        return None  # its problems are reported
    if "package_types" in options:
        options["package_types"] = frozenset(str(t) for t in options["package_types"])
    if "protocols" in options:
        options["protocols"] = frozenset(_CODES[str(p)] for p in options["protocols"])
    psk = options.get("download_psk")
    if isinstance(psk, Mapping):
        try:
            options["download_psk"] = PskCredentials.of(str(psk["identity"]), str(psk["key"]))
        except ValueError as error:
            g.error((*where, "download_psk"), f"{label((*where, 'download_psk'))}: {error}")
            return None
    try:
        return FirmwareSettings(**options)
    except (FirmwareConfigError, TypeError) as error:
        g.error(where, f"{label(where)}: {error}")
        return None
