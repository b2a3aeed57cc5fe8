"""Certificate credentials as data: the fleet CA and its cache, the checks a scenario runs,
the Security object of a certificate device, record-aligned datagrams, and keys that never
show (reprs, messages)."""

from __future__ import annotations

import datetime
import os
import stat
from pathlib import Path

import pytest

from fleet.client.coap.dtls_x509 import RECORD_HEADER, datagrams
from fleet.client.coap.x509 import (
    X509Credentials,
    X509Error,
    load_certificates,
    load_key_der,
    names_match,
    problems,
    verify_reason,
)
from fleet.client.config import DeviceConfig, server_values
from fleet.client.fleet_ca import CA_KEY, CACHE_FILE, SERVER_FILE, FleetCa

from .helpers import credentials, requires_x509, write_pair

NOW = datetime.datetime.now(datetime.UTC)


def _record(kind: int, length: int) -> bytes:
    return bytes([kind, 0xFE, 0xFD]) + bytes(8) + length.to_bytes(2, "big") + b"x" * length


def test_datagrams_keep_records_whole_and_under_the_mtu() -> None:
    records = [_record(22, 500), _record(22, 600), _record(20, 1), _record(22, 40)]
    out = datagrams(b"".join(records), mtu=1000)
    assert out == [records[0], records[1] + records[2] + records[3]]  # 513 + 613 > 1000
    assert datagrams(b"".join(records), mtu=1200) == [b"".join(records)]  # 1193 bytes
    big = _record(22, 2000)
    assert datagrams(big, mtu=1200) == [big]  # one record alone may be larger
    assert datagrams(b"", mtu=1200) == []
    assert len(records[0]) == RECORD_HEADER + 500


def test_verify_reasons_say_what_went_wrong() -> None:
    assert verify_reason(10, 0, "srv", "on 2025-01-01 00:00 UTC") == (
        "the server's certificate 'srv' has expired (on 2025-01-01 00:00 UTC)"
    )
    assert "wrong CA" in verify_reason(20, 0, "srv")
    assert verify_reason(19, 1, "ca").startswith("the server's CA 'ca'")
    assert "OpenSSL error 99" in verify_reason(99, 0, "srv")


@requires_x509
class TestFleetCa:
    def test_create_writes_a_ca_and_a_server_certificate(self, tmp_path: Path) -> None:
        ca = FleetCa.create(tmp_path / "ca")
        assert stat.S_IMODE(os.stat(tmp_path / "ca" / CA_KEY).st_mode) == 0o600
        server = load_certificates(tmp_path / "ca" / SERVER_FILE)[0]
        assert names_match(server, "127.0.0.1") and names_match(server, "localhost")
        assert not names_match(server, "10.0.0.1") and not names_match(server, "example.org")
        assert server.issuer == ca.certificate.subject
        with pytest.raises(X509Error, match="a fleet CA is there already"):
            FleetCa.create(tmp_path / "ca")
        assert "key=<hidden>" in repr(ca)

    def test_device_certificates_are_cached_under_the_ca(self, tmp_path: Path) -> None:
        ca = FleetCa.create(tmp_path)
        first = ca.device("sim-1")
        assert ca.device("sim-1") is first and ca.minted == 1
        ca.save()
        assert stat.S_IMODE(os.stat(tmp_path / CACHE_FILE).st_mode) == 0o600
        again = FleetCa.load(tmp_path)
        assert again.device("sim-1") == first and again.minted == 0
        cert = load_certificates_from_der(first.certificate)
        assert problems(cert, first.key, NOW) == []
        # a cache made under another CA is minted anew, not trusted
        (tmp_path / "other").mkdir()
        other = FleetCa.create(tmp_path / "other")
        (tmp_path / "other" / CACHE_FILE).write_bytes((tmp_path / CACHE_FILE).read_bytes())
        assert other.device("sim-1") != first and other.minted == 1

    def test_a_broken_cache_names_its_line(self, tmp_path: Path) -> None:
        ca = FleetCa.create(tmp_path)
        ca.device("sim-1")
        ca.save()
        path = tmp_path / CACHE_FILE
        path.write_text(path.read_text() + "garbage\n")
        with pytest.raises(X509Error, match=r"devices\.csv:4: not an endpoint,certificate,key"):
            FleetCa.load(tmp_path).device("sim-2")

    def test_load_refuses_a_key_of_another_certificate(self, tmp_path: Path) -> None:
        FleetCa.create(tmp_path / "a")
        FleetCa.create(tmp_path / "b")
        (tmp_path / "a" / CA_KEY).write_bytes((tmp_path / "b" / CA_KEY).read_bytes())
        with pytest.raises(X509Error, match="does not belong"):
            FleetCa.load(tmp_path / "a")
        with pytest.raises(X509Error, match="no fleet CA there"):
            FleetCa.load(tmp_path / "nothing")

    def test_problems_finds_a_foreign_key_and_dates(self, tmp_path: Path) -> None:
        ca = FleetCa.create(tmp_path)
        cert_path, key_path = write_pair(ca, tmp_path, "old", days=10, age_days=40)
        _, other_key = write_pair(ca, tmp_path, "new")
        cert = load_certificates(cert_path)[0]
        assert problems(cert, load_key_der(key_path), NOW) == [
            f"certificate 'old' expired on {cert.not_valid_after_utc:%Y-%m-%d %H:%M} UTC"
        ]
        found = problems(cert, load_key_der(other_key), NOW - datetime.timedelta(days=60))
        assert found[0] == "the private key does not belong to the certificate"
        assert "is not valid before" in found[1]

    def test_unreadable_files_are_named(self, tmp_path: Path) -> None:
        (tmp_path / "x.pem").write_text("-----BEGIN CERTIFICATE-----\nnope\n")
        with pytest.raises(X509Error, match=r"x\.pem: not a PEM or DER certificate"):
            load_certificates(tmp_path / "x.pem")
        (tmp_path / "k.pem").write_text("-----BEGIN PRIVATE KEY-----\nc2VjcmV0\n")
        with pytest.raises(X509Error, match=r"k\.pem: not an unencrypted") as caught:
            load_key_der(tmp_path / "k.pem")
        assert "c2VjcmV0" not in str(caught.value)
        with pytest.raises(X509Error, match="cannot read"):
            load_key_der(tmp_path / "missing.pem")


