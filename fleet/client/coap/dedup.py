"""Bounded message deduplication (RFC 7252 §4.5) keyed by (remote, message id).

A CON or NON seen again within its lifetime must not be processed twice; for a
CON the same ACK (piggybacked response or empty ACK) is sent again. Unlike a
cache kept for the whole EXCHANGE_LIFETIME without bound, this one holds at
most ``max_entries`` entries and drops those older than ``max_age`` seconds, so
memory stays flat under sustained load. Entries are kept in arrival order,
so eviction and expiry only ever look at the oldest entry.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Hashable


class DedupEntry:
    """What is remembered about one received message."""

    __slots__ = ("reply", "stamp")

    def __init__(self, stamp: float, reply: bytes | None) -> None:
        self.stamp = stamp
        self.reply = reply


class DedupCache:
    """(remote, message id) -> the reply sent for it, bounded in count and age."""

    __slots__ = ("_entries", "duplicates", "evicted", "max_age", "max_entries")

    def __init__(self, max_entries: int, max_age: float) -> None:
        if max_entries < 1:
            raise ValueError("max_entries must be at least 1")
        if max_age <= 0:
            raise ValueError("max_age must be positive")
        self.max_entries = max_entries
        self.max_age = max_age
        self._entries: OrderedDict[Hashable, DedupEntry] = OrderedDict()
        self.duplicates = 0
        self.evicted = 0

    def __len__(self) -> int:
        return len(self._entries)

    def find(self, key: Hashable, now: float) -> DedupEntry | None:
        """The live entry for ``key``, counting it as a duplicate; ``None`` if new."""
        entry = self._entries.get(key)
        if entry is None:
            return None
        if now - entry.stamp >= self.max_age:
            self.expire(now)
            return None
        self.duplicates += 1
        return entry

    def add(self, key: Hashable, now: float, reply: bytes | None = None) -> DedupEntry:
        """Remember a new message (the reply can be set later on the entry)."""
        entries = self._entries
        self.expire(now)
        while len(entries) >= self.max_entries:
            entries.popitem(last=False)
            self.evicted += 1
        entry = DedupEntry(now, reply)
        entries[key] = entry
        entries.move_to_end(key)
        return entry

    def set_reply(self, key: Hashable, reply: bytes) -> None:
        """Record the reply sent for ``key`` if it is still remembered."""
        entry = self._entries.get(key)
        if entry is not None:
            entry.reply = reply

    def expire(self, now: float) -> None:
        """Drop every entry that is ``max_age`` seconds old or older."""
        entries = self._entries
        max_age = self.max_age
        while entries:
            key, entry = next(iter(entries.items()))
            # stamp + max_age, exactly as the sweep timer is armed (now - max_age can round
            # below the stamp and keep an entry the timer fires for: a sweep that never ends)
            if entry.stamp + max_age > now:
                return
            del entries[key]

    def oldest_stamp(self) -> float | None:
        """Arrival time of the oldest entry, or ``None`` when empty."""
        for entry in self._entries.values():
            return entry.stamp
        return None

    def clear(self) -> None:
        self._entries.clear()
