"""The embedded store: one SQLite file holding the append-only, hash-chained log.

* WAL with ``synchronous=FULL``: an entry the user was told is saved survives a crash or
  power loss. Every append runs in ``BEGIN IMMEDIATE`` so the head it chains to cannot
  move underneath it when several processes write at once.
* Append-only twice over: this class has no update or delete of entries, and triggers
  abort any UPDATE or DELETE on ``entries``, ``disclosures`` and ``challenges``.
* Checkpoints are kept off the append path: SQLite's automatic checkpoint copies the WAL
  into the database inside whichever commit crosses its threshold, which was the slow tail
  of append latency. A background thread checkpoints when appends pause (passive: it never
  blocks a writer), and closing a store that wrote checkpoints too.
* ``state_cache`` holds each challenge's folded state *as of* a given entry number. It is a
  cache, not a record: it is rebuilt from the entries whenever its number does not match
  the challenge's last entry, and nothing is ever read from it that the log cannot rebuild.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import secrets
import sqlite3
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Generic, NamedTuple, TypeVar

from escalate import clock, entry
from escalate.errors import ChallengeError, StoreError, shown
from escalate.paths import ensure_private_dir

SCHEMA_VERSION = 6
#: what a challenge id looks like (C-0001); nothing else is looked up
_CHALLENGE_ID = re.compile(r"C-[0-9]{4,9}")
#: the oldest schema this code can read without upgrading it (4 only adds an index for exports)
READABLE_FROM = 3

MIGRATIONS: list[str] = [
    # 1: the first release
    """
    CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
    CREATE TABLE entries (
        seq INTEGER PRIMARY KEY,
        challenge TEXT NOT NULL,
        cseq INTEGER NOT NULL,
        kind TEXT NOT NULL,
        occurred_at TEXT NOT NULL,
        recorded_at TEXT NOT NULL,
        body BLOB NOT NULL,
        hash TEXT NOT NULL,
        UNIQUE (challenge, cseq)
    );
    CREATE TABLE disclosures (digest TEXT PRIMARY KEY, seq INTEGER NOT NULL, bytes BLOB NOT NULL);
    CREATE INDEX disclosures_seq ON disclosures (seq);
    CREATE TABLE challenges (id TEXT PRIMARY KEY, opened_seq INTEGER NOT NULL);
    CREATE TABLE state_cache (challenge TEXT PRIMARY KEY, cseq INTEGER NOT NULL, state TEXT NOT NULL);
    CREATE TRIGGER entries_no_update BEFORE UPDATE ON entries BEGIN SELECT RAISE(ABORT, 'entries are append-only'); END;
    CREATE TRIGGER entries_no_delete BEFORE DELETE ON entries BEGIN SELECT RAISE(ABORT, 'entries are append-only'); END;
    CREATE TRIGGER disclosures_no_update BEFORE UPDATE ON disclosures BEGIN SELECT RAISE(ABORT, 'append-only'); END;
    CREATE TRIGGER disclosures_no_delete BEFORE DELETE ON disclosures BEGIN SELECT RAISE(ABORT, 'append-only'); END;
    CREATE TRIGGER challenges_no_update BEFORE UPDATE ON challenges BEGIN SELECT RAISE(ABORT, 'append-only'); END;
    CREATE TRIGGER challenges_no_delete BEFORE DELETE ON challenges BEGIN SELECT RAISE(ABORT, 'append-only'); END;
    """,
    # 2: each challenge's list row, kept beside its cached fold (see challenge.listing)
    """
    ALTER TABLE state_cache ADD COLUMN listing_key TEXT;
    ALTER TABLE state_cache ADD COLUMN listing TEXT;
    """,
    # 3: the secret that keys disclosure salts (see entry.keyed_salt); disclosures made before keep theirs
    """
    INSERT OR IGNORE INTO meta VALUES ('disclosure_key', lower(hex(randomblob(32))));
    """,
    # 4: an entry's disclosures in digest order straight from the index (an export needs them sorted,
    # and sorting them entry by entry cost a fifth of a jsonl export)
    """
    CREATE INDEX IF NOT EXISTS disclosures_seq_digest ON disclosures (seq, digest);
    DROP INDEX IF EXISTS disclosures_seq;
    """,
    # 5: a glance at each challenge beside its list row (a few values to order, count and search a list
    # by, current while made at the challenge's last entry), in a table of its own so that reading
    # 10,000 of them never reads the folds and rows
    """
    CREATE TABLE IF NOT EXISTS glances (challenge TEXT PRIMARY KEY, cseq INTEGER NOT NULL, key TEXT NOT NULL,
        glance TEXT NOT NULL);
    """,
    # 6: the caches protected as the log is, as far as they can be: a cached row is replaced whole, for a
    # later entry, and never edited or deleted in place (verify checks them against the log besides)
    """
    CREATE TRIGGER IF NOT EXISTS state_cache_no_update BEFORE UPDATE ON state_cache WHEN NEW.cseq <= OLD.cseq
        BEGIN SELECT RAISE(ABORT, 'a cached state is replaced for a later entry, never edited'); END;
    CREATE TRIGGER IF NOT EXISTS state_cache_no_delete BEFORE DELETE ON state_cache
        BEGIN SELECT RAISE(ABORT, 'cached states are not deleted'); END;
    CREATE TRIGGER IF NOT EXISTS glances_no_update BEFORE UPDATE ON glances
        BEGIN SELECT RAISE(ABORT, 'a glance is replaced, never edited'); END;
    CREATE TRIGGER IF NOT EXISTS glances_no_delete BEFORE DELETE ON glances
        BEGIN SELECT RAISE(ABORT, 'glances are not deleted'); END;
    """,
]


#: a sealed personal value's digest in entry bytes
_SEALED = re.compile(rb'"_sd":"([0-9a-f]{64})"')

#: an entry's columns, named: a store whose schema was changed outside escalate must not shift them
_ENTRY = "seq, challenge, cseq, kind, occurred_at, recorded_at, body, hash"


#: a jsonl export line, made by SQLite's JSON functions from entry ``e`` (DISCLOSED: its disclosures)
_LINE = (
    "CAST('{\"body\":' || json_quote(CAST(e.body AS TEXT)) || ',\"challenge\":' || json_quote(e.challenge) || "
    "',\"cseq\":' || e.cseq || ',\"disclosures\":' || DISCLOSED || ',\"hash\":' || json_quote(e.hash) || "
    "',\"kind\":' || json_quote(e.kind) || ',\"seq\":' || e.seq || '}' AS BLOB)"
)
#: an entry's disclosures in digest order, asked for explicitly (a subquery per entry)
_SORTED_DISCLOSURES = (
    "coalesce((SELECT json_group_object(digest, CAST(bytes AS TEXT)) FROM (SELECT digest, bytes "
    "FROM disclosures d WHERE d.seq = e.seq ORDER BY digest)), '{}')"
)


class StoredEntry(NamedTuple):
    seq: int
    challenge: str
    cseq: int
    kind: str
    occurred_at: str
    recorded_at: str
    body: bytes
    hash: str

    def content(self) -> entry.Content:
        """The entry's content read into its kind's types; bytes that do not hold what escalate
        writes (not JSON, not UTF-8, a field that does not fit) raise a StoreError naming the entry."""
        try:
            return entry.parse_content(self.kind, entry.split(self.body)[1])
        except (ValueError, RecursionError):  # DamagedEntry, or JSON too deep or not UTF-8
            raise damaged_entry(self) from None


DAMAGE_HINT = "`escalate verify` names the first damaged entry. Keep the file as it is."


def damaged_entry(e: Any) -> StoreError:
    return StoreError(
        f"entry {e.seq} (challenge {e.challenge}) cannot be read: the store was changed outside escalate",
        hint=DAMAGE_HINT,
    )


def damaged_challenge(challenge: str) -> StoreError:
    """A challenge whose entries parse but are not as escalate wrote them (a changed key, say)."""
    return StoreError(f"challenge {challenge} cannot be read: the store was changed outside escalate", hint=DAMAGE_HINT)


def _translate(exc: sqlite3.Error, path: Path) -> StoreError:
    text = str(exc).lower()
    if "locked" in text or "busy" in text:
        return StoreError(
            f"the store {path} is locked by another program",
            hint="Close other escalate windows or wait, then try again. Nothing was saved.",
        )
    if "readonly" in text or "read-only" in text:
        return StoreError(f"the store {path} is read-only", hint="Check the file's permissions. Nothing was saved.")
    if "disk is full" in text or "database or disk is full" in text:
        return StoreError(
            f"the disk holding {path} is full", hint="Free some space, then try again. Nothing was saved."
        )
    if "not a database" in text or "malformed" in text or "corrupt" in text:
        return StoreError(
            f"the store {path} is damaged or is not an escalate store ({exc})",
            hint="Keep the file for investigation; `escalate verify` says what it can read.",
        )
    if "unable to open" in text:
        return StoreError(f"cannot open the store {path}", hint="Check the folder exists and is writable.")
    return StoreError(f"store error in {path}: {exc}")


def uri_of(path: str | os.PathLike[str], readonly: bool = False) -> str:
    """SQLite URI of a path; '%', '?' and '#' in folder names are escaped (they would end the path)."""
    text = os.fspath(path).replace("%", "%25").replace("?", "%3f").replace("#", "%23")
    return f"file:{text}?mode=ro" if readonly else f"file:{text}"


S = TypeVar("S")


class WholeFold(Exception):
    """Raised by a fold's ``step`` when one more entry changes what came before it (a correction of an
    earlier entry's time): the store folds the challenge's entries again, the new one with them."""


@dataclass(frozen=True)
class Fold(Generic[S]):
    """How a challenge's entries fold into its summary ``S``. The layer above (:data:`escalate.challenge.FOLD`)
    hands it to the store, which only runs and caches it: the log knows nothing of challenges.
    ``step`` and ``whole`` raise ValueError for entries that are not a challenge's (changed outside
    escalate); any other exception is a programming error and is never reported as damage."""

    #: the summary of one more entry: (summary so far or None, the entry, its parsed content)
    step: Callable[[S | None, StoredEntry, entry.Content], S]
    #: the summary of a whole challenge's entries
    whole: Callable[[Iterable[StoredEntry]], S]
    #: a cached summary from its text; ValueError if it does not fit (it is worked out again)
    load: Callable[[str | bytes], S]
    #: a summary as cached text
    dump: Callable[[S], str]
    #: (entries recorded late, times the recording clock ran backwards) of a summary, which its cached
    #: text holds as ``$.late`` (a list) and ``$.backwards`` (see :meth:`Store.warning_counts`)
    warnings: Callable[[S], tuple[int, int]]


class Store(Generic[S]):
    """The log. Open with :meth:`open`; use as a context manager to close it."""

    #: a file on this machine, which a worker process may open by its path to share the work (verify,
    #: big exports); a team store (escalate.pgstore) is not
    local = True
    #: each challenge's warnings as its current cached fold holds them (see warning_counts), read by
    #: the database's JSON functions; a cache of another shape reads as none (it is not a fold, which
    #: no reader takes), and the challenge is folded again
    _WARNINGS = (
        "SELECT c.id, s.cseq = (SELECT max(e.cseq) FROM entries e WHERE e.challenge = c.id), "
        "CASE WHEN json_type(s.state, '$.late') = 'array' THEN json_array_length(s.state, '$.late') END, "
        "CASE WHEN json_type(s.state, '$.backwards') = 'integer' THEN json_extract(s.state, '$.backwards') END "
        "FROM challenges c LEFT JOIN state_cache s ON s.challenge = c.id AND json_valid(s.state) "
        "ORDER BY c.opened_seq"
    )

    def __init__(self, conn: sqlite3.Connection, path: Path, fold: Fold[S]) -> None:
        self.conn = conn
        self.path = path
        self.fold = fold
        self._checkpointer: _Checkpointer | None = None
        self._wrote = False
        self._key: bytes | None = None
        #: digests whose disclosure this connection has committed (a row is never deleted), and those of
        #: the transaction under way
        self._disclosed: set[str] = set()
        self._pending: list[str] = []

    # --- opening -----------------------------------------------------------------------

    @classmethod
    def open(
        cls, path: str | os.PathLike[str], *, fold: Fold[S], create: bool = True, readonly: bool = False
    ) -> Store[S]:

        p = Path(path)
        if p.is_dir():
            raise StoreError(f"the store path {p} is a folder, expected a file")
        if not p.exists():
            if not create or readonly:
                raise StoreError(f"no store at {p}", hint="Open a challenge first, or check --data-dir.")
            try:
                ensure_private_dir(p.parent)
                fd = os.open(p, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
                os.close(fd)
            except FileExistsError:
                pass
            except OSError as exc:
                raise StoreError(f"cannot create the store {p}: {exc.strerror}") from None
        old_umask = os.umask(0o077)  # the -wal and -shm files hold entries too: owner only
        conn = None
        try:
            uri = uri_of(p, readonly)
            conn = sqlite3.connect(uri, uri=True, timeout=10.0, isolation_level=None, check_same_thread=False)
            store = cls(conn, p, fold)
            store._configure(readonly, create and not readonly)
        except BaseException as exc:
            if conn is not None:
                conn.close()
            if isinstance(exc, sqlite3.Error):
                raise _translate(exc, p) from None
            if isinstance(exc, UnicodeDecodeError):  # its schema holds text that is not UTF-8
                raise StoreError(
                    f"the store {p} is damaged or is not an escalate store (text that is not UTF-8)",
                    hint="Keep the file for investigation.",
                ) from None
            raise
        finally:
            os.umask(old_umask)
        return store

    def _configure(self, readonly: bool, create: bool = False) -> None:
        c = self.conn
        c.execute("PRAGMA busy_timeout = 10000")
        self._check_is_ours(create)
        if not readonly:
            self._enable_wal()
            c.execute("PRAGMA synchronous = FULL")
        c.execute("PRAGMA foreign_keys = ON")
        version = c.execute("PRAGMA user_version").fetchone()[0]
        if version > SCHEMA_VERSION:
            raise StoreError(
                f"the store {self.path} was written by a newer escalate (schema {version})",
                hint="Upgrade escalate to open it.",
            )
        if version < SCHEMA_VERSION:
            if readonly:
                # Migrations only add tables and columns beside the log, never touch an entry, so a
                # read-only command (verify, audit) upgrades the store once through a short-lived
                # writable connection rather than refuse to read it.
                try:
                    Store.open(self.path, fold=self.fold, create=False).close()
                except StoreError as exc:
                    if version >= READABLE_FROM:  # on read-only media, say: readable as it is
                        return
                    raise StoreError(
                        f"the store {self.path} was written by an older escalate and cannot be upgraded: {exc.message}",
                        hint=exc.hint,
                    ) from None
            else:
                self._migrate(version)

    def _check_is_ours(self, create: bool) -> None:
        """The file is an escalate store, or an empty file a command that records may make one of
        (a store being created this instant, or one whose creation was interrupted); anything else
        is refused untouched: escalate's tables are never added to someone else's SQLite file, and
        a command that only reads never reports an empty file as an empty log."""
        # one statement, so one snapshot: read apart, another escalate creating the store this instant
        # could commit between them, and its new tables look like someone else's
        version, tables = self.conn.execute(
            "SELECT (SELECT user_version FROM pragma_user_version), (SELECT count(*) FROM sqlite_master)"
        ).fetchone()
        if version != 0:
            return
        if tables:
            raise StoreError(
                f"{self.path} is not an escalate store: it is a SQLite file of something else",
                hint="Check --data-dir or ESCALATE_HOME; escalate leaves a file it did not make as it is.",
            )
        if not create:
            raise StoreError(
                f"the store {self.path} is empty: it holds no log, not even an empty one",
                hint="If it held your log, restore it from a backup. Opening a challenge starts a new log in it.",
            )

    def _enable_wal(self) -> None:
        """WAL is a property of the file: set it once. Switching can fail at once with "locked" (the busy
        timeout does not apply) while another process is creating the same new store, so retry briefly."""

        deadline = time.monotonic() + 10
        while True:
            try:
                if self.conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal":
                    return
                self.conn.execute("PRAGMA journal_mode = WAL")
                return
            except sqlite3.OperationalError as exc:
                if "locked" not in str(exc).lower() or time.monotonic() > deadline:
                    raise
                time.sleep(0.05)

    def _migrate(self, current: int) -> None:
        c = self.conn
        c.execute("BEGIN IMMEDIATE")
        try:
            version = c.execute("PRAGMA user_version").fetchone()[0]  # another process may have done it
            for number in range(version, SCHEMA_VERSION):
                for statement in MIGRATIONS[number].split(";\n"):
                    if statement.strip():
                        c.execute(statement)
                c.execute(f"PRAGMA user_version = {number + 1}")
            if version == 0:
                c.execute("INSERT INTO meta VALUES ('store_id', ?)", (secrets.token_hex(8),))
            c.execute("COMMIT")
        except BaseException:
            c.execute("ROLLBACK")
            raise

    def close(self) -> None:
        if self._checkpointer is not None:
            self._checkpointer.stop()
        if self._wrote:
            try:  # keep the WAL short even when other connections stay open (the app and a CLI)
                self.conn.execute("PRAGMA wal_checkpoint(PASSIVE)")
            except sqlite3.Error:
                pass  # a busy checkpoint is retried by the next writer; nothing is lost
        self.conn.close()

    def __enter__(self) -> Store[S]:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- writing -----------------------------------------------------------------------

    def append(
        self,
        challenge: str | None,
        kind: str,
        occurred_at: str,
        author: dict[str, Any],
        data: dict[str, Any],
        *,
        check: Callable[[S | None], None] | None = None,
    ) -> StoredEntry:
        """Append one entry (``challenge=None`` opens a new challenge) and return it as stored.

        ``check`` sees the challenge's folded state inside the write transaction and may raise
        to refuse the entry; nothing is written then.
        """
        return self.append_many([(challenge, kind, occurred_at, author, data, check)])[0]

    def append_many(self, items: list[tuple[Any, ...]]) -> list[StoredEntry]:
        """Append several entries in one transaction: all of them are saved, or none.

        Each item is (challenge, kind, occurred_at, author, data, check) as for :meth:`append`.
        """
        c = self.conn
        try:
            c.execute("BEGIN IMMEDIATE")
        except sqlite3.Error as exc:
            raise _translate(exc, self.path) from None
        self._pending.clear()
        try:
            stored = [self._append_in_tx(*item) for item in items]
            c.execute("COMMIT")
        except sqlite3.Error as exc:
            self._rollback()
            raise _translate(exc, self.path) from None
        except BaseException:
            self._rollback()
            raise
        self._disclosed.update(self._pending)  # (only once they are committed)
        self._after_append()
        return stored

    def _after_append(self) -> None:
        """Keep the WAL short, off the append path (see _Checkpointer)."""
        self._wrote = True
        if self._checkpointer is None:
            self._checkpointer = _Checkpointer(self.path)
        self._checkpointer.appended()

    def _append_in_tx(
        self,
        challenge: str | None,
        kind: str,
        occurred_at: str,
        author: dict[str, Any],
        data: dict[str, Any],
        check: Callable[[S | None], None] | None,
    ) -> StoredEntry:
        fold_step = self.fold.step
        c = self.conn
        head = c.execute("SELECT seq, hash FROM entries ORDER BY seq DESC LIMIT 1").fetchone()
        if head is not None and not (isinstance(head[0], int) and isinstance(head[1], str)):
            raise self._cannot_append()
        seq, prev = (head[0] + 1, head[1]) if head else (1, entry.ZERO_HASH)
        if challenge is None:
            if kind != "opened":
                raise ChallengeError("only an 'opened' entry starts a challenge")
            count = c.execute("SELECT count(*) FROM challenges").fetchone()[0]
            challenge = f"C-{count + 1:04d}"
            cseq, cprev, state = 1, entry.ZERO_HASH, None
        else:
            last = c.execute(
                "SELECT cseq, hash FROM entries WHERE challenge = ? ORDER BY cseq DESC LIMIT 1", (challenge,)
            ).fetchone()
            if last is None:
                raise ChallengeError(
                    f"no challenge {challenge!r} in this store", hint="`escalate list` shows the challenges."
                )
            if kind == "opened":
                raise ChallengeError("a challenge is opened only once")
            if not (isinstance(last[0], int) and isinstance(last[1], str)):
                raise self._cannot_append()
            cseq, cprev = last[0] + 1, last[1]
            state = self._state_in_tx(challenge, last[0])
        if check is not None:
            check(state)
        content, disclosures, typed = self._content(challenge, kind, occurred_at, author, data)
        body = entry.build(seq, challenge, cseq, kind, prev, cprev, content)
        digest = entry.hash_of(seq, prev, body)
        stored = StoredEntry(seq, challenge, cseq, kind, occurred_at, content["recorded_at"], body, digest)
        c.execute("INSERT INTO entries VALUES (?, ?, ?, ?, ?, ?, ?, ?)", stored)
        for d, b in disclosures:  # usually none new (people named before keep their disclosure) or one
            # a person named again (the author of every entry, their login) keeps the disclosure of the
            # entry that first named them: written once, and not offered again by this connection
            if d not in self._disclosed:
                c.execute("INSERT OR IGNORE INTO disclosures VALUES (?, ?, ?)", (d, seq, b))
                self._pending.append(d)
        if kind == "opened":
            c.execute("INSERT INTO challenges VALUES (?, ?)", (challenge, seq))
        try:
            try:
                new_state = fold_step(state, stored, typed)
            except WholeFold:  # (within the transaction: the new entry is among the challenge's entries)
                new_state = self.fold.whole(self.entries(challenge))
        except ValueError as exc:  # the challenge's own entries do not fold: say so, save nothing
            raise StoreError(f"not saved: {exc}", hint=DAMAGE_HINT) from None
        # an upsert changes the cached row in place (same rowid, index untouched): fewer pages per commit
        c.execute(
            "INSERT INTO state_cache VALUES (?, ?, ?, NULL, NULL) ON CONFLICT (challenge) DO UPDATE SET "
            "cseq = excluded.cseq, state = excluded.state, listing_key = NULL, listing = NULL",
            (challenge, cseq, self.fold.dump(new_state)),
        )
        return stored

    def _content(
        self, challenge: str, kind: str, occurred_at: str, author: dict[str, Any], data: dict[str, Any]
    ) -> tuple[dict[str, Any], list[tuple[str, bytes]], entry.Content]:
        """An entry's content (personal values sealed, recorded now), its disclosures, and the content
        read back into its kind's types as it will be read later: nothing that does not fit gets in."""
        disclosures: list[tuple[str, bytes]] = []
        salt = entry.keyed_salt(self._disclosure_key(), challenge)
        content = {
            "author": entry.conceal(author, disclosures, salt),
            "data": entry.conceal(data, disclosures, salt),
            "occurred_at": occurred_at,
            "recorded_at": clock.iso(clock.now()),
        }
        try:
            typed = entry.parse_content(kind, content)
        except entry.DamagedEntry as exc:
            raise StoreError(f"not saved: the {kind} entry does not fit its kind ({exc})") from None
        return content, disclosures, typed

    def _cannot_append(self) -> StoreError:
        return StoreError(
            f"nothing can be added to the store {self.path}: its last entries were changed outside escalate",
            hint="`escalate verify` names the first damaged entry. Nothing was saved.",
        )

    def _disclosure_key(self) -> bytes:
        """The store's secret for disclosure salts (called inside the write transaction). Should it be
        missing or unreadable, a new one is kept: people named from then on get new digests (one more
        disclosure each), and nothing written before changes."""
        if self._key is None:
            row = self.conn.execute("SELECT value FROM meta WHERE key = 'disclosure_key'").fetchone()
            try:
                self._key = bytes.fromhex(row[0])
            except (TypeError, ValueError):
                self._key = None
            if not self._key:
                self._key = secrets.token_bytes(32)
                self.conn.execute("INSERT OR REPLACE INTO meta VALUES ('disclosure_key', ?)", (self._key.hex(),))
        return self._key

    def _rollback(self) -> None:
        try:
            self.conn.execute("ROLLBACK")
        except sqlite3.Error:
            pass

    # --- reading -----------------------------------------------------------------------

    def _q(self, sql: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        try:
            return self.conn.execute(sql, params).fetchall()
        except sqlite3.Error as exc:
            raise _translate(exc, self.path) from None
        except UnicodeDecodeError:  # text that is not UTF-8: escalate never writes it
            raise StoreError(
                f"the store {self.path} is damaged: it holds text that is not UTF-8",
                hint="Keep the file for investigation; `escalate verify` says what it can read.",
            ) from None

    def last_cseq(self, challenge: str) -> int | None:
        """The number of a challenge's last entry (None if it has none): a cheap look at whether it moved."""
        row = self._q("SELECT max(cseq) FROM entries WHERE challenge = ?", (challenge,))
        return row[0][0] if row and isinstance(row[0][0], int) else None

    def sees_everything(self) -> bool:
        """Whether every entry of the log can be read here (a team store shows a person their settings')."""
        return True

    def location(self) -> str:
        """Where a worker process opens this store again, on a connection of its own (escalate.parallel)."""
        return str(self.path)

    def chain_links(self) -> list[tuple[int, str, str]]:
        """(number, sha256 hex of its bytes, hash) of every entry: how the chain runs, for a reader who
        cannot see every entry (see :meth:`sees_everything`)."""
        return [(seq, hashlib.sha256(bytes(body)).hexdigest(), h) for seq, _, _, _, body, h in self.iter_rows()]

    def person(self) -> dict[str, str] | None:
        """The person recording, as the store knows them (a team store: name, role and setting of the
        session's login); None where the settings say who records (a desk's file)."""
        return None

    def damage(self) -> str | None:
        """What SQLite's own check finds wrong with the file (a damaged page, an index that does not
        match its table), or None. The hashes prove the entries; this proves the file can still be
        read and written as a whole (a damaged page of an index can make every append fail)."""
        try:
            found = [row[0] for row in self.conn.execute("PRAGMA quick_check(3)")]
        except sqlite3.DatabaseError as exc:
            return str(exc)
        except UnicodeDecodeError:  # its message quotes damaged bytes
            return "the file's pages are damaged"
        return None if found == ["ok"] else "; ".join(str(x) for x in found)

    def index_problem(self) -> str | None:
        """Where the index of challenges is not the log's openings (a row deleted hides a challenge
        from every list), or None."""
        missing = self._q(
            "SELECT e.challenge FROM entries e WHERE e.cseq = 1 AND NOT EXISTS "
            "(SELECT 1 FROM challenges c WHERE c.id = e.challenge AND c.opened_seq = e.seq) LIMIT 1"
        )
        if missing:
            return f"challenge {missing[0][0]} is missing from the index of challenges: lists would not show it"
        extra = self._q(
            "SELECT c.id FROM challenges c WHERE NOT EXISTS "
            "(SELECT 1 FROM entries e WHERE e.challenge = c.id AND e.cseq = 1 AND e.seq = c.opened_seq) LIMIT 1"
        )
        if extra:
            return f"the index of challenges names {extra[0][0]!r}, which no entry opens"
        return None

    def missing_disclosure(self) -> int | None:
        """The first entry sealing a personal value whose disclosure the store does not hold, or None."""
        held = {str(row[0]).encode("ascii", "replace") for row in self._q("SELECT digest FROM disclosures")}
        for seq, body in self.conn.execute("SELECT seq, body FROM entries ORDER BY seq"):
            if isinstance(body, bytes) and any(d not in held for d in _SEALED.findall(body)):
                return int(seq)
        return None

    def cache_rows(self) -> list[tuple[Any, ...]]:
        """Every challenge's caches as stored, for checking against the log: (challenge, its last entry
        number, the cached state's entry number, the state, the list row's key, the list row, the
        glance's entry number, its key, the glance), None where there is none."""
        return self._q(
            "SELECT c.id, (SELECT max(e.cseq) FROM entries e WHERE e.challenge = c.id), s.cseq, s.state, "
            "s.listing_key, s.listing, g.cseq, g.key, g.glance "
            "FROM challenges c LEFT JOIN state_cache s ON s.challenge = c.id "
            "LEFT JOIN glances g ON g.challenge = c.id ORDER BY c.opened_seq"
        )

    def head(self) -> tuple[int, str]:
        row = self._q("SELECT seq, hash FROM entries ORDER BY seq DESC LIMIT 1")
        if not row:
            return 0, entry.ZERO_HASH
        if not isinstance(row[0][0], int):
            raise StoreError(
                f"the store {self.path} is damaged: its last entry's number is not a number",
                hint="Keep the file for investigation; it was changed outside escalate.",
            )
        # a hash that is not text (the row was changed) matches nothing: verify then names the entry
        return row[0][0], row[0][1] if isinstance(row[0][1], str) else ""

    def count(self) -> int:
        return int(self._q("SELECT count(*) FROM entries")[0][0])

    def entry_count(self, challenges: list[str] | None = None, upto: int | None = None) -> int:
        """Entries of the store (None), or of the given challenges; only up to entry ``upto`` if given."""
        bound = self.head()[0] if upto is None else upto
        if challenges is None:
            return int(self._q("SELECT count(*) FROM entries WHERE seq <= ?", (bound,))[0][0])
        total = 0
        for i in range(0, len(challenges), 500):
            chunk = challenges[i : i + 500]
            total += self._q(
                f"SELECT count(*) FROM entries WHERE seq <= ? AND challenge IN ({','.join('?' * len(chunk))})",
                (bound, *chunk),
            )[0][0]
        return total

    def challenge_ids(self) -> list[str]:
        return [r[0] for r in self._q("SELECT id FROM challenges ORDER BY opened_seq")]

    def resolve_id(self, text: str) -> str:
        """Accept C-0001, c-0001 or 1 for a challenge id; raise if there is none (a text that cannot
        be one, bytes that were not UTF-8 included, is not looked up)."""
        raw = (text or "").strip().upper()
        candidate = f"C-{int(raw):04d}" if raw.isascii() and raw.isdigit() else raw
        if _CHALLENGE_ID.fullmatch(candidate) and self._q("SELECT 1 FROM challenges WHERE id = ?", (candidate,)):
            return candidate
        raise ChallengeError(
            f"no challenge {shown(text)} in this store", hint="`escalate list` shows the challenges (C-0001, or 1)."
        )

    def entries(
        self, challenge: str | None = None, *, after: int = 0, limit: int | None = None, kind: str | None = None
    ) -> list[StoredEntry]:
        """Entries in order: of one challenge (after its entry ``after``), or of the whole log (after its
        entry ``after``); of one ``kind`` only, if given."""
        lim = f" LIMIT {int(limit)}" if limit else ""
        if challenge is None:
            rows = self._q(
                # (the CAST: PostgreSQL must know the type of a parameter only tested for NULL)
                f"SELECT {_ENTRY} FROM entries WHERE seq > ? AND (CAST(? AS TEXT) IS NULL OR kind = ?) "
                f"ORDER BY seq{lim}",
                (after, kind, kind),
            )
        elif kind is not None:
            rows = self._q(
                f"SELECT {_ENTRY} FROM entries WHERE challenge = ? AND kind = ? AND cseq > ? ORDER BY cseq{lim}",
                (challenge, kind, after),
            )
        else:
            rows = self._q(
                f"SELECT {_ENTRY} FROM entries WHERE challenge = ? AND cseq > ? ORDER BY cseq{lim}", (challenge, after)
            )
        return [StoredEntry(*r) for r in rows]

    def entry(self, challenge: str, cseq: int) -> StoredEntry | None:
        rows = self._q(f"SELECT {_ENTRY} FROM entries WHERE challenge = ? AND cseq = ?", (challenge, cseq))
        return StoredEntry(*rows[0]) if rows else None

    def iter_rows(self, batch: int = 5000) -> Iterator[tuple[Any, ...]]:
        """(seq, challenge, cseq, kind, body, hash) for every entry, in order: for verification."""
        last = 0
        while True:
            rows = self._q(
                "SELECT seq, challenge, cseq, kind, body, hash FROM entries WHERE seq > ? ORDER BY seq LIMIT ?",
                (last, batch),
            )
            if not rows:
                return
            yield from rows
            last = rows[-1][0]

    def iter_disclosures(self, batch: int = 20000) -> Iterator[tuple[Any, Any, Any]]:
        """(digest, entry number, bytes) of every stored disclosure, in no particular order: for
        verification, which checks their types too (a damaged row may hold anything)."""
        cursor = self.conn.execute("SELECT digest, seq, bytes FROM disclosures")
        while True:
            try:
                rows = cursor.fetchmany(batch)
            except sqlite3.Error as exc:
                raise _translate(exc, self.path) from None
            if not rows:
                return
            yield from rows

    def disclosure_rowids(self) -> int:
        """The largest rowid of the disclosures (0 for none): verify splits them by rowid."""
        return int(self._q("SELECT coalesce(max(rowid), 0) FROM disclosures")[0][0])

    def links(self, challenges: list[str], upto: int) -> list[tuple[int, str]] | None:
        """(number, sha256 hex of its bytes) of each entry of another challenge than ``challenges``,
        from the first of theirs up to entry ``upto``: what an export of them needs to follow the
        store's chain through the others to its head (link lines, see escalate.verify). None if one of
        those entries is in E1, whose hash is of its whole bytes: it cannot be stood for by a digest."""
        chosen = set(challenges)
        chunks = [challenges[i : i + 500] for i in range(0, len(challenges), 500)]
        sql = "SELECT min(seq) FROM entries WHERE challenge IN ({})"
        firsts = [self._q(sql.format(",".join("?" * len(chunk))), tuple(chunk))[0][0] for chunk in chunks]
        last = min((f for f in firsts if isinstance(f, int)), default=upto)
        out: list[tuple[int, str]] = []
        while True:
            rows = self._q(
                "SELECT seq, challenge, body FROM entries WHERE seq > ? AND seq <= ? ORDER BY seq LIMIT 20000",
                (last, upto),
            )
            if not rows:
                return out
            for seq, challenge, body in rows:
                if challenge not in chosen:
                    if not bytes(body).startswith(b"E2 "):
                        return None
                    out.append((seq, hashlib.sha256(body).hexdigest()))
            last = rows[-1][0]

    def entry_hash(self, seq: int) -> str:
        rows = self._q("SELECT hash FROM entries WHERE seq = ?", (seq,))
        return rows[0][0] if rows else ""

    def warning_counts(self) -> list[tuple[str, int, int]]:
        """(challenge, late entries, times the recording clock ran backwards) for every challenge,
        oldest first: read from the cached folds by SQLite's JSON functions (a current fold holds
        both), folding again only a challenge whose fold is not current."""
        rows = self._q(self._WARNINGS)
        out = []
        for cid, current, late, backwards in rows:
            if not current or late is None or backwards is None:
                late, backwards = self.fold.warnings(self._rebuild(cid))
            out.append((cid, late, backwards))
        return out

    # --- searching -----------------------------------------------------------------------

    #: entries indexed per transaction while the search index catches up with the log
    SEARCH_BATCH = 2000
    #: what the index holds of an entry (entry.searchable); another value makes the index again
    SEARCH_FORMAT = "S1"

    def search(self, words: list[str], limit: int = 200) -> list[tuple[str, int, str]]:
        """Entries whose text (and disclosed personal values) holds every word in ``words`` as the
        start of a word, newest first: (challenge, seq, a snippet around the match)."""
        table = self._search_index()
        match = " AND ".join('"' + w.replace('"', '""') + '"*' for w in words)
        return [
            (str(c), int(s), str(snippet))
            for c, s, snippet in self._q(
                f"SELECT challenge, rowid, snippet({table}, 1, '', '', '...', 12) FROM {table} "
                f"WHERE {table} MATCH ? ORDER BY rowid DESC LIMIT ?",
                (match, limit),
            )
        ]

    def login(self) -> str:
        """Who signs on this store: a desk's store has no logins (the settings name the signer)."""
        return ""

    def person_keys(self) -> list[tuple[str, str, str]]:
        """People's signing keys, kept by a team store (a desk's store has none)."""
        return []

    def store_id(self) -> str:
        """The store's own id, made with it (meta store_id): what a checkpoint names the log by."""
        rows = self._q("SELECT value FROM meta WHERE key = 'store_id'")
        return str(rows[0][0]) if rows else ""

    def hash_at(self, seq: int) -> str | None:
        """The hash of the log's entry ``seq`` (None past its end)."""
        rows = self._q("SELECT hash FROM entries WHERE seq = ?", (seq,))
        return str(rows[0][0]) if rows else None

    def first_hashes(self) -> dict[str, str]:
        """Each challenge's first entry's hash: what names it for good (a calendar's event ids)."""
        return {str(c): str(h) for c, h in self._q("SELECT challenge, hash FROM entries WHERE cseq = 1")}

    def prepare_search(self) -> None:
        """Bring the search index up to the log now (the app does it while loading, so the first search
        typed does not wait for it)."""
        self._search_index()

    def _search_index(self) -> str:
        """The full-text index of the log (SQLite FTS5), brought up to the log's last entry first. It
        is a cache: made on the first search, then added to from where it stopped, so appending never
        waits for it. A read-only store gets one in memory for this connection."""
        table = "search_index"
        try:
            kept = self.conn.execute("SELECT value FROM meta WHERE key = 'search_format'").fetchone()
            if kept is not None and kept[0] != self.SEARCH_FORMAT:  # made by another version: made again
                self.conn.execute("BEGIN IMMEDIATE")
                self.conn.execute("DROP TABLE IF EXISTS search_index")
                self.conn.execute("DELETE FROM meta WHERE key IN ('search_format', 'search_upto')")
                self.conn.execute("COMMIT")
            self.conn.execute(
                "CREATE VIRTUAL TABLE IF NOT EXISTS search_index USING fts5(challenge UNINDEXED, words, "
                "tokenize = 'unicode61 remove_diacritics 2')"
            )
        except sqlite3.OperationalError:  # a read-only store: an index for this connection alone
            table = "temp.search_index"
            self._q(
                "CREATE VIRTUAL TABLE IF NOT EXISTS temp.search_index USING fts5(challenge UNINDEXED, words, "
                "tokenize = 'unicode61 remove_diacritics 2')"
            )
        upto_key = "search_upto" if table == "search_index" else None
        while self._index_batch(table, upto_key):
            pass
        return table

    def _index_batch(self, table: str, upto_key: str | None) -> bool:
        c = self.conn
        try:
            c.execute("BEGIN IMMEDIATE" if upto_key is not None else "BEGIN")  # (a read-only file takes no lock)
            try:
                if upto_key is not None:
                    row = c.execute("SELECT value FROM meta WHERE key = ?", (upto_key,)).fetchone()
                    upto = int(row[0]) if row else 0
                else:
                    upto = c.execute(f"SELECT coalesce(max(rowid), 0) FROM {table}").fetchone()[0]
                rows = c.execute(
                    "SELECT seq, challenge, body FROM entries WHERE seq > ? ORDER BY seq LIMIT ?",
                    (upto, self.SEARCH_BATCH),
                ).fetchall()
                if not rows:
                    c.execute("COMMIT")
                    return False
                disclosed: dict[str, bytes] = dict(
                    c.execute(
                        "SELECT digest, bytes FROM disclosures WHERE seq BETWEEN ? AND ?", (rows[0][0], rows[-1][0])
                    ).fetchall()
                )
                documents = []
                for seq, cid, body in rows:
                    text, sealed = entry.searchable(body)
                    named = [entry.readable_value(disclosed[d]) for d in sorted(sealed) if d in disclosed]
                    documents.append((seq, cid, " ".join([text, *named])))
                c.executemany(f"INSERT INTO {table} (rowid, challenge, words) VALUES (?, ?, ?)", documents)
                if upto_key is not None:
                    c.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)", (upto_key, str(rows[-1][0])))
                    c.execute("INSERT OR REPLACE INTO meta VALUES ('search_format', ?)", (self.SEARCH_FORMAT,))
                c.execute("COMMIT")
            except BaseException:
                c.execute("ROLLBACK")
                raise
        except sqlite3.Error as exc:
            raise _translate(exc, self.path) from None
        return True

    def challenge_disclosures(self, challenge: str) -> dict[str, bytes]:
        """Every disclosure made by the entries of one challenge, by digest. A person named again
        reuses the disclosure of the entry that first named them, so a page of entries needs its
        challenge's disclosures, not only its own."""
        return dict(
            self._q(
                "SELECT d.digest, d.bytes FROM entries e JOIN disclosures d ON d.seq = e.seq WHERE e.challenge = ?",
                (challenge,),
            )
        )

    def export_lines(
        self, challenges: list[str] | None, redact: bool, batch: int = 500, *, upto: int | None = None, after: int = 0
    ) -> Iterator[list[bytes]]:
        """Batches of jsonl export lines (no newline), in entry order, built by SQLite's JSON functions
        in C: the entry as stored, its challenge, numbers and hash, and (unless ``redact``) its own
        disclosures keyed by digest, in digest order. The caller checks first that this SQLite writes
        JSON exactly as the json module does (export.sqlite_json_matches). Only entries ``after`` <
        seq <= ``upto``: an export stops at the head it announced, whatever is appended meanwhile.
        (An export of the whole log is made faster in chunks: :meth:`whole_log_chunk_sql`.)"""
        sql = (
            "SELECT " + _LINE.replace("DISCLOSED", "'{}'" if redact else _SORTED_DISCLOSURES) + " FROM entries e "
            "WHERE e.seq > ? AND e.seq <= ? "
            + ("" if challenges is None else "AND e.challenge IN (SELECT value FROM json_each(?)) ")
            + "ORDER BY e.seq"
        )
        try:
            bounds = (after, self.head()[0] if upto is None else upto)
            cursor = self.conn.execute(sql, bounds + (() if challenges is None else (json.dumps(challenges),)))
            while True:
                rows = cursor.fetchmany(batch)
                if not rows:
                    return
                yield [r[0] for r in rows]
        except sqlite3.Error as exc:
            raise _translate(exc, self.path) from None

    def whole_log_chunk_sql(self, redact: bool) -> str | None:
        """SQL making at once the export lines of the entries lo < seq <= hi (its two parameters), as
        one row: (entries in the range, lines made, the first and last entry's numbers, the lines
        each ending in a newline). An export of the whole log is made chunk by chunk with it
        (escalate.export_lines): one query per chunk, all in C.

        Each entry's disclosures are joined from the (seq, digest) index as the entries are walked
        in order, so they come in digest order with no subquery per entry, and the lines are joined
        in entry order (an aggregate over an ordered subquery). None if this SQLite's plan would not
        walk them so: the caller then uses :meth:`export_lines`."""
        if redact:
            inner = (
                "SELECT e.seq, " + _LINE.replace("DISCLOSED", "'{}'") + " AS line FROM entries e "
                "WHERE e.seq > ? AND e.seq <= ? ORDER BY e.seq"
            )
        else:
            inner = (
                "SELECT e.seq, "
                + _LINE.replace(
                    "DISCLOSED",
                    "json_group_object(d.digest, CAST(d.bytes AS TEXT)) FILTER (WHERE d.digest IS NOT NULL)",
                )
                + " AS line FROM entries e "
                "LEFT JOIN disclosures d ON d.seq = e.seq WHERE e.seq > ? AND e.seq <= ? GROUP BY e.seq "
                "ORDER BY e.seq"
            )
        sql = (
            "SELECT count(*), count(line), min(seq), max(seq), CAST(group_concat(line, char(10)) || char(10) "
            "AS BLOB) FROM (" + inner + ")"
        )
        try:
            plan = " | ".join(r[-1] for r in self.conn.execute("EXPLAIN QUERY PLAN " + sql, (0, 0)))
        except sqlite3.Error:
            return None
        if "TEMP B-TREE" in plan or not (redact or "USING INDEX disclosures_seq_digest (seq=?)" in plan):
            return None
        return sql

    def disclosures_by_seq(self, seqs: list[int] | None = None) -> list[tuple[str, int, bytes]]:
        """(digest, entry sequence number, bytes) of the disclosures of the entries ``seqs`` (None: all)."""
        if seqs is None:
            return self._q("SELECT digest, seq, bytes FROM disclosures")
        rows: list[tuple[Any, ...]] = []
        for i in range(0, len(seqs), 500):
            chunk = seqs[i : i + 500]
            rows += self._q(
                f"SELECT digest, seq, bytes FROM disclosures WHERE seq IN ({','.join('?' * len(chunk))})", tuple(chunk)
            )
        return rows

    def disclosure_values(self, digests: list[str]) -> dict[str, str]:
        """Disclosed values by digest (only those stored)."""
        out: dict[str, str] = {}
        for i in range(0, len(digests), 500):
            chunk = digests[i : i + 500]
            for d, b in self._q(
                f"SELECT digest, bytes FROM disclosures WHERE digest IN ({','.join('?' * len(chunk))})", tuple(chunk)
            ):
                out[d] = entry.readable_value(b)
        return out

    def state(self, challenge: str, *, fresh: bool = False) -> S:
        """The folded state of one challenge: from the cache when it is current, unless ``fresh``, which
        folds the entries again (the cache is not covered by verify; the entries are)."""
        last = self._q("SELECT max(cseq) FROM entries WHERE challenge = ?", (challenge,))[0][0]
        if last is None:
            raise ChallengeError(f"no challenge {challenge!r} in this store")
        return self._rebuild(challenge) if fresh else self._state_in_tx(challenge, last)

    def states(self) -> list[S]:
        """Folded state of every challenge, oldest first; stale cache rows are rebuilt."""
        rows = self._q(
            "SELECT c.id, s.cseq, s.state, (SELECT max(e.cseq) FROM entries e WHERE e.challenge = c.id) "
            "FROM challenges c LEFT JOIN state_cache s ON s.challenge = c.id ORDER BY c.opened_seq"
        )
        out = []
        for cid, cached_cseq, text, last in rows:
            cached = self._cached(text) if cached_cseq == last else None
            out.append(cached if cached is not None else self._rebuild(cid))
        return out

    def listings(self, key: str) -> list[tuple[str, str | None]]:
        """(challenge, cached list row or None) for every challenge, oldest first. A row is returned
        only when it was made with ``key``; it is current by construction: every append resets its
        challenge's row in the same transaction, and keep_listings writes one only for the last entry."""
        rows = self._q(
            "SELECT c.id, s.listing_key, s.listing FROM challenges c LEFT JOIN state_cache s "
            "ON s.challenge = c.id ORDER BY c.opened_seq"
        )
        return [(cid, text if cached_key == key else None) for cid, cached_key, text in rows]

    def glances(self, key: str) -> list[tuple[str, str | None]]:
        """(challenge, cached glance or None) for every challenge, oldest first, from a table of their own
        (none from a store that could not be upgraded to schema 5). A glance is current when it was made
        at the challenge's last entry: an append leaves it alone (one page fewer to write and sync), and
        reading compares its entry number with the log's, which one index answers."""
        try:
            rows = self._q(
                "SELECT c.id, CASE WHEN g.cseq = (SELECT max(e.cseq) FROM entries e WHERE e.challenge = c.id) "
                "THEN g.glance END FROM challenges c LEFT JOIN glances g ON g.challenge = c.id AND g.key = ? "
                "ORDER BY c.opened_seq",
                (key,),
            )
        except StoreError:  # no such table: read-only, and written by an older escalate
            return [(cid, None) for cid in self.challenge_ids()]
        return [(cid, text if isinstance(text, str) else None) for cid, text in rows]

    def listings_of(self, key: str, challenges: list[str]) -> dict[str, str]:
        """The cached list rows made with ``key`` of some challenges (those without one are left out)."""
        rows = self._q(
            "SELECT challenge, listing FROM state_cache WHERE listing_key = ? AND challenge IN "
            "(SELECT value FROM json_each(?))",
            (key, json.dumps(challenges)),
        )
        return {cid: text for cid, text in rows if isinstance(text, str)}

    def keep_listings(self, key: str, rows: list[tuple[str, int, S, str, str]]) -> bool:
        """Cache list rows: (challenge, last entry number, folded state, row JSON, glance). Best effort,
        for readers: a row is kept only if no entry has been added since, and if another program holds
        the write lock nothing is kept (it is worked out again next time). Returns whether kept."""
        if not rows:
            return True
        c = self.conn
        try:
            c.execute("PRAGMA busy_timeout = 0")
            c.execute("BEGIN IMMEDIATE")
        except sqlite3.Error:
            return False
        finally:
            c.execute("PRAGMA busy_timeout = 10000")
        try:
            for challenge, cseq, state, text, glance in rows:
                c.execute(
                    "INSERT OR REPLACE INTO state_cache SELECT ?, ?, ?, ?, ? WHERE "
                    "(SELECT max(cseq) FROM entries WHERE challenge = ?) = ?",
                    (challenge, cseq, self.fold.dump(state), key, text, challenge, cseq),
                )
                c.execute(
                    "INSERT OR REPLACE INTO glances SELECT ?, ?, ?, ? WHERE "
                    "(SELECT max(cseq) FROM entries WHERE challenge = ?) = ?",
                    (challenge, cseq, key, glance, challenge, cseq),
                )
            c.execute("COMMIT")
        except sqlite3.Error:
            self._rollback()
            return False
        return True

    def _state_in_tx(self, challenge: str, last_cseq: int) -> S:
        try:
            row = self.conn.execute("SELECT cseq, state FROM state_cache WHERE challenge = ?", (challenge,)).fetchone()
        except (sqlite3.Error, UnicodeDecodeError):  # an unreadable cache row is worked out again
            row = None
        cached = self._cached(row[1]) if row is not None and row[0] == last_cseq else None
        return cached if cached is not None else self._rebuild(challenge)

    def _cached(self, text: object) -> S | None:
        """A cached fold, or None if it cannot be read (the cache is worked out from the log, never trusted
        over it: a damaged row is worked out again)."""
        if not isinstance(text, (str, bytes)):
            return None
        try:
            return self.fold.load(text)
        except (ValueError, RecursionError):  # pydantic's ValidationError is a ValueError
            return None

    def _rebuild(self, challenge: str) -> S:
        """One challenge folded from its entries; entries that do not fold are damage, and say so."""
        try:
            return self.fold.whole(self.entries(challenge))
        except ValueError:  # (an entry's bytes that do not read raise StoreError in StoredEntry.content)
            raise damaged_challenge(challenge) from None


