"""The platform document's examples, read in place from ``../shared/seed/`` (never copied).

:func:`examples` returns every JSON object of the document in order, each with the request
line (``POST .../outgoing-msg``) written before it, if any. :func:`same_shape` compares one of
ours with the document's: the same members, of the same JSON types, recursively (values may
differ: ours come from our devices).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

SEED = Path(__file__).resolve().parents[2].parent / "shared" / "seed" / "000_ce6ad190abf339b7.txt"
_REQUEST = re.compile(r"^(GET|POST) \{\{API_URL\}\}(\S+)")


@dataclass(frozen=True)
class Example:
    request: str | None
    """``"POST /device-management-orchestrator/v3/{{TENANT}}/.../outgoing-msg"`` or None."""
    body: Any
    heading: str
    """The last line before the object that is not JSON (its caption in the document)."""


def examples() -> list[Example]:
    lines = SEED.read_text(encoding="utf-8").splitlines()
    found: list[Example] = []
    request: str | None = None
    heading = ""
    index = 0
    while index < len(lines):
        line = lines[index]
        match = _REQUEST.match(line)
        if match:
            request = f"{match.group(1)} {match.group(2)}"
        if line.strip() == "{":
            depth, end = 0, index
            for end in range(index, len(lines)):
                depth += lines[end].count("{") - lines[end].count("}")
                if depth == 0:
                    break
            text = "\n".join(lines[index : end + 1]).rstrip(",")
            found.append(Example(request, json.loads(text), heading))
            index = end + 1
            continue
        if line.strip() and not line.startswith(("Accept", "Content-Type", "X-M2M", "Author")):
            heading = line.strip()
        index += 1
    return found


def kind(value: Any) -> str:
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int | float):
        return "number"
    if value is None:
        return "null"
    return type(value).__name__


def same_shape(
    ours: Any, theirs: Any, where: str = "$", *, free: tuple[str, ...] = ()
) -> list[str]:
    """Differences in members and types; under a key in ``free`` only the type is compared."""
    if kind(ours) != kind(theirs):
        return [f"{where}: ours is {kind(ours)}, the document's is {kind(theirs)}"]
    problems: list[str] = []
    if isinstance(theirs, dict):
        if where.rsplit(".", 1)[-1] in free:
            return []
        missing = sorted(set(theirs) - set(ours))
        extra = sorted(set(ours) - set(theirs))
        if missing:
            problems.append(f"{where}: missing {missing}")
        if extra:
            problems.append(f"{where}: extra {extra}")
        for key in sorted(set(theirs) & set(ours)):
            problems += same_shape(ours[key], theirs[key], f"{where}.{key}", free=free)
    elif isinstance(theirs, list) and theirs and ours:
        problems += same_shape(ours[0], theirs[0], f"{where}[0]", free=free)
    return problems
