"""Moving a log into another store, every byte and hash kept: a desk's SQLite store into a team store.

The copy is of the log itself (each entry's stored bytes and hash, each disclosure, the index of
challenges, and the secret that salts the store's disclosures, so that a person named again in a
challenge keeps their digest). The caches are not copied as bytes: once the copy verifies,
escalate.journal.keep_caches_of works each challenge's out from the source and keeps it in the
target. A source that does not verify is refused, and so is a target that already holds
entries; everything is written in one transaction of the target, which then verifies to the same
head fingerprint, or nothing is kept.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from escalate import verify
from escalate.errors import StoreError
from escalate.journal import LogStore

#: entries per INSERT batch
BATCH = 2_000


@dataclass(frozen=True)
class Copied:
    """What a copy moved, and the head fingerprint both stores now share."""

    entries: int
    disclosures: int
    challenges: int
    fingerprint: str


def copy(source: LogStore, target: LogStore) -> Copied:
    """Copy the whole log of ``source`` into the empty store ``target``."""
    checked = verify.verify_store(source, warnings=False)
    if not checked.ok:
        raise StoreError(
            f"the store to copy does not verify: {checked.problem}",
            hint="Nothing was copied. `escalate verify` says more; keep the store as it is.",
        )
    if target.count():
        raise StoreError(
            "the target store already holds entries: a log is copied only into an empty store",
            hint="Make a new team store with `escalate team init URL`. Nothing was copied.",
        )
    rows = source.conn.execute("SELECT seq, challenge, cseq, kind, occurred_at, recorded_at, body, hash FROM entries")
    key = source.conn.execute("SELECT value FROM meta WHERE key = 'disclosure_key'").fetchone()
    c = target.conn
    c.execute("BEGIN IMMEDIATE")
    try:
        if key is not None:
            c.execute("INSERT INTO meta VALUES ('disclosure_key', ?)", (key[0],))
        entries = _batched(target, "INSERT INTO entries VALUES (?, ?, ?, ?, ?, ?, ?, ?)", rows)
        found = source.conn.execute("SELECT digest, seq, bytes FROM disclosures")
        disclosures = _batched(target, "INSERT INTO disclosures VALUES (?, ?, ?)", found)
        index = source.conn.execute("SELECT id, opened_seq FROM challenges ORDER BY opened_seq")
        challenges = _batched(target, "INSERT INTO challenges VALUES (?, ?)", index)
        c.execute("COMMIT")
    except BaseException:
        c.execute("ROLLBACK")
        raise
    copied = verify.verify_store(target, warnings=False)
    if not copied.ok or copied.fingerprint != checked.fingerprint:  # (the target was empty: nothing to undo
        raise StoreError(  # but what was just written, which its triggers keep; say so plainly)
            f"the copy does not verify as the store it was copied from: {copied.problem or copied.fingerprint}",
            hint="Do not use the team store; make a new one and copy again.",
        )
    return Copied(entries, disclosures, challenges, checked.fingerprint)


def _batched(target: LogStore, sql: str, rows: Any) -> int:
    """Insert ``rows`` (a cursor) into the target in batches, each as one statement for many rows; how many."""
    done = 0
    while True:
        batch = rows.fetchmany(BATCH)
        if not batch:
            return done
        target.conn.executemany(
            sql, [tuple(bytes(v) if isinstance(v, memoryview) else v for v in row) for row in batch]
        )
        done += len(batch)
