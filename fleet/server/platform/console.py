"""The platform console: runs command lines against an :class:`Lwm2mServer` and reports
every received message.

``Console(server, emit)`` listens to the server's events and calls ``emit(message)`` with each
received message (:mod:`.messages`): registration status messages as they happen, and for the
commands it runs their responses, refusals and, for OBSERVE, every notification with the
chain's labels. :meth:`Console.run_line` takes one console line:

- ``ENDPOINT CONTENT``: an outgoing message in the command language (:mod:`.commands`); its
  commands run one after the other; each gets a ``requestId``, the line one ``outgoing_msgRN``;
- ``* CONTENT``: the same for every registered endpoint, at most ``concurrency`` devices at
  a time (:mod:`.pool`), each reported as above, then one summary line (``* READ /3/0/0:
  20 devices, 20 answers: 200 x19, 408 x1``);
- ``RULES [--wait]``: the on-register rules (:mod:`.rules`) and the pool's counters (with
  ``--wait``, once every rule and ``*`` command queued so far has run: for scripts);
- ``DEVICES``: every known device with its state and timestamps;
- ``INFO ENDPOINT``: the device info the server keeps (from /3 and /6) and its
  ``registrations_timestamp`` / ``updates_timestamp`` / ``deregistrations_timestamp`` /
  ``expirations_timestamp`` labels (seconds since the epoch);
- ``WAIT ENDPOINT [SECONDS]``: wait until the endpoint is registered and its device info read
  (default 10 s; for scripts);
- ``SLEEP SECONDS``: pause the script (e.g. to let notifications arrive);
- ``FOTA ENDPOINT|* FILE [--push | --uri URI] [--version V]`` /
  ``FOTA-STATUS [ENDPOINT] [--wait]`` (and ``SOTA ...`` for Object 9):
  firmware campaigns (:mod:`fleet.server.campaign.console`);
- ``HELP``; ``QUIT`` / ``EXIT`` (the caller ends the session).

The lines for no device (DEVICES ... QUIT, FOTA, SOTA) are :mod:`.words`.

Only one OBSERVE per device and resource: a second one is refused (409) until UNOBSERVE
(which without a matching OBSERVE is 404). A device that is not registered gives 404 "no
registered device named X"; a line that starts with a command (``READ /3``) or a REST body
instead of an endpoint is answered that the endpoint is missing, and nothing is sent.
"""

from __future__ import annotations

import functools
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from fleet.server import (
    DeviceTimeout,
    EventKind,
    InvalidRequest,
    Lwm2mServer,
    NoModel,
    ObservationHandle,
    RequestFailed,
    ServerClosed,
    ServerEvent,
    UnknownEndpoint,
)
from fleet.server.campaign.console import FotaDesk
from fleet.server.platform import texts
from fleet.server.platform.commands import (
    NAMES,
    Command,
    Method,
    Refused,
    parse_content,
    split_line,
)
from fleet.server.platform.messages import (
    Message,
    bootstrap_message,
    fan_out_summary,
    labels_of,
    notify_message,
    response_message,
    status_message,
)
from fleet.server.platform.pool import DEFAULT_CONCURRENCY, Pool
from fleet.server.platform.rules import OnRegisterRules, Rule
from fleet.server.platform.words import CONSOLE_WORDS, console_command
from fleet.server.results import Result

Emit = Callable[[Message], None]
Say = Callable[[Any], None]
Sending = Callable[[Command, list[str]], None]

REGISTRATION_KINDS = (
    EventKind.REGISTRATION,
    EventKind.UPDATE,
    EventKind.DEREGISTRATION,
    EventKind.EXPIRATION,
)
BOOTSTRAP_KINDS = (EventKind.BOOTSTRAP_REQUEST, EventKind.BOOTSTRAP_FINISH)
"""The embedded Bootstrap-Server's steps the console shows (the first and the last)."""
EVERY = "*"
"""The endpoint that means every registered endpoint."""


@dataclass(slots=True)
class Chain:
    """An OBSERVE's chain: where its notifications go and how they are labelled."""

    endpoint: str
    path: str
    attributes: dict[str, Any]
    labels: list[str]
    handle: ObservationHandle | None = None


