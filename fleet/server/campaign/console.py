"""The console's firmware commands: ``FOTA EP|* FILE [--push | --uri URI] [--version V]``,
``SOTA EP|* FILE [--push | --uri URI] [--version V] [--instance N] [--no-activate]`` and
``FOTA-STATUS [EP] [--wait]``.

``FOTA`` starts a :class:`~.run.Campaign` in the background for one endpoint or every
registered one (``*``), serving FILE from a :class:`~.files.FileServer` on the server's host
(pull) or pushing it (``--push``); with ``--uri URI`` the devices download from that file
server instead (any CoAP/CoAPS/HTTP/HTTPS server already serving the image: FILE is the local
copy that says which version to expect). A URI no device could download from (no IP host, a
scheme no device has) is refused at once with the reason. A FILE without our package header is
wrapped in one when ``--version V`` says which version it is (its name is the file's name);
otherwise devices judge it themselves (a headerless image is "unsupported package type" unless
they map its hash to a version). It answers at once with the campaign's number, its devices and
URI. ``FOTA-STATUS`` prints each campaign's tally (``--wait``: after the running ones
finished); with an endpoint, that device's outcome. ``SOTA`` does the same for Object 9
Software Management (:class:`~.software.SoftwareCampaign`: download, Install, Activate unless
``--no-activate``, on instance ``--instance N``, default 0); its campaigns are listed by
``FOTA-STATUS`` with the others (``"kind": "software"``).
"""

from __future__ import annotations

import asyncio
import pathlib
from collections.abc import Callable
from dataclasses import replace
from typing import Any, Final

from fleet.client.firmware.uri import PROTOCOL_NUMBERS, parse_package_uri
from fleet.device.firmware.machine import UpdateResult
from fleet.device.firmware.package import PackageError, build_package, read_header
from fleet.server.campaign.files import FileServer
from fleet.server.campaign.run import Campaign, CampaignOptions
from fleet.server.campaign.software import SoftwareCampaign
from fleet.server.server import Lwm2mServer

FOTA_WORDS: Final = ("FOTA", "SOTA", "FOTA-STATUS")
USAGE: Final = "FOTA ENDPOINT|* FILE [--push | --uri URI] [--version V]"
SOTA_USAGE: Final = (
    "SOTA ENDPOINT|* FILE [--push | --uri URI] [--version V] [--instance N] [--no-activate]"
)
EVERY_PROTOCOL: Final = frozenset(PROTOCOL_NUMBERS.values())
Say = Callable[[Any], None]


class FotaDesk:
    """The campaigns one console started, and the file server they share."""

    def __init__(self, server: Lwm2mServer, options: CampaignOptions | None = None) -> None:
        self.server = server
        self.options = options if options is not None else CampaignOptions()
        self.campaigns: list[Campaign] = []
        self._tasks: list[asyncio.Future[Any]] = []
        self._files: FileServer | None = None

    async def command(self, word: str, args: list[str], say: Say) -> None:
        if word in ("FOTA", "SOTA"):
            await self._start(args, say, software=word == "SOTA")
        else:
            await self._status(args, say)

    async def _start(self, args: list[str], say: Say, *, software: bool = False) -> None:
        usage = SOTA_USAGE if software else USAGE
        flags = ("--push", "--no-activate") if software else ("--push",)
        push, activate = "--push" in args, "--no-activate" not in args
        words = [a for a in args if a not in flags]
        version, words = _option(words, "--version")
        uri, words = _option(words, "--uri")
        instance_text, words = _option(words, "--instance") if software else (None, words)
        if version == "" or instance_text == "" or uri == "" or len(words) != 2:
            say(usage)
            return
        if instance_text is not None and not instance_text.isdigit():
            say(f"SOTA: --instance takes an instance number, got {instance_text!r}")
            return
        if uri is not None:
            refused = _refused_uri(uri, push)
            if refused:
                say(f"{'SOTA' if software else 'FOTA'}: {refused}")
                return
        target, file = words
        path = pathlib.Path(file)
        try:
            data = path.read_bytes()
        except OSError as error:
            say(f"FOTA: cannot read {file}: {error.strerror or error}")
            return
        if version is not None and read_header(data) is None:
            try:
                data = build_package(data, name=path.name, version=version)
            except PackageError as error:
                say(f"FOTA: {error}")
                return
        endpoints = [r.endpoint for r in self.server.registrations()] if target == "*" else [target]
        if target != "*" and self.server.registration(target) is None:
            say(f"FOTA: {target} is not registered")
            return
        if push or uri is not None:
            files = None
        else:
            if self._files is None:
                self._files = await FileServer.start(self.server.address[0])
            files = self._files
        name = f"c{len(self.campaigns) + 1}-{path.name}"
        options = replace(self.options, push=push)
        campaign = (
            SoftwareCampaign(
                self.server,
                data,
                name=name,
                uri=uri,
                files=files,
                options=options,
                instance=int(instance_text or 0),
                activate=activate,
            )
            if software
            else Campaign(self.server, data, name=name, uri=uri, files=files, options=options)
        )
        await campaign.prepare()
        self.campaigns.append(campaign)
        number = len(self.campaigns)
        task = asyncio.ensure_future(campaign.run(endpoints))
        task.add_done_callback(lambda _: say(_tally(number, campaign)))
        self._tasks.append(task)
        say(
            {
                "fota": number,
                "started": len(endpoints),
                "mode": "push" if push else "pull",
                "kind": "software" if software else "firmware",
                "uri": campaign.uri,
                "version": campaign.version,
                "bytes": len(data),
            }
        )

    async def _status(self, args: list[str], say: Say) -> None:
        if "--wait" in args:
            running = [t for t in self._tasks if not t.done()]
            if running:
                await asyncio.gather(*running, return_exceptions=True)
        endpoints = [a for a in args if a != "--wait"]
        if not self.campaigns:
            say("FOTA-STATUS: no campaign yet")
            return
        if endpoints:
            for name in endpoints:
                found = [c.outcomes[name] for c in self.campaigns if name in c.outcomes]
                say(found[-1].as_dict() if found else f"FOTA-STATUS: {name} is in no campaign")
            return
        for number, campaign in enumerate(self.campaigns, 1):
            say(_tally(number, campaign))

    def close(self) -> None:
        for task in self._tasks:
            task.cancel()
        if self._files is not None:
            self._files.close()
            self._files = None


def _option(words: list[str], flag: str) -> tuple[str | None, list[str]]:
    """The value after ``flag`` (``""`` when it has none, ``None`` without the flag) and the
    words without both."""
    if flag not in words:
        return None, words
    at = words.index(flag)
    if at + 1 >= len(words):
        return "", words[:at]
    return words[at + 1], words[:at] + words[at + 2 :]


def _refused_uri(uri: str, push: bool) -> str:
    """Why ``--uri`` cannot serve a campaign (empty text: it can)."""
    if push:
        return "--uri names a file server to pull from; it cannot go with --push"
    target = parse_package_uri(uri, EVERY_PROTOCOL)
    if target is UpdateResult.INVALID_URI:
        return (
            f"--uri {uri!r} is not a URI a device can download from (an IP literal or "
            "localhost host, no user information or fragment): devices would answer 7"
        )
    if target is UpdateResult.UNSUPPORTED_PROTOCOL:
        return f"--uri {uri!r}: devices download over coap, coaps, http or https only"
    return ""


def _tally(number: int, campaign: Campaign) -> dict[str, Any]:
    kind = "software" if isinstance(campaign, SoftwareCampaign) else "firmware"
    return {"fota": number, "kind": kind, **campaign.report().as_dict()}
