"""X.509 credentials of one device (LwM2M security mode 2, Certificate) and their checks.

An :class:`X509Credentials` holds what the device's Security object instance holds
for a ``coaps://`` server in certificate mode (LwM2M 1.1 Core, E.1, object 0): its
certificate (/0/x/3 Public Key or Identity, DER), its private key (/0/x/5 Secret
Key, PKCS#8 DER; never in a ``repr`` or a message), and how the server's
certificate is checked (/0/x/4 Server Public Key with /0/x/15 Certificate Usage):

- ``trust`` (usage 2, trust anchor assertion): the server's chain must verify to one
  of these CA certificates, and the server's certificate must name the host the
  device dials (``server_name``; by default the host of the server URI): a DNS name
  or IP address in its subjectAltName, else its common name.
- ``server_certificate`` (usage 3, domain-issued certificate, the 1.1 default): the
  server must present exactly this certificate; no chain, name or date is checked
  (the pin is the identity, as with DANE-EE).

The ``cryptography`` package (the ``x509`` extra) parses PEM files and checks that
a key matches its certificate and that dates are current (:func:`problems`); it is
imported lazily, :func:`x509_available` says when it is missing. The reasons a
handshake fails for a certificate are worded here (:func:`verify_reason`,
:func:`alert_reason`), so the device log, its Handshake event and the summary say
"wrong CA" or "expired certificate" rather than an OpenSSL code.
"""

from __future__ import annotations

import datetime
import importlib
import ipaddress
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Final

from fleet.client.coap.errors import CoapError

if TYPE_CHECKING:
    from cryptography import x509

CERTIFICATE: Final = 2
"""/0/x/2 Security Mode of a certificate device."""
USAGE_TRUST_ANCHOR: Final = 2
"""/0/x/15 Certificate Usage: /0/x/4 is the CA the server's chain must end in."""
USAGE_DOMAIN_ISSUED: Final = 3
"""/0/x/15 Certificate Usage: /0/x/4 is the server's own certificate (a pin)."""


class X509Error(CoapError, ValueError):
    """Certificates or keys that cannot be used; names the file, never shows a key."""


def x509_available() -> str | None:
    """``None`` if certificates can be used, else why not (also the tests' skip reason)."""
    for module in ("cryptography.x509", "OpenSSL.SSL"):
        try:
            importlib.import_module(module)
        except ImportError as error:
            return (
                f"DTLS with certificates needs the optional x509 extra ({error}): "
                "pip install 'lwm2m-fleet[x509]'"
            )
    return None


def require_x509() -> None:
    """Raise :class:`X509Error` (saying how to install it) unless certificates can be used."""
    reason = x509_available()
    if reason is not None:
        raise X509Error(reason)


@dataclass(frozen=True, slots=True)
class X509Credentials:
    """A device certificate and key, and how the server's certificate is checked."""

    certificate: bytes
    """The device's certificate (DER): /0/x/3."""
    key: bytes = field(repr=False)
    """The device's private key (PKCS#8 DER): /0/x/5. Never shown."""
    subject: str = ""
    """The certificate's common name (for messages; not a secret)."""
    trust: tuple[bytes, ...] = field(default=(), repr=False)
    """CA certificates (DER) the server's chain must verify to (usage 2)."""
    server_certificate: bytes | None = field(default=None, repr=False)
    """The server's own certificate (DER), pinned (usage 3)."""
    server_name: str | None = None
    """The name the server's certificate must carry (``None``: the server URI's host)."""
    chain: tuple[bytes, ...] = field(default=(), repr=False)
    """Intermediate CA certificates (DER) sent after the device's certificate."""

    def __post_init__(self) -> None:
        if not self.certificate or not self.key:
            raise X509Error("a certificate device needs a certificate and a private key")
        if not self.trust and self.server_certificate is None:
            raise X509Error(
                f"device certificate {self.subject!r}: give a trust anchor (CA certificate) "
                "or the server's certificate to check the server against"
            )

    @property
    def usage(self) -> int:
        """/0/x/15 Certificate Usage: 3 with a pinned server certificate, else 2."""
        return USAGE_DOMAIN_ISSUED if self.server_certificate is not None else USAGE_TRUST_ANCHOR

    @property
    def server_public_key(self) -> bytes:
        """/0/x/4 Server Public Key: the pinned certificate, else the (first) trust anchor."""
        return self.server_certificate if self.server_certificate is not None else self.trust[0]

    def __repr__(self) -> str:
        how = "pinned server" if self.server_certificate is not None else "trust anchor"
        return f"X509Credentials(subject={self.subject!r}, key=<hidden>, checks={how})"


