"""Where each device's DTLS pre-shared key comes from, and where a server finds it again.

A :class:`CredentialSource` gives the PSK identity and key of the device with a
given fleet index and endpoint name; a :class:`KeyStore` answers the key of an
identity (what a DTLS server asks during a handshake). Three sources do both:

- :class:`PatternCredentials`: an identity pattern and a key pattern rendered
  with the device's ``{index}`` and ``{endpoint}`` (Python format syntax:
  ``sim-{index:06d}``, ``hex:00112233{index:024x}``); the key text is hex or
  base64 as :func:`~fleet.client.coap.psk.parse_psk_key` reads it. The server
  side inverts the identity pattern (it must hold ``{index}`` or ``{endpoint}``,
  unless it is a single identity).
- :class:`KeysFile`: a CSV file of ``endpoint,identity,key`` lines (an optional
  header row with those names first, ``#`` comment lines, blank lines); errors name
  ``file:line``.
- :class:`SingleCredentials`: one identity and key for every device (tests).

Keys never appear in a ``repr`` or in an error message.
"""

from __future__ import annotations

import csv
import re
import string
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final, Protocol, runtime_checkable

from fleet.client.coap.psk import PskCredentials, parse_psk_key
from fleet.errors import FleetError
from fleet.model.reading import MAX_KEYS_BYTES, FileTooLarge, read_bounded

FIELDS: Final = ("index", "endpoint")
"""The placeholders an identity or key pattern may use."""
CSV_HEADER: Final = ("endpoint", "identity", "key")
MAX_KEYS_LINE: Final = 4096
"""Characters in one line of a keys file (an identity and a key are far shorter)."""


class CredentialError(FleetError, ValueError):
    """Credentials that cannot be used; says which file and line, never the key."""


class CredentialSource(Protocol):
    """PSK identity and key per device."""

    def credentials(self, index: int, endpoint: str) -> PskCredentials:
        """The identity and key of device ``index`` (endpoint name ``endpoint``)."""
        ...


@runtime_checkable
class KeyStore(Protocol):
    """What a DTLS server asks: the key of an identity (``None``: unknown)."""

    def key_for(self, identity: bytes) -> bytes | None: ...


# -- patterns ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Placeholder:
    name: str
    spec: str


def _parse_pattern(pattern: str, what: str) -> list[str | _Placeholder]:
    """Literal texts and placeholders of a format pattern; unknown names are errors."""
    parts: list[str | _Placeholder] = []
    shown = f"{what} pattern {pattern!r}" if what == "identity" else f"{what} pattern"
    try:
        parsed = list(string.Formatter().parse(pattern))
    except ValueError as error:
        raise CredentialError(f"{shown}: {error}") from None
    for literal, name, spec, conversion in parsed:
        if literal:
            parts.append(literal)
        if name is None:
            continue
        if name not in FIELDS or conversion:
            raise CredentialError(
                f"{shown}: unknown placeholder {{{name}}} "
                f"(use {{index}} or {{endpoint}}, e.g. {{index:06d}})"
            )
        placeholder = _Placeholder(name, spec or "")
        try:  # a spec the value's type does not take fails here, not on the first device
            format(0 if name == "index" else "endpoint", placeholder.spec)
        except (ValueError, TypeError) as error:
            raise CredentialError(
                f"{shown}: {{{name}:{placeholder.spec}}} is not a valid format for "
                f"{'an integer' if name == 'index' else 'a text'}: {error}"
            ) from None
        parts.append(placeholder)
    return parts


def _render(parts: list[str | _Placeholder], index: int, endpoint: str) -> str:
    out: list[str] = []
    for part in parts:
        if isinstance(part, str):
            out.append(part)
        else:
            value: object = index if part.name == "index" else endpoint
            out.append(format(value, part.spec))
    return "".join(out)


_BASES: Final = {"x": (16, "[0-9a-f]"), "X": (16, "[0-9A-F]"), "o": (8, "[0-7]"), "b": (2, "[01]")}


