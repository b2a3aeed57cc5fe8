"""``security: mode:`` in a scenario: certificates from a fleet CA or from files, what
``fleet validate`` reports about them (missing, unparsable, foreign key, expired), nosec,
and rpk refused with the reason."""

from __future__ import annotations

import pathlib
from collections.abc import Callable

import pytest

from fleet.client.certificates import CaCertificates, FileCertificates
from fleet.client.fleet_ca import CACHE_FILE, FleetCa
from fleet.runner.configs import credential_problems, device_config

from ..client.x509.helpers import requires_x509, write_pair
from .conftest import Load, Problems

HEAD = """
version: 1
server: coaps://127.0.0.1:5684
groups:
"""

pytestmark = requires_x509


def test_a_fleet_ca_gives_every_device_a_certificate(load: Load, tmp_path: pathlib.Path) -> None:
    ca = FleetCa.create(tmp_path / "certs")
    scenario = load(
        HEAD
        + """
  - count: 3
    endpoint: "sim-{index:06d}"
    security:
      mode: x509
      ca: certs
"""
    )
    assert isinstance(scenario.groups[0].security, CaCertificates)
    assert (tmp_path / "certs" / CACHE_FILE).is_file()  # minted at load, cached
    config = device_config(scenario, 2)
    assert config.x509 is not None and config.psk is None
    assert config.x509.subject == "sim-000002"
    assert config.x509.certificate == ca.device("sim-000002").certificate  # from the cache
    assert config.x509.trust == (ca.certificate_der,)  # the fleet CA by default
    assert credential_problems(scenario) == []
    assert ca.device("sim-000002").key.hex() not in repr(scenario.groups[0])


def test_certificate_files_by_pattern(
    load: Load, tmp_path: pathlib.Path, write: Callable[[str, str], str]
) -> None:
    ca = FleetCa.create(tmp_path / "ca")
    (tmp_path / "certs").mkdir()
    for index in range(2):
        write_pair(ca, tmp_path / "certs", f"dev-{index}")
    server_ca = "ca/ca.pem"
    scenario = load(
        HEAD
        + f"""
  - count: 2
    endpoint: "dev-{{index}}"
    security:
      mode: x509
      certificate: "certs/{{endpoint}}.pem"
      private_key: "certs/{{endpoint}}.key"
      server_ca: {server_ca}
      server_name: localhost
"""
    )
    assert isinstance(scenario.groups[0].security, FileCertificates)
    config = device_config(scenario, 1)
    assert config.x509 is not None and config.x509.subject == "dev-1"
    assert config.x509.server_name == "localhost" and config.x509.usage == 2


def test_pinning_the_server_certificate(load: Load, tmp_path: pathlib.Path) -> None:
    FleetCa.create(tmp_path / "certs")
    scenario = load(
        HEAD
        + """
  - count: 1
    security:
      mode: x509
      ca: certs
      server_certificate: certs/server.pem
"""
    )
    config = device_config(scenario, 0)
    assert config.x509 is not None and config.x509.usage == 3 and config.x509.trust == ()


