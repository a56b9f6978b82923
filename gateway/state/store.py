"""One store's state for one input partition: a SQLite file, with every change staged for the changelog.

Why SQLite (the standard library's ``sqlite3``) rather than RocksDB: one file per partition that commits the entries
*and* the changelog checkpoint in one atomic transaction, crash-safe by its journal, bounded in memory by its page
cache (state lives on disk), checked by ``PRAGMA quick_check``, and readable by an operator with the ``sqlite3`` shell;
no native wheel to trust. A batch costs a few microseconds a write, far below the rest of a record's work.

The store never commits on its own. The runtime opens a transaction for a batch, the application reads and writes
(the changes are visible to it at once, and staged as changelog records), and after the *Kafka* transaction that
carries those changelog records has committed, the runtime commits this one with the checkpoint: the offset of the
last changelog record it wrote. A crash in between leaves the file at the previous batch, and the restore replays the
changelog from the checkpoint on, so the file always converges on the changelog.
"""

from __future__ import annotations

import contextlib
import logging
import sqlite3
import time
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Literal

from gateway.kafka.producer import OutboundMessage
from gateway.state.changelog import Change, entry_change, stream_time_change, timer_change

__all__ = ["PartitionStore", "StoreCorruptError"]

_log = logging.getLogger(__name__)

_SCHEMA = """
CREATE TABLE IF NOT EXISTS entries (key BLOB PRIMARY KEY, value BLOB NOT NULL, expires_ms INTEGER) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS entries_by_expiry ON entries (expires_ms) WHERE expires_ms IS NOT NULL;
CREATE TABLE IF NOT EXISTS timers (key BLOB, name TEXT, due_ms INTEGER NOT NULL, PRIMARY KEY (key, name)) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS timers_by_due ON timers (due_ms);
CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;
"""
_FORMAT = "1"
# Page cache per open store: a bound on memory whatever the number of entries on disk.
_CACHE_KIB = 8192


def _wall_ms() -> int:
    return int(time.time() * 1000)


class StoreCorruptError(Exception):
    """A store file cannot be trusted (not a database, failed integrity check, foreign or newer format)."""


