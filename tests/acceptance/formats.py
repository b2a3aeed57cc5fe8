"""Which content formats an LwM2M device offers, per LwM2M version, as the specification says.

LwM2M 1.0 (§6.4): plain text and opaque for single values, TLV for structured content, LwM2M
JSON optional. Core 1.1 (§7.4) adds CBOR for single values and SenML JSON / SenML CBOR for
everything including composites. Core 1.2 (§7.5) adds LwM2M CBOR. Written out here rather than
taken from the codec, so that the acceptance tests check the device against the specification.
"""

from __future__ import annotations

from typing import Final

from fleet.codec import ContentFormat as F

VERSIONS: Final = ("1.0", "1.1", "1.2")

SINGLE: Final[dict[str, tuple[F, ...]]] = {
    "1.0": (F.TEXT,),
    "1.1": (F.TEXT, F.CBOR),
    "1.2": (F.TEXT, F.CBOR),
}
"""Formats for one non-opaque value (opaque adds :data:`F.OPAQUE` for an Opaque resource)."""

STRUCTURED: Final[dict[str, tuple[F, ...]]] = {
    "1.0": (F.TLV, F.LWM2M_JSON),
    "1.1": (F.TLV, F.LWM2M_JSON, F.SENML_JSON, F.SENML_CBOR),
    "1.2": (F.TLV, F.LWM2M_JSON, F.SENML_JSON, F.SENML_CBOR, F.LWM2M_CBOR),
}
"""Formats for an object, an instance or a multiple-instance resource (and any resource)."""

COMPOSITE: Final[dict[str, tuple[F, ...]]] = {
    "1.1": (F.SENML_JSON, F.SENML_CBOR),
    "1.2": (F.SENML_JSON, F.SENML_CBOR),
}
"""Formats of the composite operations the embedded server speaks (LwM2M CBOR composites of 1.2
are not in its API)."""

NOT_OFFERED: Final[dict[str, tuple[F, ...]]] = {
    "1.0": (F.CBOR, F.SENML_JSON, F.SENML_CBOR, F.LWM2M_CBOR),
    "1.1": (F.LWM2M_CBOR,),
    "1.2": (),
}
"""Data formats newer than the device's LwM2M version: a Read asking for them gets 4.06."""


def cases(table: dict[str, tuple[F, ...]]) -> list[tuple[str, F]]:
    """``[(version, format), ...]`` for pytest parametrisation."""
    return [(version, fmt) for version, formats in table.items() for fmt in formats]


def structured_and_single(version: str) -> tuple[F, ...]:
    return SINGLE[version] + STRUCTURED[version]
