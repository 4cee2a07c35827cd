"""Integrity checks: recompute every hash and link of a store or an exported file.

Verification reads the stored bytes and never re-serialises them: it checks the header
line against the row, sha256 of the bytes against the stored hash, each entry's link to
the previous entry of the store and of its challenge, and every disclosure against the
digest it stands for. Warnings (late entries, a clock running backwards) never fail it.
"""

from __future__ import annotations

import gc
import hashlib
import json
import re
import sqlite3
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from itertools import repeat
from operator import mod
from pathlib import Path
from typing import Any

from escalate import entry, parallel, pgstore
from escalate.entry import FORMAT_TAGS, ZERO_HASH, link
from escalate.errors import ExportError, StoreError, UsageError, shown
from escalate.store import uri_of

#: the version of the jsonl export format (its header's "escalate_export")
FORMAT_VERSION = 1


@dataclass(frozen=True)
class Report:
    ok: bool
    count: int
    head: str
    problem: str | None  # the first break: sequence number, kind, what does not match
    problem_seq: int | None
    disclosures: int
    withheld: int
    warnings: list[str]
    #: for a file for people: its format, made again from the log it carries and found the same
    made_again: str | None = None
    #: for an export: the store entry its last line is (a linked selection reaches the store's head)
    reaches: int | None = None

    @property
    def fingerprint(self) -> str:
        return fingerprint(self.count if self.reaches is None else self.reaches, self.head)


def fingerprint(count: int, head: str) -> str:
    """Short, readable head fingerprint: entry count and the first 16 hex digits of the head hash."""
    return f"{count}:{head[0:4]}-{head[4:8]}-{head[8:12]}-{head[12:16]}"


#: hex digits a fingerprint must give: all that escalate prints (64 bits: no rewrite finds a match)
FINGERPRINT_DIGITS = 16


def parse_fingerprint(text: str) -> tuple[int, str]:
    match = re.fullmatch(r"\s*(\d{1,15})\s*[:/ ]\s*([0-9a-fA-F][0-9a-fA-F \-]*)\s*", text or "")
    if not match:
        raise UsageError(f"fingerprint {shown(text)} is not COUNT:HEX", hint="e.g. 1042:7f3a-91c2-0be4-5d17")
    digits = re.sub(r"[^0-9a-f]", "", match.group(2).lower())
    if len(digits) < FINGERPRINT_DIGITS:
        raise UsageError(
            f"fingerprint {shown(text)} gives {len(digits)} hex digit(s): too few to tell the log from a rewritten one",
            hint=f"Give all {FINGERPRINT_DIGITS}, as escalate printed them, e.g. 1042:7f3a-91c2-0be4-5d17.",
        )
    if int(match.group(1)) == 0:
        raise UsageError("a fingerprint of 0 entries names no entry to check", hint="e.g. 1042:7f3a-91c2-0be4-5d17")
    return int(match.group(1)), digits


def check_rows(
    rows: Iterable[tuple[int, str, int, str, bytes, str]],
    disclosures: dict[str, bytes] | None,
    expect: tuple[int, str] | None = None,
) -> Report:
    """Verify (seq, challenge, cseq, kind, body, hash) rows in order.

    The loop is the hot path of verifying a million entries: each entry's whole header is
    compared with the one it must have, as one bytes prefix; only when that fails is the entry
    taken apart to say precisely what is wrong (:func:`_diagnose`)."""
    sha = hashlib.sha256
    tag = b"E1"  # the format of the entry before (E1, or E2 from the first E2 entry on: never back)
    prev, prev_b = ZERO_HASH, ZERO_HASH.encode()
    zero = (0, ZERO_HASH.encode())
    last_of: dict[str, tuple[int, bytes]] = {}
    count = digests_seen = withheld = 0
    hash_at_expect: str | None = None
    disclosed = disclosures or {}
    for seq, challenge, cseq, kind, body, stored_hash in rows:
        if type(body) is not bytes:
            if not isinstance(body, (bytearray, memoryview)):  # NULL, or text: the row was changed
                return Report(
                    False,
                    count,
                    prev,
                    f"entry {seq}: its bytes are missing or are not bytes (the row was changed)",
                    seq if isinstance(seq, int) else None,
                    digests_seen,
                    withheld,
                    [],
                )
            body = bytes(body)
        if not (isinstance(challenge, str) and isinstance(kind, str)):
            return Report(
                False,
                count,
                prev,
                f"entry {seq}: its challenge or kind is missing (the row was changed)",
                seq if isinstance(seq, int) else None,
                digests_seen,
                withheld,
                [],
            )
        last = last_of.get(challenge, zero)
        if body.startswith(b"E2 "):
            tag = b"E2"
        want = b"%s %d %s %d %s %s %s\n" % (
            tag,
            count + 1,
            challenge.encode(),
            last[0] + 1,
            kind.encode(),
            prev_b,
            last[1],
        )
        if seq != count + 1 or cseq != last[0] + 1 or not body.startswith(want):
            return Report(
                False,
                count,
                prev,
                _diagnose(seq, challenge, cseq, kind, body, count + 1, prev, last, tag == b"E2"),
                seq,
                digests_seen,
                withheld,
                [],
            )
        actual = sha(body).hexdigest()
        if tag == b"E2":
            actual = link(seq, prev, actual)
        if actual != stored_hash:
            return Report(
                False,
                count,
                prev,
                f"entry {seq} ({kind}): content does not match its hash (the entry was changed)",
                seq,
                digests_seen,
                withheld,
                [],
            )
        if disclosures is not None:
            pos = body.find(b'"_sd":"', len(want))
            while pos != -1:
                digests_seen += 1
                d = body[pos + 7 : pos + 71].decode("ascii", "replace")
                value = disclosed.get(d)
                if value is None:
                    withheld += 1
                elif sha(value).hexdigest() != d:
                    return Report(
                        False,
                        count,
                        prev,
                        f"entry {seq} ({kind}): a disclosed personal field does not match its digest",
                        seq,
                        digests_seen,
                        withheld,
                        [],
                    )
                pos = body.find(b'"_sd":"', pos + 71)
        prev = actual
        prev_b = actual.encode()
        last_of[challenge] = (cseq, prev_b)
        count += 1
        if expect and count == expect[0]:
            hash_at_expect = actual
    if expect:
        want_count, want_hex = expect
        if count < want_count:
            return Report(
                False,
                count,
                prev,
                f"the log has {count} entries but the fingerprint you hold says "
                f"{want_count}: entries were removed from the end",
                None,
                digests_seen,
                withheld,
                [],
            )
        if not (hash_at_expect or "").startswith(want_hex):
            return Report(
                False,
                count,
                prev,
                f"entry {want_count} does not match the fingerprint you hold: the log was rewritten",
                want_count,
                digests_seen,
                withheld,
                [],
            )
    return Report(True, count, prev, None, None, digests_seen, withheld, [])


