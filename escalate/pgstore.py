"""The team store: the same log on PostgreSQL (psycopg 3), for a safeguarding team sharing one store.

It is :class:`escalate.store.Store` with the database changed underneath: the same entries, bytes,
hashes, disclosures and caches, the same tables, the same methods. What differs is said here:

* **One chain under many writers.** An append runs in a transaction that first takes a
  transaction-level advisory lock (:data:`APPEND_LOCK`), so appends from every desk are serialised
  inside the database, each chaining to the head as it is when the lock is granted; the commit is
  durable (``synchronous_commit`` is left on).
* **Append-only, enforced by the server.** Triggers abort any UPDATE, DELETE or TRUNCATE of the log's
  tables whoever runs it (the table owner included); a cached fold is replaced only for a later entry.
* **The SQL.** The store's statements are SQLite's; :class:`_Connection` runs them on PostgreSQL,
  changing the few words the two spell differently (placeholders, ``INSERT OR IGNORE``, the advisory
  lock for ``BEGIN IMMEDIATE``). The methods whose SQL has no common spelling (SQLite's JSON
  functions, pragmas, the file's own checks) are written here again.
* **No second process.** The SQLite store lends a worker its file by path; a team store is checked and
  exported by one process (:attr:`Store.local` is False).

A database holds one store. :func:`create` makes its tables (``escalate team init``); opening a
database without them says so rather than making them.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar
from urllib.parse import urlsplit

from escalate.errors import StoreError
from escalate.paths import is_store_url
from escalate.store import Fold, Store

if TYPE_CHECKING:
    import psycopg

S = TypeVar("S")

#: the schema of a team store's tables (escalate's own version of them, kept in meta)
TEAM_SCHEMA_VERSION = 1
#: the advisory lock every append takes first (any constant: one per database)
APPEND_LOCK = 0x65736361  # "esca"


TABLES = """
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE entries (
    seq BIGINT PRIMARY KEY,
    challenge TEXT NOT NULL,
    cseq INTEGER NOT NULL,
    kind TEXT NOT NULL,
    occurred_at TEXT NOT NULL,
    recorded_at TEXT NOT NULL,
    body BYTEA NOT NULL,
    hash TEXT NOT NULL,
    UNIQUE (challenge, cseq)
);
CREATE TABLE disclosures (digest TEXT PRIMARY KEY, seq BIGINT NOT NULL, bytes BYTEA NOT NULL);
CREATE INDEX disclosures_seq_digest ON disclosures (seq, digest);
CREATE TABLE challenges (id TEXT PRIMARY KEY, opened_seq BIGINT NOT NULL);
CREATE TABLE state_cache (challenge TEXT PRIMARY KEY, cseq INTEGER NOT NULL, state TEXT NOT NULL,
    listing_key TEXT, listing TEXT);
CREATE TABLE glances (challenge TEXT PRIMARY KEY, cseq INTEGER NOT NULL, key TEXT NOT NULL, glance TEXT NOT NULL);
CREATE FUNCTION escalate_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'escalate: % is append-only (% refused)', TG_TABLE_NAME, TG_OP;
END $$;
CREATE FUNCTION escalate_later_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'UPDATE' AND (NEW.cseq > OLD.cseq OR (NEW.cseq = OLD.cseq AND NEW.state = OLD.state)) THEN
        RETURN NEW;  -- a fold for a later entry, or a list row kept beside the same fold
    END IF;
    RAISE EXCEPTION 'escalate: a cached state is replaced for a later entry, never edited or deleted';
END $$;
CREATE FUNCTION escalate_forward_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'UPDATE' AND NEW.cseq >= OLD.cseq THEN
        RETURN NEW;
    END IF;
    RAISE EXCEPTION 'escalate: a glance is replaced for a later entry, never deleted';
