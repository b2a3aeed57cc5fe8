"""The platform's view of the embedded server: its command language, its received messages
and a console joining them to :class:`~fleet.server.Lwm2mServer` (``fleet server``).

- :mod:`.commands`: parse ``READ /6; RD /3/0/0`` and REST-mode JSON into commands;
- :mod:`.texts`: the status codes, messages and details of the platform's error table;
- :mod:`.messages`: results and events as received messages (``messageType``, ``status``,
  ``data``, ``labels``...), printed pretty or one JSON object per line;
- :mod:`.console`: runs console lines and emits every received message.
"""

from fleet.server.platform.commands import Command, Method, Parsed, Refused, parse_content
from fleet.server.platform.console import Console
from fleet.server.platform.devices import device_info, device_row
from fleet.server.platform.messages import Message, render, summary
from fleet.server.platform.texts import Status, device_status

__all__ = [
    "Command",
    "Console",
    "Message",
    "Method",
    "Parsed",
    "Refused",
    "Status",
    "device_info",
    "device_row",
    "device_status",
    "parse_content",
    "render",
    "summary",
]