def _inverse(parts: list[str | _Placeholder]) -> re.Pattern[str]:
    """A regular expression matching what the pattern renders, capturing the placeholders."""
    out: list[str] = []
    seen: set[str] = set()
    for part in parts:
        if isinstance(part, str):
            out.append(re.escape(part))
        elif part.name in seen:
            out.append(f"(?P={part.name})")
        else:
            seen.add(part.name)
            if part.name == "index":
                digits = _BASES.get(part.spec[-1:], (10, "[0-9]"))[1]
                out.append(f"(?P<index>[ +-]*{digits}+)")
            else:
                out.append("(?P<endpoint>.+?)")
    return re.compile("".join(out), re.DOTALL)


class PatternCredentials:
    """Identity and key rendered from patterns on the device index and endpoint name.

    ``first`` and ``count`` bound the indexes :meth:`key_for` accepts (``None``:
    any). ``endpoint_of(index)`` names device ``index`` when the patterns use
    ``{endpoint}`` together with ``{index}`` on the server side.
    """

    __slots__ = ("_endpoint_of", "_first", "_identity", "_inverse", "_key", "_last", "identity")

    def __init__(
        self,
        identity: str,
        key: str,
        *,
        first: int = 0,
        count: int | None = None,
        endpoint_of: Callable[[int], str] | None = None,
    ) -> None:
        self.identity = identity
        """The identity pattern (shown in messages; the key pattern never is)."""
        self._identity = _parse_pattern(identity, "identity")
        self._key = _parse_pattern(key, "key")
        named = {p.name for p in self._identity if isinstance(p, _Placeholder)}
        keyed = {p.name for p in self._key if isinstance(p, _Placeholder)}
        if keyed and not named:
            raise CredentialError(
                f"identity pattern {identity!r} is the same for every device while the key "
                "differs: use {index} or {endpoint} in the identity too"
            )
        if "index" in keyed and "index" not in named and "endpoint" in named:
            raise CredentialError(
                f"identity pattern {identity!r}: the key uses {{index}}, so the identity must "
                "too (a server finds the key from the identity)"
            )
        self._inverse = _inverse(self._identity)
        self._first = first
        self._last = None if count is None else first + count - 1
        self._endpoint_of = endpoint_of

    def uses(self, name: str, *, key_only: bool = False) -> bool:
        """Whether the identity or key pattern (``key_only``: the key) holds ``{name}``."""
        parts = self._key if key_only else (*self._identity, *self._key)
        return any(isinstance(part, _Placeholder) and part.name == name for part in parts)

    def credentials(self, index: int, endpoint: str) -> PskCredentials:
        try:
            identity = _render(self._identity, index, endpoint)
            text = _render(self._key, index, endpoint)
        except (ValueError, TypeError, OverflowError) as error:
            raise CredentialError(
                f"device {endpoint}: cannot render the patterns: {error}"
            ) from None
        if not identity:
            raise CredentialError(f"device {endpoint}: the identity pattern renders empty")
        try:
            return PskCredentials(identity.encode(), parse_psk_key(text))
        except ValueError as error:
            raise CredentialError(f"device {endpoint} (identity {identity}): {error}") from None

    def key_for(self, identity: bytes) -> bytes | None:
        try:
            text = identity.decode()
        except UnicodeDecodeError:
            return None
        match = self._inverse.fullmatch(text)
        if match is None:
            return None
        found = match.groupdict()
        index = self._first
        if "index" in found:
            spec = next(
                p.spec for p in self._identity if isinstance(p, _Placeholder) and p.name == "index"
            )
            base = _BASES.get(spec[-1:], (10, ""))[0]
            try:
                index = int(found["index"].strip(), base)
            except ValueError:
                return None
        if index < self._first or (self._last is not None and index > self._last):
            return None
        endpoint = found.get("endpoint")
        if endpoint is None:
            if self.uses("endpoint"):
                if self._endpoint_of is None:
                    return None
                endpoint = self._endpoint_of(index)
            else:
                endpoint = ""
        try:
            credentials = self.credentials(index, endpoint)
        except CredentialError:
            return None
        return credentials.key if credentials.identity == identity else None

    def with_endpoints(self, endpoint_of: Callable[[int], str]) -> PatternCredentials:
        """The same patterns, with ``endpoint_of(index)`` naming devices for :meth:`key_for`."""
        copy = object.__new__(PatternCredentials)
        for name in PatternCredentials.__slots__:
            object.__setattr__(copy, name, getattr(self, name))
        copy._endpoint_of = endpoint_of
        return copy

    def __repr__(self) -> str:
        return f"PatternCredentials(identity={self.identity!r}, key=<pattern>)"