END $$;
"""

#: (table, what its trigger allows): every table of the log refuses change; caches only move forward
_GUARDS = [
    ("entries", "escalate_append_only"),
    ("disclosures", "escalate_append_only"),
    ("challenges", "escalate_append_only"),
    ("meta", "escalate_append_only"),
    ("state_cache", "escalate_later_only"),
    ("glances", "escalate_forward_only"),
]


#: whether a store location names a PostgreSQL database rather than a file
is_url = is_store_url


def shown_url(url: str) -> str:
    """A URL as messages show it: no password, ever."""
    try:
        parts = urlsplit(url)
        host = parts.hostname or "local socket"
    except ValueError:  # (a host in brackets that is not one)
        return "team store at a URL that cannot be read"
    database = parts.path.lstrip("/") or "(default database)"
    return f"team store {database} on {host}"


def _connect(url: str) -> psycopg.Connection[Any]:
    import psycopg  # lazy: only a team store needs it (40 ms)

    try:
        return psycopg.connect(url, autocommit=True, connect_timeout=10)
    except psycopg.OperationalError as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else "no answer"
        raise StoreError(
            f"cannot connect to the {shown_url(url)}: {first}",
            hint="Check the URL (--store or ESCALATE_STORE), that the server runs, and your login.",
        ) from None
    except psycopg.ProgrammingError as exc:  # a URL libpq cannot read (its message quotes the URL: cut)
        why = _first_line(exc).split(" in URI")[0]
        raise StoreError(f"the store URL cannot be read: {why}", hint="Expected postgresql://HOST/DATABASE.") from None


def create(url: str) -> None:
    """Make a team store's tables in an empty database (as a role that may create tables)."""
    import psycopg

    conn = _connect(url)
    try:
        with conn.transaction():
            if conn.execute("SELECT to_regclass('entries')").fetchone() not in (None, (None,)):
                raise StoreError(f"the {shown_url(url)} already holds an escalate store (or an entries table)")
            conn.execute(TABLES)
            for table, function in _GUARDS:
                conn.execute(
                    f"CREATE TRIGGER {table}_guard BEFORE UPDATE OR DELETE ON {table} "
                    f"FOR EACH ROW EXECUTE FUNCTION {function}()"
                )
                conn.execute(
                    f"CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table} "
                    "FOR EACH STATEMENT EXECUTE FUNCTION escalate_append_only()"
                )
            # (the secret that salts disclosures is kept by the first append, or brought by `store copy`)
            conn.execute(
                "INSERT INTO meta VALUES ('schema', %s), ('store_id', %s)",
                (str(TEAM_SCHEMA_VERSION), secrets.token_hex(8)),
            )
    except psycopg.Error as exc:
        raise StoreError(f"cannot make the store's tables in the {shown_url(url)}: {_first_line(exc)}") from None
    finally:
        conn.close()


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


# --- SQLite's statements on PostgreSQL -----------------------------------------------------------

_PLACEHOLDER = re.compile(r"\?")


def _dialect(sql: str) -> str:
    """One of the store's SQLite statements as PostgreSQL spells it."""
    out = _PLACEHOLDER.sub("%s", sql)
    if out.startswith("INSERT OR IGNORE INTO "):
        out = "INSERT INTO " + out[len("INSERT OR IGNORE INTO ") :] + " ON CONFLICT DO NOTHING"
    elif out.startswith("INSERT OR REPLACE INTO meta "):
        out = "INSERT INTO meta " + out[len("INSERT OR REPLACE INTO meta ") :]
        out += " ON CONFLICT (key) DO UPDATE SET value = excluded.value"
    return out


class _Connection:
    """A psycopg connection answering the store's SQLite statements (see :func:`_dialect`), each
    database error raised as a StoreError naming the team store."""

    def __init__(self, conn: psycopg.Connection[Any], where: str) -> None:
        self.pg = conn
        self.where = where
        self._sql: dict[str, str] = {}

    def execute(self, sql: str, params: Iterable[Any] = ()) -> psycopg.Cursor[Any]:
        import psycopg

        try:
            if sql == "BEGIN IMMEDIATE":  # SQLite's write lock: here, the append lock
                self.pg.execute("BEGIN")
                return self.pg.execute("SELECT pg_advisory_xact_lock(%s)", (APPEND_LOCK,))
            text = self._sql.get(sql)
            if text is None:
                text = self._sql[sql] = _dialect(sql)
            return self.pg.execute(text, tuple(params) if params else None)
        except psycopg.errors.InsufficientPrivilege:
            raise StoreError(
                f"you may not do that on the {self.where}: your login has no right to it",
                hint="Ask the team store's administrator (escalate team list shows who may record where).",
            ) from None
        except psycopg.errors.RaiseException as exc:  # a trigger refused it
            raise StoreError(f"the {self.where} refused it: {_first_line(exc)}") from None
        except psycopg.OperationalError as exc:
            raise StoreError(
                f"lost the connection to the {self.where}: {_first_line(exc)}",
                hint="Nothing half-written is kept: try again once the server answers.",
            ) from None
        except psycopg.Error as exc:
            raise StoreError(f"the {self.where} could not do it: {_first_line(exc)}") from None

    def close(self) -> None:
        self.pg.close()


