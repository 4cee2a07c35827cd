"""The audit of one big exported file by two processes at once.

Auditing an exported file is mostly parsing JSON and folding entries, all on one core. Here the
file's challenges are shared between this process and a worker (:mod:`escalate.parallel`),
alternately in the order they first appear (the worker, which starts later, takes 9 of each 20
challenges); the worker is handed its share's lines. Each process
parses, checks, folds and derives the entries of its own challenges, in the file's order. The
worker sends back what the figures need (:class:`Facts`, a few values a challenge) and what the
whole-file checks need (each entry's sequence number, hash and link to the store's previous
entry); this process then runs those checks over both shares in the file's order.

The split never decides that a file is broken, and never passes one that the one-process
reading would not. On anything unusual (a check that fails in either share, a line not in the
form escalate writes, a worker that fails), :func:`read` returns None and the caller reads the
file in one process (:func:`escalate.audit.from_file`), which names the first broken entry.
"""

from __future__ import annotations

import datetime as dt
import json
import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any, NamedTuple

from escalate import audit, clock, parallel
from escalate.audit import Facts, Input, NotAnEntry, facts, read_challenges
from escalate.entry import ZERO_HASH
from escalate.procedure import Procedure
from escalate.verify import (
    FORMAT_VERSION,
    challenge_link,
    entry_bytes,
    entry_head,
    header_problem,
    parse_lines,
    store_link,
)

#: entries: below this, starting a second process costs more than it saves
SMALL = 20_000
#: bytes: no line of an export is shorter (a smaller file cannot hold SMALL entries; no worker is started)
MIN_LINE = 200


class Share(NamedTuple):
    """One process's share of a file: its entries' places in the store's chain (in file order),
    its disclosures, and the facts of its challenges."""

    seqs: list[int]
    hashes: list[str]
    prevs: list[str]  # each entry's link to the store's previous entry, as its header states it
    carried: set[str]  # digests this share's lines disclose
    missing: set[str]  # digests this share's lines name without a disclosure before them
    withheld: int
    facts: dict[str, Facts | None]  # challenge id -> facts (None: the file starts the challenge part way)


def read(path: str, snapshots: dict[str, Procedure], now: dt.datetime) -> tuple[Input, list[Facts]] | None:
    """(the input's line, the facts of its challenges), or None to read the file in one process."""
    try:
        big = os.path.getsize(path) >= SMALL * MIN_LINE
    except OSError:
        return None
    if not big or parallel.cores() < 2:
        return None
    worker: parallel.Worker[Share | None] = parallel.Worker()  # it starts while the file is read and split
    try:
        return _read(path, snapshots, now, worker)
    finally:
        worker.close()


def _read(
    path: str, snapshots: dict[str, Procedure], now: dt.datetime, worker: parallel.Worker[Share | None]
) -> tuple[Input, list[Facts]] | None:
    try:
        raw = Path(path).read_bytes()
        first = raw.index(b"\n")
        header = json.loads(raw[:first])
    except (OSError, ValueError, RecursionError):
        return None
    if not isinstance(header, dict) or header.get("escalate_export") != FORMAT_VERSION:
        return None
    lines = _lines(raw, first)
    if lines is None or len(lines) < SMALL:
        return None
    owner: dict[str, int] = {}
    ours: tuple[list[int], list[int]] = ([], [])  # line numbers of this process's share, and the worker's
    for i, (_, _, cid) in enumerate(lines):
        if cid not in owner:  # alternately; but the worker starts later (a fresh Python): 9 of each 20
            n = len(owner)
            owner[cid] = 1 if n % 2 and n % 20 < 18 else 0
        ours[owner[cid]].append(i)
    # the worker is handed its lines (not the path: the file could change before it read it again)
    worker.run(
        _worker_share, path, [raw[lines[i][0] : lines[i][1]] for i in ours[1]], [lines[i][2] for i in ours[1]], now
    )
    view = memoryview(raw)  # this process parses its lines where they lie in the file's bytes
    mine = _share(
        path, [view[lines[i][0] : lines[i][1]] for i in ours[0]], [lines[i][2] for i in ours[0]], snapshots, now
    )
    theirs = worker.result() if mine is not None else None
    if mine is None or theirs is None:
        return None
    return _joined(path, header, ours, mine, theirs, owner)


def _lines(raw: bytes, first: int) -> list[tuple[int, int, str]] | None:
    """(start, end, challenge id) of each entry line after the header, read off the line's start;
    None if a line does not start as escalate writes it."""
    find = raw.find
    end = len(raw) - 1 if raw.endswith(b"\n") else len(raw)
    out = []
    start = first + 1
    while start <= end:
        stop = find(b"\n", start, end)
        stop = end if stop == -1 else stop
        if not (raw.startswith(b'{"body":"E2 ', start) or raw.startswith(b'{"body":"E1 ', start)):
            return None
        a = find(b" ", start + 12, stop)
        b = find(b" ", a + 1, stop)
        if a == -1 or b == -1:
            return None
        try:
            out.append((start, stop, raw[a + 1 : b].decode("utf-8")))
        except UnicodeDecodeError:
            return None
        start = stop + 1
    return out


