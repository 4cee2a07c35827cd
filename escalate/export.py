"""Exports of the log (verifying them is :mod:`escalate.verify`'s, beside the store's check).

Formats: ``jsonl`` (verifiable), and ``csv``, ``md`` and ``html`` for people (see
:mod:`escalate.report`). The ``jsonl`` format (version 1):

* line 1, the header: ``{"escalate_export": 1, "created_at": ..., "scope": ..., "challenges": [...],
  "redacted": bool, "entries": N, "store_fingerprint": "COUNT:HEX..."}``;
* then one line per entry, in store order: ``{"seq", "challenge", "cseq", "kind", "hash", "body",
  "disclosures"}`` where ``body`` is the stored entry bytes as UTF-8 text (exactly the bytes
  that were hashed) and ``disclosures`` maps digest to disclosure text, for the digests this entry
  is the first in the store to use (a person named again reuses theirs). A redacted export
  leaves the disclosures out: the file still verifies and says how many fields were withheld.

Files are written atomically (a temporary file in the same folder, fsync, rename), and every
export appends an ``exported`` entry to each challenge it covers, after the bytes are on disk and
before the file appears under its name: if that entry cannot be recorded, no file is made.
"""

from __future__ import annotations

import functools
import itertools
import json
import sqlite3
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

from escalate import atomic, carried, checkpoint, clock, entry, export_lines, journal, parallel, report
from escalate.errors import ExportError, StoreError, UsageError
from escalate.formats import EXPORT_FORMATS, NAMES, PACK_NAMES, Parts
from escalate.verify import FORMAT_VERSION, fingerprint, parse_lines

#: the JSON Schema of one line of a jsonl export, shipped beside this module
SCHEMA_PATH = Path(__file__).with_name("export-schema.json")


def schema_text() -> str:
    """The export's JSON Schema (printed by `escalate export --schema`)."""
    return SCHEMA_PATH.read_text(encoding="utf-8")


def write_atomic(path: Path, chunks: Iterable[bytes], before_rename: Callable[[str], object] | None = None) -> str:
    """:func:`escalate.atomic.write`, with a failure to write named as an export's."""
    try:
        return atomic.write(path, chunks, before_rename)
    except OSError as exc:
        raise ExportError(
            f"cannot write {path}: {exc.strerror or exc}",
            hint="Check the folder exists and is writable. Nothing was exported.",
        ) from None


#: every export format, and those of a dispute pack (for people: no jsonl or csv); see escalate.formats
FORMATS = NAMES
PACK_FORMATS = PACK_NAMES


def check_withhold(fields: list[str], fmt: str) -> list[str]:
    """The free-text fields to withhold, checked: known names, and a format for people."""

    chosen = [f.strip() for f in fields if f.strip()]
    unknown = [f for f in chosen if f not in entry.FREE_TEXT]
    if unknown:
        raise UsageError(
            f"cannot withhold {', '.join(map(repr, unknown))}: not a free-text field",
            hint="Free-text fields: " + ", ".join(entry.FREE_TEXT),
        )
    if chosen and EXPORT_FORMATS[fmt].verifiable:
        raise UsageError(
            "a jsonl export cannot withhold free-text fields and still verify (they are hashed in clear)",
            hint="Withhold them in a csv, md, html or pdf export; --redact withholds names in any format.",
        )
    return chosen


def check_name(output: Path, fmt: str) -> None:
    """Refuse a file name whose extension names another format (a PDF written as report.html would
    open as garbage). An extension escalate does not write (.htm, .txt, none) is the user's choice."""
    suffix = output.suffix.lower().lstrip(".")
    if suffix in FORMATS and suffix != fmt:
        raise ExportError(
            f"the file name {output.name} ends .{suffix} but the format is {fmt}",
            hint=f"Name the file .{fmt}, or choose the {suffix} format. Nothing was written.",
        )


def check_output(output: Path, force: bool) -> None:
    """Refuse, before anything is written or recorded, an output that cannot or must not be written."""
    if "\x00" in str(output):  # (the system refuses such a name; Python says so with a ValueError)
        raise ExportError(f"the file name {str(output)!r} holds a NUL character, which no file name may")
    if output.is_dir():
        raise ExportError(f"{output} is a folder; give a file name")
    if output.exists() and not force:
        raise ExportError(f"{output} already exists", hint="Choose another name, or add --force to replace it.")
    if not output.parent.exists():
        raise ExportError(f"folder {output.parent} does not exist")


