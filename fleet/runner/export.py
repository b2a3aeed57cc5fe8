"""What each device of a scenario will present, as a platform's bulk import takes it.

:func:`export_rows` lists, per device of every group with ``security:``, its endpoint
name, security mode, PSK identity and key (hex) or certificate (PEM); :func:`render`
writes them as CSV or JSON in one of these shapes (``target``; see
``docs/credentials.md`` for every field and what we are unsure of):

- ``generic``: ``endpoint,mode,identity,key,certificate``;
- ``leshan``: the security entries Leshan's server demo takes on ``PUT
  /api/security/clients`` (JSON), or a flat CSV of the same fields;
- ``thingsboard``: ThingsBoard's device bulk import (CSV, one column per field, mapped
  in its import dialog) or ``POST /api/device-with-credentials`` bodies (JSON);
- ``d2c``: Device to Cloud's device nodes with a ``credentials`` management object
  (``credentialID`` = PSK identity, ``credentialSecret`` = key); PSK only.

The output holds the keys: it is meant for the platform, written where the user says.
"""

from __future__ import annotations

import base64
import csv
import io
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Final

from fleet.codec import json_text
from fleet.errors import FleetError
from fleet.runner.configs import device_config
from fleet.scenario import Scenario

TARGETS: Final = ("generic", "leshan", "thingsboard", "d2c")
FORMATS: Final = ("csv", "json")


class ExportError(FleetError, ValueError):
    """A scenario that cannot be exported in the shape asked for."""


@dataclass(frozen=True, slots=True)
class ExportRow:
    """One device's credentials as a platform must know them."""

    endpoint: str
    mode: str
    """``psk`` or ``x509``."""
    identity: str = ""
    key_hex: str = ""
    certificate_pem: str = ""

    def __repr__(self) -> str:
        return f"ExportRow(endpoint={self.endpoint!r}, mode={self.mode!r}, key=<hidden>)"


def _pem(der: bytes) -> str:
    body = base64.b64encode(der).decode()
    lines = [body[i : i + 64] for i in range(0, len(body), 64)]
    return "-----BEGIN CERTIFICATE-----\n" + "\n".join(lines) + "\n-----END CERTIFICATE-----\n"


def export_rows(scenario: Scenario) -> Iterator[ExportRow]:
    """Every device of a group with ``security:``, in fleet index order."""
    for group in scenario.groups:
        if group.security is None:
            continue
        for index in range(group.first_index, group.first_index + group.count):
            config = device_config(scenario, index)
            if config.psk is not None:
                yield ExportRow(
                    config.endpoint,
                    "psk",
                    identity=config.psk.identity.decode(errors="replace"),
                    key_hex=config.psk.key.hex(),
                )
            elif config.x509 is not None:
                yield ExportRow(
                    config.endpoint,
                    "x509",
                    identity=config.x509.subject,
                    certificate_pem=_pem(config.x509.certificate),
                )


# -- shapes -----------------------------------------------------------------------------

_TB_MODES: Final = {"psk": "PSK", "x509": "X509"}
TB_COLUMNS: Final = (
    "name",
    "type",
    "lwm2m_client_endpoint",
    "lwm2m_client_security_config_mode",
    "lwm2m_client_identity",
    "lwm2m_client_key",
    "lwm2m_client_cert",
    "lwm2m_bootstrap_server_security_mode",
    "lwm2m_server_security_mode",
)
"""ThingsBoard import columns (named after its column types; mapped in the import dialog)."""


def _leshan(row: ExportRow) -> dict[str, object]:
    if row.mode == "psk":
        return {
            "endpoint": row.endpoint,
            "tls": {"mode": "psk", "details": {"identity": row.identity, "key": row.key_hex}},
        }
    return {"endpoint": row.endpoint, "tls": {"mode": "x509", "details": {}}}


def _thingsboard_client(row: ExportRow) -> dict[str, object]:
    client: dict[str, object] = {
        "securityConfigClientMode": _TB_MODES[row.mode],
        "endpoint": row.endpoint,
    }
    if row.mode == "psk":
        client.update(identity=row.identity, key=row.key_hex)
    else:
        client["cert"] = _pem_body(row.certificate_pem)
    return client


def _pem_body(pem: str) -> str:
    """The base64 of a PEM certificate on one line, without the BEGIN/END lines."""
    return "".join(line for line in pem.splitlines() if line and not line.startswith("-----"))


def _thingsboard(row: ExportRow) -> dict[str, object]:
    value = {
        "client": _thingsboard_client(row),
        "bootstrap": {
            "bootstrapServer": {"securityMode": "NO_SEC"},
            "lwm2mServer": {"securityMode": "NO_SEC"},
        },
    }
    return {
        "device": {"name": row.endpoint, "type": "default"},
        "credentials": {
            "credentialsType": "LWM2M_CREDENTIALS",
            "credentialsId": row.endpoint,
            "credentialsValue": json_text.dumps(value),
        },
    }


def _d2c(row: ExportRow) -> dict[str, object]:
    if row.mode != "psk":
        raise ExportError(
            f"device {row.endpoint}: --for d2c exports pre-shared keys only (Device to Cloud's "
            "credentials object holds an identity and a secret, not a certificate)"
        )
    return {
        "node": {
            "resourceName": row.endpoint,
            "nodeID": row.endpoint,
            "credentials": [
                {
                    "resourceName": "credentials",
                    "mgmtDefinition": 1029,
                    "credentialID": row.identity,
                    "credentialSecret": row.key_hex,
                }
            ],
        }
    }


def _csv_row(row: ExportRow, target: str) -> list[str]:
    if target == "thingsboard":
        client = _thingsboard_client(row)
        return [
            row.endpoint,
            "default",
            row.endpoint,
            str(client["securityConfigClientMode"]),
            row.identity if row.mode == "psk" else "",
            row.key_hex,
            str(client.get("cert", "")),
            "NO_SEC",
            "NO_SEC",
        ]
    if target == "d2c":
        _d2c(row)  # refuses a certificate device
        return [row.endpoint, row.identity, row.key_hex]
    return [row.endpoint, row.mode, row.identity, row.key_hex, _pem_body(row.certificate_pem)]


_CSV_HEADERS: Final = {
    "generic": ("endpoint", "mode", "identity", "key", "certificate"),
    "leshan": ("endpoint", "mode", "identity", "key", "certificate"),
    "thingsboard": TB_COLUMNS,
    "d2c": ("resourceName", "credentialID", "credentialSecret"),
}
_JSON: Final = {"leshan": _leshan, "thingsboard": _thingsboard, "d2c": _d2c}


def render(rows: Iterator[ExportRow], fmt: str, target: str = "generic") -> str:
    """The rows as ``fmt`` (csv, json) in ``target``'s shape; :class:`ExportError` if a
    device cannot be exported so (e.g. a certificate for d2c)."""
    if fmt not in FORMATS:
        raise ExportError(f"unknown format {fmt!r} (csv or json)")
    if target not in TARGETS:
        raise ExportError(f"unknown platform {target!r} ({', '.join(TARGETS)})")
    if fmt == "csv":
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(_CSV_HEADERS[target])
        for row in rows:
            writer.writerow(_csv_row(row, target))
        return out.getvalue()
    shape = _JSON.get(target)
    items = [
        shape(row)
        if shape is not None
        else {
            "endpoint": row.endpoint,
            "mode": row.mode,
            "identity": row.identity,
            "key": row.key_hex,
            "certificate": row.certificate_pem,
        }
        for row in rows
    ]
    return json_text.dumps(items, indent=2) + "\n"
