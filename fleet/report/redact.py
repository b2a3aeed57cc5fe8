"""Secrets out of the scenario text a report shows.

A report embeds the scenario that ran, and a DTLS-PSK scenario carries its keys (``key:`` of a
``security:`` or ``bootstrap:`` section, a literal or a pattern such as
``hex:00112233{index:024x}``). :func:`redact_scenario` replaces the value of every ``key``
entry, in block style (``key: ...``, including ``|``/``>`` block scalars) and in flow style
(``{identity: a, key: b}``), with :data:`REDACTED`; everything else is left as written, so the
line numbers still match the file. Certificates and private keys are named by file, never
inlined, so file patterns stay visible.
"""

from __future__ import annotations

import re
from typing import Final

REDACTED: Final = '"<redacted>"'

# ``key:`` opening a block-style entry, possibly as the first key of a list item
_BLOCK: Final = re.compile(r"^(?P<indent>\s*)(?P<lead>(?:-\s+)?)key\s*:(?P<value>.*)$")
# ``key:`` inside a flow mapping: after ``{`` or ``,``; the value runs to ``,`` ``}`` or a comment
_FLOW: Final = re.compile(
    r"(?P<pre>[{,]\s*key\s*:\s*)"
    r"(?P<value>\"(?:[^\"\\]|\\.)*\"|'(?:[^']|'')*'|[^,}#\s][^,}#]*?)"
    r"(?=\s*(?:[,}]|\s#|$))"
)


def _comment(value: str) -> str:
    """A trailing `` # comment`` of a block-style value, kept as written (or '')."""
    match = re.search(r"\s+#.*$", value)
    return match.group(0) if match else ""


def redact_scenario(text: str) -> str:
    """The scenario text with the value of every ``key`` entry replaced by :data:`REDACTED`."""
    out: list[str] = []
    block_indent: int | None = None  # inside a redacted block scalar: its key's indent
    for line in text.splitlines(keepends=True):
        body = line.rstrip("\r\n")
        ending = line[len(body) :]
        if block_indent is not None:
            indent = len(body) - len(body.lstrip())
            if body.strip() == "" or indent > block_indent:
                out.append(ending if body.strip() == "" else " " * indent + "<redacted>" + ending)
                continue
            block_indent = None
        match = _BLOCK.match(body)
        if match is not None:
            value = match.group("value").strip()
            if value.startswith(("|", ">")) or value == "":
                block_indent = len(match.group("indent")) + len(match.group("lead"))
                out.append(line)
                continue
            if value and not value.startswith("#"):
                prefix = body[: match.start("value")]
                out.append(f"{prefix} {REDACTED}{_comment(match.group('value'))}{ending}")
                continue
        out.append(_FLOW.sub(lambda m: m.group("pre") + REDACTED, body) + ending)
    return "".join(out)