# -- PEM and DER ----------------------------------------------------------------------


def load_certificates(path: Path) -> list[x509.Certificate]:
    """Every certificate of a PEM (or one DER) file; :class:`X509Error` names the file."""
    from cryptography import x509 as _x509

    data = _read(path, "certificate")
    try:
        if b"-----BEGIN" in data:
            found = _x509.load_pem_x509_certificates(data)
        else:
            found = [_x509.load_der_x509_certificate(data)]
    except ValueError as error:
        raise X509Error(f"{path}: not a PEM or DER certificate ({error})") from None
    if not found:
        raise X509Error(f"{path}: no certificate in the file")
    return found


def load_key_der(path: Path) -> bytes:
    """The private key of a PEM or DER file as PKCS#8 DER (no password)."""
    from cryptography.hazmat.primitives import serialization

    data = _read(path, "private key")
    try:
        if b"-----BEGIN" in data:
            key = serialization.load_pem_private_key(data, password=None)
        else:
            key = serialization.load_der_private_key(data, password=None)
    except (ValueError, TypeError):  # the library's message may quote key material: not shown
        raise X509Error(f"{path}: not an unencrypted PEM or DER private key") from None
    return key.private_bytes(
        serialization.Encoding.DER,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def _read(path: Path, what: str) -> bytes:
    try:
        return path.read_bytes()
    except OSError as error:
        raise X509Error(f"{path}: cannot read the {what} file: {error.strerror}") from None


def der(certificate: x509.Certificate) -> bytes:
    """The DER encoding of a certificate."""
    from cryptography.hazmat.primitives import serialization

    return certificate.public_bytes(serialization.Encoding.DER)


def common_name(certificate: x509.Certificate) -> str:
    """The subject's common name ('' without one)."""
    from cryptography.x509.oid import NameOID

    names = certificate.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
    value = names[0].value if names else ""
    return value if isinstance(value, str) else value.decode(errors="replace")


# -- checks before a run --------------------------------------------------------------


def problems(certificate: x509.Certificate, key_der: bytes, now: datetime.datetime) -> list[str]:
    """What is wrong with a device certificate and its key at ``now`` (empty: fine).

    The key must belong to the certificate, and ``now`` must lie within its validity.
    """

    found: list[str] = []
    if not key_matches(certificate, key_der):
        found.append("the private key does not belong to the certificate")
    found.extend(date_problems(certificate, now))
    return found


def key_matches(certificate: x509.Certificate, key_der: bytes) -> bool:
    """Whether the private key (PKCS#8 DER) is the one of ``certificate``'s public key."""
    from cryptography.hazmat.primitives import serialization

    spki = serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    key = serialization.load_der_private_key(key_der, password=None)
    mine = key.public_key().public_bytes(*spki)
    return bool(mine == certificate.public_key().public_bytes(*spki))


def date_problems(certificate: x509.Certificate, now: datetime.datetime) -> list[str]:
    """``certificate 'CN' expired on …`` / ``is not valid before …`` at ``now``."""
    name = common_name(certificate)
    after, before = certificate.not_valid_after_utc, certificate.not_valid_before_utc
    if after < now:
        return [f"certificate {name!r} expired on {_day(after)}"]
    if before > now:
        return [f"certificate {name!r} is not valid before {_day(before)}"]
    return []


def _day(moment: datetime.datetime) -> str:
    return moment.strftime("%Y-%m-%d %H:%M UTC")


def names_match(certificate: x509.Certificate, host: str) -> bool:
    """Whether ``certificate`` names ``host``: an IP address or DNS name (``*.`` wildcards on
    the first label) in its subjectAltName, or, without one, its common name."""
    from cryptography import x509 as _x509

    try:
        alt = certificate.extensions.get_extension_for_class(_x509.SubjectAlternativeName).value
    except _x509.ExtensionNotFound:
        return _dns_match(common_name(certificate), host)
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return any(_dns_match(name, host) for name in alt.get_values_for_type(_x509.DNSName))
    return address in alt.get_values_for_type(_x509.IPAddress)


def _dns_match(pattern: str, host: str) -> bool:
    pattern, host = pattern.lower().rstrip("."), host.lower().rstrip(".")
    if pattern.startswith("*."):
        first, _, rest = host.partition(".")
        return bool(first) and rest == pattern[2:]
    return bool(pattern) and pattern == host


# -- reasons of a failed handshake ----------------------------------------------------

_VERIFY: Final = {
    2: "is not signed by a trusted CA (wrong CA?)",
    7: "has a bad signature",
    9: "is not valid yet",
    10: "has expired",
    18: "is self-signed and not trusted (wrong CA?)",
    19: "is signed by a CA that is not trusted (wrong CA?)",
    20: "is not signed by a trusted CA (wrong CA?)",
    21: "is not signed by a trusted CA (wrong CA?)",
    24: "is signed by a certificate that is no CA",
}
NAME_MISMATCH: Final = -1
"""Our own verify error: the server's certificate does not name the host dialled."""


def verify_reason(errno: int, depth: int, subject: str, detail: str = "") -> str:
    """Why the server's certificate was refused, from OpenSSL's verify error number
    (``detail``: e.g. the expiry date, the host that was expected)."""
    what = f"the server's certificate {subject!r}" if depth == 0 else f"the server's CA {subject!r}"
    if errno == NAME_MISMATCH:
        return f"{what} does not name {detail} (subjectAltName or common name)"
    reason = _VERIFY.get(errno, f"failed verification (OpenSSL error {errno})")
    return f"{what} {reason}{f' ({detail})' if detail else ''}"


def verify_cause(errno: int) -> str:
    """The short cause of a refused server certificate (what a summary counts)."""
    if errno == 10:
        return "server certificate expired"
    if errno == 9:
        return "server certificate not yet valid"
    if errno == NAME_MISMATCH:
        return "server certificate names another host"
    if errno in (2, 18, 19, 20, 21):
        return "wrong CA"
    return "server certificate refused"


REFUSED: Final = "certificate handshake refused"
_ALERTS: Final = (
    ("unknown ca", "the server does not trust the device certificate's CA (wrong CA?)",
     "wrong CA (device certificate)"),
    ("certificate expired", "the server refused the device certificate as expired",
     "expired certificate"),
    ("certificate revoked", "the server refused the device certificate as revoked",
     "revoked certificate"),
    ("bad certificate", "the server refused the device certificate (bad certificate)", REFUSED),
    ("unsupported certificate", "the server refused the device certificate (unsupported)",
     REFUSED),
    ("handshake failure", "the server refused the handshake (handshake failure alert)", REFUSED),
    ("decrypt error", "the server could not verify the device's signature (decrypt error)",
     REFUSED),
)  # fmt: skip


def alert_reason(library_message: str) -> tuple[str, str]:
    """What an alert from the server means, from the library's error text: the words for
    the log and the short cause a summary counts."""
    text = library_message.lower()
    for needle, reason, cause in _ALERTS:
        if needle in text:
            return reason, cause
    return f"the handshake failed: {library_message}", REFUSED