def _diagnose(
    seq: int,
    challenge: str,
    cseq: int,
    kind: str,
    body: bytes,
    expected_seq: int,
    prev: str,
    last: tuple[int, bytes],
    last_tag_e2: bool,
) -> str:
    """Say what is wrong with an entry whose header is not the one it must have."""

    def fail(message: str) -> str:
        return f"entry {seq} ({kind}): {message}"

    if seq != expected_seq:
        return fail(f"expected entry {expected_seq} here: an entry is missing or out of order")
    newline = body.find(b"\n")
    head = body[:newline].split(b" ") if newline > 0 else []
    if len(head) != 7 or head[0].decode("ascii", "replace") not in FORMAT_TAGS:
        return fail("header line is not in the E1 or E2 format")
    if head[0] == b"E1" and last_tag_e2:
        return fail("is in the E1 format after an entry in E2 (a store never goes back)")
    try:
        h_seq, h_cseq = int(head[1]), int(head[3])
    except ValueError:
        return fail("header numbers are not numbers")
    h_challenge, h_kind = head[2].decode("ascii", "replace"), head[4].decode("ascii", "replace")
    if (h_seq, h_challenge, h_cseq, h_kind) != (seq, challenge, cseq, kind):
        return fail("header does not match the row (sequence, challenge, number or kind changed)")
    if head[5].decode("ascii", "replace") != prev:
        return fail("does not link to the previous entry of the store")
    return fail(f"does not link to the previous entry of challenge {challenge}")


#: from this many entries, a second process checks the second half of the store meanwhile
PARALLEL_FROM = 50_000
#: entries (or disclosures) checked per batch by :func:`check_span` and a team store's spans: a batch
#: of about 4 MB is hashed while it is still in the processor's cache, and a team store's server sends
#: the next while this one is checked (1,000,000 entries: 2.53 s against 2.8-2.9 s with 20,000 on a
#: team store, 1.83-1.94 s against 1.94-1.99 s on SQLite; 2,000 and 10,000 were slower)
BATCH = 5_000
_HEADERS = {tag: tag.encode() + b" %d %s %d %s %s %s\n" for tag in FORMAT_TAGS}
#: a header's format by the byte of its tag's digit
_BY_DIGIT = {ord(tag[1]): template for tag, template in _HEADERS.items()}
_ZERO = ZERO_HASH.encode()


@dataclass(frozen=True)
class Span:
    """What :func:`check_span` found in entries lo..hi and a slice of the disclosures."""

    ok: bool
    count: int
    first_prev: str | None  # the first entry's link to the store's previous entry, as its header says
    last: str | None  # the hash of the span's last entry
    first_e2: bool  # whether the span's first entry is in E2
    last_e2: bool  # whether its last entry is (a span in E1 may not follow it: a store never goes back)
    junctions: list[tuple[str, int, str]]  # (challenge, cseq, cprev) of challenges already under way
    ends: dict[str, tuple[int, str]]  # challenge -> (next cseq, hash of its last entry in the span)
    disclosures: int


try:  # Python's own sha256: less set-up per call than OpenSSL's, for short input
    from _sha256 import sha256 as small_sha
except ImportError:  # Python 3.12 and later name it _sha2
    try:
        from _sha2 import sha256 as small_sha
    except ImportError:
        small_sha = hashlib.sha256


