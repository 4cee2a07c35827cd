"""Human-readable exports: CSV, Markdown and a self-contained printable HTML file.

They are built from the same derived state and chronology as every view (nothing here
computes a deadline). With ``redact`` the personal fields are replaced by stable
pseudonyms: the case reference by "Child A" (or "Adult A"), people by their role and a
number ("Social worker 1"), authors by "Recorder 1".
"""

from __future__ import annotations

import csv
import datetime as dt
import html
import io
import json
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from escalate import clock, entry, journal
from escalate.briefing import corrected_mark, immediate_risk, position, status_words
from escalate.catalogue import Catalogue
from escalate.challenge import ChallengeState, ChallengeView
from escalate.journal import EntrySource
from escalate.wording import OWNER_WORDS, decision_words, describe_timescale, missed_words, stage_guidance

CSV_COLUMNS = (
    "challenge",
    "seq",
    "cseq",
    "kind",
    "occurred_at",
    "recorded_at",
    "occurred_local",
    "author",
    "author_role",
    "text",
    "data",
    "late",
    "amended_by",
    "hash",
)


class Pseudonyms:
    """Stable stand-ins for personal values within one export."""

    def __init__(self) -> None:
        self.subjects: dict[str, str] = {}
        self.people: dict[str, str] = {}
        self.counts: dict[str, int] = {}

    def subject(self, value: str, adults: bool) -> str:
        if value not in self.subjects:
            letter = chr(ord("A") + len(self.subjects) % 26) + (
                "" if len(self.subjects) < 26 else str(len(self.subjects) // 26)
            )
            self.subjects[value] = f"{'Adult' if adults else 'Child'} {letter}"
        return self.subjects[value]

    def person(self, value: str, role: str | None) -> str:
        if value not in self.people:
            label = (role or "Person").strip() or "Person"
            self.counts[label] = self.counts.get(label, 0) + 1
            self.people[value] = f"{label} {self.counts[label]}"
        return self.people[value]


def _redact(node: Any, names: Pseudonyms, adults: bool, role: str | None = None) -> Any:
    if isinstance(node, Mapping):
        out = {}
        for key, value in node.items():
            if entry.is_personal(key) and isinstance(value, str) and value:
                leaf = key.removeprefix("corrected_")
                if leaf in ("case_ref", "subject_name"):
                    out[key] = names.subject(value, adults)
                else:
                    out[key] = names.person(value, node.get("role") or role)
            else:
                out[key] = _redact(value, names, adults, role)
        return out
    if isinstance(node, list):
        return [_redact(v, names, adults, role) for v in node]
    return node


WITHHELD = "(withheld)"


def _withhold(node: Any, fields: frozenset[str]) -> Any:
    if isinstance(node, Mapping):
        return {k: (WITHHELD if k in fields else _withhold(v, fields)) for k, v in node.items()}
    if isinstance(node, list):
        return [_withhold(v, fields) for v in node]
    return node


@dataclass(frozen=True)
class Cover:
    """What a file for people says of itself first: when it was made, of what, redacted or not, and
    the store's head fingerprint an auditor compares with the one the DSL gives them."""

    created_at: str
    scope: str
    redacted: bool
    store_fingerprint: str
    #: the log the file was made from, as the file holds it (escalate.carried); empty for a file that
    #: withholds free text, which the log holds in clear
    carried: bytes = b""

    @property
    def made_at(self) -> dt.datetime:
        """The moment the file describes: every status and count in it is as of then."""
        return clock.from_iso(self.created_at)

    def carried_words(self) -> str:
        """What the file says of the log it carries."""
        if self.carried:
            return (
                "This file carries the log it was made from: `escalate verify` on this file checks that log "
                "and that every word here is what it says."
            )
        return (
            "Free text is withheld, so this file cannot carry the log it was made from (the log holds it in "
            "clear): verify a jsonl export of the same challenges instead."
        )


@dataclass(frozen=True)
class ChallengeReport:
    """What the human formats print about one challenge: its view, its chronology, and its case
    reference as the export shows it (a pseudonym when redacted)."""

    view: ChallengeView
    rows: list[journal.ChronologyItem]
    case_ref: str

    @property
    def chronology(self) -> list[journal.ChronologyItem]:
        """The entries of the challenge itself: every one but the records of its exports."""
        return [r for r in self.rows if r.kind != "exported"]

    @property
    def exports(self) -> list[journal.ChronologyItem]:
        """The records of the challenge's exports and packs, for an export register of their own: they
        are in the log and its hashes, but say nothing about the challenge."""
        return [r for r in self.rows if r.kind == "exported"]


def register_line(r: journal.ChronologyItem, tz: str) -> str:
    """One line of an export register: when, by whom, what."""
    d = r.data
    redacted = "redacted" if d.get("redacted") else "not redacted"
    n = d.get("entries")
    return (
        f"#{r.cseq} {clock.show(r.occurred_at, tz)} by {r.author.get('name', '?')}: {d.get('scope')} as "
        f"{d.get('format')}, {redacted}, {n} entr{'y' if n == 1 else 'ies'}, sha256 {str(d.get('sha256'))[:16]}..."
    )


def challenge_report(
    store: EntrySource,
    catalogue: Catalogue | None,
    challenge: str,
    names: Pseudonyms | None,
    withhold: Iterable[str] = (),
    now: dt.datetime | None = None,
) -> ChallengeReport:
    """Everything the human formats print about one challenge, as of ``now`` (default: now);
    ``withhold``: free-text fields (entry.FREE_TEXT) shown as "(withheld)" wherever they appear."""
    view, rows = journal.record_of(store, catalogue, challenge, now)  # from the hashed entries, not the cache
    fields = frozenset(withhold)
    if fields:
        if "decision" in fields:  # the one free-text field the folded state holds
            view = replace(view, state=replace(view.state, decision=WITHHELD))
        rows = [_withheld(r, fields) for r in rows]
    adults = view.procedure.applies_to == "adults"
    case_ref = view.case_ref
    if names is not None:
        case_ref = names.subject(case_ref, adults)
        rows = [_pseudonymised(r, names, adults) for r in rows]
    return ChallengeReport(view, rows, case_ref)


def _withheld(r: journal.ChronologyItem, fields: frozenset[str]) -> journal.ChronologyItem:
    data = _withhold(r.data, fields)
    # a correction of a withheld field is withheld too, on the entry and in the amendment itself
    corrected = {k: (WITHHELD if k.rsplit(".", 1)[-1] in fields else v) for k, v in r.corrected.items()}
    if r.kind == "amendment" and str(data.get("field", "")).rsplit(".", 1)[-1] in fields:
        data["new_value"] = WITHHELD
    return replace(r, data=data, corrected=corrected)


def _pseudonymised(r: journal.ChronologyItem, names: Pseudonyms, adults: bool) -> journal.ChronologyItem:
    data = _redact(r.data, names, adults)  # first: a person named in the data is known by their role
    author = dict(r.author)
    if author.get("name"):
        author["name"] = names.person(author["name"], "Recorder")
    corrected = {
        k: (names.person(v, None) if entry.is_personal(k.rsplit(".", 1)[-1]) else v) for k, v in r.corrected.items()
    }
    return replace(r, data=data, author=author, corrected=corrected)


#: json.dumps(data, ensure_ascii=False, sort_keys=True), without reading its options on every row
_DATA_JSON = json.JSONEncoder(ensure_ascii=False, sort_keys=True).encode


def csv_head() -> bytes:
    """The first line: UTF-8's BOM (so Excel reads the file as UTF-8), then the column names."""
    return ("\ufeff" + ",".join(CSV_COLUMNS) + "\r\n").encode("utf-8")


def csv_chunks(reports: Sequence[ChallengeReport], tz: str) -> Iterator[bytes]:
    """UTF-8 with a BOM, ISO times, one row per entry, quoted line breaks; a chunk per challenge."""
    yield csv_head()
    for rep in reports:
        yield csv_rows(rep, tz)


def csv_rows(rep: ChallengeReport, tz: str) -> bytes:
    """One challenge's CSV rows."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    for r in rep.rows:
        data = dict(r.data)
        data.pop("procedure_text", None)
        writer.writerow(
            [
                rep.view.state.challenge,
                r.seq,
                r.cseq,
                r.kind,
                clock.iso(r.occurred_at) if r.occurred_at else "",
                clock.iso(r.recorded_at) if r.recorded_at else "",
                clock.show(r.occurred_at, tz),
                r.author.get("name", ""),
                r.author.get("role", ""),
                journal.describe(r),
                _DATA_JSON(data),
                "yes" if r.late else "",
                " ".join(map(str, r.amended_by)),
                r.hash,
            ]
        )
    return buffer.getvalue().encode("utf-8")


def csv_part(path: str, challenges: list[str], tz: str, withhold: tuple[str, ...]) -> list[tuple[bytes, int]]:
    """In a worker (escalate.parallel): (CSV rows, entries) of each of ``challenges``, read from the
    store at ``path`` on a connection of its own. Never redacted: pseudonyms are numbered across the
    whole file, so a redacted export is written by one process."""
    with journal.store_at(path, create=False, readonly=True) as store:
        out = []
        for challenge in challenges:
            rep = challenge_report(store, None, challenge, None, withhold)
            out.append((csv_rows(rep, tz), len(rep.rows)))
    return out


def markdown_chunks(reports: list[ChallengeReport], tz: str, cover: Cover) -> Iterator[bytes]:
    yield (
        f"# Escalation log export\n\nExported {clock.show(clock.from_iso(cover.created_at), tz)}; "
        f"scope: {cover.scope}; {'redacted' if cover.redacted else 'not redacted'}; store fingerprint "
        f"`{cover.store_fingerprint}`.\n\n{cover.carried_words()}\n\n"
    ).encode()
    for rep in reports:
        v = rep.view
        s, p = v.state, v.procedure
        lines = [
            f"## {s.challenge}: {rep.case_ref}",
            "",
            f"- Procedure: {p.name} ({p.id}, version {p.version})",
            f"- Agency challenged: {s.agency}{corrected_mark(s, 'agency')}",
            f"- Decision challenged: {decision_words(s)}{corrected_mark(s, 'decision')}",
            f"- Triggers: {', '.join(s.triggers)}{corrected_mark(s, 'triggers')}",
            f"- Stage: {position(v)}",
            f"- Status: {status_words(s)}",
            f"- Timescales missed: {missed_words(v.missed_by)}",
            "",
            "### Chronology",
            "",
        ]
        for r in rep.chronology:
            marks = (" *(late entry)*" if r.late else "") + (
                f" *(amended by #{', #'.join(map(str, r.amended_by))})*" if r.amended_by else ""
            )
            text = journal.describe(r).replace("\n", " ")
            lines.append(
                f"- **#{r.cseq} {clock.show(r.occurred_at, tz)}** (recorded "
                f"{clock.show(r.recorded_at, tz)} by {r.author.get('name', '?')}){marks}: {text}"
            )
        if rep.exports:
            lines += ["", "### Export register", ""] + [f"- {register_line(r, tz)}" for r in rep.exports]
        yield ("\n".join(lines) + "\n\n").encode("utf-8")
    if cover.carried:  # a comment: Markdown viewers show none of it
        yield b"<!-- " + CARRIED_MARK + b"\n" + cover.carried + b"-->\n"


#: the name of the log a file for people carries (escalate.carried finds it by this)
CARRIED_MARK = b"escalate-log"


def _ladder_svg(view: ChallengeView, now: dt.datetime) -> str:
    """A bar per stage: visited stages filled, days spent, missed timescales counted. No scripts."""
    p = view.procedure
    stages = p.ladder(view.state.route)
    visited = {h.stage: h for h in view.history}
    width, bar = 640, 26
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{len(stages) * (bar + 8) + 8}" '
        f'role="img" aria-label="Stage ladder">'
    ]
    for i, stage in enumerate(stages):
        y = 8 + i * (bar + 8)
        h = visited.get(stage.number)
        current = stage.number == view.state.stage
        fill = "#1f4e79" if current else ("#9dc3e6" if h else "#eeeeee")
        text_fill = "#ffffff" if current else "#000000"
        full = f"{p.name_of(stage)}: {stage.title}"
        label = _shorten(full, 70)
        extra = ""
        if h:
            end = h.left_at or now
            days = (end - h.entered_at).days
            missed = sum(1 for d in h.deadlines if d.status in ("missed", "met late", "overdue"))
            extra = f" · {days} day(s) · " + (
                f"{missed} timescale(s) missed" if missed else settled_words([d.status for d in h.deadlines], h.left_at)
            )
            if current:
                extra += " · CURRENT"
        parts.append(f'<rect x="0" y="{y}" width="{width}" height="{bar}" fill="{fill}" stroke="#333"/>')
        parts.append(
            f'<text x="8" y="{y + 17}" font-size="12" fill="{text_fill}"><title>{html.escape(full)}</title>'
            f"{html.escape(label + extra)}</text>"
        )
    parts.append("</svg>")
    return "".join(parts)


def settled_words(statuses: list[str], left: object) -> str:
    """How a stage's timescales stand, none of them missed: "met" only where each one with a date was met."""
    if not left:
        return "no timescale missed yet"
    if statuses and all(s == "met" for s in statuses):
        return "timescales met"
    if "not reached" in statuses:
        return "left before its timescale fell due"
    return "no timescale missed" if statuses else "no timescale stated"


def html_chunks(reports: list[ChallengeReport], tz: str, cover: Cover) -> Iterator[bytes]:
    e = html.escape
    yield (
        b'<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>Escalation log export</title>'
        b"<style>body{font-family:sans-serif;max-width:60em;margin:2em auto;color:#111}"
        b"h1,h2{color:#1f4e79}table{border-collapse:collapse;width:100%}td,th{border:1px solid #999;"
        b"padding:4px;vertical-align:top;font-size:0.9em}th{background:#eee}.late{font-weight:bold}"
        b".cover{border:2px solid #1f4e79;padding:1em;margin-bottom:2em}"
        b"@media print{.challenge{page-break-before:always}}</style></head><body>"
    )
    yield (
        f'<div class="cover"><h1>Escalation log export</h1><p>Exported '
        f"{e(clock.show(clock.from_iso(cover.created_at), tz))}. Scope: {e(cover.scope)} "
        f"({len(reports)} challenge(s)). {'Personal details are redacted.' if cover.redacted else ''}</p>"
        f"<p>Store head fingerprint: <strong>{e(cover.store_fingerprint)}</strong> — compare it with the "
        f"fingerprint the DSL gave you (`escalate verify --expect`).</p><p>{e(cover.carried_words())}</p></div>"
    ).encode()
    for rep in reports:
        v = rep.view
        s, p = v.state, v.procedure
        rows = "".join(
            f"<tr><td>#{r.cseq}</td><td>{e(clock.show(r.occurred_at, tz))}</td>"
            f"<td>{e(clock.show(r.recorded_at, tz))}</td><td>{e(r.author.get('name', '?'))}</td>"
            f"<td{' class=late' if r.late else ''}>{e(journal.describe(r))}"
            f"{' (late entry)' if r.late else ''}"
            f"{(' (amended by #' + ', #'.join(map(str, r.amended_by)) + ')') if r.amended_by else ''}</td></tr>"
            for r in rep.chronology
        )
        register = (
            "<h3>Export register</h3><ul>"
            + "".join(f"<li>{e(register_line(r, tz))}</li>" for r in rep.exports)
            + "</ul>"
            if rep.exports
            else ""
        )
        yield (
            f'<section class="challenge"><h2>{e(s.challenge)}: {e(rep.case_ref)}</h2>'
            f"<p>Procedure: {e(p.name)} ({e(p.id)}, version {e(p.version)})<br>Agency challenged: "
            f"{e(s.agency + corrected_mark(s, 'agency'))}<br>Decision challenged: "
            f"{e(decision_words(s) + corrected_mark(s, 'decision'))}<br>Triggers: "
            f"{e(', '.join(s.triggers) + corrected_mark(s, 'triggers'))}<br>Stage: {e(position(v))}<br>"
            f"Status: {e(status_words(s))}<br>"
            "Timescales missed: "
            f"{e(missed_words(v.missed_by))}</p>"
            f"{_ladder_svg(v, cover.made_at)}<h3>Chronology</h3><table><tr><th>#</th><th>Happened</th><th>Recorded</th>"
            f"<th>By</th><th>What</th></tr>{rows}</table>{register}</section>"
        ).encode()
    if cover.carried:  # data, never run: a type no browser executes
        yield b'<script type="application/x-ndjson" id="' + CARRIED_MARK + b'">' + cover.carried + b"</script>"
    yield b"</body></html>\n"


# --- the dispute pack ---------------------------------------------------------------------


def draft_value(heading: str, rep: ChallengeReport) -> str:
    """Pre-fill a form heading from the record where the heading makes the meaning plain."""
    v = rep.view
    s = v.state
    h = heading.lower()
    opened = rep.rows[0].data
    if "reference" in h or "child" in h or "name" in h:
        return str(rep.case_ref)
    if "agenc" in h:
        return str(s.agency)
    if "disagree" in h or "concern" in h or "nature" in h:
        return str(opened.get("concern", ""))
    if "decision" in h:
        return decision_words(s)
    if "action" in h or "taken" in h:
        return "; ".join(
            f"{clock.show(r.occurred_at)[:15]} {journal.describe(r)}"
            for r in rep.rows[1:]
            if r.kind in ("contact", "response", "stepped-up")
        )
    if "outcome" in h or "sought" in h:
        return str(opened.get("outcome_sought", ""))
    return "(to complete)"


def pack_sections(rep: ChallengeReport, tz: str) -> list[tuple[str, list[str]]]:
    """The dispute pack as (heading, lines): shared by the Markdown, HTML and PDF forms."""

    v = rep.view
    s, p = v.state, v.procedure
    opened = rep.rows[0].data
    sections: list[tuple[str, list[str]]] = []
    author = rep.rows[0].author
    challenger = ", ".join(str(author[k]) for k in ("name", "role", "setting") if author.get(k))
    sections.append(
        (
            "The challenge",
            [
                f"Case: {rep.case_ref} ({s.challenge})",
                f"Raised by: {challenger or '(not recorded)'}",
                f"Agency challenged: {s.agency}" + (f", {s.team}" if s.team else "") + corrected_mark(s, "agency"),
                f"Decision challenged: {decision_words(s)}" + _decision_details(opened, s, tz),
                f"Triggers: {', '.join(s.triggers)}{corrected_mark(s, 'triggers')}",
                f"Procedure: {p.name} ({p.id}, version {p.version})",
                f"Immediate risk stated: {'yes' if s.immediate_risk else 'no'}{corrected_mark(s, 'immediate_risk')}",
            ],
        )
    )
    risk = immediate_risk(v, tz)  # what the procedure says to do at once, until it is recorded as done
    if risk:
        sections.append(("IMMEDIATE RISK", list(risk)))
    evidence = [f"Concern: {opened.get('concern', '')}"] + [f"- {e}" for e in opened.get("evidence", [])]
    evidence += [f"Check: {c}" for c in opened.get("checks", [])]
    sections.append(("The concern and the evidence", evidence))
    timeline = []
    for r in rep.rows:
        if r.kind in ("exported", "checkpoint"):  # (the log's own bookkeeping, not what happened)
            continue
        timeline.append(
            f"{clock.show(r.occurred_at, tz)}: {journal.describe(r)}" + (" (recorded late)" if r.late else "")
        )
    sections.append(("Timeline: what was asked of whom, and what came back", timeline))
    timescales = []
    for h in v.history:
        for d in h.deadlines:
            due = (clock.show(d.due, tz) if d.due else "no date") + (", extended" if d.extended else "")
            met = f", met {clock.show(d.met_at, tz)}" if d.met_at else ""
            timescales.append(
                f"{p.name_of(h.stage, s.route)}: {d.what} ({OWNER_WORDS[d.owner]}; "
                f"{describe_timescale(d.timescale)}; due {due}{met}): {d.status.upper()}"
            )
    m = v.missed_by
    timescales.append(f"Missed so far: {missed_words(m)}")
    sections.append(("Timescales of the procedure: met or missed, and by whom", timescales))
    nxt = v.next_stage
    now_lines = [
        f"Current: {position(v)}",
        f"Status: {status_words(s)}",
    ]
    now_lines += stage_guidance(v.stage, p)  # what to record, its forms, how a gap in the source was read
    if nxt:
        now_lines += [
            f"Next if not resolved: {p.name_of(nxt)}: {nxt.title}",
            "Raised by: " + ("; ".join(nxt.raised_by) or "not stated"),
            "Received by: " + ("; ".join(nxt.received_by) or "not stated"),
        ]
    elif p.complaints_route:
        now_lines.append(f"If still dissatisfied: {p.complaints_route}")
    sections.append(("Where it stands and what the procedure says next", now_lines))
    sections.append(("Outcome sought", [opened.get("outcome_sought") or "(not stated when the challenge was opened)"]))
    drafts: list[str] = []
    name = p.name_of(v.stage)
    where = name if v.stage.title == name else f"{name} ({v.stage.title})"  # (Sefton's stages are titled by name)
    for n in v.stage.notify:
        # worded for any notification: one may be a step up, a copy of an outcome letter or a report
        drafts += [
            f"Draft notification to {n.to}" + (f" ({n.how})" if n.how else ""),
            f"  Subject: {p.name_of(v.stage)} notification - {rep.case_ref} - {s.agency}",
            f"  We are notifying you, as {p.name} asks at {where}, of a professional disagreement with "
            f"{s.agency}. Decision challenged: {decision_words(s)}. Concern: {opened.get('concern', '')}. "
            f"Outcome sought: {opened.get('outcome_sought') or 'to be agreed'}.",
        ]
    forms = {f.name: f for f in p.forms}
    # a form named by the stage and by its notification is drafted once
    for name in dict.fromkeys(list(v.stage.forms) + [n.form for n in v.stage.notify if n.form]):
        form = forms.get(name)
        drafts.append(f"Draft form: {name}" + (f" ({form.url})" if form and form.url else ""))
        for heading in form.fields if form else []:
            drafts.append(f"  {heading}: {draft_value(heading, rep)}")
    # the letter to the other agency is drafted for every stage, form or none
    letter = (
        f"The letter to the other agency for this stage, with its due date and your details: "
        f"`escalate letter {s.challenge} -o letter.docx` (or l on the challenge in the app)."
    )
    none_named = ["The procedure names no notification or form for this stage."] if not drafts else []
    sections.append(("Drafts for this stage", [*drafts, *none_named, letter]))
    return sections


def _decision_details(opened: Mapping[str, Any], state: ChallengeState, tz: str) -> str:
    """Who made the decision challenged, their reference for it and when it was received, as known."""
    by = opened.get("decision_by") or {}
    parts = []
    if isinstance(by, Mapping) and by.get("name"):
        parts.append("made by " + ", ".join(str(by[k]) for k in ("name", "role", "agency") if by.get(k)))
    if opened.get("decision_ref"):
        parts.append(f"their reference {opened['decision_ref']}")
    if state.decision_at:
        parts.append(f"received {clock.show(clock.from_iso(state.decision_at), tz)}")
    return f" ({'; '.join(parts)})" if parts else ""


def pack_markdown(rep: ChallengeReport, tz: str) -> Iterator[bytes]:
    lines = [
        f"# Dispute pack: {rep.case_ref} ({rep.view.state.challenge})",
        "",
        f"Prepared {clock.show(clock.now(), tz)} from the escalate log.",
        "",
    ]
    for heading, body in pack_sections(rep, tz):
        lines += [f"## {heading}", ""] + [line if line.startswith(("-", "  ")) else f"- {line}" for line in body] + [""]
    yield "\n".join(lines).encode("utf-8")


def pack_html(rep: ChallengeReport, tz: str) -> Iterator[bytes]:
    e = html.escape
    yield (
        b'<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>Dispute pack</title><style>'
        b"body{font-family:sans-serif;max-width:55em;margin:2em auto;color:#111}h1,h2{color:#1f4e79}"
        b"li{margin:0.2em 0}</style></head><body>"
    )
    yield (
        f"<h1>Dispute pack: {e(rep.case_ref)} ({e(rep.view.state.challenge)})</h1>"
        f"<p>Prepared {e(clock.show(clock.now(), tz))} from the escalate log.</p>"
    ).encode()
    yield _ladder_svg(rep.view, clock.now()).encode("utf-8")
    for heading, body in pack_sections(rep, tz):
        items = "".join(f"<li>{e(line.strip())}</li>" for line in body)
        yield f"<h2>{e(heading)}</h2><ul>{items}</ul>".encode()
    yield b"</body></html>\n"


# --- the auditor's HTML report --------------------------------------------------------------


#: characters of a chart's label shown whole; a longer one is cut, and whole in its tooltip
LABEL_CHARS = 72


def _shorten(text: str, limit: int, tail: str = "") -> str:
    """``text`` cut to ``limit`` characters with an ellipsis where it was cut, ending with ``tail``."""
    if len(text) <= limit:
        return text
    return text[: limit - 1 - len(tail)].rstrip() + "\u2026" + tail


def _label(text: str) -> str:
    """A chart's label, cut to LABEL_CHARS; a closing "(...)" (a procedure's id) is kept whole."""
    cut = text.rfind(" (")
    keep = cut > 0 and text.endswith(")") and len(text) - cut <= LABEL_CHARS // 2
    return _shorten(text, LABEL_CHARS, text[cut:] if keep else "")


def bar_chart(title: str, data: dict[str, int]) -> str:
    """A horizontal bar chart in plain SVG (no scripts, no network), values written beside each bar."""
    e = html.escape
    if not data:
        return f"<h3>{e(title)}</h3><p>None.</p>"
    top = max(data.values()) or 1
    labels = [_label(str(label)) for label in data]
    # the label column as wide as its longest label (a partnership's name and its procedure's id)
    row, label_w = 22, max(160, max(len(text) for text in labels) * 7 + 12)
    width = label_w + 380
    parts = [
        f'<h3>{e(title)}</h3><svg xmlns="http://www.w3.org/2000/svg" width="{width}" '
        f'height="{len(data) * row + 6}" role="img" aria-label="{e(title)}">'
    ]
    for i, (label, text, value) in enumerate(zip(data, labels, data.values())):
        y = 3 + i * row
        bar = int((width - label_w - 60) * value / top)
        parts.append(
            f'<text x="0" y="{y + 15}" font-size="12"><title>{e(str(label))}</title>{e(text)}</text>'
            f'<rect x="{label_w}" y="{y + 3}" width="{bar}" height="{row - 8}" fill="#1f4e79"/>'
            f'<text x="{label_w + bar + 6}" y="{y + 15}" font-size="12">{value}</text>'
        )
    parts.append("</svg>")
    return "".join(parts)
