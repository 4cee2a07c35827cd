"""The log a file for people carries, and checking the file against it.

An HTML, PDF, Markdown or CSV export says in words what the log says. So that an auditor can trust
the words as they trust a jsonl export, each carries the jsonl export it was made from: the HTML in
a data block (``<script type="application/x-ndjson" id="escalate-log">``, never run), the PDF as an
attached file (``escalate-log.jsonl``: ``pdfdetach`` lists it), the Markdown in a closing comment,
and the CSV in a companion file beside it (``NAME.csv.jsonl``). The carried log's header has one key
more than a jsonl export's, ``rendering``: the format, the time zone, the version that made the file,
and in a redacted file the stand-in for each withheld personal value by its digest ("Child A").

Checking such a file (:func:`verify_made`) is two steps: the carried log is verified as any jsonl
export is (every hash and link, the header, ``--expect``); then the file is made again from that log
alone and compared byte for byte. A changed byte in the log fails its hashes; a changed byte in the
words fails the comparison. Every file of these formats is made by the same function
(:func:`make`), from the log it carries, so a genuine file is always made again the same. (A big CSV
that is not redacted is written from the store by two processes, which read the same entries and
write the same rows; a test holds the two ways to the same bytes.)

A file that withholds free text cannot carry its log (the log holds that text in clear); it says so,
and checking it says so.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, replace
from importlib import metadata
from pathlib import Path
from typing import Any

from escalate import __version__, clock, entry, report
from escalate.errors import ExportError, StoreError, UsageError
from escalate.formats import EXPORT_FORMATS
from escalate.store import StoredEntry
from escalate.verify import Report, digests_in, entry_lines, parse_lines, read_jsonl, verify_file, verify_records

#: the header key of a carried log that says how its file was made
RENDERING_KEY = "rendering"
#: formats that carry their log inside the file; CSV carries it beside (:func:`companion`)
INSIDE = ("html", "md", "pdf")


def companion(path: Path) -> Path:
    """Where a CSV export's log is: beside it, its name and ``.jsonl``."""
    return path.with_name(path.name + ".jsonl")


def made_by(fmt: str) -> str:
    """What makes a file of ``fmt``: escalate's version, and fpdf2's for a PDF (its bytes are fpdf2's)."""
    by = f"escalate {__version__}"
    return by + (f", fpdf2 {metadata.version('fpdf2')}" if fmt == "pdf" else "")


@dataclass(frozen=True)
class Rendering:
    """How a file was made from the log it carries."""

    format: str
    tz: str
    made_by: str
    #: digest -> the stand-in shown for that withheld value (a redacted file only)
    names: Mapping[str, str]

    def as_json(self) -> dict[str, Any]:
        return {"format": self.format, "tz": self.tz, "made_by": self.made_by, "names": dict(self.names)}

    @classmethod
    def of(cls, header: Mapping[str, Any]) -> Rendering:
        """The rendering a carried log's header states; an ExportError if it states none that can be read."""
        raw = header.get(RENDERING_KEY)
        raw = raw if isinstance(raw, dict) else {}
        fmt, tz, by, names = (raw.get(k) for k in ("format", "tz", "made_by", "names"))
        if (
            fmt not in EXPORT_FORMATS
            or not (isinstance(tz, str) and isinstance(by, str) and isinstance(names, dict))
            or not all(isinstance(k, str) and isinstance(v, str) for k, v in names.items())
        ):
            raise ExportError("the log this file carries does not say how the file was made (its header was changed)")
        try:
            clock.zone(tz)
        except UsageError:
            raise ExportError(f"the log this file carries names a time zone that does not exist: {tz!r}") from None
        return cls(fmt, tz, by, names)


