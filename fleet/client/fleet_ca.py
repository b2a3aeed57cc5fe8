"""The fleet CA: a certificate authority the tool mints, and the device certificates it signs.

``fleet credentials init DIR`` makes a folder with

- ``ca.pem`` / ``ca.key``: a self-signed EC P-256 CA (the trust anchor devices check
  the embedded server against, and a platform checks the devices against);
- ``server.pem`` / ``server.key``: a server certificate for the embedded server,
  naming ``localhost``, ``127.0.0.1`` and ``::1``;
- ``devices.csv``: the cache of device certificates, one line per endpoint
  (``endpoint,certificate,key`` in base64 DER), headed by the CA's fingerprint so
  a cache made under another CA is minted anew.

:meth:`FleetCa.device` gives a device's certificate (common name = endpoint name)
and key from the cache or mints them (EC P-256, ~0.2 ms each); :meth:`FleetCa.save`
writes what was minted. Keys are files readable by their owner only, and never
appear in a ``repr`` or a message.
"""

from __future__ import annotations

import base64
import datetime
import ipaddress
import os
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Final

from fleet.client.coap.x509 import (
    X509Credentials,
    X509Error,
    common_name,
    der,
    key_matches,
    load_certificates,
    load_key_der,
)

if TYPE_CHECKING:
    from cryptography import x509
    from cryptography.hazmat.primitives.asymmetric import ec

CA_FILE: Final = "ca.pem"
CA_KEY: Final = "ca.key"
SERVER_FILE: Final = "server.pem"
SERVER_KEY: Final = "server.key"
CACHE_FILE: Final = "devices.csv"
CA_DAYS: Final = 3650
DEVICE_DAYS: Final = 825
SERVER_NAMES: Final = ("localhost", "127.0.0.1", "::1")


@dataclass(frozen=True, slots=True)
class DeviceCertificate:
    """One device's certificate and private key (DER); the key never shows."""

    endpoint: str
    certificate: bytes
    key: bytes = field(repr=False)


def _now() -> datetime.datetime:
    return datetime.datetime.now(datetime.UTC)


def _new_key() -> ec.EllipticCurvePrivateKey:
    from cryptography.hazmat.primitives.asymmetric import ec

    return ec.generate_private_key(ec.SECP256R1())


def _pkcs8(key: ec.EllipticCurvePrivateKey) -> bytes:
    from cryptography.hazmat.primitives import serialization

    return key.private_bytes(
        serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


def _name(common: str) -> x509.Name:
    from cryptography import x509
    from cryptography.x509.oid import NameOID

    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common)])


