"""Integrity checks: recompute every hash and link of a store or an exported file.

Verification reads the stored bytes and never re-serialises them: it checks the header
line against the row, sha256 of the bytes against the stored hash, each entry's link to
the previous entry of the store and of its challenge, and every disclosure against the
digest it stands for. Warnings (late entries, a clock running backwards) never fail it.
"""

from __future__ import annotations

import hashlib
import re
from typing import Any, Iterable, NamedTuple

from escalate.entry import FORMAT_TAG, ZERO_HASH


class Report(NamedTuple):
    ok: bool
    count: int
    head: str
    problem: str | None  # the first break: sequence number, kind, what does not match
    problem_seq: int | None
    disclosures: int
    withheld: int
    warnings: list[str]

    @property
    def fingerprint(self) -> str:
        return fingerprint(self.count, self.head)


def fingerprint(count: int, head: str) -> str:
    """Short, readable head fingerprint: entry count and the first 16 hex digits of the head hash."""
    return f"{count}:{head[0:4]}-{head[4:8]}-{head[8:12]}-{head[12:16]}"


def parse_fingerprint(text: str) -> tuple[int, str]:
    match = re.fullmatch(r"\s*(\d+)\s*[:/ ]\s*([0-9a-fA-F][0-9a-fA-F \-]*)\s*", text or "")
    if not match:
        from escalate.errors import UsageError

        raise UsageError(f"fingerprint {text!r} is not COUNT:HEX", hint="e.g. 1042:7f3a-91c2-0be4-5d17")
    return int(match.group(1)), re.sub(r"[^0-9a-f]", "", match.group(2).lower())


def check_rows(rows: Iterable[tuple[int, str, int, str, bytes, str]], disclosures: dict[str, bytes] | None,
               expect: tuple[int, str] | None = None) -> Report:
    """Verify (seq, challenge, cseq, kind, body, hash) rows in order."""
    sha = hashlib.sha256
    prev = ZERO_HASH
    last_of: dict[str, tuple[int, str]] = {}
    count = 0
    expected_seq = 1
    digests_seen = 0
    withheld = 0
    warnings: list[str] = []
    hash_at_expect: str | None = None
    disclosed = disclosures or {}
    for seq, challenge, cseq, kind, body, stored_hash in rows:
        body = bytes(body)

        def fail(message: str) -> Report:
            return Report(False, count, prev, f"entry {seq} ({kind}): {message}", seq, digests_seen, withheld,
                          warnings)

        if seq != expected_seq:
            return fail(f"expected entry {expected_seq} here: an entry is missing or out of order")
        newline = body.find(b"\n")
        head = body[:newline].split(b" ") if newline > 0 else []
        if len(head) != 7 or head[0] != FORMAT_TAG.encode():
            return fail("header line is not in the E1 format")
        try:
            h_seq, h_cseq = int(head[1]), int(head[3])
        except ValueError:
            return fail("header numbers are not numbers")
        h_challenge, h_kind = head[2].decode("ascii", "replace"), head[4].decode("ascii", "replace")
        if (h_seq, h_challenge, h_cseq, h_kind) != (seq, challenge, cseq, kind):
            return fail("header does not match the row (sequence, challenge, number or kind changed)")
        actual = sha(body).hexdigest()
        if actual != stored_hash:
            return fail("content does not match its hash (the entry was changed)")
        if head[5].decode() != prev:
            return fail("does not link to the previous entry of the store")
        last = last_of.get(challenge)
        want_cprev, want_cseq = (last[1], last[0] + 1) if last else (ZERO_HASH, 1)
        if head[6].decode() != want_cprev or cseq != want_cseq:
            return fail(f"does not link to the previous entry of challenge {challenge}")
        pos = body.find(b'"_sd":"', newline) if disclosures is not None else -1
        while pos != -1:
            digests_seen += 1
            d = body[pos + 7:pos + 71].decode("ascii", "replace")
            value = disclosed.get(d)
            if value is None:
                withheld += 1
            elif sha(value).hexdigest() != d:
                return fail("a disclosed personal field does not match its digest")
            pos = body.find(b'"_sd":"', pos + 71)
        last_of[challenge] = (cseq, actual)
        prev = actual
        count += 1
        expected_seq += 1
        if expect and count == expect[0]:
            hash_at_expect = actual
    if expect:
        want_count, want_hex = expect
        if count < want_count:
            return Report(False, count, prev, f"the log has {count} entries but the fingerprint you hold says "
                          f"{want_count}: entries were removed from the end", None, digests_seen, withheld, warnings)
        if not (hash_at_expect or "").startswith(want_hex):
            return Report(False, count, prev, f"entry {want_count} does not match the fingerprint you hold: "
                          "the log was rewritten", want_count, digests_seen, withheld, warnings)
    return Report(True, count, prev, None, None, digests_seen, withheld, warnings)


def verify_store(store: Any, expect: tuple[int, str] | None = None) -> Report:
    # The digests are inside the hashed bodies, so for the store it is enough that every stored
    # disclosure hashes to its digest: streamed in one pass, without searching each body.
    report = check_rows(store.iter_rows(), None, expect)
    if report.ok:
        sha = hashlib.sha256
        checked = 0
        for digest, seq, value in store.iter_disclosures():
            if sha(value).hexdigest() != digest:
                return report._replace(ok=False, problem=f"entry {seq}: a disclosed personal field does not match "
                                       "its digest", problem_seq=seq)
            checked += 1
        report = report._replace(disclosures=checked)
    if report.ok:
        warnings = _warnings(store)
        report = report._replace(warnings=warnings)
    return report


def _warnings(store: Any) -> list[str]:
    out = []
    for state in store.states():
        if state["late"]:
            out.append(f"{state['challenge']}: {len(state['late'])} entr{'y' if len(state['late']) == 1 else 'ies'} "
                       "recorded more than 24 hours after they happened")
        if state["backwards"]:
            out.append(f"{state['challenge']}: the recording clock ran backwards {state['backwards']} time(s)")
    return out