class _Run:
    """Entries checked batch by batch, in order from entry ``lo``: the hot path of verifying a million
    entries, written so that the work per entry runs in C (hashes in comprehensions, every header
    made by one % format and compared by startswith; only the per-challenge links loop in Python).
    Rows are (body, hash, challenge, cseq, kind) with the texts as bytes. A challenge first met here
    at an entry past its first is a junction: whoever checked the entries before says whether it
    continues them (see _joined)."""

    def __init__(self, lo: int) -> None:
        self.seq = lo
        self.last_of: dict[bytes, tuple[int, bytes]] = {}
        self.junctions: list[tuple[str, int, str]] = []
        self.first_prev: bytes | None = None
        self.last: bytes | None = None
        self.first_e2 = self.e2 = False

    def feed(self, rows: list[tuple[Any, ...]]) -> bool:
        """Check one batch after the last; False at the first thing that does not hold."""
        sha = hashlib.sha256
        get, last_of = self.last_of.get, self.last_of
        bodies, hashes, challenges, cseqs, kinds = zip(*rows)
        if self.first_prev is None:
            nl = bodies[0].find(b"\n")
            self.first_prev = self.last = bodies[0][nl - 129 : nl - 65]
            self.first_e2 = bodies[0].startswith(b"E2 ")
        # each entry's format, as one byte string ("1" or "2"): E1 entries only before the first E2
        tags = b"".join([b[1:2] for b in bodies])
        if b"21" in tags or (self.e2 and b"1" in tags):
            return False
        self.e2 = e2 = self.e2 or b"2" in tags
        prevs = (self.last,) + hashes[:-1]
        numbers = range(self.seq, self.seq + len(rows))
        # All hashes of the batch compared at once (E2: each from its number, the stored hash before it
        # and the sha256 of its bytes; the headers below check those links). A stored hash of the wrong
        # length could only line up here with a neighbour's, and that neighbour's successor's header
        # then fails. (list comprehensions: faster here than map() through a methodcaller)
        if b"2" not in tags:
            computed = [sha(b).digest() for b in bodies]
        elif b"1" not in tags:
            computed = [
                sha(b"E2 %d %s %s" % (s, p, sha(b).hexdigest().encode())).digest()
                for s, p, b in zip(numbers, prevs, bodies)
            ]
        else:  # the one batch where a store went from E1 to E2
            computed = [
                sha(b).digest() if t == 49 else sha(b"E2 %d %s %s" % (s, p, sha(b).hexdigest().encode())).digest()
                for s, p, b, t in zip(numbers, prevs, bodies, tags)
            ]
        if b"".join(computed).hex() != b"".join(hashes).decode("ascii"):
            return False
        cprevs: list[bytes | None] = []
        add = cprevs.append
        under_way = False
        for challenge, cseq, h in zip(challenges, cseqs, hashes):
            end = get(challenge)
            if end is None:
                if cseq == 1:
                    add(_ZERO)
                else:  # under way before this run: its link is read from its header below
                    under_way = True
                    add(None)
            elif end[0] != cseq:
                return False
            else:
                add(end[1])
            last_of[challenge] = (cseq + 1, h)
        if under_way:  # rare: only where a run starts; the caller checks these links
            for i, cprev in enumerate(cprevs):
                if cprev is None:
                    nl = bodies[i].find(b"\n")
                    cprev_b = cprevs[i] = bodies[i][nl - 64 : nl]
                    name = challenges[i].decode("ascii", "replace")
                    self.junctions.append((name, cseqs[i], cprev_b.decode("ascii", "replace")))
        uniform = len(set(tags)) == 1
        formats = repeat(_HEADERS["E2" if e2 else "E1"]) if uniform else map(_BY_DIGIT.get, tags)
        heads = map(mod, formats, zip(numbers, challenges, cseqs, kinds, prevs, cprevs))
        if not all(map(bytes.startswith, bodies, heads)):
            return False
        self.seq += len(rows)
        self.last = hashes[-1]
        return True

    def span(self, count: int, ends: bool, disclosures: int) -> Span:
        """What the run found, as a span of ``count`` entries."""
        text = (
            {k.decode("ascii", "replace"): (v[0], v[1].decode("ascii")) for k, v in self.last_of.items()}
            if ends
            else {}
        )
        return Span(
            True,
            count,
            self.first_prev.decode("ascii") if self.first_prev else None,
            self.last.decode("ascii") if self.last else None,
            self.first_e2,
            self.e2,
            self.junctions,
            text,
            disclosures,
        )


def disclosures_hold(digests: list[bytes], values: list[bytes]) -> bool:
    """Whether each disclosure hashes to its digest, the batch at once (each digest exactly 64 digits,
    as many as the values: so no digest can be split or joined to line up with another's)."""
    if len(digests) != len(values) or not set(map(len, digests)) <= {64}:
        return False
    return b"".join([small_sha(v).digest() for v in values]).hex() == b"".join(digests).decode("ascii", "replace")


