"""The lines of a jsonl export of the whole log, made by SQLite in chunks, by two processes at once.

SQLite makes each chunk of lines with one query (``Store.whole_log_chunk_sql``), in C and without
holding Python's lock. Two threads of one process would not make them faster (SQLite's allocator
serialises them), so for a big export a helper process, which loads nothing but ``sqlite3``, makes
every other chunk and sends it through a pipe, while a thread of this process makes the rest; the
caller gets them all in order, as they come. Should the helper fail in any way, this process makes
its chunks too: the file is the same either way.
"""

from __future__ import annotations

import os
import queue
import struct
import sys
import threading
from collections.abc import Generator, Iterator
from typing import Any, NamedTuple

from escalate.errors import StoreError

#: entries per chunk (a chunk is about 1 MB of lines)
SIZE = 1000
#: entries: below this, starting a helper costs more than it saves
HELPER_FROM = 20_000

# The helper: the odd chunks of lo < seq <= hi, each as a frame of five numbers (entries, lines made,
# first and last entry, length of the lines: see _Helper.take) and then its lines. It imports only
# sqlite3, and Python starts it without site packages (-I -S).
_HELPER = r"""
import os, sqlite3, struct, sys
uri, sql, lo, hi, size = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
conn = sqlite3.connect(uri, uri=True, timeout=10.0)
conn.text_factory = bytes
for start in range(lo + size, hi, 2 * size):
    n, made, first, last, lines = conn.execute(sql, (start, min(start + size, hi))).fetchone()
    lines = lines or b""
    frame = memoryview(struct.pack("<4q", n, made, first or 0, last or 0) + struct.pack("<q", len(lines)) + lines)
    while frame:
        frame = frame[os.write(1, frame):]
"""
_FRAME = struct.Struct("<5q")


class Chunk(NamedTuple):
    entries: int  # entries in the chunk's range
    made: int  # lines SQLite could make of them
    first: int  # the first and last entry's numbers
    last: int
    lines: bytes  # each ending in a newline


def chunks(store: Any, sql: str, lo: int, hi: int, helper_from: int | None = None) -> Iterator[bytes]:
    """The export lines of entries lo < seq <= hi, a chunk at a time, in order (``sql``: the
    store's ``whole_log_chunk_sql``). Raises StoreError if an entry cannot be made into a line
    (a row changed outside escalate) or if SQLite returned a chunk out of order."""
    from escalate.store import uri_of

    bounds = [(a, min(a + SIZE, hi)) for a in range(lo, hi, SIZE)]
    # (on one core a helper would only take turns with this process)
    big = hi - lo >= (HELPER_FROM if helper_from is None else helper_from) and (os.cpu_count() or 1) > 1
    helper = _Helper(uri_of(store.path, readonly=True), sql, lo, hi) if big and len(bounds) > 1 else None
    ours = bounds if helper is None else bounds[0::2]
    made = ahead(_made(store.conn, sql, ours))  # on a thread of its own
    spare: Any = None  # a connection for the helper's chunks, should it fail
    try:
        for i, (a, b) in enumerate(bounds):
            if helper is None or i % 2 == 0:
                yield next(made)
                continue
            chunk = helper.take()
            if chunk is None:  # the helper failed: its chunks are made here from now on
                if spare is None:
                    import sqlite3

                    spare = sqlite3.connect(uri_of(store.path, readonly=True), uri=True, timeout=10.0)
                    spare.text_factory = bytes
                chunk = _query(spare, sql, a, b)
            yield _checked(chunk, a, b)
    finally:
        made.close()
        if helper is not None:
            helper.close()
        if spare is not None:
            spare.close()


def _made(conn: Any, sql: str, bounds: list[tuple[int, int]]) -> Iterator[bytes]:
    for a, b in bounds:
        yield _checked(_query(conn, sql, a, b), a, b)


def _query(conn: Any, sql: str, a: int, b: int) -> Chunk:
    import sqlite3

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
        and lines.startswith(b'{"body":"E1 %d ' % chunk.first)
        and lines.endswith(b',"seq":%d}\n' % chunk.last)
    ):
        raise StoreError(
            "SQLite returned an export's lines out of order; nothing was written",
            hint="Please report this, with `python3 -c 'import sqlite3; print(sqlite3.sqlite_version)'`.",
        )
    return lines


class _Helper:
    """The helper process, and its chunks as they come through the pipe."""

    def __init__(self, uri: str, sql: str, lo: int, hi: int) -> None:
        import subprocess

        try:
            self.proc: Any = subprocess.Popen(
                [sys.executable, "-I", "-S", "-c", _HELPER, uri, sql, str(lo), str(hi), str(SIZE)],
                stdout=subprocess.PIPE,
                stdin=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
        except OSError:
            self.proc = None
            return
        try:  # room for a whole chunk in the pipe, so the helper goes on to the next one meanwhile
            import fcntl

            if self.proc.stdout is not None:
                fcntl.fcntl(self.proc.stdout.fileno(), getattr(fcntl, "F_SETPIPE_SZ", 1031), 1 << 20)
        except (ImportError, OSError):
            pass

    def take(self) -> Chunk | None:
        """The next chunk, or None (for this and every later one) if the helper cannot give it."""
        if self.proc is None:
            return None
        head = self._read(_FRAME.size)
        if head is not None:
            n, made, first, last, length = _FRAME.unpack(head)
            lines = self._read(length) if 0 <= length < 1 << 40 else None
            if lines is not None:
                return Chunk(n, made, first, last, lines)
        self.close()
        return None

    def _read(self, size: int) -> bytes | None:
        parts, fd = [], self.proc.stdout.fileno()
        while size:
            try:
                part = os.read(fd, min(size, 1 << 20))
            except OSError:
                return None
            if not part:
                return None
            parts.append(part)
            size -= len(part)
        return b"".join(parts)

    def close(self) -> None:
        if self.proc is None:
            return
        proc, self.proc = self.proc, None
        if proc.poll() is None:
            proc.kill()
        proc.stdout.close()
        proc.wait()


class _End(NamedTuple):
    error: BaseException | None


def ahead(chunks: Iterator[bytes], depth: int = 8) -> Generator[bytes, None, None]:
    """The chunks of ``chunks``, made on a thread of their own up to ``depth`` ahead of the caller.

    Worth it only where making a chunk lets go of the GIL (SQLite's steps do). An error in the
    maker is raised here, in order; when the caller stops early (an error writing, or ^C), the
    maker stops at its next chunk and is waited for, so nobody else uses its connection after."""
    made: queue.Queue[Any] = queue.Queue(depth)
    stop = threading.Event()

    def put(item: Any) -> bool:
        while not stop.is_set():
            try:
                made.put(item, timeout=0.05)
                return True
            except queue.Full:
                continue
        return False

    def make() -> None:
        try:
            for chunk in chunks:
                if not put(chunk):
                    return
            put(_End(None))
        except BaseException as exc:  # noqa: BLE001 - handed to the caller, which raises it
            put(_End(exc))
        finally:
            close = getattr(chunks, "close", None)
            if close is not None:
                close()

    maker = threading.Thread(target=make, name="escalate-export-lines", daemon=True)
    maker.start()
    try:
        while True:
            item = made.get()
            if type(item) is _End:
                if item.error is not None:
                    raise item.error
                return
            yield item
    finally:
        stop.set()
        maker.join()