def load_certificates_from_der(data: bytes) -> object:
    from cryptography import x509

    return x509.load_der_x509_certificate(data)


@requires_x509
def test_the_security_object_of_a_certificate_device(tmp_path: Path) -> None:
    ca = FleetCa.create(tmp_path)
    x509 = credentials(ca, "sim-7")
    config = DeviceConfig("sim-7", server="coaps://127.0.0.1:5684", x509=x509)
    values = server_values(config)
    assert values["/0/0/2"] == 2  # Certificate
    assert values["/0/0/3"] == x509.certificate
    assert values["/0/0/4"] == ca.certificate_der  # trust anchor assertion
    assert values["/0/0/5"] == x509.key
    assert values["/0/0/15"] == 2
    pinned = credentials(ca, "sim-8", trust=(), server_certificate=b"\x30pinned")
    assert pinned.usage == 3 and pinned.server_public_key == b"\x30pinned"
    key_text = x509.key.hex()
    for shown in (repr(x509), repr(config), str(config)):
        assert key_text not in shown and "key=<hidden>" in repr(x509)
    with pytest.raises(ValueError, match="not both"):
        DeviceConfig("sim-7", server="coaps://127.0.0.1", x509=x509, psk=_psk())
    with pytest.raises(ValueError, match="a certificate needs a coaps:// server"):
        DeviceConfig("sim-7", server="coap://127.0.0.1", x509=x509)
    with pytest.raises(X509Error, match="trust anchor"):
        X509Credentials(x509.certificate, x509.key, "sim-7")


def _psk() -> object:
    from fleet.client.coap.psk import PskCredentials

    return PskCredentials.of("id", "hex:0011")


@requires_x509
def test_devices_sharing_a_layout_keep_their_own_certificates(tmp_path: Path) -> None:
    """No certificate, trust anchor or key of the first device is folded into the shared
    template (the order of the devices of a process does not matter)."""
    from fleet.client.device import Device
    from fleet.clock import ManualClock
    from fleet.device.layout import DeviceLayout

    ca = FleetCa.create(tmp_path)
    layout = DeviceLayout.of({0: [0], 1: [0], 3: [0]})
    devices = [
        Device(
            DeviceConfig(
                name, server="coaps://127.0.0.1", x509=credentials(ca, name), layout=layout
            ),
            clock=ManualClock(),
        )
        for name in ("sim-1", "sim-2")
    ]
    assert devices[0].profile is devices[1].profile
    assert devices[1].tree.value("/0/0/3") == ca.device("sim-2").certificate
    assert devices[1].tree.value("/0/0/4") == ca.certificate_der
    initial = devices[0].profile.template.plans[0].initial
    shown = repr(initial)
    for secret in (ca.device("sim-1").key, ca.device("sim-1").certificate, ca.certificate_der):
        assert repr(secret)[2:-1][:40] not in shown
