"""Where each device's certificate comes from: a fleet CA, or files named by patterns.

A :class:`CertificateSource` gives the :class:`~fleet.client.coap.x509.X509Credentials`
of the device with a given fleet index and endpoint name, the way a
:class:`~fleet.client.credentials.CredentialSource` gives PSK credentials:

- :class:`CaCertificates`: minted by a :class:`~fleet.client.fleet_ca.FleetCa` (common
  name = endpoint name; cached in the CA folder), sent with the CA's certificate;
- :class:`FileCertificates`: PEM (or DER) files whose names are patterns on
  ``{index}`` and ``{endpoint}`` (``certs/{endpoint}.pem``, ``certs/{endpoint}.key``).

Both check the server's certificate the same way (:class:`ServerCheck`): against trust
anchors (a CA file; by default the fleet CA), or pinned to one certificate. Keys never
appear in a ``repr`` or a message.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol, runtime_checkable

from fleet.client.coap.x509 import (
    X509Credentials,
    X509Error,
    common_name,
    der,
    load_certificates,
    load_key_der,
    problems,
)
from fleet.client.credentials import CredentialError
from fleet.client.fleet_ca import FleetCa


@runtime_checkable
class CertificateSource(Protocol):
    """Certificate credentials per device."""

    def x509(self, index: int, endpoint: str) -> X509Credentials:
        """The certificate, key and server check of device ``index`` (``endpoint``)."""
        ...

    def device_problems(self, index: int, endpoint: str, now: datetime.datetime) -> list[str]:
        """What is wrong with that device's certificate at ``now`` (empty: fine)."""
        ...


@dataclass(frozen=True, slots=True)
class ServerCheck:
    """How devices check the server's certificate: ``trust`` anchors (DER) or a ``pinned``
    certificate (DER), and the ``name`` it must carry (``None``: the server URI's host)."""

    trust: tuple[bytes, ...] = ()
    pinned: bytes | None = None
    name: str | None = None

    @classmethod
    def from_files(
        cls,
        ca_file: Path | None,
        pinned_file: Path | None,
        name: str | None,
        default_trust: tuple[bytes, ...] = (),
    ) -> ServerCheck:
        """Read the trust anchors or the pinned certificate (:class:`X509Error` names the
        file); without either, ``default_trust``."""
        trust = default_trust
        if ca_file is not None:
            trust = tuple(der(c) for c in load_certificates(ca_file))
        pinned = None if pinned_file is None else der(load_certificates(pinned_file)[0])
        if pinned is not None:
            trust = () if ca_file is None else trust
        if not trust and pinned is None:
            raise X509Error("give server_ca (trust anchors) or server_certificate (a pin)")
        return cls(trust, pinned, name)

    def credentials(
        self, certificate: bytes, key: bytes, subject: str, chain: tuple[bytes, ...] = ()
    ) -> X509Credentials:
        return X509Credentials(
            certificate,
            key,
            subject,
            trust=self.trust,
            server_certificate=self.pinned,
            server_name=self.name,
            chain=chain,
        )


class CaCertificates:
    """Device certificates minted (and cached) by a fleet CA."""

    __slots__ = ("ca", "check")

    def __init__(self, ca: FleetCa, check: ServerCheck) -> None:
        self.ca = ca
        self.check = check

    def x509(self, index: int, endpoint: str) -> X509Credentials:
        device = self.ca.device(endpoint)
        chain = (self.ca.certificate_der,)
        return self.check.credentials(device.certificate, device.key, endpoint, chain)

    def device_problems(self, index: int, endpoint: str, now: datetime.datetime) -> list[str]:
        return []  # minted now, valid for years

    def __repr__(self) -> str:
        return f"CaCertificates({self.ca!r})"


def _render(pattern: str, index: int, endpoint: str) -> str:
    try:
        return pattern.format(index=index, endpoint=endpoint)
    except (KeyError, IndexError, ValueError) as error:
        raise CredentialError(f"file pattern {pattern!r}: {error}") from None


class FileCertificates:
    """Device certificates and keys read from files named by patterns (relative to
    ``base``); a file is read when its device asks for it."""

    __slots__ = ("base", "certificate", "check", "key")

    def __init__(self, certificate: str, key: str, base: Path, check: ServerCheck) -> None:
        self.certificate = certificate
        self.key = key
        self.base = base
        self.check = check
        for pattern in (certificate, key):
            _render(pattern, 0, "endpoint")  # unknown placeholders fail here

    def paths(self, index: int, endpoint: str) -> tuple[Path, Path]:
        """The certificate and key files of device ``index``."""
        return (
            self.base / _render(self.certificate, index, endpoint),
            self.base / _render(self.key, index, endpoint),
        )

    def x509(self, index: int, endpoint: str) -> X509Credentials:
        cert_path, key_path = self.paths(index, endpoint)
        try:
            certificates = load_certificates(cert_path)
            key = load_key_der(key_path)
        except X509Error as error:
            raise CredentialError(f"device {endpoint}: {error}") from None
        leaf, chain = certificates[0], tuple(der(c) for c in certificates[1:])
        return self.check.credentials(der(leaf), key, common_name(leaf) or endpoint, chain)

    def device_problems(self, index: int, endpoint: str, now: datetime.datetime) -> list[str]:
        cert_path, key_path = self.paths(index, endpoint)
        try:
            leaf = load_certificates(cert_path)[0]
            key = load_key_der(key_path)
        except X509Error as error:
            return [str(error)]
        return [f"{cert_path}: {problem}" for problem in problems(leaf, key, now)]

    def __repr__(self) -> str:
        return f"FileCertificates(certificate={self.certificate!r}, key={self.key!r})"