def check_span(path: Any, lo: int, hi: int, d_lo: int, d_hi: int, ends: bool = False) -> Span:
    """Check entries lo..hi and the disclosures whose rowid is in d_lo..d_hi, on a connection of
    their own, answering only whether everything holds (the caller re-checks a failure with
    :func:`check_rows`, which names the first broken entry). See :class:`_Run`."""
    collecting = gc.isenabled()
    gc.disable()  # batches of fresh tuples would set off collections that find nothing to free
    conn = sqlite3.connect(uri_of(path, readonly=True), uri=True, timeout=10.0)
    conn.text_factory = bytes  # ids, kinds and hashes as the bytes the headers hold
    conn.execute("PRAGMA mmap_size = 17179869184")  # pages read in place: no copy into SQLite's cache
    failed = Span(False, 0, None, None, False, False, [], {}, 0)
    try:
        run = _Run(lo)
        cursor = conn.execute(
            "SELECT body, hash, challenge, cseq, kind FROM entries WHERE seq >= ? AND seq <= ? ORDER BY seq", (lo, hi)
        )
        while True:
            rows = cursor.fetchmany(BATCH)
            if not rows:
                break
            if not run.feed(rows):
                return failed
        if run.seq != hi + 1:  # rows missing
            return failed
        checked = 0
        for start in range(d_lo, d_hi + 1, BATCH):
            # One row per batch: the digests joined by commas, and the disclosures by newlines (a
            # disclosure is compact JSON, which has none; were one there, the counts would differ).
            # The hashes worked out are written the same way, a comma after every 32 bytes, so each
            # stored digest must be exactly its 64 digits (no comma inside, none too long or short).
            # A NULL counts as empty: group_concat would skip it, and the pieces could realign.
            digests, values = conn.execute(
                "SELECT group_concat(ifnull(digest, ''), ','), group_concat(ifnull(bytes, x''), x'0a') FROM "
                "disclosures WHERE rowid >= ? AND rowid <= ?",
                (start, min(start + BATCH - 1, d_hi)),
            ).fetchone()
            if digests is None:
                continue
            pieces = values.split(b"\n")
            if b"".join([small_sha(p).digest() for p in pieces]).hex(",", 32) != digests.decode("ascii"):
                return failed
            checked += len(pieces)
        return run.span(hi - lo + 1, ends, checked)
    except (sqlite3.Error, ValueError, TypeError, UnicodeDecodeError):
        return failed  # unreadable or malformed rows: the precise check says what is wrong
    finally:
        conn.close()
        if collecting:
            gc.enable()


def first_share(n: int) -> int:
    """How many of ``n`` entries (or disclosures) this process checks when the worker checks the rest:
    half (the worker starts later, but this process also reads the warnings meanwhile)."""
    return n * 50 // 100


def verify_store(store: Any, expect: tuple[int, str] | None = None, *, warnings: bool = True) -> Report:
    """Verify a whole store: every entry, every link and every stored disclosure, plus (unless
    ``warnings`` is false: the audit counts late entries its own way) the warnings.

    A large store is checked in two halves at once, the second by a worker process (both cores
    work); the halves meet at the entry where they join and at each challenge's last entry in
    the first half. Anything that does not hold is checked again by :func:`check_rows`, entry by
    entry, to name the first break exactly."""
    if not store.local:
        return _team(store, expect, warnings)
    count, head = store.head()
    d_hi = store.disclosure_rowids()
    split = count >= PARALLEL_FROM and parallel.cores() > 1
    mid, d_mid = (first_share(count), first_share(d_hi)) if split else (count, d_hi)
    checked = _in_two(
        store,
        head,
        warnings,
        lambda: check_span(store.path, 1, mid, 1, d_mid, ends=True),
        lambda: check_span(store.path, mid + 1, count, d_mid + 1, d_hi),
        (check_span, store.path, mid + 1, count, d_mid + 1, d_hi) if split else None,
    )
    if checked is None:
        return _precise(store, expect)
    disclosures, notes = checked
    return _held_against(Report(True, count, head, None, None, disclosures, 0, notes), store, expect)


def _in_two(
    store: Any,
    head: str,
    warnings: bool,
    first_half: Callable[[], Span],
    second_half: Callable[[], Span],
    beside: tuple[Any, ...] | None,
) -> tuple[int, list[str]] | None:
    """The two halves of a store checked, the second by a worker (``beside``: its work and arguments)
    while this process checks the first, then reads the warnings; the second here if the worker gives
    no answer (or if there is no worker). (disclosures checked, warnings) if both hold and the second
    continues the first, else None."""
    side: parallel.Worker[Span] | None = parallel.beside(*beside) if beside is not None else None
    first = first_half()
    notes = _warnings(store) if warnings and first.ok else []  # while the worker finishes
    second = None
    if side is not None:
        if first.ok:
            second = side.result()
        else:
            side.close()
        if second is None and first.ok:  # the worker could not answer: its half here
            second = second_half()
    held = (
        first.ok and not first.junctions and first.first_prev in (None, ZERO_HASH) and first.last in (None, head)
        if second is None
        else _joined(first, second, head)
    )
    return (first.disclosures + (second.disclosures if second else 0), notes) if held else None


def _held_against(report: Report, store: Any, expect: tuple[int, str] | None) -> Report:
    """A store's report, checked against the fingerprint the auditor holds: the store reaches the entry
    it names, and that entry's hash begins as it says."""
    if expect:
        want_count, want_hex = expect
        if report.count < want_count:
            return replace(
                report,
                ok=False,
                problem=f"the log has {report.count} entries but the fingerprint you hold "
                f"says {want_count}: entries were removed from the end",
            )
        if not store.entry_hash(want_count).startswith(want_hex):
            return replace(
                report,
                ok=False,
                problem=f"entry {want_count} does not match the fingerprint you hold: the log was rewritten",
                problem_seq=want_count,
            )
    return report