def issue(
    subject: str,
    key: ec.EllipticCurvePrivateKey,
    issuer: x509.Certificate | None,
    issuer_key: ec.EllipticCurvePrivateKey,
    *,
    days: int,
    ca: bool = False,
    names: Iterable[str] = (),
    start: datetime.datetime | None = None,
) -> x509.Certificate:
    """A certificate for ``subject``'s ``key`` signed by ``issuer_key`` (self-signed without
    ``issuer``); ``names`` go into subjectAltName (IP addresses as such)."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes

    begin = (start or _now()) - datetime.timedelta(minutes=5)
    builder = (
        x509.CertificateBuilder()
        .subject_name(_name(subject))
        .issuer_name(_name(subject) if issuer is None else issuer.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(begin)
        .not_valid_after(begin + datetime.timedelta(days=days))
        .add_extension(x509.BasicConstraints(ca=ca, path_length=0 if ca else None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=not ca,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=ca,
                crl_sign=ca,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
    )
    alt: list[x509.GeneralName] = []
    for name in names:
        try:
            alt.append(x509.IPAddress(ipaddress.ip_address(name)))
        except ValueError:
            alt.append(x509.DNSName(name))
    if alt:
        builder = builder.add_extension(x509.SubjectAlternativeName(alt), critical=False)
    if not ca:
        from cryptography.x509.oid import ExtendedKeyUsageOID

        builder = builder.add_extension(
            x509.ExtendedKeyUsage(
                [ExtendedKeyUsageOID.CLIENT_AUTH, ExtendedKeyUsageOID.SERVER_AUTH]
            ),
            critical=False,
        )
    return builder.sign(issuer_key, hashes.SHA256())


def _write(path: Path, data: bytes, *, secret: bool = False) -> None:
    """Write ``data`` (a secret: readable by the owner only, from the first byte on)."""
    tmp = path.with_name(path.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600 if secret else 0o644)
    with os.fdopen(fd, "wb") as out:
        out.write(data)
    os.replace(tmp, path)


def _pem(certificate: x509.Certificate) -> bytes:
    from cryptography.hazmat.primitives import serialization

    return certificate.public_bytes(serialization.Encoding.PEM)


def _pem_key(key_der: bytes) -> bytes:
    from cryptography.hazmat.primitives import serialization

    key = serialization.load_der_private_key(key_der, password=None)
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


class FleetCa:
    """A fleet CA folder (see the module docstring): mints and caches device certificates."""

    __slots__ = ("_cache", "_minted", "certificate", "directory", "fingerprint", "key")

    def __init__(
        self, directory: Path, certificate: x509.Certificate, key: ec.EllipticCurvePrivateKey
    ) -> None:
        from cryptography.hazmat.primitives import hashes

        self.directory = directory
        self.certificate = certificate
        self.key = key
        self.fingerprint = certificate.fingerprint(hashes.SHA256()).hex()
        self._cache: dict[str, DeviceCertificate] | None = None
        self._minted = 0

    @classmethod
    def create(cls, directory: Path | str, name: str = "lwm2m-fleet CA") -> FleetCa:
        """Make the CA and the embedded server's certificate in ``directory`` (created).

        Refuses a folder that already holds a CA (:class:`X509Error`): devices and
        platforms provisioned with it would stop trusting the new one.
        """
        folder = Path(directory)
        if (folder / CA_FILE).exists():
            raise X509Error(f"{folder / CA_FILE}: a fleet CA is there already (kept)")
        folder.mkdir(parents=True, exist_ok=True)
        key = _new_key()
        certificate = issue(name, key, None, key, days=CA_DAYS, ca=True)
        _write(folder / CA_KEY, _pem_key(_pkcs8(key)), secret=True)
        _write(folder / CA_FILE, _pem(certificate))
        ca = cls(folder, certificate, key)
        server_key = _new_key()
        server = issue(
            "lwm2m-fleet server", server_key, certificate, key, days=DEVICE_DAYS,
            names=SERVER_NAMES,
        )  # fmt: skip
        _write(folder / SERVER_KEY, _pem_key(_pkcs8(server_key)), secret=True)
        _write(folder / SERVER_FILE, _pem(server))
        return ca

    @classmethod
    def load(cls, directory: Path | str) -> FleetCa:
        """The CA of a folder made by :meth:`create`; :class:`X509Error` names what is wrong."""
        from cryptography.hazmat.primitives import serialization
        from cryptography.hazmat.primitives.asymmetric import ec

        folder = Path(directory)
        if not (folder / CA_FILE).is_file():
            raise X509Error(
                f"{folder}: no fleet CA there ({CA_FILE} missing): run fleet credentials init"
            )
        certificate = load_certificates(folder / CA_FILE)[0]
        key_der = load_key_der(folder / CA_KEY)
        key = serialization.load_der_private_key(key_der, password=None)
        if not isinstance(key, ec.EllipticCurvePrivateKey):
            raise X509Error(f"{folder / CA_KEY}: the fleet CA key must be an EC key")
        if not key_matches(certificate, key_der):
            raise X509Error(f"{folder / CA_KEY}: the key does not belong to {CA_FILE}")
        return cls(folder, certificate, key)

    @property
    def certificate_der(self) -> bytes:
        return der(self.certificate)

    @property
    def name(self) -> str:
        return common_name(self.certificate)

    def server_credentials(self) -> X509Credentials:
        """The embedded server's certificate and key (``server.pem``/``server.key``), trusting
        the devices this CA signs."""
        leaf = load_certificates(self.directory / SERVER_FILE)[0]
        return X509Credentials(
            der(leaf),
            load_key_der(self.directory / SERVER_KEY),
            common_name(leaf),
            trust=(self.certificate_der,),
            chain=(self.certificate_der,),
        )

    def device(self, endpoint: str) -> DeviceCertificate:
        """The certificate and key of ``endpoint``: from the cache, or minted now."""
        cache = self._load_cache()
        found = cache.get(endpoint)
        if found is None:
            key = _new_key()
            certificate = issue(endpoint, key, self.certificate, self.key, days=DEVICE_DAYS)
            found = DeviceCertificate(endpoint, der(certificate), _pkcs8(key))
            cache[endpoint] = found
            self._minted += 1
        return found

    @property
    def cached(self) -> int:
        """Device certificates in the cache (those on disk and those minted since)."""
        return len(self._load_cache())

    @property
    def minted(self) -> int:
        """Device certificates minted since the cache was last saved."""
        return self._minted

    def save(self) -> Path:
        """Write the cache (only its owner may read it: it holds private keys)."""
        cache = self._load_cache()
        lines = [f"# fleet CA {self.fingerprint}", "endpoint,certificate,key"]
        for item in cache.values():
            lines.append(
                f"{item.endpoint},{base64.b64encode(item.certificate).decode()},"
                f"{base64.b64encode(item.key).decode()}"
            )
        path = self.directory / CACHE_FILE
        _write(path, ("\n".join(lines) + "\n").encode(), secret=True)
        self._minted = 0
        return path

    def _load_cache(self) -> dict[str, DeviceCertificate]:
        if self._cache is not None:
            return self._cache
        self._cache = {}
        path = self.directory / CACHE_FILE
        try:
            text = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return self._cache
        except OSError as error:
            raise X509Error(f"{path}: cannot read the certificate cache: {error}") from None
        lines = text.splitlines()
        if not lines or lines[0] != f"# fleet CA {self.fingerprint}":
            return self._cache  # made under another CA: mint anew (the file is rewritten)
        for number, line in enumerate(lines[2:], 3):
            parts = line.split(",")
            try:
                endpoint, cert, key = parts
                item = DeviceCertificate(endpoint, base64.b64decode(cert), base64.b64decode(key))
            except ValueError:
                raise X509Error(
                    f"{path}:{number}: not an endpoint,certificate,key line (delete the file "
                    "to mint the certificates anew)"
                ) from None
            self._cache[endpoint] = item
        return self._cache

    def __repr__(self) -> str:
        return f"FleetCa({str(self.directory)!r}, name={self.name!r}, key=<hidden>)"