class CarriedLog:
    """A log read from an export's lines, answering what a challenge's record asks of a store
    (:class:`escalate.journal.EntrySource`). In a redacted log each withheld value reads as its
    stand-in, so the words made from it are the redacted file's words."""

    def __init__(self, records: list[dict[str, Any]], names: Mapping[str, str]) -> None:
        self._by_challenge: dict[str, list[StoredEntry]] = {}
        self._disclosed: dict[str, dict[str, bytes]] = {}
        self._every: dict[str, bytes] = {}  # every disclosure of the log, by digest
        for rec in entry_lines(records):
            body = rec["body"].encode("utf-8")
            content = entry.split(body)[1]
            stored = StoredEntry(
                rec["seq"],
                rec["challenge"],
                rec["cseq"],
                rec["kind"],
                str(content.get("occurred_at", "")),
                str(content.get("recorded_at", "")),
                body,
                rec["hash"],
            )
            self._by_challenge.setdefault(stored.challenge, []).append(stored)
            known = self._disclosed.setdefault(stored.challenge, {})
            for digest, text in rec["disclosures"].items():
                known[digest] = text.encode("utf-8")
            for digest in digests_in(body) if names else ():
                if digest in names:
                    known[digest] = stand_in(names[digest])

    def entries(
        self, challenge: str | None = None, *, after: int = 0, limit: int | None = None, kind: str | None = None
    ) -> list[StoredEntry]:
        if challenge is None:
            rows = sorted((e for es in self._by_challenge.values() for e in es), key=lambda e: e.seq)
            rows = [e for e in rows if e.seq > after]
        else:
            rows = [e for e in self._by_challenge.get(challenge, []) if e.cseq > after]
        if kind is not None:
            rows = [e for e in rows if e.kind == kind]
        return rows[:limit] if limit else rows

    def entry(self, challenge: str, cseq: int) -> StoredEntry | None:
        return next((e for e in self._by_challenge.get(challenge, []) if e.cseq == cseq), None)

    def challenge_disclosures(self, challenge: str) -> dict[str, bytes]:
        return dict(self._disclosed.get(challenge, {}))

    def disclosure_values(self, digests: list[str]) -> dict[str, str]:
        if not self._every:
            for known in self._disclosed.values():
                self._every.update(known)
        return {d: entry.readable_value(self._every[d]) for d in digests if d in self._every}


def stand_in(label: str) -> bytes:
    """A disclosure-shaped value for a redacted file's stand-in: it reads as the label, and hashes to
    nothing in the log (it is never checked as a disclosure: the carried log has none)."""
    return entry.canonical(["", label])


def stand_ins(records: list[dict[str, Any]], names: report.Pseudonyms) -> dict[str, str]:
    """digest -> stand-in, for every disclosed value of ``records`` that ``names`` gave one."""
    out: dict[str, str] = {}
    for rec in entry_lines(records):
        for digest, text in rec["disclosures"].items():
            value = entry.readable_value(text.encode("utf-8"))
            label = names.subjects.get(value) or names.people.get(value)
            if label is not None:
                out[digest] = label
    return out


def make(header: Mapping[str, Any], records: list[dict[str, Any]], carried: bytes) -> Iterator[bytes]:
    """The file a carried log's header says was made from it, as chunks: made from the log alone,
    as of the moment the header names, in the time zone it names. ``carried``: the log as the file
    holds it (inside the file, or beside it for CSV)."""
    rendering = Rendering.of(header)
    log = CarriedLog(records, rendering.names)
    cover = report.Cover(
        str(header["created_at"]),
        str(header["scope"]),
        bool(header["redacted"]),
        str(header["store_fingerprint"]),
        carried,
    )
    reports = [report.challenge_report(log, None, c, None, (), cover.made_at) for c in header["challenges"]]
    writer = EXPORT_FORMATS[rendering.format].writer
    if writer is None:
        raise ExportError("the log this file carries says it made a jsonl file, which carries nothing")
    return writer(reports, rendering.tz, cover)


# --- the log as a file holds it -------------------------------------------------------------------

#: what each format changes in the log it holds, so that nothing in it ends the block it sits in: a
#: character that can only be inside a JSON string, written as JSON's escape of it (same values)
_ESCAPES = {"html": (b"<", b"\\u003c"), "md": (b">", b"\\u003e")}


def as_held(fmt: str, log: bytes) -> bytes:
    """The log as a file of ``fmt`` holds it."""
    raw, escaped = _ESCAPES.get(fmt, (b"", b""))
    return log.replace(raw, escaped) if raw else log


_HTML_BLOCK = re.compile(
    rb'<script type="application/x-ndjson" id="' + report.CARRIED_MARK + rb'">([^<]*)</script></body></html>\n\Z'
)
_MD_BLOCK = re.compile(rb"\n<!-- " + report.CARRIED_MARK + rb"\n([^>]*)-->\n\Z")
#: fpdf2's object for an attached file stored as it is: its length, then the bytes
_PDF_FILE = re.compile(
    rb"/Length (\d+)\n/Params <</Size \d+\n/ModDate \([^)]*\)>>\n/Subtype /application#2Fx-ndjson\n"
    rb"/Type /EmbeddedFile\n>>\nstream\n"
)


def sniff(data: bytes) -> str | None:
    """The format for people a file is in, by its first bytes; None for any other file."""
    if data.startswith(b"%PDF-"):
        return "pdf"
    if data.startswith(b"<!DOCTYPE html>") and b"<title>Escalation log export</title>" in data[:200]:
        return "html"
    if data.startswith(b"# Escalation log export\n"):
        return "md"
    if data.startswith(report.csv_head()):
        return "csv"
    return None