def _worker_share(path: str, lines: list[bytes], cids: list[str], now: dt.datetime) -> Share | None:
    """:func:`_share` in the worker, with the collector off there too (see audit.collector_off)."""
    with audit.collector_off():
        return _share(path, lines, cids, {}, now)


def _share(
    path: str, lines: list[Any], cids: list[str], snapshots: dict[str, Procedure], now: dt.datetime
) -> Share | None:
    """Parse, check, fold and derive one share's lines (each line's own checks and its challenge's
    links: all of a challenge's lines are in one share). None if anything is amiss."""
    records = parse_lines(lines)
    del lines
    if records is None:
        return None
    bodies: list[bytes] = []
    last_of: dict[str, tuple[int, str]] = {}
    carried: set[str] = set()
    missing: set[str] = set()
    tally = [0, 0]
    seqs, hashes, prevs = [], [], []
    for rec, cid in zip(records, cids):
        if rec["challenge"] != cid:  # the line's id is not where the split looked (two "body" keys, say)
            return None
        body = entry_bytes(rec)
        if body is None:
            return None
        bodies.append(body)
        head, actual, problem = entry_head(rec, body)
        if problem is None:
            problem = challenge_link(rec, head, body, last_of, carried, tally, missing)
        if problem is not None:
            return None
        seqs.append(rec["seq"])
        hashes.append(actual)
        prevs.append(head[5])
    by_id: dict[str, Facts | None] = dict.fromkeys(cids)
    try:
        for item in read_challenges(path, records, bodies, snapshots, now):
            by_id[item.state.challenge] = facts(item, now)
    except NotAnEntry:  # the whole file is read again in one process, which names what is wrong
        return None
    return Share(seqs, hashes, prevs, carried, missing, tally[1], by_id)


def _joined(
    path: str,
    header: dict[str, Any],
    ours: tuple[list[int], list[int]],
    mine: Share,
    theirs: Share,
    owner: dict[str, int],
) -> tuple[Input, list[Facts]] | None:
    """The whole-file checks over both shares, in the file's order; then the input and its facts."""
    count = len(ours[0]) + len(ours[1])
    seqs, hashes, prevs = [0] * count, [""] * count, [""] * count
    for picked, got in zip(ours, (mine, theirs)):
        for j, i in enumerate(picked):
            seqs[i], hashes[i], prevs[i] = got.seqs[j], got.hashes[j], got.prevs[j]
    whole = header.get("scope") == "all"
    if whole:  # the whole store: entries 1, 2, 3 ... each linking to the one before (store_link, in C)
        if seqs != list(range(1, count + 1)) or prevs[1:] != hashes[:-1]:
            return None
    else:
        last_seq, last_hash = None, None
        for seq, actual, prev in zip(seqs, hashes, prevs):
            if store_link(seq, prev, last_seq, last_hash, False, header.get("linked") is True) is not None:
                return None
            last_seq, last_hash = seq, actual
    # A digest named in one share and disclosed in the other: which came first decides how the
    # one-process reading counts it. Exports never do this (a digest belongs to one challenge).
    if mine.carried & theirs.missing or theirs.carried & mine.missing:
        return None
    head = hashes[-1] if hashes else ZERO_HASH
    disclosed = len(mine.carried) + len(theirs.carried)
    withheld = mine.withheld + theirs.withheld
    if header_problem(header, count, head, set(owner), disclosed, withheld, max(seqs, default=0)) is not None:
        return None
    found = [f for cid, which in owner.items() if (f := (mine, theirs)[which].facts[cid]) is not None]
    return Input(path, True, None, count, mine.withheld + theirs.withheld, len(found)), found


def summarise(
    files: Iterable[str] = (), store: Any = None, now: dt.datetime | None = None, scope: audit.Scope | None = None
) -> audit.Figures:
    """Verify the inputs, then the figures over the challenges of those that passed (and that
    ``scope`` holds). The same figures as :func:`escalate.audit.figures` over :func:`escalate.audit.load`,
    with each big file read by two processes at once."""
    now = now or clock.now()
    snapshots: dict[str, Procedure] = {}
    loaded: list[tuple[Input, list[Facts]]] = []
    with audit.collector_off():
        if store is not None:
            info, challenges = audit.from_store(store)
            loaded.append((info, [facts(c, now) for c in challenges]))
        for f in files:
            split = read(f, snapshots, now)
            if split is None:  # small, unusual or broken: one process, which names what is wrong
                info, challenges = audit.from_file(f, snapshots, now)
                split = info, [facts(c, now) for c in challenges]
            loaded.append(split)
    unique: dict[str, Facts] = {}
    for _, found in loaded:  # (a copy is matched before the scope is applied, so it is never counted twice)
        for c in found:
            kept = unique.get(c.same)
            if kept is None or c.entries > kept.entries:
                unique[c.same] = c  # a longer copy takes the first one's place in the order
    counted = [c for c in unique.values() if scope is None or scope.holds(c)]
    return audit.tally([info for info, _ in loaded], counted, out_of_scope=len(unique) - len(counted))
