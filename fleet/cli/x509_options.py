"""``fleet device``'s certificate options: ``--certificate``, ``--private-key`` and how the
server's certificate is checked (``--server-ca`` trust anchors or a pinned
``--server-certificate``, ``--server-name``). Files are PEM or DER; the key never shows."""

from __future__ import annotations

import pathlib
from collections.abc import Callable
from typing import Any

import click

from fleet.client.certificates import FileCertificates, ServerCheck
from fleet.client.coap.x509 import X509Credentials, X509Error, x509_available
from fleet.client.credentials import CredentialError

FILE = click.Path(exists=True, dir_okay=False, path_type=pathlib.Path)


def x509_options(command: Callable[..., Any]) -> Callable[..., Any]:
    """Add the certificate options to a click command."""
    for option in reversed(
        [
            click.option("--certificate", type=FILE, help="Device certificate (DTLS X.509)."),
            click.option("--private-key", type=FILE, help="Its private key (unencrypted)."),
            click.option("--server-ca", type=FILE, help="CAs of the server's certificate."),
            click.option("--server-certificate", type=FILE, help="Pin the server's certificate."),
            click.option("--server-name", metavar="NAME", help="Name in the server certificate."),
        ]
    ):  # fmt: skip
        command = option(command)
    return command


def x509_from_options(
    certificate: pathlib.Path | None,
    private_key: pathlib.Path | None,
    server_ca: pathlib.Path | None,
    server_certificate: pathlib.Path | None,
    server_name: str | None,
) -> X509Credentials | None:
    """The device's certificate credentials from the options (``None`` without them)."""
    if certificate is None and private_key is None:
        if server_ca or server_certificate or server_name:
            raise click.UsageError("--server-ca/--server-certificate need --certificate")
        return None
    if certificate is None or private_key is None:
        raise click.UsageError("--certificate and --private-key go together")
    reason = x509_available()
    if reason is not None:
        raise click.ClickException(reason)
    try:
        check = ServerCheck.from_files(server_ca, server_certificate, server_name)
        files = FileCertificates(str(certificate), str(private_key), pathlib.Path("."), check)
        return files.x509(0, "")
    except X509Error as error:
        raise click.UsageError(f"{error} (--server-ca or --server-certificate)") from None
    except CredentialError as error:
        raise click.BadParameter(str(error), param_hint="--certificate") from None