class PgStore(Store[S]):
    """The log in a PostgreSQL database (see the module's note)."""

    local = False

    @classmethod
    def open_url(cls, url: str, *, fold: Fold[S], readonly: bool = False) -> PgStore[S]:
        where = shown_url(url)
        conn = _Connection(_connect(url), where)
        store = cls(conn, Path(where), fold)  # type: ignore[arg-type]  # (the adapter answers as sqlite3 does)
        try:
            if conn.execute("SELECT to_regclass('meta')").fetchone() in (None, (None,)):
                raise StoreError(
                    f"the {where} holds no escalate store",
                    hint="An administrator makes one with `escalate team init URL`.",
                )
            row = conn.execute("SELECT value FROM meta WHERE key = 'schema'").fetchone()
            if row is None or not str(row[0]).isdigit() or int(row[0]) > TEAM_SCHEMA_VERSION:
                raise StoreError(
                    f"the {where} was made by a newer escalate, or is not escalate's",
                    hint="Upgrade escalate to open it.",
                )
            if readonly:
                conn.execute("SET SESSION CHARACTERISTICS AS TRANSACTION READ ONLY")
        except BaseException:
            conn.close()
            raise
        return store

    def close(self) -> None:
        self.conn.close()

    def _after_append(self) -> None:
        """(SQLite checkpoints its WAL here; the server keeps its own.)"""

    def _rollback(self) -> None:
        try:
            self.conn.execute("ROLLBACK")
        except StoreError:
            pass  # the connection is gone: the server rolled the transaction back itself

    def damage(self) -> str | None:
        """The server keeps its own pages (and checks them with data checksums where enabled)."""
        return None

    def disclosure_rowids(self) -> int:
        return int(self._q("SELECT count(*) FROM disclosures")[0][0])

    def warning_counts(self) -> list[tuple[str, int, int]]:
        rows = self._q(
            "SELECT c.id, s.cseq = (SELECT max(e.cseq) FROM entries e WHERE e.challenge = c.id), "
            "json_array_length((s.state::json) -> 'late'), ((s.state::json) ->> 'backwards')::int "
            "FROM challenges c LEFT JOIN state_cache s ON s.challenge = c.id ORDER BY c.opened_seq"
        )
        out = []
        for cid, current, late, backwards in rows:
            if not current or late is None or backwards is None:
                late, backwards = self.fold.warnings(self._rebuild(cid))
            out.append((cid, late, backwards))
        return out

    def listings_of(self, key: str, challenges: list[str]) -> dict[str, str]:
        rows = self._q(
            "SELECT challenge, listing FROM state_cache WHERE listing_key = ? AND challenge = ANY(?)",
            (key, challenges),
        )
        return {cid: text for cid, text in rows if isinstance(text, str)}

    def keep_listings(self, key: str, rows: list[tuple[str, int, S, str, str]]) -> bool:
        """As the SQLite store's: best effort, and only rows still current when written."""
        if not rows:
            return True
        c = self.conn
        try:
            c.execute("BEGIN")
            for challenge, cseq, state, text, glance in rows:
                c.execute(
                    "INSERT INTO state_cache SELECT ?, ?, ?, ?, ? WHERE "
                    "(SELECT max(cseq) FROM entries WHERE challenge = ?) = ? "
                    "ON CONFLICT (challenge) DO UPDATE SET cseq = excluded.cseq, state = excluded.state, "
                    "listing_key = excluded.listing_key, listing = excluded.listing "
                    "WHERE state_cache.cseq <= excluded.cseq",
                    (challenge, cseq, self.fold.dump(state), key, text, challenge, cseq),
                )
                c.execute(
                    "INSERT INTO glances SELECT ?, ?, ?, ? WHERE "
                    "(SELECT max(cseq) FROM entries WHERE challenge = ?) = ? "
                    "ON CONFLICT (challenge) DO UPDATE SET cseq = excluded.cseq, key = excluded.key, "
                    "glance = excluded.glance WHERE glances.cseq < excluded.cseq",
                    (challenge, cseq, key, glance, challenge, cseq),
                )
            c.execute("COMMIT")
        except StoreError:
            self._rollback()
            return False
        return True

    def whole_log_chunk_sql(self, redact: bool) -> str | None:
        return None  # (SQLite's JSON functions: the export writes the lines itself)
