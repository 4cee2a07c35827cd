"""The export formats: each name, what it is for, and the writer that makes it.

The CLI's choices, the app's export dialog and :func:`escalate.export.export` all read this one
table. Writers import what they draw with when they are called: the command line reads the table
to build its grammar, and should not pay for the report and PDF code (0.1 s) to do so.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # (the writers import them when called: see above)
    from escalate.report import ChallengeReport, Cover

#: what a format for people is made from: the challenges' reports, a time zone, the file's cover
PeopleWriter = Callable[["list[ChallengeReport]", str, "Cover"], Iterator[bytes]]
#: what a dispute pack is made from: one challenge's report and a time zone
PackWriter = Callable[["ChallengeReport", str], Iterator[bytes]]
#: a file written in two parts, the second by a worker process: (its first line; one challenge's chunk
#: of its report, in a time zone; the worker's part: each chunk and its entries, of challenges read from
#: the store at a path, in a time zone, withholding free-text fields)
Parts = tuple[
    Callable[[], bytes],
    Callable[["ChallengeReport", str], bytes],
    Callable[[str, list[str], str, tuple[str, ...]], list[tuple[bytes, int]]],
]


@dataclass(frozen=True)
class ExportFormat:
    name: str
    #: one line for help texts and the app's list
    description: str
    #: None for jsonl, which is written from the store's own bytes (see escalate.export)
    writer: PeopleWriter | None
    #: a dispute pack can be written in this format
    pack_writer: PackWriter | None = None
    #: a big export (not redacted) can be written by two processes: a chunk per challenge after a first line
    parts: Parts | None = None

    @property
    def verifiable(self) -> bool:
        """The file holds the entries' own bytes (free text cannot be withheld from it)."""
        return self.writer is None


def _csv(reports: list[ChallengeReport], tz: str, cover: Cover) -> Iterator[bytes]:
    from escalate import report  # lazy: 78 ms, for the formats for people only

    return report.csv_chunks(reports, tz)


def _csv_head() -> bytes:
    from escalate import report  # lazy: 78 ms, for the formats for people only

    return report.csv_head()


def _csv_rows(rep: ChallengeReport, tz: str) -> bytes:
    from escalate import report  # lazy: 78 ms, for the formats for people only

    return report.csv_rows(rep, tz)


def _csv_part(path: str, challenges: list[str], tz: str, withhold: tuple[str, ...]) -> list[tuple[bytes, int]]:
    from escalate import report  # lazy: 78 ms, for the formats for people only

    return report.csv_part(path, challenges, tz, withhold)


def _markdown(reports: list[ChallengeReport], tz: str, cover: Cover) -> Iterator[bytes]:
    from escalate import report  # lazy: 78 ms, for the formats for people only

    return report.markdown_chunks(reports, tz, cover)


def _html(reports: list[ChallengeReport], tz: str, cover: Cover) -> Iterator[bytes]:
    from escalate import report  # lazy: 78 ms, for the formats for people only

    return report.html_chunks(reports, tz, cover)


def _pdf(reports: list[ChallengeReport], tz: str, cover: Cover) -> Iterator[bytes]:
    from escalate import pdf  # lazy: 78 ms and fpdf2's 164 ms, for a PDF only

    return pdf.export_pdf(reports, tz, cover)


def _pack_markdown(rep: ChallengeReport, tz: str) -> Iterator[bytes]:
    from escalate import report  # lazy: 78 ms, for the formats for people only

    return report.pack_markdown(rep, tz)


def _pack_html(rep: ChallengeReport, tz: str) -> Iterator[bytes]:
    from escalate import report  # lazy: 78 ms, for the formats for people only

    return report.pack_html(rep, tz)


def _pack_pdf(rep: ChallengeReport, tz: str) -> Iterator[bytes]:
    from escalate import pdf  # lazy: 78 ms and fpdf2's 164 ms, for a PDF only

    return pdf.pack_pdf(rep, tz)


#: in the order the app offers them: what people read most first
EXPORT_FORMATS: dict[str, ExportFormat] = {
    f.name: f
    for f in (
        ExportFormat("html", "HTML: printable, self-contained", _html, _pack_html),
        ExportFormat("pdf", "PDF: printable", _pdf, _pack_pdf),
        ExportFormat("md", "Markdown: plain text to read or paste", _markdown, _pack_markdown),
        ExportFormat("csv", "CSV: one row per entry, for a spreadsheet", _csv, parts=(_csv_head, _csv_rows, _csv_part)),
        ExportFormat("jsonl", "JSON Lines: verifiable with `escalate verify FILE`", None),
    )
}

#: every format's name, and those a dispute pack can be written in
NAMES = tuple(EXPORT_FORMATS)
PACK_NAMES = tuple(name for name, f in EXPORT_FORMATS.items() if f.pack_writer is not None)