def held_log(fmt: str, data: bytes, path: Path) -> bytes:
    """The log a file of ``fmt`` carries, as it holds it; an ExportError naming the file if none."""
    found: bytes | None = None
    if fmt == "html":
        m = _HTML_BLOCK.search(data)
        found = m.group(1) if m else None
    elif fmt == "md":
        m = _MD_BLOCK.search(data)
        found = m.group(1) if m else None
    elif fmt == "pdf":
        m = _PDF_FILE.search(data)
        if m:
            start = m.end()
            found = data[start : start + int(m.group(1))]
    else:
        beside = companion(path)
        try:
            found = beside.read_bytes()
        except FileNotFoundError:
            raise ExportError(
                f"{path.name} is checked against the log beside it, {beside.name}, which is not there",
                hint="Keep the .csv.jsonl file escalate wrote with the CSV next to it.",
            ) from None
        except OSError as exc:
            raise ExportError(f"{beside}: cannot be read: {exc.strerror}") from None
    if not found:
        carried_words = report.Cover("", "", False, "").carried_words()
        raise ExportError(f"{path.name} carries no log to check it against", hint=carried_words)
    return found


def read_log(held: bytes, path: Path) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """(header, entry lines) of a carried log; an ExportError if it is not one."""
    lines = held.split(b"\n")
    if lines and lines[-1] == b"":
        lines.pop()
    try:
        header = json.loads(lines[0]) if lines else None
    except (ValueError, UnicodeDecodeError, RecursionError):
        header = None
    records = parse_lines(lines[1:]) if isinstance(header, dict) and RENDERING_KEY in header else None
    if not isinstance(header, dict) or records is None or not _header_reads(header):
        raise ExportError(f"the log {path.name} carries is damaged: it is not an escalate export")
    return header, records


def _header_reads(header: dict[str, Any]) -> bool:
    """Whether the header states what making the file again reads (verify checks the rest)."""
    return (
        isinstance(header.get("created_at"), str)
        and clock.ISO_TEXT.fullmatch(header["created_at"]) is not None
        and isinstance(header.get("scope"), str)
        and isinstance(header.get("store_fingerprint"), str)
        and isinstance(header.get("challenges"), list)
        and all(isinstance(c, str) for c in header["challenges"])
    )


def verify_made(path: str | Path, data: bytes, fmt: str, expect: tuple[int, str] | None = None) -> Report:
    """Check a file for people: the log it carries, then the file made again from that log alone."""
    p = Path(path)
    held = held_log(fmt, data, p)
    header, records = read_log(held, p)
    checked = verify_records(header, records, expect)
    if not checked.ok:
        return checked
    rendering = Rendering.of(header)
    if rendering.format != fmt:
        return _failed(checked, f"the log {p.name} carries says it made a {rendering.format} file, not {fmt}")
    if rendering.made_by != made_by(fmt):
        return _failed(
            checked,
            f"the log {p.name} carries verifies, but the file was made by {rendering.made_by} and this is "
            f"{made_by(fmt)}, which writes its words differently: check the file with the version that made it",
        )
    try:
        remade = b"".join(make(header, records, held))
    except StoreError as exc:  # a log that verifies (its hashes made again) but holds what escalate never wrote
        return _failed(checked, f"the log {p.name} carries cannot be read as escalate wrote it: {exc.message}")
    if remade != data:
        at = next((i for i, (a, b) in enumerate(zip(remade, data)) if a != b), min(len(remade), len(data)))
        return _failed(
            checked,
            f"{p.name} does not say what the log it carries says (first difference at byte {at}): "
            "it was changed after it was made",
        )
    return replace(checked, made_again=fmt)


def _failed(report_: Report, problem: str) -> Report:
    return Report(False, report_.count, report_.head, problem, None, report_.disclosures, report_.withheld, [])


def lines_of(path: str | Path) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """(header, lines) of the log an exported file is (jsonl) or carries (a file for people): what
    its signatures are checked against, once the file verified."""
    p = Path(path)
    with p.open("rb") as f:
        fmt = sniff(f.read(256))
    if fmt is None:
        return read_jsonl(p)
    return read_log(held_log(fmt, p.read_bytes(), p), p)


def verify_path(path: str | Path, expect: tuple[int, str] | None = None) -> Report:
    """Verify any exported file: a jsonl export, or a file for people by the log it carries."""
    p = Path(path)
    try:
        with p.open("rb") as f:
            fmt = sniff(f.read(256))
        data = p.read_bytes() if fmt is not None else b""
    except (OSError, ValueError):  # not found, a folder, unreadable, a NUL in the name: verify_file names it
        fmt = None
    if fmt is None:
        return verify_file(p, expect)
    return verify_made(p, data, fmt, expect)