def _joined(first: Span, second: Span, head: str) -> bool:
    """Both halves hold, and the second continues the first: its first entry links to the first
    half's last, and every challenge it meets under way continues from where the first left it."""
    if not (first.ok and second.ok and not first.junctions and first.first_prev in (None, ZERO_HASH)):
        return False
    if second.first_prev != (first.last or ZERO_HASH) or second.last != head:
        return False
    if first.last_e2 and not second.first_e2:  # an E1 entry after an E2 one: a store never goes back
        return False
    return all(first.ends.get(challenge) == (cseq, cprev) for challenge, cseq, cprev in second.junctions)


def check_team_span(url: str, lo: int, hi: int) -> Span:
    """As :func:`check_span`, for a team store: entries lo..hi and the disclosures they made, on a
    connection of its own (a worker's)."""
    conn = pgstore.reading(url)
    try:
        return _team_span(
            pgstore.entry_span(conn, url, lo, hi, BATCH), pgstore.disclosure_span(conn, url, lo, hi, BATCH), lo, hi
        )
    finally:
        conn.close()


def _team_span(
    entries: Iterable[list[tuple[Any, ...]]],
    disclosures: Iterable[tuple[list[bytes], list[bytes]]],
    lo: int,
    hi: int,
    ends: bool = False,
) -> Span:
    """Entries lo..hi and their disclosures, as read from a team store, checked as a span of the file
    store is (only whether everything holds)."""
    collecting = gc.isenabled()
    gc.disable()  # (as check_span)
    failed = Span(False, 0, None, None, False, False, [], {}, 0)
    try:
        run = _Run(lo)
        for rows in entries:
            if rows and not run.feed(rows):
                return failed
        if run.seq != hi + 1:  # rows missing
            return failed
        checked = 0
        for digests, values in disclosures:
            if not disclosures_hold(digests, values):
                return failed
            checked += len(values)
        return run.span(hi - lo + 1, ends, checked)
    except (StoreError, ValueError, TypeError, UnicodeDecodeError):
        return failed  # unreadable or malformed rows: the precise check says what is wrong
    finally:
        if collecting:
            gc.enable()


def _team(store: Any, expect: tuple[int, str] | None, warnings: bool) -> Report:
    """A team store: every entry and every stored disclosure read in spans, a big store's second half by
    a worker on a connection of its own while this process checks the first (the server, this process
    and the worker share the cores: 2.1 s against 3.8 s in one process for 1,000,000 entries' rows).
    A person who may read only some challenges follows the chain through the others' digests."""
    if not store.sees_everything():
        return _through_links(store, expect)
    count, head = store.head()
    split = count >= PARALLEL_FROM and parallel.cores() > 1
    mid = first_share(count) if split else count

    def span(lo: int, hi: int, ends: bool = False) -> Span:
        return _team_span(store.entry_span(lo, hi, BATCH), store.disclosure_span(lo, hi, BATCH), lo, hi, ends)

    checked = _in_two(
        store,
        head,
        warnings,
        lambda: span(1, mid, ends=True),
        lambda: span(mid + 1, count),
        (check_team_span, store.location(), mid + 1, count) if split else None,
    )
    if checked is None:
        return _precise(store, expect)
    # and the disclosures no span read: of no entry, or of entries recorded since (a few, if any)
    digests, values = store.disclosures_outside(1, count)
    if not disclosures_hold(digests, values):
        return _precise(store, expect)
    disclosures, notes = checked
    report = Report(True, count, head, None, None, disclosures + len(values), 0, notes)
    return _held_against(report, store, expect)


def _through_links(store: Any, expect: tuple[int, str] | None) -> Report:
    """A store of which only some challenges can be read here (a DSL's view of a team store): checked
    as a linked export of them is, each entry not readable here followed by its number and digest,
    so the whole chain is checked to the head, and every readable entry against it."""
    disclosed: dict[int, dict[str, str]] = {}
    for digest, seq, value in store.disclosures_by_seq():
        disclosed.setdefault(seq, {})[digest] = bytes(value).decode("utf-8", "surrogateescape")
    rows = {row[0]: row for row in store.iter_rows()}
    records: list[dict[str, Any]] = []
    for seq, inner, _ in store.chain_links():
        row = rows.get(seq)
        if row is None:
            records.append({"inner": inner, "seq": seq})
            continue
        _, challenge, cseq, kind, body, h = row
        text = bytes(body).decode("utf-8", "surrogateescape")  # (bytes that are not UTF-8 fail their hash)
        records.append({"body": text, "challenge": challenge, "cseq": cseq, "disclosures": disclosed.get(seq, {}),
                        "hash": h, "kind": kind, "seq": seq})  # fmt: skip
    count, head = store.head()
    header = {
        "challenges": sorted({r["challenge"] for r in records if "body" in r}),
        "entries": len(rows),
        "linked": True,
        "redacted": False,
        "scope": "selection",
        "store_fingerprint": fingerprint(count, head),
    }
    report = verify_records(header, records, expect)
    return replace(report, count=count if report.ok else report.count, reaches=None)