class Console:
    """Runs console lines against ``server``; see the module docstring."""

    def __init__(
        self,
        server: Lwm2mServer,
        emit: Emit,
        *,
        say: Say | None = None,
        timeout: float | None = None,
        concurrency: int = DEFAULT_CONCURRENCY,
    ) -> None:
        """``emit`` gets every received message; ``say`` the output of console commands
        (a text or a JSON-able object); ``timeout`` bounds each request (default: the
        server's); ``concurrency``: devices a ``*`` command or a rule talks to at once."""
        self.server = server
        self.pool = Pool(concurrency)
        """Runs ``*`` commands and on-register rules, ``concurrency`` devices at a time."""
        self.rules: OnRegisterRules | None = None
        self.emit = emit
        self.say: Say = say if say is not None else (lambda _: None)
        self.timeout = timeout
        self._chains: dict[str, Chain] = {}
        self._observed: dict[tuple[str, str], Chain] = {}
        self._remove = server.add_listener(self._on_event)
        self.finished = False
        """Set by QUIT / EXIT."""
        self.fota: FotaDesk | None = None
        """The firmware campaigns of FOTA (:mod:`fleet.server.campaign.console`)."""

    def add_rules(self, rules: Sequence[Rule]) -> OnRegisterRules:
        """Run ``rules`` for every endpoint that registers from now on."""
        if self.rules is not None:
            self.rules.close()
        self.rules = OnRegisterRules(self, rules)
        return self.rules

    def close(self) -> None:
        """Stop listening to the server (and end the FOTA campaigns and rules still running)."""
        self._remove()
        if self.rules is not None:
            self.rules.close()
        self.pool.close()
        if self.fota is not None:
            self.fota.close()

    # -- events ---------------------------------------------------------------------------

    def _on_event(self, event: ServerEvent) -> None:
        if event.kind in REGISTRATION_KINDS:
            self.emit(status_message(str(event.kind), event.endpoint, event.time))
            return
        if event.kind in BOOTSTRAP_KINDS:
            self.emit(bootstrap_message(event))
            return
        if event.kind is not EventKind.NOTIFICATION or event.notification is None:
            return
        chain = self._chains.get(event.request_id)
        if chain is None:
            return
        note = event.notification
        if not note.code.startswith("2."):
            self._forget(chain)
            return
        self.emit(
            notify_message(
                chain.endpoint, note.time, chain.path, note.values, chain.attributes, chain.labels
            )
        )

    def _forget(self, chain: Chain) -> None:
        for rid, known in list(self._chains.items()):
            if known is chain:
                del self._chains[rid]
        key = (chain.endpoint, chain.path)
        if self._observed.get(key) is chain:
            del self._observed[key]

    # -- lines ----------------------------------------------------------------------------

    async def run_line(self, line: str) -> list[Message]:
        """Run one console line; returns the response messages it produced (also emitted)."""
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            return []
        word, _, rest = stripped.partition(" ")
        if word.upper() in CONSOLE_WORDS:
            await console_command(self, word.upper(), rest.split())
            return []
        if word == EVERY:
            content = rest.strip()
            if not content:
                self.say("* COMMAND: the command is missing (e.g. * READ /3/0/0)")
                return []
            return await self.run_everywhere(content)
        if self._endpoint_missing(word):
            self.say(f"the endpoint is missing: write ENDPOINT {stripped} (DEVICES lists them)")
            return []
        parts = split_line(stripped)
        if parts is None:
            self.say(f"no command for {word!r} (ENDPOINT COMMAND; HELP for help)")
            return []
        return await self.run_content(*parts)

    def _endpoint_missing(self, word: str) -> bool:
        """Whether a line's first word is a command or a REST body, not an endpoint."""
        if self.server.device(word) is not None:
            return False
        return word.upper() in NAMES or word.startswith(("{", "["))

    async def run_content(
        self,
        endpoint: str,
        content: str,
        *,
        outgoing: str | None = None,
        sending: Sending | None = None,
    ) -> list[Message]:
        """Run an outgoing message's content for ``endpoint``, command after command.

        ``sending(command, labels)`` hears of each command just before it goes to the device
        (not of those refused first; the HTTP stand-in files it in ``sent-msg``)."""
        rn = outgoing or str(uuid.uuid4())
        messages = []
        for parsed in parse_content(content):
            labels = labels_of(rn, str(uuid.uuid4()))
            if isinstance(parsed, Refused):
                message = self._refusal(endpoint, parsed.method, parsed.path, parsed.status, labels)
            else:
                message = await self._run(endpoint, parsed, labels, sending)
            self.emit(message)
            messages.append(message)
        return messages

    async def run_everywhere(
        self, content: str, *, sending: Sending | None = None
    ) -> list[Message]:
        """Run ``content`` for every registered endpoint through :attr:`pool`; says one
        summary line; returns every response message."""
        endpoints = sorted(r.endpoint for r in self.server.registrations())
        if not endpoints:
            self.say(f"* {content}: no registered device")
            return []
        messages: list[Message] = []

        async def one(endpoint: str) -> None:
            messages.extend(await self.run_content(endpoint, content, sending=sending))

        await self.pool.run_all([functools.partial(one, endpoint) for endpoint in endpoints])
        self.say(fan_out_summary(content, len(endpoints), messages))
        return messages

    def _refusal(
        self,
        endpoint: str,
        method: Method | None,
        path: str | None,
        status: texts.Status,
        labels: list[str],
    ) -> Message:
        return response_message(
            endpoint, self.server.clock.wall(), method, path, status, None, labels
        )

    async def _run(
        self, endpoint: str, command: Command, labels: list[str], sending: Sending | None = None
    ) -> Message:
        request_id = labels[1].partition(":")[2]
        method, path = command.method, command.path
        key = (endpoint, path)
        if method is Method.UNOBSERVE:
            chain = self._observed.get(key)
            if chain is None or chain.handle is None or not chain.handle.active:
                if chain is not None:
                    self._forget(chain)
                return self._refusal(endpoint, method, path, texts.NO_MATCHING_OBSERVE, labels)
        if method is Method.OBSERVE:
            known = self._observed.get(key)
            if known is not None and (known.handle is None or known.handle.active):
                return self._refusal(endpoint, method, path, texts.ALREADY_OBSERVED, labels)
        if sending is not None:
            sending(command, labels)
        try:
            result = await self._request(endpoint, command, request_id, labels)
        except UnknownEndpoint:
            return self._refusal(endpoint, method, path, texts.no_device(endpoint), labels)
        except NoModel as error:
            return self._refusal(endpoint, method, path, texts.not_sent(str(error)), labels)
        except InvalidRequest as error:
            status = {404: texts.BAD_PATH, 415: texts.UNSUPPORTED_FORMAT}.get(
                error.status, texts.BAD_PAYLOAD
            )
            return self._refusal(endpoint, method, path, status, labels)
        except DeviceTimeout:
            return self._refusal(endpoint, method, path, texts.TIMEOUT, labels)
        except RequestFailed:
            return self._refusal(endpoint, method, path, texts.device_status("4.00"), labels)
        except ServerClosed:
            return self._refusal(endpoint, method, path, texts.UNAVAILABLE, labels)
        status = texts.device_status(result.code)
        if status.ok and result.unmodelled:
            status = texts.with_note(status, texts.unmodelled_note(result.unmodelled))
        data = result.values if status.ok and method in (Method.READ, Method.OBSERVE) else None
        return response_message(endpoint, result.time, method, path, status, data, labels)

    async def _request(
        self, endpoint: str, command: Command, request_id: str, labels: list[str]
    ) -> Result:
        server, path, wait = self.server, command.path, self.timeout
        if command.method is Method.READ:
            return await server.read(endpoint, path, timeout=wait, request_id=request_id)
        if command.method is Method.WRITE:
            return await server.write(
                endpoint, path, command.value, timeout=wait, request_id=request_id
            )
        if command.method is Method.EXECUTE:
            return await server.execute(endpoint, path, timeout=wait, request_id=request_id)
        key = (endpoint, path)
        if command.method is Method.UNOBSERVE:
            chain = self._observed[key]
            assert chain.handle is not None
            self._forget(chain)
            return await chain.handle.cancel(timeout=wait)
        chain = Chain(endpoint, path, dict(command.attributes), labels)
        self._chains[request_id] = chain
        self._observed[key] = chain
        attributes: dict[str, Any] = dict(command.attributes)
        try:
            handle = await server.observe(
                endpoint, path, timeout=wait, request_id=request_id, **attributes
            )
        except BaseException:
            self._forget(chain)
            raise
        chain.handle = handle
        if not handle.active:
            self._forget(chain)
        assert handle.result is not None
        return handle.result
