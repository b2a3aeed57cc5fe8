"""A group's ``security: mode:``: which DTLS security mode its devices use, and certificates.

``mode`` is one of ``psk`` (the default when ``identity``/``keys_file`` are given; see
:mod:`fleet.scenario.security`), ``x509`` (certificates, LwM2M security mode 2),
``nosec`` (plain ``coap://``, as if ``security:`` were absent) and ``rpk`` (raw public
keys, mode 1: refused, the DTLS library in use has no RFC 7250 support). Two x509 forms::

    security:
      mode: x509
      ca: certs                      # a fleet CA folder (fleet credentials init certs)

    security:
      mode: x509
      certificate: certs/{endpoint}.pem   # patterns on {index} and {endpoint}
      private_key: certs/{endpoint}.key
      server_ca: certs/platform-ca.pem    # trust anchors of the server's certificate
      # server_certificate: server.pem    # or: pin the server's certificate
      # server_name: lwm2m.example.org    # the name it must carry (default: the URI's host)

:func:`build_certificates` checks what can be checked before a run and reports it as
``file:line:col``: the CA folder, the server's trust anchors or pin (parse, dates), and
for files the certificate and key of every device (up to
:data:`~fleet.scenario.security.CHECK_ALL`, else a sample): the files exist, parse, the
key belongs to the certificate, and the certificate is valid now. With ``ca:`` the devices'
certificates are minted (and cached in the folder) right away, so a run starts without
minting.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable
from pathlib import Path
from typing import Final

from fleet.client.certificates import (
    CaCertificates,
    CertificateSource,
    FileCertificates,
    ServerCheck,
)
from fleet.client.coap.x509 import X509Error, date_problems, load_certificates, x509_available
from fleet.client.credentials import CredentialError
from fleet.client.fleet_ca import FleetCa
from fleet.scenario.containers import Field, Record
from fleet.scenario.group_context import GroupContext
from fleet.scenario.kinds import INVALID, JSON, Choice, Context, Kind, Text, label
from fleet.scenario.problems import KeyPath

MODES: Final = ("psk", "x509", "nosec", "rpk")
RPK_REFUSED: Final = (
    "raw public keys (security mode 1) are not supported: the DTLS library used for "
    "certificates (pyOpenSSL) offers no RFC 7250 raw public keys; use mode: x509 or psk"
)

_SERVER_FIELDS: Final = (
    Field(
        "server_ca",
        Text(),
        "PEM file of the CA certificates the server's certificate must verify to "
        "(Certificate Usage 2); default with ca: the fleet CA.",
    ),
    Field(
        "server_certificate",
        Text(),
        "PEM file of the server's own certificate, pinned (Certificate Usage 3).",
    ),
    Field(
        "server_name",
        Text(),
        "The name the server's certificate must carry (default: the server URI's host).",
    ),
)
MODE_FIELD: Final = Field("mode", Choice(MODES), "DTLS security mode: psk, x509, nosec or rpk.")
X509: Final = Record(
    "security (x509)",
    "X.509 certificates: minted by a fleet CA (ca:) or read from files (certificate:, "
    "private_key:).",
    (
        MODE_FIELD,
        Field("ca", Text(), "Fleet CA folder made by fleet credentials init (relative)."),
        Field(
            "certificate",
            Text(),
            "Device certificate file pattern ({index}, {endpoint}), PEM or DER, relative.",
        ),
        Field("private_key", Text(), "Device private key file pattern, unencrypted PEM or DER."),
        *_SERVER_FIELDS,
    ),
)
NOSEC: Final = Record("security (nosec)", "No DTLS: a coap:// server.", (MODE_FIELD,))


class SecurityEntry(Kind):
    """The ``security:`` mapping: ``mode`` picks the form; the PSK forms take none."""

    def __init__(self, psk: Kind) -> None:
        self.psk = psk

    def schema(self) -> JSON:
        psk = self.psk.schema()
        forms = [dict(form) for form in psk.get("oneOf", [psk])]  # type: ignore[attr-defined]
        for form in forms:
            properties = dict(form.get("properties", {}))
            properties["mode"] = {"description": MODE_FIELD.description, "enum": ["psk"]}
            form["properties"] = properties
        return {"oneOf": [*forms, X509.schema(), NOSEC.schema()]}

    def check(self, value: object, path: KeyPath, ctx: Context) -> object:
        if not isinstance(value, dict):
            return self.wrong(value, path, ctx, "a mapping (security entry)")
        mode = value.get("mode", "psk")
        if Choice(MODES).check(mode, (*path, "mode"), ctx) is INVALID:
            return INVALID
        if mode == "rpk":
            return ctx.error((*path, "mode"), f"{label((*path, 'mode'))}: {RPK_REFUSED}")
        if mode == "nosec":
            checked = NOSEC.check(value, path, ctx)
        elif mode == "x509":
            checked = X509.check(value, path, ctx)
        else:
            checked = self.psk.check({k: v for k, v in value.items() if k != "mode"}, path, ctx)
            return checked
        if isinstance(checked, dict):
            checked["_variant"] = mode
        return checked


def is_nosec(raw: object) -> bool:
    """Whether a checked ``security:`` entry says ``mode: nosec``."""
    return isinstance(raw, dict) and raw.get("_variant") == "nosec"


def is_x509(raw: object) -> bool:
    """Whether a checked ``security:`` entry says ``mode: x509``."""
    return isinstance(raw, dict) and raw.get("_variant") == "x509"


def build_certificates(
    g: GroupContext,
    raw: dict[str, object],
    indexes: list[int],
    endpoint_of: Callable[[int], str],
    now: datetime.datetime | None = None,
) -> CertificateSource | None:
    """The group's certificate source; problems go to ``g.error`` (``None`` then).

    ``indexes`` are the devices whose files are checked; ``endpoint_of`` names them.
    """
    where: KeyPath = (*g.path, "security")
    reason = x509_available()
    if reason is not None:
        g.error((*where, "mode"), f"{label((*where, 'mode'))}: {reason}")
        return None
    when = now or datetime.datetime.now(datetime.UTC)
    ca_dir, cert, key = raw.get("ca"), raw.get("certificate"), raw.get("private_key")
    if (ca_dir is None) == (cert is None):
        g.error(where, f"{label(where)}: mode x509 takes ca: (a fleet CA) or certificate:, not "
                "both or neither")  # fmt: skip
        return None
    if cert is not None and key is None:
        g.error(where, f"{label(where)} is missing 'private_key' (the device key file pattern)")
        return None
    ca: FleetCa | None = None
    if isinstance(ca_dir, str):
        try:
            ca = FleetCa.load(g.base_dir / ca_dir)
        except X509Error as error:
            g.error((*where, "ca"), f"{label((*where, 'ca'))}: {error}")
            return None
        for problem in date_problems(ca.certificate, when):
            g.error((*where, "ca"), f"{label((*where, 'ca'))}: the fleet CA's {problem}")
            return None
    check = _server_check(g, raw, where, ca, when)
    if check is None:
        return None
    if ca is not None:
        source = CaCertificates(ca, check)
        for index in indexes:  # minted once, cached: a run then starts without minting
            ca.device(endpoint_of(index))
        if ca.minted:
            ca.save()
        return source
    assert isinstance(cert, str) and isinstance(key, str)
    try:
        files = FileCertificates(cert, key, g.base_dir, check)
    except CredentialError as error:
        g.error((*where, "certificate"), f"{label((*where, 'certificate'))}: {error}")
        return None
    failed = [
        (i, found) for i in indexes if (found := files.device_problems(i, endpoint_of(i), when))
    ]
    if failed:
        index, found = failed[0]
        more = f" (and {len(failed) - 1} more devices)" if len(failed) > 1 else ""
        at = (*where, "certificate")
        g.error(at, f"{label(at)}: device {index}: {'; '.join(found)}{more}")
        return None
    return files


def _server_check(
    g: GroupContext,
    raw: dict[str, object],
    where: KeyPath,
    ca: FleetCa | None,
    when: datetime.datetime,
) -> ServerCheck | None:
    files: dict[str, Path | None] = {}
    for name in ("server_ca", "server_certificate"):
        value = raw.get(name)
        files[name] = None if not isinstance(value, str) else g.base_dir / value
        path = files[name]
        if path is None:
            continue
        at = (*where, name)
        try:
            certificates = load_certificates(path)
        except X509Error as error:
            g.error(at, f"{label(at)}: {error}")
            return None
        for certificate in certificates:
            for problem in date_problems(certificate, when):
                g.error(at, f"{label(at)}: {path}: {problem}")
                return None
    server_name = raw.get("server_name")
    default = () if ca is None else (ca.certificate_der,)
    try:
        return ServerCheck.from_files(
            files["server_ca"],
            files["server_certificate"],
            server_name if isinstance(server_name, str) else None,
            default,
        )
    except X509Error as error:
        g.error(where, f"{label(where)}: {error}")
        return None