def _precise(store: Any, expect: tuple[int, str] | None) -> Report:
    """Entry by entry, then each disclosure: slower, but says exactly what is wrong and where."""
    report = check_rows(store.iter_rows(), None, expect)
    if not report.ok:
        return report
    problem, problem_seq, checked = check_disclosures(store)
    if problem is not None:
        return replace(report, ok=False, problem=problem, problem_seq=problem_seq)
    # the quick check found something the precise one did not: never report success then
    return replace(
        report,
        ok=False,
        problem="the store changed while it was being verified, or could not be read consistently: run verify again",
        disclosures=checked,
    )


def check_disclosures(store: Any) -> tuple[str | None, int | None, int]:
    """Every stored disclosure against its digest, one by one: (problem, its entry, how many checked).

    The digests are inside the hashed bodies, so for a store it is enough that each stored
    disclosure hashes to its digest: one streamed pass, without searching each body."""
    sha = hashlib.sha256
    checked = 0
    for digest, seq, value in store.iter_disclosures():
        if not isinstance(value, bytes) or sha(value).hexdigest() != digest:
            seq = seq if isinstance(seq, int) else None
            where = f"entry {seq}" if seq is not None else "a stored disclosure (of no entry)"
            what = "does not match its digest" if isinstance(value, bytes) else "is missing or is not bytes"
            return f"{where}: a disclosed personal field {what}", seq, checked
        checked += 1
    return None, None, checked


def _warnings(store: Any) -> list[str]:
    out = []
    for challenge, late, backwards in store.warning_counts():
        if late:
            out.append(
                f"{challenge}: {late} entr{'y' if late == 1 else 'ies'} recorded more than 24 hours after they happened"
            )
        if backwards:
            out.append(f"{challenge}: the recording clock ran backwards {backwards} time(s)")
    return out


# --- exported files ------------------------------------------------------------------------


def read_jsonl(path: str | Path) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    p = Path(path)
    try:
        raw = p.read_bytes()
    except FileNotFoundError:
        raise ExportError(f"{p}: file not found") from None
    except IsADirectoryError:
        raise ExportError(f"{p} is a folder, expected an exported .jsonl file") from None
    except OSError as exc:
        raise ExportError(f"{p}: cannot be read: {exc.strerror}") from None
    except ValueError:  # a NUL in the name
        raise ExportError(f"the file name {str(p)!r} holds a NUL character, which no file name may") from None
    lines = raw.split(b"\n")
    if lines and lines[-1] == b"":
        lines.pop()
    try:
        header = json.loads(lines[0]) if lines else None
    except (ValueError, UnicodeDecodeError):
        header = None
    if not isinstance(header, dict) or header.get("escalate_export") != FORMAT_VERSION:
        raise ExportError(
            f"{p} is not an escalate export (its first line is not an export header)",
            hint="Export with `escalate export ... --format jsonl`.",
        )
    records = parse_lines(lines[1:])
    if records is not None:
        return header, records
    records = []  # something is wrong: read line by line to say which
    for number, line in enumerate(lines[1:], start=2):
        try:
            rec = json.loads(line)
            if not is_line(rec):
                raise ValueError
        except (ValueError, UnicodeDecodeError, RecursionError):
            raise ExportError(f"{p}:{number}: not a valid entry line (the file is damaged or truncated)") from None
        records.append(rec)
    return header, records


_FIELDS = (
    ("seq", int),
    ("challenge", str),
    ("cseq", int),
    ("kind", str),
    ("hash", str),
    ("body", str),
    ("disclosures", dict),
)


def is_entry_line(rec: Any) -> bool:
    if not isinstance(rec, dict):
        return False
    for key, typ in _FIELDS:
        if not isinstance(rec.get(key), typ):
            return False
    # Messages name these, and escalate writes them in ASCII: JSON can spell a lone surrogate
    # (\ud800), which no terminal can print.
    return bool(rec["challenge"].isascii() and rec["kind"].isascii() and rec["hash"].isascii())


def is_link_line(rec: Any) -> bool:
    """A link line: an entry of a challenge the export leaves out, by its number and the sha256 of its
    bytes (``{"inner": HEX, "seq": N}``), so that the chain can be followed through it."""
    return (
        isinstance(rec, dict)
        and len(rec) == 2
        and isinstance(rec.get("seq"), int)
        and isinstance(rec.get("inner"), str)
        and len(rec["inner"]) == 64
        and rec["inner"].isascii()
    )


def is_line(rec: Any) -> bool:
    """An entry line or a link line."""
    return is_entry_line(rec) or is_link_line(rec)


