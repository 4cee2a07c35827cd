"""The lines of a jsonl export of the whole log, made by SQLite in chunks.

SQLite makes each chunk of lines with one query (``Store.whole_log_chunk_sql``), in C. Each chunk says
how many entries its range holds, how many lines it made and its first and last entry, so a line that
could not be made (a row changed outside escalate) or lines out of order fail the export before
anything is written. (A second process making every other chunk, and a thread making them ahead of
the writer, were measured and dropped: 7% and 12% faster, not worth their code: docs/design.md.)
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from typing import Any, NamedTuple

from escalate.errors import StoreError

#: entries per chunk (a chunk is about 1 MB of lines)
SIZE = 1000


class Chunk(NamedTuple):
    entries: int  # entries in the chunk's range
    made: int  # lines SQLite could make of them
    first: int  # the first and last entry's numbers
    last: int
    lines: bytes  # each ending in a newline


def chunks(store: Any, sql: str, lo: int, hi: int) -> Iterator[bytes]:
    """The export lines of entries lo < seq <= hi, a chunk at a time, in order (``sql``: the
    store's ``whole_log_chunk_sql``). Raises StoreError if an entry cannot be made into a line
    (a row changed outside escalate) or if SQLite returned a chunk out of order."""
    for a in range(lo, hi, SIZE):
        b = min(a + SIZE, hi)
        yield _checked(_query(store.conn, sql, a, b), a, b)


def _query(conn: sqlite3.Connection, sql: str, a: int, b: int) -> Chunk:
    try:
        n, made, first, last, lines = conn.execute(sql, (a, b)).fetchone()
    except sqlite3.Error as exc:
        raise StoreError(
            f"the store cannot be read for the export: {exc}",
            hint="`escalate verify` says whether it is damaged. Nothing was written.",
        ) from None
    return Chunk(n, made, first or 0, last or 0, lines or b"")


def _checked(chunk: Chunk, a: int, b: int) -> bytes:
    """The chunk's lines, once they are known to be whole and in order (its first line is its
    first entry's, its last line its last entry's)."""
    if chunk.made != chunk.entries:
        raise StoreError(
            "an entry cannot be exported: the store was changed outside escalate",
            hint="`escalate verify` names the first damaged entry. Nothing was written.",
        )
    lines = chunk.lines
    if chunk.entries and not (
        a < chunk.first <= chunk.last <= b
        and lines[12 : 13 + len(b"%d" % chunk.first)] == b"%d " % chunk.first
        and lines[:12] in (b'{"body":"E1 ', b'{"body":"E2 ')
        and lines.endswith(b',"seq":%d}\n' % chunk.last)
    ):
        raise StoreError(
            "SQLite returned an export's lines out of order; nothing was written",
            hint="Please report this, with `python3 -c 'import sqlite3; print(sqlite3.sqlite_version)'`.",
        )
    return lines