#: entries per chunk written (and per step of the progress bar) in a jsonl export
LINES_PER_CHUNK = 500


def export(
    store: Any,
    settings: Any,
    catalogue: Any,
    challenges: list[str],
    output: Path,
    *,
    fmt: str = "jsonl",
    redact: bool = False,
    force: bool = False,
    scope: str = "selection",
    progress: Callable[[int, int], None] | None = None,
    withhold: list[str] | None = None,
) -> tuple[str, int]:
    """Write an export of ``challenges``; returns (sha256 of the file, entries covered).

    The file is written atomically; an ``exported`` entry is appended to each challenge before the
    file takes its name.
    ``catalogue`` may be a function returning it: a jsonl export never needs the procedures.
    ``progress(done, total)`` is called as the file is written (a face draws a bar with it).
    ``withhold``: free-text fields (entry.FREE_TEXT) to show as "(withheld)" in a format for people.
    """

    output = Path(output)
    if fmt not in FORMATS:
        raise ExportError(f"format {fmt!r} is not known", hint="Formats: " + ", ".join(FORMATS))
    check_name(output, fmt)
    check_output(output, force)
    withhold = check_withhold(withhold or [], fmt)
    if not challenges:
        raise ExportError("nothing to export: the selection has no challenges")
    wanted = sorted(set(challenges))
    count, head = store.head()
    created_at, store_fingerprint = clock.iso(clock.now()), fingerprint(count, head)
    if scope == "all" and not store.sees_everything():  # a person of a team store: their settings' only
        scope = "all you may see"
    header = {
        "escalate_export": FORMAT_VERSION,
        "created_at": created_at,
        "scope": scope,
        "challenges": wanted,
        "redacted": redact,
        "store_fingerprint": store_fingerprint,
    }
    chunks: Iterator[bytes]
    beside: Path | None = None  # a CSV's log, written beside it
    signer = functools.partial(checkpoint.sign_header, store=store, mine=settings)
    if fmt == "jsonl":
        chunks, total, covered = _log_chunks(store, wanted, header, redact, count, signer)
    elif withhold:  # the log holds the withheld text in clear: such a file carries none (and says so)
        if callable(catalogue):
            catalogue = catalogue()
        names = report.Pseudonyms() if redact else None
        made_at = clock.from_iso(created_at)
        reports = [report.challenge_report(store, catalogue, c, names, withhold, made_at) for c in wanted]
        total, covered = len(wanted), sum(len(r.rows) for r in reports)
        writer = EXPORT_FORMATS[fmt].writer
        assert writer is not None  # every format but jsonl has one (escalate.formats)
        chunks = writer(reports, settings.timezone, report.Cover(created_at, scope, redact, store_fingerprint))
    else:
        parts = EXPORT_FORMATS[fmt].parts

        def split(covered: int) -> bool:
            """Whether this process and the worker write the file from the store (a big CSV not redacted)."""
            return parts is not None and store.local and not redact and len(wanted) > 1 and covered >= SPLIT_FROM

        header, records, log, covered = _carried_log(
            store, wanted, header, redact, count, fmt, settings.timezone, signer, made_from_log=lambda n: not split(n)
        )
        held, total = carried.as_held(fmt, log), len(wanted)
        if fmt == "csv":
            beside = carried.companion(output)
            check_output(beside, force)
        if parts is not None and records is None:
            chunks = _in_two(store, wanted, settings.timezone, parts)
        else:
            assert records is not None  # (read whenever the file is made from them)
            chunks = carried.make(header, records, held)
    if progress is not None:
        chunks = _reporting(chunks, total, progress)
    if beside is not None:
        write_atomic(beside, [held])
    made = False
    try:
        sha = write_atomic(
            output,
            chunks,
            lambda sha: journal.record_exports(
                store,
                settings,
                wanted,
                {"scope": scope, "format": fmt, "redacted": redact, "sha256": sha, "entries": covered},
            ),
        )
        made = True
    finally:
        if beside is not None and not made:  # no CSV, so no log of one
            beside.unlink(missing_ok=True)
    return sha, covered