class PartitionStore:
    """The entries, timers and event-time clock of one store for one input partition.

    Args:
        path: The SQLite file; created when missing.
        changelog: The changelog topic of the store.
        partition: The input partition, and the changelog partition the changes go to.
        verify: When to run ``PRAGMA quick_check`` on open: ``always``, ``after-crash`` (the file was not closed
            cleanly: the process died; the default, since a rebalance reopens every store), or ``never``.

    Raises:
        StoreCorruptError: The file exists but cannot be trusted; delete it and restore from the changelog.
    """

    def __init__(
        self,
        path: Path,
        changelog: str,
        partition: int,
        *,
        verify: Literal["always", "after-crash", "never"] = "after-crash",
    ) -> None:
        self.path = path
        self.changelog = changelog
        self.partition = partition
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            self._db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
            self._configure(verify)
        except sqlite3.DatabaseError as exc:
            with contextlib.suppress(Exception):
                self._db.close()
            raise StoreCorruptError(f"{path}: {exc}") from exc
        self._pending: dict[bytes, OutboundMessage] = {}
        self._in_txn = False
        self.checkpoint: int | None = self._meta_int("checkpoint")
        self.stream_time_ms: int = self._meta_int("stream_time_ms") or 0
        self.committed_at_ms: int | None = self._meta_int("committed_at_ms")
        self._time_changed = False

    def _configure(self, verify: Literal["always", "after-crash", "never"]) -> None:
        db = self._db
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA synchronous=NORMAL")
        db.execute(f"PRAGMA cache_size=-{_CACHE_KIB}")
        db.executescript(_SCHEMA)
        found = db.execute("SELECT value FROM meta WHERE name = 'format'").fetchone()
        if found is None:
            db.execute("INSERT INTO meta VALUES ('format', ?), ('changelog', ?)", (_FORMAT, self.changelog))
        else:
            if found[0] != _FORMAT:
                raise sqlite3.DatabaseError(f"store format {found[0]}, this gateway reads {_FORMAT}")
            topic = db.execute("SELECT value FROM meta WHERE name = 'changelog'").fetchone()
            if topic is None or topic[0] != self.changelog:
                raise sqlite3.DatabaseError(f"the file belongs to changelog {topic}, not {self.changelog}")
            clean = db.execute("SELECT value FROM meta WHERE name = 'clean'").fetchone()
            if verify == "always" or (verify == "after-crash" and (clean is None or clean[0] != "1")):
                result = db.execute("PRAGMA quick_check").fetchone()
                if result is None or result[0] != "ok":
                    raise sqlite3.DatabaseError(f"integrity check failed: {result}")
        db.execute("INSERT OR REPLACE INTO meta VALUES ('clean', '0')")

    def _meta_int(self, name: str) -> int | None:
        row = self._db.execute("SELECT value FROM meta WHERE name = ?", (name,)).fetchone()
        return None if row is None else int(row[0])

    # -- the application's view, inside a batch -----------------------------------------------------------------------

    def get(self, key: bytes) -> bytes | None:
        """The entry's bytes; None if absent or expired by the partition's event time."""
        row = self._db.execute("SELECT value, expires_ms FROM entries WHERE key = ?", (key,)).fetchone()
        if row is None or (row[1] is not None and row[1] <= self.stream_time_ms):
            return None
        return bytes(row[0])

    def put(self, key: bytes, value: bytes, expires_ms: int | None = None) -> None:
        """Write an entry; it expires (is deleted) once the partition's event time reaches ``expires_ms``."""
        self._begin()
        self._db.execute("INSERT OR REPLACE INTO entries VALUES (?, ?, ?)", (key, value, expires_ms))
        self._stage(entry_change(self.changelog, self.partition, key, value, expires_ms))

    def delete(self, key: bytes) -> None:
        """Delete an entry (and write its tombstone to the changelog, even if it was absent)."""
        self._begin()
        self._db.execute("DELETE FROM entries WHERE key = ?", (key,))
        self._stage(entry_change(self.changelog, self.partition, key, None, None))

    def schedule(self, key: bytes, name: str, due_ms: int) -> None:
        """Set the timer ``name`` of ``key`` to fire once the event time reaches ``due_ms`` (replacing it if set)."""
        self._begin()
        self._db.execute("INSERT OR REPLACE INTO timers VALUES (?, ?, ?)", (key, name, due_ms))
        self._stage(timer_change(self.changelog, self.partition, key, name, due_ms))

    def cancel(self, key: bytes, name: str) -> None:
        """Remove the timer ``name`` of ``key``, if set."""
        self._begin()
        self._db.execute("DELETE FROM timers WHERE key = ? AND name = ?", (key, name))
        self._stage(timer_change(self.changelog, self.partition, key, name, None))

    def timer(self, key: bytes, name: str) -> int | None:
        """The due time of a timer, or None if it is not set."""
        row = self._db.execute("SELECT due_ms FROM timers WHERE key = ? AND name = ?", (key, name)).fetchone()
        return None if row is None else int(row[0])

    def advance(self, event_time_ms: int) -> None:
        """Move the partition's event-time clock forward (never back)."""
        if event_time_ms > self.stream_time_ms:
            self._begin()
            self.stream_time_ms = event_time_ms
            self._time_changed = True

    def due_timers(self, upto_ms: int, limit: int) -> list[tuple[bytes, str, int]]:
        """Timers due at or before ``upto_ms``, earliest first: (key, name, due time)."""
        rows = self._db.execute(
            "SELECT key, name, due_ms FROM timers WHERE due_ms <= ? ORDER BY due_ms, key, name LIMIT ?",
            (upto_ms, limit),
        ).fetchall()
        return [(bytes(k), str(n), int(d)) for k, n, d in rows]

    def expired(self, upto_ms: int, limit: int) -> list[bytes]:
        """Keys of entries that expired at or before ``upto_ms``."""
        rows = self._db.execute(
            "SELECT key FROM entries WHERE expires_ms <= ? ORDER BY expires_ms LIMIT ?", (upto_ms, limit)
        ).fetchall()
        return [bytes(k) for (k,) in rows]

    def items(self) -> Iterator[tuple[bytes, bytes]]:
        """Every live entry (for inspection and tests), in key order."""
        for key, value in self._db.execute(
            "SELECT key, value FROM entries WHERE expires_ms IS NULL OR expires_ms > ? ORDER BY key",
            (self.stream_time_ms,),
        ):
            yield bytes(key), bytes(value)

    def count(self) -> int:
        """Entries on disk, expired ones not yet swept included."""
        return int(self._db.execute("SELECT count(*) FROM entries").fetchone()[0])

    # -- the runtime's side ---------------------------------------------------------------------------------------

    def changes(self) -> list[OutboundMessage]:
        """The changelog records of the open transaction: the last change of each key, in the order of those changes."""
        out = list(self._pending.values())
        if self._time_changed:
            out.append(stream_time_change(self.changelog, self.partition, self.stream_time_ms))
        return out

    def commit(self, changelog_offset: int | None) -> None:
        """Make the open transaction durable, after its changelog records were committed to Kafka.

        Args:
            changelog_offset: Offset of the last changelog record written for this partition in that Kafka
                transaction; None keeps the previous checkpoint (only ever too early, which costs replay, never
                correctness).
        """
        if not self._in_txn:
            return
        if changelog_offset is not None:
            self._db.execute("INSERT OR REPLACE INTO meta VALUES ('checkpoint', ?)", (str(changelog_offset),))
        if self._time_changed:
            self._db.execute("INSERT OR REPLACE INTO meta VALUES ('stream_time_ms', ?)", (str(self.stream_time_ms),))
        self._db.execute("INSERT OR REPLACE INTO meta VALUES ('committed_at_ms', ?)", (str(_wall_ms()),))
        self._db.execute("COMMIT")
        if changelog_offset is not None:
            self.checkpoint = changelog_offset
        self._end()

    def rollback(self) -> None:
        """Forget the open transaction (its Kafka transaction was aborted)."""
        if not self._in_txn:
            return
        self._db.execute("ROLLBACK")
        self.stream_time_ms = self._meta_int("stream_time_ms") or 0
        self._end()

    def apply(self, changes: Iterable[Change], last_offset: int) -> int:
        """Apply changelog records read back during a restore, in one transaction ending at ``last_offset``.

        Returns:
            How many records were applied.
        """
        db, applied = self._db, 0
        db.execute("BEGIN")
        try:
            for change in changes:
                applied += 1
                if change.kind == "entry":
                    if change.value is None:
                        db.execute("DELETE FROM entries WHERE key = ?", (change.key,))
                    else:
                        db.execute(
                            "INSERT OR REPLACE INTO entries VALUES (?, ?, ?)", (change.key, change.value, change.number)
                        )
                elif change.kind == "timer":
                    if change.number is None:
                        db.execute("DELETE FROM timers WHERE key = ? AND name = ?", (change.key, change.name))
                    else:
                        db.execute(
                            "INSERT OR REPLACE INTO timers VALUES (?, ?, ?)", (change.key, change.name, change.number)
                        )
                elif change.number is not None and change.number > self.stream_time_ms:
                    self.stream_time_ms = change.number
            db.execute("INSERT OR REPLACE INTO meta VALUES ('checkpoint', ?)", (str(last_offset),))
            db.execute("INSERT OR REPLACE INTO meta VALUES ('stream_time_ms', ?)", (str(self.stream_time_ms),))
            db.execute("INSERT OR REPLACE INTO meta VALUES ('committed_at_ms', ?)", (str(_wall_ms()),))
            db.execute("COMMIT")
        except BaseException:
            db.execute("ROLLBACK")
            raise
        self.checkpoint = last_offset
        return applied

    def close(self) -> None:
        """Roll back anything open, mark the file closed cleanly, and close it."""
        with contextlib.suppress(sqlite3.Error):
            self.rollback()
            self._db.execute("INSERT OR REPLACE INTO meta VALUES ('clean', '1')")
        self._db.close()

    def _begin(self) -> None:
        if not self._in_txn:
            self._db.execute("BEGIN")
            self._in_txn = True

    def _stage(self, message: OutboundMessage) -> None:
        # Only a key's last change in a batch needs to reach the changelog; compaction would keep no other.
        self._pending.pop(message.key or b"", None)
        self._pending[message.key or b""] = message

    def _end(self) -> None:
        self._in_txn = False
        self._pending = {}
        self._time_changed = False