# -- a keys file ------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class KeysFile:
    """``endpoint,identity,key`` per device, read from a CSV file (see :meth:`load`)."""

    path: Path
    by_endpoint: Mapping[str, PskCredentials] = field(repr=False)
    by_identity: Mapping[bytes, bytes] = field(repr=False)

    @classmethod
    def load(cls, path: Path | str) -> KeysFile:
        """Read and check the whole file; :class:`CredentialError` names ``file:line``."""
        path = Path(path)
        try:
            text = read_bounded(path, MAX_KEYS_BYTES).decode("utf-8-sig")
        except FileTooLarge as error:
            raise CredentialError(str(error)) from None
        except (OSError, UnicodeDecodeError) as error:
            raise CredentialError(f"{path}: cannot read the keys file: {error}") from None
        return cls.parse(text.splitlines(), path)

    @classmethod
    def parse(cls, lines: Iterable[str], path: Path) -> KeysFile:
        by_endpoint: dict[str, PskCredentials] = {}
        by_identity: dict[bytes, bytes] = {}
        where: dict[str, int] = {}
        first_row = True
        for number, line in enumerate(lines, 1):
            stripped = line.strip()
            if not stripped or stripped.startswith("#"):
                continue
            at = f"{path}:{number}"
            if len(stripped) > MAX_KEYS_LINE:
                raise CredentialError(
                    f"{at}: the line is longer than {MAX_KEYS_LINE} characters (the limit)"
                )
            try:
                cells = next(csv.reader([stripped], skipinitialspace=True))
            except csv.Error as error:
                raise CredentialError(f"{at}: not a CSV line: {error}") from None
            row = [cell.strip() for cell in cells]
            if first_row:
                first_row = False
                if tuple(cell.lower() for cell in row) == CSV_HEADER:
                    continue
            if len(row) != 3:
                raise CredentialError(
                    f"{at}: expected 3 columns endpoint,identity,key, got {len(row)}"
                )
            endpoint, identity, key = row
            if not endpoint or not identity:
                raise CredentialError(f"{at}: the endpoint and the identity must not be empty")
            if endpoint in where:
                raise CredentialError(
                    f"{at}: endpoint {endpoint!r} again (first on line {where[endpoint]})"
                )
            try:
                credentials = PskCredentials(identity.encode(), parse_psk_key(key))
            except ValueError as error:
                raise CredentialError(f"{at}: endpoint {endpoint!r}: {error}") from None
            known = by_identity.get(credentials.identity)
            if known is not None and known != credentials.key:
                raise CredentialError(
                    f"{at}: identity {identity!r} is listed before with another key"
                )
            where[endpoint] = number
            by_endpoint[endpoint] = credentials
            by_identity[credentials.identity] = credentials.key
        if not by_endpoint:
            raise CredentialError(f"{path}: the keys file lists no device")
        return cls(path, by_endpoint, by_identity)

    def credentials(self, index: int, endpoint: str) -> PskCredentials:
        found = self.by_endpoint.get(endpoint)
        if found is None:
            raise CredentialError(f"{self.path}: no keys for endpoint {endpoint!r}")
        return found

    def key_for(self, identity: bytes) -> bytes | None:
        return self.by_identity.get(identity)

    def __len__(self) -> int:
        return len(self.by_endpoint)


# -- one value --------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SingleCredentials:
    """The same identity and key for every device (tests, a lab server with one key)."""

    psk: PskCredentials

    @classmethod
    def of(cls, identity: str, key: str) -> SingleCredentials:
        """Text identity and key (hex or base64); :class:`CredentialError` if unusable."""
        try:
            return cls(PskCredentials.of(identity, key))
        except ValueError as error:
            raise CredentialError(str(error)) from None

    def credentials(self, index: int, endpoint: str) -> PskCredentials:
        return self.psk

    def key_for(self, identity: bytes) -> bytes | None:
        return self.psk.key if identity == self.psk.identity else None


def key_lookup(stores: Iterable[KeyStore]) -> Callable[[bytes], bytes | None]:
    """One ``lookup(identity) -> key`` asking ``stores`` in order (for a DTLS server)."""
    kept = tuple(stores)

    def lookup(identity: bytes) -> bytes | None:
        for store in kept:
            key = store.key_for(identity)
            if key is not None:
                return key
        return None

    return lookup