def _log_chunks(
    store: Any,
    wanted: list[str],
    header: dict[str, Any],
    redact: bool,
    count: int,
    signer: Callable[[dict[str, Any]], None] | None = None,
) -> tuple[Iterator[bytes], int, int]:
    """(chunks, how many, entries covered) of a jsonl export of ``wanted`` up to entry ``count``; sets
    the header's count of entries, which its first line states."""
    # everything up to the head announced in the header, whatever is appended meanwhile
    everything = len(wanted) == len(store.challenge_ids()) and store.sees_everything()
    covered = store.entry_count(None if everything else wanted, upto=count)
    header["entries"] = covered
    links = None if everything else store.links(wanted, count)
    if links is not None:  # the others' entries stand in the file as link lines: it reaches the store's head
        header["linked"] = True
    if signer is not None:  # last: the signature is over what the header says the file holds
        signer(header)
    total = 1 + -(-covered // LINES_PER_CHUNK)
    whole = store.whole_log_chunk_sql(redact) if everything and sqlite_json_matches(store) else None
    if whole is not None:  # SQLite makes the lines chunk by chunk
        total = 1 + -(-count // export_lines.SIZE)
        chunks = itertools.chain([entry.canonical(header) + b"\n"], export_lines.chunks(store, whole, 0, count))
    elif sqlite_json_matches(store):  # SQLite makes the lines of the chosen challenges
        chunks = _sql_jsonl_lines(store, None if everything else wanted, header, redact, count)
    else:
        selected = set(wanted)
        rows = [r for r in store.iter_rows() if r[0] <= count and (everything or r[1] in selected)]
        chunks = _jsonl_lines(store, rows, header, redact, None if everything else [r[0] for r in rows])
    return (chunks if links is None else _with_links(chunks, links)), total, covered


def _with_links(chunks: Iterator[bytes], links: list[tuple[int, str]]) -> Iterator[bytes]:
    """An export's chunks (the header line, then lines of entries in order) with a link line put in
    the place of each entry of ``links``: the store's chain, whole from the first entry exported."""
    yield next(chunks)  # the header line
    pending = iter(links)
    nxt = next(pending, None)
    for chunk in chunks:
        out = []
        for line in chunk.split(b"\n")[:-1]:
            seq = int(line[line.rindex(b'"seq":') + 6 : -1])  # every entry line ends ,"seq":N}
            while nxt is not None and nxt[0] < seq:
                out.append(b'{"inner":"%s","seq":%d}' % (nxt[1].encode("ascii"), nxt[0]))
                nxt = next(pending, None)
            out.append(line)
        yield b"\n".join(out) + b"\n"
    rest = ([nxt] if nxt else []) + list(pending)  # after the last entry exported
    yield b"".join(b'{"inner":"%s","seq":%d}\n' % (h.encode("ascii"), seq) for seq, h in rest)


def _carried_log(
    store: Any,
    wanted: list[str],
    header: dict[str, Any],
    redact: bool,
    count: int,
    fmt: str,
    tz: str,
    signer: Callable[[dict[str, Any]], None] | None = None,
    made_from_log: Callable[[int], bool] = lambda covered: True,
) -> tuple[dict[str, Any], list[dict[str, Any]] | None, bytes, int]:
    """(header, lines, bytes, entries) of the log a file for people carries (escalate.carried): the jsonl
    export of the same challenges, with how the file is made from it. A redacted file's log withholds
    every disclosure and names each withheld value's stand-in, given in the order the file shows them.
    The lines are read only if the file is to be made from them (``made_from_log`` of the number of
    entries): a big CSV is made from the store, and reading 100,000 lines cost it 0.76 s."""
    chunks, _, _ = _log_chunks(store, wanted, header, False, count, signer)
    lines = b"".join(chunks).split(b"\n")[1:-1]  # (the header line is made again below)
    # entry lines (keys in order: "body" first; a link line's first is "inner")
    covered = sum(1 for line in lines if line.startswith(b'{"body":'))
    if not redact and not made_from_log(covered):
        rendering = carried.Rendering(fmt, tz, carried.made_by(fmt), {})
        header = dict(header, rendering=rendering.as_json())
        return header, None, entry.canonical(header) + b"\n" + b"".join(line + b"\n" for line in lines), covered
    records = parse_lines(lines)
    if records is None:
        raise StoreError(
            "an entry cannot be exported: the store was changed outside escalate",
            hint="`escalate verify` names the first damaged entry. Nothing was written.",
        )
    names: dict[str, str] = {}
    if redact:
        pseudonyms, log = report.Pseudonyms(), carried.CarriedLog(records, {})
        for c in wanted:  # the stand-ins are numbered as the file shows them
            report.challenge_report(log, None, c, pseudonyms, (), clock.from_iso(header["created_at"]))
        names = carried.stand_ins(records, pseudonyms)
        records = [dict(r, disclosures={}) if "body" in r else r for r in records]
        lines = [entry.canonical(r) for r in records]
    rendering = carried.Rendering(fmt, tz, carried.made_by(fmt), names)
    header = dict(header, rendering=rendering.as_json())
    return header, records, entry.canonical(header) + b"\n" + b"".join(line + b"\n" for line in lines), covered


def pack(
    store: Any, settings: Any, catalogue: Any, challenge: str, output: Path, *, fmt: str = "html", force: bool = False
) -> str:
    """Write the dispute pack of one challenge; returns the file's sha256 and records the export."""

    output = Path(output)
    if fmt not in PACK_FORMATS:
        raise ExportError(f"format {fmt!r} is not known for a pack", hint="Formats: " + ", ".join(PACK_FORMATS))
    check_name(output, fmt)
    check_output(output, force)
    writer = EXPORT_FORMATS[fmt].pack_writer
    assert writer is not None  # PACK_FORMATS are those with one
    rep = report.challenge_report(store, catalogue, challenge, None)
    chunks = writer(rep, settings.timezone)
    return write_atomic(
        output,
        chunks,
        lambda sha: journal.record(
            store,
            settings,
            challenge,
            "exported",
            {"scope": "dispute pack", "format": fmt, "redacted": False, "sha256": sha, "entries": len(rep.rows)},
        ),
    )


#: entries: from this many, a format that can (EXPORT_FORMATS' parts) is written by two processes
SPLIT_FROM = 20_000


def _in_two(store: Any, wanted: list[str], tz: str, parts: Parts) -> Iterator[bytes]:
    """The file's chunks of a big export, not redacted, made from the store as escalate.carried makes
    it from its log: this process reads the first 11 of each 20 challenges (the worker starts later),
    the worker the rest, each on its own connection. If the worker gives no answer, its challenges are
    read here: the file is the same either way."""

    head, chunk, part = parts

    def here(challenges: list[str]) -> list[tuple[bytes, int]]:
        reports = (report.challenge_report(store, None, c, None) for c in challenges)
        return [(chunk(r, tz), len(r.rows)) for r in reports]

    cut = len(wanted) * 11 // 20
    worker = parallel.beside(part, str(store.path), wanted[cut:], tz, ())
    try:
        ours = here(wanted[:cut])
        theirs = worker.result()
    finally:
        worker.close()
    if theirs is None or len(theirs) != len(wanted) - cut:
        theirs = here(wanted[cut:])
    return itertools.chain([head()], (chunk for chunk, _ in ours + theirs))


def _reporting(chunks: Any, total: int, progress: Callable[[int, int], None]) -> Any:
    """``chunks``, calling ``progress`` as they go (a format may make a few more chunks than ``total``)."""
    for done, chunk in enumerate(chunks, start=1):
        yield chunk
        if done % 20 == 0 and done < total:
            progress(done, total)
    progress(total, total)


def _sql_jsonl_lines(store: Any, challenges: list[str] | None, header: dict[str, Any], redact: bool, upto: int) -> Any:
    yield entry.canonical(header) + b"\n"
    for lines in store.export_lines(challenges, redact, LINES_PER_CHUNK, upto=upto):
        if None in lines:  # SQLite could not make a line: a row changed outside escalate
            raise StoreError(
                "an entry cannot be exported: the store was changed outside escalate",
                hint="`escalate verify` names the first damaged entry. Nothing was written.",
            )
        yield b"\n".join(lines) + b"\n"


#: every character JSON treats specially, and some it does not: SQLite must write them as json does
_PROBE = "".join(map(chr, range(32))) + '"\\/\x7f é中🙂\u2028\u2029\ufeff'


def sqlite_json_matches(store: Any) -> bool:
    """Whether this SQLite's JSON functions write strings and objects byte for byte as
    ``json.dumps(..., ensure_ascii=False, separators=(",", ":"), sort_keys=True)`` does, so that export
    lines can be built in SQL. Checked once per store connection, on a probe of every tricky
    character; if not, the export builds its lines in Python."""
    cached = getattr(store, "_json_matches", None)
    if not isinstance(store.conn, sqlite3.Connection):  # a team store: the lines are made in Python
        return False
    if cached is None:
        try:
            quoted, grouped = store.conn.execute(
                "SELECT json_quote(?), (SELECT json_group_object(k, v) FROM (SELECT 'a' AS k, ? AS v UNION ALL "
                "SELECT 'b', ? ORDER BY k))",
                (_PROBE, _PROBE, "x"),
            ).fetchone()
            cached = quoted == json.dumps(_PROBE, ensure_ascii=False) and grouped == json.dumps(
                {"a": _PROBE, "b": "x"}, ensure_ascii=False, separators=(",", ":")
            )
        except sqlite3.Error:  # an SQLite without JSON functions
            cached = False
        store._json_matches = cached
    return bool(cached)


def _jsonl_lines(
    store: Any, rows: list[tuple[Any, ...]], header: dict[str, Any], redact: bool, seqs: list[int] | None
) -> Any:
    """The header line, then one line per entry (``rows``: seq, challenge, cseq, kind, body, hash):
    the bytes ``entry.canonical`` would give (keys sorted, no spaces, UTF-8), built directly because
    this runs for every entry of an export. Each entry's own disclosures are the ones stored with its
    sequence number (``seqs``: the entries exported, or None for all)."""
    shown: dict[int, list[tuple[str, bytes]]] = {}
    if not redact:
        for digest, seq, value in store.disclosures_by_seq(seqs):
            shown.setdefault(seq, []).append((digest, bytes(value)))
    yield entry.canonical(header) + b"\n"
    for start in range(0, len(rows), LINES_PER_CHUNK):
        chunk = rows[start : start + LINES_PER_CHUNK]
        mine = [sorted(shown.get(r[0], ())) for r in chunk]
        # one escaping pass per chunk for all its bodies, challenge ids and disclosures
        texts = (
            [bytes(r[4]) for r in chunk]
            + [r[1].encode("utf-8") for r in chunk]
            + [v for pairs in mine for _, v in pairs]
        )
        escaped = iter(_json_strings(texts))
        bodies = [next(escaped) for _ in chunk]
        challenges = [next(escaped) for _ in chunk]
        lines = []
        for (seq, _, cseq, kind, _, digest), body, challenge, pairs in zip(chunk, bodies, challenges, mine):
            disclosed = b",".join(b'"%s":%s' % (d.encode("ascii"), next(escaped)) for d, _ in pairs)
            lines.append(
                b'{"body":%s,"challenge":%s,"cseq":%d,"disclosures":{%s},"hash":"%s","kind":"%s",'
                b'"seq":%d}\n' % (body, challenge, cseq, disclosed, digest.encode("ascii"), kind.encode("ascii"), seq)
            )
        yield b"".join(lines)


_CONTROL = bytes(range(1, 10)) + bytes(range(11, 32))  # what JSON escapes, less newline and NUL (see below)


def _json_strings(texts: list[bytes]) -> list[bytes]:
    """Each UTF-8 text as a JSON string, exactly as ``json.dumps(..., ensure_ascii=False)`` writes it.

    Stored entry bytes hold no raw control character but the header's newline, so escaping a
    backslash, a quote and newlines is all it takes, and it is done for many texts at once (joined
    by NUL, escaped with three C-speed replaces, split again): per-text Python calls were most of
    a 100,000-entry export. Texts holding any other control character, or a NUL, go through json."""
    joined = b"\0".join(texts)
    if len(joined.translate(None, _CONTROL)) != len(joined) or joined.count(b"\0") != len(texts) - 1:
        return [json.dumps(t.decode("utf-8", "replace"), ensure_ascii=False).encode("utf-8") for t in texts]
    escaped = joined.replace(b"\\", b"\\\\").replace(b'"', b'\\"').replace(b"\n", b"\\n")
    return [b'"%s"' % t for t in escaped.split(b"\0")]
