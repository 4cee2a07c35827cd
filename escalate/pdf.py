"""PDF output with fpdf2, imported only when a PDF is made.

fpdf2's built-in fonts cover Latin-1 only; characters outside it are transliterated where a
plain equivalent exists (dashes, quotes, arrows) and otherwise shown as "?". The log itself
always keeps the exact text; only the PDF rendering is affected.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from escalate import clock, journal
from escalate.briefing import corrected_mark, position, status_words
from escalate.report import ChallengeReport, Cover, register_line, settled_words
from escalate.wording import decision_words, missed_words

_PLAIN = str.maketrans(
    {
        "\u2014": "-",
        "\u2013": "-",
        "\u2018": "'",
        "\u2019": "'",
        "\u201c": '"',
        "\u201d": '"',
        "\u2192": "->",
        "\u2026": "...",
        "\u2022": "-",
        "\u00a0": " ",
    }
)


#: the name of the log a PDF export carries, as an attached file
CARRIED_NAME = "escalate-log.jsonl"


def _latin(text: str) -> str:
    return str(text).translate(_PLAIN).encode("latin-1", "replace").decode("latin-1")


def _document(footer_text: str) -> Any:
    from fpdf import FPDF  # lazy: 164 ms, for a PDF only

    class Document(FPDF):
        def footer(self) -> None:
            self.set_y(-12)
            self.set_font("Helvetica", size=8)
            self.cell(0, 8, _latin(f"Page {self.page_no()} of {{nb}}  -  {footer_text}"), align="C")

    doc = Document(format="A4")
    doc.set_auto_page_break(auto=True, margin=16)
    doc.set_margins(15, 15, 15)
    return doc


def _heading(doc: Any, text: str, size: int = 13) -> None:
    doc.set_font("Helvetica", style="B", size=size)
    doc.multi_cell(0, 7, _latin(text), new_x="LMARGIN", new_y="NEXT")
    doc.set_font("Helvetica", size=10)


def _para(doc: Any, text: str) -> None:
    doc.multi_cell(0, 5, _latin(text), new_x="LMARGIN", new_y="NEXT")


def pack_pdf(rep: ChallengeReport, tz: str) -> Iterator[bytes]:
    from escalate.report import pack_sections  # lazy: 78 ms, for the formats for people only

    doc = _document(f"Dispute pack {rep.view.state.challenge}, prepared {clock.show(clock.now(), tz)}")
    doc.add_page()
    _heading(doc, f"Dispute pack: {rep.case_ref} ({rep.view.state.challenge})", 16)
    for heading, body in pack_sections(rep, tz):
        doc.ln(2)
        _heading(doc, heading)
        for line in body:
            _para(doc, line if line.startswith(("-", " ")) else f"- {line}")
    yield bytes(doc.output())


def export_pdf(reports: list[ChallengeReport], tz: str, cover: Cover) -> Iterator[bytes]:
    doc = _document(f"store fingerprint {cover.store_fingerprint}")
    doc.add_page()
    _heading(doc, "Escalation log export", 18)
    _para(
        doc,
        f"Exported {clock.show(clock.from_iso(cover.created_at), tz)}. Scope: {cover.scope} "
        f"({len(reports)} challenge(s)). {'Personal details are redacted.' if cover.redacted else ''}",
    )
    _para(doc, f"Store head fingerprint: {cover.store_fingerprint}")
    _para(doc, cover.carried_words())
    doc.set_creation_date(cover.made_at)  # the file's own date too: made again, it is the same bytes
    if cover.carried:  # an attachment (pdfdetach lists it), stored as it is so a reader can find it
        doc.embed_file(
            bytes=cover.carried,
            basename=CARRIED_NAME,
            modification_date=cover.made_at,
            mime_type="application/x-ndjson",
            compress=False,
        )
    for rep in reports:
        v = rep.view
        s, p = v.state, v.procedure
        doc.add_page()
        _heading(doc, f"{s.challenge}: {rep.case_ref}", 15)
        _para(doc, f"Procedure: {p.name} ({p.id}, version {p.version})")
        # the same summary as the HTML and Markdown exports, line for line
        _para(doc, f"Agency challenged: {s.agency}{corrected_mark(s, 'agency')}")
        _para(doc, f"Decision challenged: {decision_words(s)}{corrected_mark(s, 'decision')}")
        _para(doc, f"Triggers: {', '.join(s.triggers)}{corrected_mark(s, 'triggers')}")
        _para(doc, f"Stage: {position(v)}")
        _para(doc, f"Status: {status_words(s)}")
        _para(doc, f"Timescales missed: {missed_words(v.missed_by)}")
        doc.ln(2)
        _heading(doc, "Stage ladder", 12)
        visited = {h.stage: h for h in v.history}
        for stage in p.ladder(s.route):
            h = visited.get(stage.number)
            mark = ">> " if stage.number == s.stage else ("ok " if h else "   ")
            missed = sum(1 for d in h.deadlines if d.status in ("missed", "met late", "overdue")) if h else 0
            settled = settled_words([d.status for d in h.deadlines], h.left_at) if h else "not reached"
            extra = f" - {missed} timescale(s) missed" if missed else f" - {settled}"
            _para(doc, f"{mark}{p.name_of(stage)}: {stage.title}{extra}")
        doc.ln(2)
        _heading(doc, "Chronology", 12)
        for r in rep.chronology:
            doc.set_font("Helvetica", style="B", size=9)
            _para(
                doc,
                f"#{r.cseq} {clock.show(r.occurred_at, tz)} (recorded {clock.show(r.recorded_at, tz)} "
                f"by {r.author.get('name', '?')})"
                + (" LATE ENTRY" if r.late else "")
                + (f" (amended by #{', #'.join(map(str, r.amended_by))})" if r.amended_by else ""),
            )
            doc.set_font("Helvetica", size=9)
            _para(doc, journal.describe(r))
        if rep.exports:
            doc.ln(2)
            _heading(doc, "Export register", 12)
            doc.set_font("Helvetica", size=9)
            for r in rep.exports:
                _para(doc, register_line(r, tz))
    yield bytes(doc.output())
