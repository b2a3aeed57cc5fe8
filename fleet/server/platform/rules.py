"""Rules instead of scripts: commands the console runs against every device as it registers.

``fleet server --on-register "OBSERVE /3303/0/5700 pmin=1 pmax=10"`` (repeatable), or a
scenario's ``embedded_server: {on_register: [...]}``: each rule is the content of an
outgoing message in the console's language (:mod:`.commands`: READ, WRITE, EXECUTE,
OBSERVE with attributes, UNOBSERVE, ``;``-separated, or REST-mode JSON) without the
endpoint. :func:`parse_rule` checks one at start-up, so a bad rule stops the server before it
serves (:class:`~fleet.server.errors.BadRule`, saying what is wrong).

:class:`OnRegisterRules` listens for Registers (a re-Register too: its observations ended,
so an OBSERVE rule observes again) and runs every rule for that endpoint through the
console, so results are reported exactly like typed commands (responses, notifications,
labels). Devices go through the console's bounded :class:`~.pool.Pool`: however many
register at once, at most ``limit`` of them have a rule running; an endpoint that registers
again before its rules started is queued once.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from fleet.server.errors import BadRule
from fleet.server.events import EventKind, ServerEvent
from fleet.server.platform.commands import Command, Refused, parse_content

if TYPE_CHECKING:
    from fleet.server.platform.console import Console

EXAMPLE = "OBSERVE /3303/0/5700 pmin=1 pmax=10"


@dataclass(frozen=True, slots=True)
class Rule:
    """One checked rule: its text (what the console runs) and its commands."""

    text: str
    commands: tuple[Command, ...]


def rule_problem(text: str) -> str | None:
    """What is wrong with a rule, or ``None`` (for checkers that collect problems)."""
    try:
        parse_rule(text)
    except BadRule as error:
        return str(error)
    return None


def parse_rule(text: str) -> Rule:
    """A :class:`Rule` from its text; :class:`BadRule` saying what is wrong."""
    stripped = text.strip()
    if not stripped:
        raise BadRule(f"an empty rule: write a command, e.g. {EXAMPLE!r}")
    commands: list[Command] = []
    for parsed in parse_content(stripped):
        if isinstance(parsed, Refused):
            where = f" in {parsed.text!r}" if parsed.text and parsed.text != stripped else ""
            hint = ""
            first = stripped.split()[0]
            if parsed.method is None and not stripped.startswith(("{", "[")):
                hint = (
                    f" (a rule is a command without the endpoint, e.g. {EXAMPLE!r}; "
                    f"{first!r} is no command)"
                )
            raise BadRule(f"rule {stripped!r}: {parsed.reason}{where}{hint}")
        commands.append(parsed)
    return Rule(stripped, tuple(commands))


def parse_rules(texts: Iterable[str]) -> tuple[Rule, ...]:
    return tuple(parse_rule(text) for text in texts)


class OnRegisterRules:
    """Runs ``rules`` for every endpoint that registers with the console's server."""

    def __init__(self, console: Console, rules: Sequence[Rule]) -> None:
        self.console = console
        self.rules = tuple(rules)
        self.waiting: set[str] = set()
        """Endpoints queued whose rules have not started yet."""
        self.runs = 0
        """Endpoints whose rules were started."""
        self.coalesced = 0
        """Registers of an endpoint already waiting (its rules run once)."""
        self.skipped = 0
        """Endpoints gone (de-registered, expired) before their turn came."""
        self._remove = console.server.add_listener(self._on_event)

    def close(self) -> None:
        self._remove()

    def _on_event(self, event: ServerEvent) -> None:
        if event.kind is not EventKind.REGISTRATION or not self.rules:
            return
        endpoint = event.endpoint
        if endpoint in self.waiting:
            self.coalesced += 1
            return
        self.waiting.add(endpoint)

        async def job() -> None:
            self.waiting.discard(endpoint)
            if self.console.server.registration(endpoint) is None:
                self.skipped += 1
                return
            self.runs += 1
            for rule in self.rules:
                await self.console.run_content(endpoint, rule.text)

        if not self.console.pool.submit(job):
            self.waiting.discard(endpoint)

    def describe(self) -> dict[str, object]:
        """The rules and their counters (the console's ``RULES``)."""
        return {
            "on_register": [rule.text for rule in self.rules],
            "devices": self.runs,
            "coalesced": self.coalesced,
            "skipped": self.skipped,
            "pool": self.console.pool.stats.as_json(),
        }
