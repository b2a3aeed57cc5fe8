"""``fleet decode`` and ``fleet encode``: turn payloads into JSON values and back.

The JSON form maps each value's path to its value::

    {"/3/0/0": "Open Mobile Alliance", "/3/0/6/0": 1, "/3/0/13": 1367491215}

Numbers, text and Booleans are JSON values; an Objlnk is ``"3:0"``; Opaque is
``"hex:0a0b..."`` (``encode`` also reads ``"base64:..."``); a Float with no
JSON form is ``"NaN"``, ``"Infinity"`` or ``"-Infinity"``. ``decode --format
link`` prints the links as ``[{"target": ..., "attributes": {...}}]``.
"""

from __future__ import annotations

import math
import pathlib
import sys

import click

import fleet.codec as codec
from fleet.cli.options import objects_option, registry_from_options
from fleet.codec import ContentFormat, ModelView, json_text, parse_format
from fleet.errors import FleetError
from fleet.model import Composite, ModelRegistry, ObjectLink, Path, Value, coerce_value, flatten


def _format_option(ctx: click.Context, param: click.Parameter, value: str) -> ContentFormat:
    try:
        return parse_format(value)
    except FleetError as exc:
        raise click.BadParameter(str(exc), ctx, param) from None


def _path_option(ctx: click.Context, param: click.Parameter, value: str) -> Path:
    try:
        return Path.parse(value)
    except FleetError as exc:
        raise click.BadParameter(str(exc), ctx, param) from None


def _common(function: click.decorators.FC) -> click.decorators.FC:
    for decorator in reversed(
        [
            click.option(
                "--format",
                "fmt",
                required=True,
                callback=_format_option,
                metavar="FORMAT",
                help="tlv, senml-json, senml-cbor, lwm2m-json, lwm2m-cbor, cbor, text, "
                "opaque, link, or the number.",
            ),
            click.option(
                "--path",
                default="/",
                callback=_path_option,
                metavar="PATH",
                show_default=True,
                help="The request path the payload belongs to (/ for a composite).",
            ),
            click.option(
                "--lwm2m",
                "lwm2m_version",
                default=None,
                metavar="VERSION",
                help="Read objects at the versions a device of this LwM2M version runs "
                "(default: the newest definitions).",
            ),
            objects_option,
        ]
    ):
        function = decorator(function)
    return function


def _models(
    objects_dirs: tuple[pathlib.Path, ...], lwm2m_version: str | None
) -> tuple[ModelRegistry, dict[int, str] | None]:
    models = registry_from_options(objects_dirs)
    return models, codec.versions_for(models, lwm2m_version) if lwm2m_version else None


def _json_value(value: Value) -> object:
    if isinstance(value, bytes):
        return "hex:" + value.hex()
    if isinstance(value, ObjectLink):
        return str(value)
    if isinstance(value, float) and not math.isfinite(value):
        return "NaN" if math.isnan(value) else ("Infinity" if value > 0 else "-Infinity")
    return value


def _read_payload(payload_hex: str | None, file: str | None) -> bytes:
    if payload_hex is not None and file is not None:
        raise click.UsageError("give the payload as PAYLOAD_HEX or --file, not both")
    if file is not None:
        with click.open_file(file, "rb") as stream:
            data: bytes = stream.read()
        return data
    text = payload_hex if payload_hex is not None else sys.stdin.read()
    cleaned = "".join(text.split()).replace(":", "")
    if cleaned.lower().startswith("0x"):
        cleaned = cleaned[2:]
    try:
        return bytes.fromhex(cleaned)
    except ValueError:
        raise click.ClickException(f"the payload is not hexadecimal: {text[:60]!r}") from None


@click.command()
@_common
@click.option("--file", "file", metavar="F", help="Read the raw payload from a file (- = stdin).")
@click.argument("payload_hex", required=False, metavar="[PAYLOAD_HEX]")
def decode(
    fmt: ContentFormat,
    path: Path,
    lwm2m_version: str | None,
    objects_dirs: tuple[pathlib.Path, ...],
    file: str | None,
    payload_hex: str | None,
) -> None:
    """Decode an LwM2M payload (hex, or raw bytes from --file) into JSON values.

    Prints {"/3/0/0": "...", ...}: Opaque as "hex:...", an Objlnk as "3:0".
    """
    payload = _read_payload(payload_hex, file)
    try:
        if fmt is ContentFormat.LINK:
            links = [
                {"target": link.target, "attributes": dict(link.attributes)}
                for link in codec.parse_links(payload)
            ]
            click.echo(json_text.dumps(links, indent=2, ensure_ascii=False))
            return
        models, versions = _models(objects_dirs, lwm2m_version)
        node = codec.decode(fmt, payload, path, models, versions=versions)
    except FleetError as exc:
        raise click.ClickException(f"cannot decode the {fmt.short_name} payload: {exc}") from None
    values = flatten(node) if isinstance(node, Composite) else flatten(node, path)
    result = {str(p): _json_value(v) for p, v in sorted(values.items())}
    click.echo(json_text.dumps(result, indent=2, ensure_ascii=False))


@click.command()
@_common
@click.option("--file", "file", metavar="F", help="Read the JSON values from a file (- = stdin).")
def encode(
    fmt: ContentFormat,
    path: Path,
    lwm2m_version: str | None,
    objects_dirs: tuple[pathlib.Path, ...],
    file: str | None,
) -> None:
    """Encode JSON values (from stdin or --file) into an LwM2M payload, printed as hex.

    Reads {"/3/0/0": "...", ...} as decode prints it; Opaque may also be
    "base64:...".
    """
    with click.open_file(file or "-", "r", encoding="utf-8") as stream:
        text = stream.read()
    try:
        data = json_text.loads(text)
    except ValueError as exc:
        raise click.ClickException(f"the input is not JSON: {exc}") from None
    if not isinstance(data, dict):
        raise click.ClickException('the input is a JSON object: {"/3/0/0": "value", ...}')
    try:
        if fmt is ContentFormat.LINK:
            raise click.ClickException("link format carries links, not values")
        models, versions = _models(objects_dirs, lwm2m_version)
        view = ModelView(models, versions)
        values: dict[Path, Value] = {}
        for key, raw in data.items():
            leaf = Path.parse(key)
            values[leaf] = coerce_value(view.need(leaf), raw)
        node = codec.build_node(path, values, models, versions=versions)
        payload = codec.encode(fmt, node, path, models, versions=versions)
    except FleetError as exc:
        raise click.ClickException(f"cannot encode {fmt.short_name}: {exc}") from None
    click.echo(payload.hex())
