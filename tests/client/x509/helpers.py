"""Shared bits of the certificate tests: the skip gate, credentials, an expired certificate."""

from __future__ import annotations

import datetime
from pathlib import Path

import pytest

from fleet.client.coap.x509 import X509Credentials, x509_available
from fleet.client.fleet_ca import FleetCa, issue

REASON = x509_available()
requires_x509 = pytest.mark.skipif(REASON is not None, reason=REASON or "")


def credentials(ca: FleetCa, endpoint: str, **checks: object) -> X509Credentials:
    """A device's credentials from ``ca`` (its certificate sent with the CA's, as a fleet's
    are), trusting ``ca`` unless ``checks`` say otherwise."""
    device = ca.device(endpoint)
    options: dict[str, object] = {
        "trust": (ca.certificate_der,),
        "chain": (ca.certificate_der,),
        **checks,
    }
    return X509Credentials(device.certificate, device.key, endpoint, **options)  # type: ignore[arg-type]


def write_pair(
    ca: FleetCa, folder: Path, name: str, *, days: int = 30, age_days: int = 0
) -> tuple[Path, Path]:
    """A certificate of ``ca`` for ``127.0.0.1``/``localhost`` issued ``age_days`` ago and
    valid ``days``: (cert.pem, key.pem) in ``folder``."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    key = ec.generate_private_key(ec.SECP256R1())
    start = datetime.datetime.now(datetime.UTC) - datetime.timedelta(days=age_days)
    names = ["127.0.0.1", "localhost"]
    cert = issue(name, key, ca.certificate, ca.key, days=days, names=names, start=start)
    cert_path, key_path = folder / f"{name}.pem", folder / f"{name}.key"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path


def server_credentials(ca: FleetCa) -> X509Credentials:
    """The embedded server's certificate and key of ``ca``, trusting ``ca``'s devices."""
    return ca.server_credentials()
