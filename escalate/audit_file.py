"""The audit of one big exported file by two processes at once.

Auditing an exported file is mostly parsing JSON and folding entries, all on one core. Here the
file's challenges are shared between this process and a forked child, alternately in the order
they first appear. Each process parses, checks, folds and derives the entries of its own
challenges, in the file's order. The child sends back what the figures need (:class:`Facts`, a
few values a challenge) and what the whole-file checks need (each entry's sequence number, hash
and link to the store's previous entry); this process then runs those checks over both shares
in the file's order.

The split never decides that a file is broken, and never passes one that the one-process
reading would not. On anything unusual (a check that fails in either share, a line not in the
form escalate writes, a child that fails), :func:`read` returns None and the caller reads the
file in one process (:func:`escalate.audit.from_file`), which names the first broken entry.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import Any, NamedTuple

from escalate import audit, clock
from escalate.audit import Facts, Input, NotAnEntry, facts, read_challenges
from escalate.verify import FORMAT_VERSION, challenge_link, entry_bytes, entry_head, parse_lines, store_link

#: entries: below this, starting a second process costs more than it saves
SMALL = 20_000


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


def read(path: str, snapshots: dict[str, Any], now: dt.datetime) -> tuple[Input, list[Facts]] | None:
    """(the input's line, the facts of its challenges), or None to read the file in one process."""
    import threading

    # Forking is safe on Linux for a process without threads. macOS's system libraries are not
    # fork-safe (Python itself stopped forking there), and Windows cannot fork.
    if not sys.platform.startswith("linux") or threading.active_count() > 1:
        return None
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
    ours: tuple[list[int], list[int]] = ([], [])  # line numbers of this process's share, and the child's
    for i, (_, _, cid) in enumerate(lines):
        if cid not in owner:
            owner[cid] = len(owner) % 2
        ours[owner[cid]].append(i)

    view = memoryview(raw)  # the lines are parsed from the file's bytes where they lie, not copied out

    def share(which: int) -> Share | None:
        picked = ours[which]
        return _share(
            path, [view[lines[i][0] : lines[i][1]] for i in picked], [lines[i][2] for i in picked], snapshots, now
        )

    child = _Child(lambda: share(1))
    try:
        mine = share(0)
        theirs = child.result() if mine is not None else None
    finally:
        child.close()
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
        if not raw.startswith(b'{"body":"E1 ', start):
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


def _share(path: str, lines: list[Any], cids: list[str], snapshots: dict[str, Any], now: dt.datetime) -> Share | None:
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
            if store_link(seq, prev, last_seq, last_hash, whole) is not None:
                return None
            last_seq, last_hash = seq, actual
    # A digest named in one share and disclosed in the other: which came first decides how the
    # one-process reading counts it. Exports never do this (a digest belongs to one challenge).
    if count != header.get("entries") or mine.carried & theirs.missing or theirs.carried & mine.missing:
        return None
    found = [f for cid, which in owner.items() if (f := (mine, theirs)[which].facts[cid]) is not None]
    return Input(path, True, None, count, mine.withheld + theirs.withheld, len(found)), found


class _Child:
    """A forked process working out one share and sending it back pickled through a pipe."""

    def __init__(self, work: Any) -> None:
        import pickle

        self.pid, self.read_end = 0, -1
        try:
            self.read_end, write_end = os.pipe()
        except OSError:
            return
        try:
            self.pid = os.fork()
        except OSError:  # no second process: the caller reads the file in this one
            os.close(write_end)
            return
        if self.pid == 0:  # the child: work, answer, and leave without running the parent's exit code
            code = 1
            try:
                os.close(self.read_end)
                data = pickle.dumps(work(), protocol=pickle.HIGHEST_PROTOCOL)
                with os.fdopen(write_end, "wb") as pipe:
                    pipe.write(data)
                code = 0
            finally:
                os._exit(code)
        os.close(write_end)

    def result(self) -> Share | None:
        import pickle

        if not self.pid:
            return None
        with os.fdopen(self.read_end, "rb") as pipe:  # the pipe ends when the child has written all
            self.read_end = -1
            data = pipe.read()
        # Not waiting for the child to end: handing back its memory takes the system a tenth of a
        # second. A pickle that loads is a whole answer (the child writes only when it is done).
        _later(self.pid)
        self.pid = 0
        try:
            share = pickle.loads(data)
        except (pickle.UnpicklingError, EOFError, ValueError, TypeError, AttributeError, ImportError, IndexError):
            # a child that died part way through writing, or wrote nothing
            return None
        return share if isinstance(share, Share) else None

    def close(self) -> None:
        """Stop a child whose answer is no longer wanted (or left unread after an error)."""
        import signal

        if self.pid:
            os.kill(self.pid, signal.SIGKILL)
            _later(self.pid)
            self.pid = 0
        if self.read_end != -1:
            os.close(self.read_end)
            self.read_end = -1


_ended: list[int] = []  # children not yet waited for


def _later(pid: int) -> None:
    """Wait for a child's end later: each call waits for those that have ended (a process that exits
    first leaves the rest to the system)."""
    _ended.append(pid)
    for earlier in list(_ended):
        try:
            if os.waitpid(earlier, os.WNOHANG)[0]:
                _ended.remove(earlier)
        except ChildProcessError:
            _ended.remove(earlier)


def summarise(files: Iterable[str] = (), store: Any = None, now: dt.datetime | None = None) -> audit.Figures:
    """Verify the inputs, then the figures over the challenges of those that passed. The same figures
    as :func:`escalate.audit.figures` over :func:`escalate.audit.load`, with each big file read by two
    processes at once."""
    now = now or clock.now()
    snapshots: dict[str, Any] = {}
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
    for _, found in loaded:
        for c in found:
            kept = unique.get(c.same)
            if kept is None or c.entries > kept.entries:
                unique[c.same] = c  # a longer copy takes the first one's place in the order
    return audit.tally([info for info, _ in loaded], list(unique.values()))
