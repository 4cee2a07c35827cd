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
    """Verify (seq, challenge, cseq, kind, body, hash) rows in order.

    The loop is the hot path of verifying a million entries: each entry's whole header is
    compared with the one it must have, as one bytes prefix; only when that fails is the entry
    taken apart to say precisely what is wrong (:func:`_diagnose`)."""
    sha = hashlib.sha256
    tag = FORMAT_TAG.encode()
    prev, prev_b = ZERO_HASH, ZERO_HASH.encode()
    zero = (0, ZERO_HASH.encode())
    last_of: dict[str, tuple[int, bytes]] = {}
    count = digests_seen = withheld = 0
    hash_at_expect: str | None = None
    disclosed = disclosures or {}
    for seq, challenge, cseq, kind, body, stored_hash in rows:
        if type(body) is not bytes:
            body = bytes(body)
        last = last_of.get(challenge, zero)
        want = b"%s %d %s %d %s %s %s\n" % (tag, count + 1, challenge.encode(), last[0] + 1, kind.encode(), prev_b,
                                             last[1])
        if seq != count + 1 or cseq != last[0] + 1 or not body.startswith(want):
            return Report(False, count, prev, _diagnose(seq, challenge, cseq, kind, body, count + 1, prev, last),
                          seq, digests_seen, withheld, [])
        actual = sha(body).hexdigest()
        if actual != stored_hash:
            return Report(False, count, prev, f"entry {seq} ({kind}): content does not match its hash (the entry "
                          "was changed)", seq, digests_seen, withheld, [])
        if disclosures is not None:
            pos = body.find(b'"_sd":"', len(want))
            while pos != -1:
                digests_seen += 1
                d = body[pos + 7:pos + 71].decode("ascii", "replace")
                value = disclosed.get(d)
                if value is None:
                    withheld += 1
                elif sha(value).hexdigest() != d:
                    return Report(False, count, prev, f"entry {seq} ({kind}): a disclosed personal field does not "
                                  "match its digest", seq, digests_seen, withheld, [])
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
            return Report(False, count, prev, f"the log has {count} entries but the fingerprint you hold says "
                          f"{want_count}: entries were removed from the end", None, digests_seen, withheld, [])
        if not (hash_at_expect or "").startswith(want_hex):
            return Report(False, count, prev, f"entry {want_count} does not match the fingerprint you hold: "
                          "the log was rewritten", want_count, digests_seen, withheld, [])
    return Report(True, count, prev, None, None, digests_seen, withheld, [])


def _diagnose(seq: int, challenge: str, cseq: int, kind: str, body: bytes, expected_seq: int, prev: str,
              last: tuple[int, bytes]) -> str:
    """Say what is wrong with an entry whose header is not the one it must have."""

    def fail(message: str) -> str:
        return f"entry {seq} ({kind}): {message}"

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
    if head[5].decode("ascii", "replace") != prev:
        return fail("does not link to the previous entry of the store")
    return fail(f"does not link to the previous entry of challenge {challenge}")


#: from this many entries, a second process checks disclosures and gathers warnings meanwhile
PARALLEL_FROM = 50_000


def verify_store(store: Any, expect: tuple[int, str] | None = None, *, warnings: bool = True) -> Report:
    """Verify a whole store: every entry (in this process) and every stored disclosure plus, unless
    ``warnings`` is false, the warnings (in a second process when the store is large, so both cores
    work). The audit, which reports late entries its own way, needs no warnings."""
    side = _SideProcess(store.path, warnings) if store.head()[0] >= PARALLEL_FROM else None
    report = check_rows(store.iter_rows(), None, expect)
    if not report.ok:
        if side is not None:
            side.cancel()
        return report
    outcome = side.result() if side is not None else None
    if outcome is None:  # small store, or the second process could not answer: check here
        outcome = side_checks(store, warnings)
    problem, problem_seq, checked, warnings = outcome
    if problem is not None:
        return report._replace(ok=False, problem=problem, problem_seq=problem_seq)
    return report._replace(disclosures=checked, warnings=warnings)


def side_checks(store: Any, warnings: bool = True) -> tuple[str | None, int | None, int, list[str]]:
    """Every stored disclosure against its digest, then the warnings: (problem, its entry, count, warnings).

    The digests are inside the hashed bodies, so for a store it is enough that each stored
    disclosure hashes to its digest: one streamed pass, without searching each body."""
    sha = hashlib.sha256
    checked = 0
    for digest, value in store.iter_disclosures():
        if sha(value).hexdigest() != digest:
            seq = store.disclosure_seq(digest)
            return f"entry {seq}: a disclosed personal field does not match its digest", seq, checked, []
        checked += 1
    return None, None, checked, _warnings(store) if warnings else []


class _SideProcess:
    """:func:`side_checks` in a child Python reading the same store (read-only), answering in JSON."""

    CODE = ("import json, sys\n"
            "from escalate.store import Store\n"
            "from escalate.verify import side_checks\n"
            "with Store.open(sys.argv[1], create=False, readonly=True) as store:\n"
            "    print(json.dumps(side_checks(store, sys.argv[2] == 'warnings')))\n")

    def __init__(self, path: Any, warnings: bool = True) -> None:
        import subprocess
        import sys

        try:
            self.proc: Any = subprocess.Popen([sys.executable, "-c", self.CODE, str(path),
                                               "warnings" if warnings else "none"], stdout=subprocess.PIPE,
                                              stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL)
        except OSError:
            self.proc = None

    def result(self) -> tuple[str | None, int | None, int, list[str]] | None:
        import json

        if self.proc is None:
            return None
        out, _ = self.proc.communicate()
        try:
            problem, seq, checked, warnings = json.loads(out)
        except (ValueError, TypeError):
            return None  # it failed: the caller checks in this process instead, never assumes success
        if self.proc.returncode != 0:
            return None
        return problem, seq, checked, warnings

    def cancel(self) -> None:
        if self.proc is not None:
            self.proc.kill()
            self.proc.wait()


def _warnings(store: Any) -> list[str]:
    out = []
    for state in store.states():
        if state["late"]:
            out.append(f"{state['challenge']}: {len(state['late'])} entr{'y' if len(state['late']) == 1 else 'ies'} "
                       "recorded more than 24 hours after they happened")
        if state["backwards"]:
            out.append(f"{state['challenge']}: the recording clock ran backwards {state['backwards']} time(s)")
    return out