class _Checkpointer:
    """Checkpoints on its own thread and connection, once enough has been appended and the writer
    has been idle for a moment.

    Not after every append: a checkpoint lets the next commit start the WAL again from its
    beginning, which costs that commit an extra sync, so it is worth doing only once a batch has
    built up (about what SQLite's own threshold holds). A person records an entry every few
    minutes, so in practice every checkpoint happens here, between appends. A program appending
    without pause never leaves an idle moment: then SQLite's own checkpoint, at its default 1,000
    pages, bounds the WAL. (A threshold of 4,000 was slower: the WAL file grew for longer, and a
    commit that grows the file syncs its new size too: back-to-back appends p50 0.54 ms against
    0.37 ms, p99 0.83-1.20 ms against 0.67-0.94 ms.)
    """

    IDLE = 0.05  # seconds without an append before checkpointing
    BATCH = 100  # appends (an append writes about 3 WAL pages) worth a checkpoint

    def __init__(self, path: Path) -> None:
        self.path = path
        self.last = 0.0
        self.pending = 0
        self.wake = threading.Event()
        self.stopping = False
        self.thread = threading.Thread(target=self._run, name="escalate-checkpoint", daemon=True)
        self.thread.start()

    def appended(self) -> None:
        self.last = time.monotonic()
        self.pending += 1
        if self.pending >= self.BATCH:
            self.wake.set()

    def _run(self) -> None:
        conn = sqlite3.connect(self.path, timeout=0.0, isolation_level=None, check_same_thread=False)
        try:
            while not self.stopping:
                self.wake.wait()
                self.wake.clear()
                while not self.stopping and (quiet := time.monotonic() - self.last) < self.IDLE:
                    time.sleep(self.IDLE - quiet)
                if self.stopping:
                    return
                self.pending = 0
                try:
                    conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
                except sqlite3.Error:
                    pass  # busy: the next batch, or the closing connection, checkpoints
        finally:
            conn.close()

    def stop(self) -> None:
        self.stopping = True
        self.wake.set()
        self.thread.join()