def entry_lines(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The entry lines of an export's lines (its link lines left out)."""
    return [r for r in records if "body" in r]


def parse_lines(lines: list[Any]) -> list[dict[str, Any]] | None:
    """Every entry line parsed by one json.loads of them all as one array (a call per line costs more
    than the parsing of most lines), or None if any line is not one entry object. A line holding
    two values, or none, changes the count or breaks the array, so the lines cannot be misread."""
    if not lines:
        return []
    # brackets on the end lines, not around the joined whole: one copy of the file instead of three
    first, last = lines[0], lines[-1]
    lines[0] = b"[" + first
    lines[-1] = bytes(lines[-1]) + b"]"  # (lines may be memoryviews of a file read whole)
    try:
        records = json.loads(b",".join(lines))
    except (ValueError, UnicodeDecodeError, RecursionError):
        return None
    finally:
        lines[0], lines[-1] = first, last
    if not isinstance(records, list) or len(records) != len(lines) or not all(map(is_line, records)):
        return None
    return records  # each checked to be an entry object just above


def verify_file(path: str | Path, expect: tuple[int, str] | None = None) -> Report:
    """Verify an exported jsonl file: every hash, every link it can check, every disclosure."""
    header, records = read_jsonl(path)
    return verify_records(header, records, expect)


def verify_records(
    header: dict[str, Any],
    records: list[dict[str, Any]],
    expect: tuple[int, str] | None = None,
    *,
    bodies: list[bytes] | None = None,
) -> Report:
    """:func:`verify_file` on a file already read with :func:`read_jsonl` (the audit reads it once).
    ``bodies``, if given, receives each entry's bytes as checked (the audit folds them next)."""
    keep = bodies.append if bodies is not None else None
    last_seq, last_hash = None, None
    last_of: dict[str, tuple[int, str]] = {}
    tally = [0, 0]  # disclosed, withheld
    count = 0
    verified: set[str] = set()
    whole = header.get("scope") == "all"
    linked = header.get("linked") is True
    e2 = False
    at_expect: str | None = None
    for rec in records:
        if "body" not in rec:  # a link line (see is_link_line): followed, never read
            problem = _link_problem(rec, last_seq, linked)
            if problem is not None:
                return Report(False, count, last_hash or entry.ZERO_HASH, problem, rec["seq"], tally[0], tally[1], [])
            last_seq, last_hash = rec["seq"], link(rec["seq"], last_hash or entry.ZERO_HASH, rec["inner"])
            if expect and last_seq == expect[0]:
                at_expect = last_hash
            continue
        body = entry_bytes(rec)
        if body is None:
            return Report(
                False,
                count,
                last_hash or entry.ZERO_HASH,
                f"entry {rec['seq']} ({rec['kind']}): its "
                "text holds a character that is not Unicode (a lone surrogate)",
                rec["seq"],
                tally[0],
                tally[1],
                [],
            )
        if keep is not None:
            keep(body)
        head, actual, problem = entry_head(rec, body)
        if problem is None and head[0] == "E1" and e2:
            problem = "is in the E1 format after an entry in E2 (a store never goes back)"
        e2 = e2 or head[0] == "E2"
        if problem is None:
            problem = store_link(rec["seq"], head[5], last_seq, last_hash, whole, linked)
        if problem is None:
            problem = challenge_link(rec, head, body, last_of, verified, tally)
        if problem is not None:
            return Report(
                False,
                count,
                last_hash or entry.ZERO_HASH,
                f"entry {rec['seq']} ({rec['kind']}): {problem}",
                rec["seq"],
                tally[0],
                tally[1],
                [],
            )
        last_seq, last_hash = rec["seq"], actual
        if expect and last_seq == expect[0]:
            at_expect = last_hash
        count += 1
    head_hash = last_hash or entry.ZERO_HASH
    problem = header_problem(header, count, head_hash, set(last_of), tally[0], tally[1], last_seq or 0)
    if problem is None and expect:
        problem = _expect_problem(last_seq or 0, whole or linked, expect, at_expect)
    if problem is not None:
        return Report(False, count, head_hash, problem, None, tally[0], tally[1], [], reaches=last_seq)
    return Report(True, count, head_hash, None, None, tally[0], tally[1], [], reaches=last_seq)


def _link_problem(rec: dict[str, Any], last_seq: int | None, linked: bool) -> str | None:
    """What is wrong with a link line's place, or None: it follows the entry before it in the store."""
    if not linked:
        return f"line of entry {rec['seq']}: a link line, in a file whose header does not say it is linked"
    if last_seq is None and rec["seq"] != 1:  # (the first entry of the store links to nothing)
        return f"line of entry {rec['seq']}: a linked export starts at an entry of its own, not a link line"
    if last_seq is not None and rec["seq"] != last_seq + 1:
        return f"line of entry {rec['seq']}: expected entry {last_seq + 1} here: a line is missing or out of order"
    return None


def header_problem(
    header: dict[str, Any],
    count: int,
    head: str,
    challenges: set[str],
    disclosed: int,
    withheld: int,
    reaches: int | None = None,
) -> str | None:
    """What the export header says that its entries do not bear out, or None. The header is bound to
    the entries this way: the number of entries, the challenges, whether personal fields were
    withheld, and (for a whole-store export, or a linked one that ``reaches`` that store entry) the
    store fingerprint must all be what the lines hold."""
    if count != header.get("entries"):
        return (
            f"the header says {header.get('entries')} entries but the file holds {count}: it was truncated or extended"
        )
    named = header.get("challenges")
    if not isinstance(named, list) or set(named) != challenges or len(named) != len(challenges):
        return (
            "the header's list of challenges is not the challenges of the file's entries: entries were removed or added"
        )
    redacted = header.get("redacted")
    if redacted is False and withheld:
        return (
            f"the header says nothing was withheld, but {withheld} personal field(s) have no disclosure: "
            "disclosures were removed"
        )
    if redacted is True and disclosed:
        return f"the header says personal fields were withheld, but {disclosed} are disclosed: the file was changed"
    if redacted not in (True, False):
        return "the header does not say whether personal fields were withheld"
    if header.get("scope") == "all" and header.get("store_fingerprint") != fingerprint(count, head):
        return (
            f"the header's store fingerprint {header.get('store_fingerprint')!r} is not the file's "
            f"({fingerprint(count, head)}): a whole-store export ends at the store's head"
        )
    if header.get("linked") is True and header.get("store_fingerprint") != fingerprint(reaches or 0, head):
        return (
            f"the header's store fingerprint {header.get('store_fingerprint')!r} is not the file's "
            f"({fingerprint(reaches or 0, head)}): a linked export ends at the store's head"
        )
    if header.get("linked") not in (None, True, False):
        return "the header does not say whether the export is linked"
    return None


def _expect_problem(last: int, contiguous: bool, expect: tuple[int, str], found: str | None) -> str | None:
    """The file against the store fingerprint the auditor holds: the entry it names is in the file
    (as an entry or a link line) and is that entry (count and hash), and a whole-store or linked
    export reaches it. ``found``: the hash of that entry as the file's chain gives it."""
    want_count, want_hex = expect
    if contiguous and last < want_count:
        return (
            f"the file ends at entry {last} but the fingerprint you hold says {want_count}: "
            "entries were removed from the end"
        )
    if found is None:
        return (
            f"entry {want_count}, which the fingerprint you hold names, is not in this file (an export of some "
            "challenges made before escalate linked them): it cannot be checked against that fingerprint"
        )
    if not found.startswith(want_hex):
        return f"entry {want_count} does not match the fingerprint you hold: the file was rewritten"
    return None


# The checks of one entry line, in three parts: the split audit (escalate.audit_file) runs the first
# and last in two processes, each over its own challenges, and the middle one over the whole file.


def entry_bytes(rec: dict[str, Any]) -> bytes | None:
    """The entry's bytes (its body as UTF-8), or None if the body is not Unicode text: JSON can
    spell a lone surrogate (\\ud800), which no UTF-8 can hold, and escalate never writes one."""
    body = rec["body"]
    try:
        return body.encode("utf-8") if isinstance(body, str) else None
    except UnicodeEncodeError:
        return None


def entry_head(rec: dict[str, Any], body: bytes) -> tuple[list[str], str, str | None]:
    """(the header line's fields, the body's sha256, what is wrong with the entry by itself or None)."""
    nl = body.find(b"\n")
    head = (body if nl == -1 else body[:nl]).decode("ascii", "replace").split(" ")
    if len(head) != 7 or head[0] not in FORMAT_TAGS:
        return head, "", "header line is not in the E1 or E2 format"
    actual = entry.stated_hash(body)
    if head[1:5] != [str(rec["seq"]), rec["challenge"], str(rec["cseq"]), rec["kind"]]:
        return head, actual, "header does not match the line (sequence, challenge, number or kind changed)"
    if actual != rec["hash"]:
        return head, actual, "content does not match its hash (the entry was changed)"
    return head, actual, None


def store_link(
    seq: int, prev: str, last_seq: int | None, last_hash: str | None, whole: bool, linked: bool = False
) -> str | None:
    """What is wrong with an entry's place in the file's run of store entries, or None. A whole-store
    export runs from entry 1 without a gap; a linked one without a gap from its first line."""
    if last_seq is not None and seq <= last_seq:
        return "entries are out of order"
    if last_seq is not None and seq == last_seq + 1 and prev != last_hash:
        return "does not link to the previous entry of the store"
    if last_seq is None and whole and seq != 1:
        return "a whole-store export must start at entry 1"
    if (whole or linked) and last_seq is not None and seq != last_seq + 1:
        return "an entry is missing before this one"
    return None


def challenge_link(
    rec: dict[str, Any],
    head: list[str],
    body: bytes,
    last_of: dict[str, tuple[int, str]],
    verified: set[str],
    tally: list[int],
    missing: set[str] | None = None,
) -> str | None:
    """What is wrong with an entry's link to its challenge's previous one or with its disclosures,
    or None; then notes it as its challenge's last, and counts its fields disclosed and withheld
    (adding the digests of those withheld to ``missing``, if given)."""
    prev = last_of.get(rec["challenge"])
    want = (prev[1], prev[0] + 1) if prev else (entry.ZERO_HASH, 1)
    if (head[6], rec["cseq"]) != want:
        return f"does not link to the previous entry of challenge {rec['challenge']}"
    # Each disclosure travels once, with the first entry naming it; a copy on a later line is
    # checked too (the audit shows the last copy it reads).
    sha = hashlib.sha256
    for d, value in rec["disclosures"].items():
        if not isinstance(value, str) or sha(value.encode("utf-8", "surrogatepass")).hexdigest() != d:
            return "a disclosed personal field does not match its digest"
        verified.add(d)
    for d in digests_in(body):
        if d in verified:
            tally[0] += 1
        else:
            tally[1] += 1
            if missing is not None:
                missing.add(d)
    last_of[rec["challenge"]] = (rec["cseq"], rec["hash"])
    return None


def digests_in(body: bytes) -> list[str]:
    out = []
    pos = body.find(b'"_sd":"')
    while pos != -1:
        out.append(body[pos + 7 : pos + 71].decode("ascii", "replace"))
        pos = body.find(b'"_sd":"', pos + 71)
    return out