def test_what_validate_reports_about_certificates(
    problems: Problems, load: Load, tmp_path: pathlib.Path, write: Callable[[str, str], str]
) -> None:
    ca = FleetCa.create(tmp_path / "ca")
    (tmp_path / "certs").mkdir()
    write_pair(ca, tmp_path / "certs", "dev-0")
    write_pair(ca, tmp_path / "certs", "dev-1", days=10, age_days=40)  # expired
    _, foreign = write_pair(ca, tmp_path / "certs", "other")
    (tmp_path / "certs" / "dev-2.pem").write_bytes((tmp_path / "certs" / "dev-0.pem").read_bytes())
    (tmp_path / "certs" / "dev-2.key").write_bytes(foreign.read_bytes())
    group = """
  - count: {count}
    endpoint: "dev-{{index}}"
    security:
      mode: x509
      certificate: "certs/{{endpoint}}.pem"
      private_key: "certs/{{endpoint}}.key"
      server_ca: ca/ca.pem
"""
    assert device_config(load(HEAD + group.format(count=1)), 0).x509 is not None  # dev-0 fine
    expired = problems(HEAD + group.format(count=2))
    assert len(expired) == 1
    assert "s.yaml:9:20: groups.0.security.certificate: device 1:" in expired[0]
    assert "certificate 'dev-1' expired on" in expired[0]
    foreign_key = problems(HEAD + group.format(count=3))
    assert "and 1 more devices" in foreign_key[0]
    missing = problems(HEAD + group.format(count=4))
    assert "and 2 more devices" in missing[0]
    only_third = problems(
        HEAD
        + group.format(count=1)
        .replace('"dev-{index}"', '"dev-{index:d}2"')
        .replace("certs/{endpoint}", "certs/dev-2")
    )
    assert "the private key does not belong to the certificate" in only_third[0]
    no_file = problems(
        HEAD + group.format(count=1).replace("certs/{endpoint}.pem", "certs/nothing.pem")
    )
    assert "certs/nothing.pem: cannot read the certificate file" in no_file[0]
    assert foreign.read_bytes().decode()[40:80] not in "\n".join(foreign_key + only_third)


def test_ca_and_server_file_problems(problems: Problems, tmp_path: pathlib.Path) -> None:
    missing = problems(HEAD + "  - count: 1\n    security:\n      mode: x509\n      ca: nowhere\n")
    assert missing == [
        f"s.yaml:7:11: groups.0.security.ca: {tmp_path / 'nowhere'}: no fleet CA there "
        "(ca.pem missing): run fleet credentials init"
    ]
    FleetCa.create(tmp_path / "certs")
    (tmp_path / "junk.pem").write_text("not a certificate")
    junk = problems(
        HEAD + "  - count: 1\n    security:\n      mode: x509\n      ca: certs\n"
        "      server_ca: junk.pem\n"
    )
    assert "groups.0.security.server_ca:" in junk[0] and "not a PEM or DER certificate" in junk[0]
    both = problems(
        HEAD + "  - count: 1\n    security:\n      mode: x509\n      ca: certs\n"
        "      certificate: a.pem\n      private_key: a.key\n"
    )
    assert "mode x509 takes ca: (a fleet CA) or certificate:, not both or neither" in both[0]
    no_key = problems(
        HEAD + "  - count: 1\n    security:\n      mode: x509\n      certificate: a\n"
    )
    assert "is missing 'private_key'" in no_key[0]


def test_modes_nosec_and_rpk(problems: Problems, load: Load) -> None:
    plain = load("version: 1\nserver: coap://127.0.0.1\ngroups:\n  - count: 1\n"
                 "    security:\n      mode: nosec\n")  # fmt: skip
    assert plain.groups[0].security is None and device_config(plain, 0).secure is False
    rpk = problems(HEAD + "  - count: 1\n    security:\n      mode: rpk\n")
    assert rpk[0].startswith("s.yaml:6:13: groups.0.security.mode: raw public keys")
    assert "no RFC 7250" in rpk[0]
    unknown = problems(HEAD + "  - count: 1\n    security:\n      mode: x509x\n")
    assert "must be one of psk, x509, nosec, rpk" in unknown[0]
    nosec_on_coaps = problems(HEAD + "  - count: 1\n    security:\n      mode: nosec\n")
    assert "speaks DTLS" in nosec_on_coaps[0]


def test_mode_psk_is_the_psk_form(load: Load) -> None:
    scenario = load(
        HEAD + "  - count: 1\n    security:\n      mode: psk\n      identity: sim-{index}\n"
        "      key: hex:00{index:02x}\n"
    )
    config = device_config(scenario, 0)
    assert config.psk is not None and config.psk.identity == b"sim-0"


@pytest.mark.parametrize("count", [3])
def test_the_cache_is_reused_between_loads(load: Load, tmp_path: pathlib.Path, count: int) -> None:
    FleetCa.create(tmp_path / "certs")
    text = HEAD + f"  - count: {count}\n    security:\n      mode: x509\n      ca: certs\n"
    first = device_config(load(text), 1).x509
    again = device_config(load(text), 1).x509
    assert first is not None and again is not None and first.certificate == again.certificate
