"""Letters to the other agency, and the partnership's forms filled in, drafted from the record.

A letter is what a DSL sends at a stage of the procedure: to whom (the stage's receiving role, and the
procedure file's named contact for it where there is one), what is asked and by when in the
procedure's timescale (the stage's deadline's due date), the concern and evidence, the decision
challenged with its reference, what has happened so far, and the DSL's name, role, setting and
contact details. A form is the partnership's form (``[[forms]]`` with ``fields``) with each heading
filled from the record where the heading makes the meaning plain. Both are drafts: the DSL reads and
sends them; making one is recorded in the log like an export.

Plain text pastes into an email; Markdown keeps headings; Word (python-docx) is what a partnership's
escalation forms are published as.
"""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from escalate import clock, journal
from escalate.catalogue import Catalogue
from escalate.challenge import DeadlineRow, TimescaleFacts
from escalate.errors import UsageError
from escalate.export import check_output, write_atomic
from escalate.procedure import Contact, Deadline, Stage
from escalate.report import ChallengeReport, Pseudonyms, challenge_report, draft_value
from escalate.settings import Settings
from escalate.wording import decision_words, describe_start, describe_timescale

FORMATS = ("txt", "md", "docx")


@dataclass(frozen=True)
class Letter:
    """A letter's parts, in the order they are written."""

    challenge: str
    date: str
    to: tuple[str, ...]  # addressee lines
    greeting: str
    subject: str
    references: tuple[str, ...]
    #: (heading or "", paragraphs); a paragraph starting "- " is a list item
    sections: tuple[tuple[str, tuple[str, ...]], ...]
    closing: str
    sender: tuple[str, ...]


@dataclass(frozen=True)
class FilledForm:
    challenge: str
    name: str
    url: str | None
    rows: tuple[tuple[str, str], ...]  # (the form's heading, what the record says)
    sender: tuple[str, ...]
    date: str


def choose_stage(rep: ChallengeReport, label: str | None) -> Stage:
    """The stage a letter is for: the current one, or the one named by its number or its label."""
    v = rep.view
    if label is None or not label.strip():
        return v.stage
    wanted = label.strip().lower()
    ladder = v.procedure.ladder(v.state.route)
    for stage in ladder:
        names = {str(stage.number), v.procedure.name_of(stage, v.state.route).lower(), stage.title.lower()}
        if wanted in names:
            return stage
    raise UsageError(
        f"the procedure has no stage {label.strip()!r}",
        hint="Stages: " + "; ".join(f"{s.number} ({v.procedure.name_of(s, v.state.route)})" for s in ladder),
    )


def named_contact(contacts: Sequence[Contact], stage: Stage) -> Contact | None:
    """The procedure file's named person whose role is one the stage is received by, if any."""
    for role in stage.received_by:
        for c in contacts:
            if c.role.lower() in role.lower() or role.lower() in c.role.lower():
                return c
    return None


def _asked(rep: ChallengeReport, stage: Stage, tz: str, now: dt.datetime) -> list[str]:
    """What the letter asks for, and by when: the stage's deadlines that are theirs to meet."""
    v = rep.view
    rows: list[DeadlineRow] = []
    for h in v.history:
        if h.stage == stage.number:
            rows = list(h.deadlines)
    if not rows:  # a stage not reached yet: its deadlines as the procedure states them
        lines = []
        for d in stage.deadlines:
            if d.owner in ("them", "both"):
                lines.append(f"{d.what}: the procedure asks for this {describe_timescale_of(d)}.")
        return lines
    lines = []
    for r in rows:
        if r.owner not in ("them", "both") or r.met_at is not None:
            continue
        when = f", that is by {clock.show(r.due, tz)}" if r.due else f" ({describe_start(r.starts)})"
        if r.due is not None and r.due < now:
            when += " (that date has passed: please reply now)"
        lines.append(f"{r.what}: the procedure asks for this {describe_timescale(r.timescale)}{when}.")
    return lines


def describe_timescale_of(deadline: Deadline) -> str:
    return describe_timescale(TimescaleFacts.of(deadline.timescale))


def _sender(settings: Settings) -> tuple[str, ...]:
    return tuple(x for x in (settings.name, settings.role, settings.setting, settings.email, settings.phone) if x)


def letter(rep: ChallengeReport, settings: Settings, stage_label: str | None, now: dt.datetime) -> Letter:
    """The letter for a stage of a challenge, from its record (``rep``, redacted or not)."""
    if not settings.name or not settings.role:
        raise UsageError(
            "your name and role are not set: a letter is signed with them",
            hint='`escalate config set name "..."`, `role`, `setting`, `email` and `phone` (or F2 in the app).',
        )
    v, tz = rep.view, settings.timezone
    state, p = v.state, v.procedure
    stage = choose_stage(rep, stage_label)
    opened = rep.rows[0].data
    contact = named_contact(v.contacts, stage)
    receiving = [" / ".join(stage.received_by)] if stage.received_by else []
    to = ([contact.name, contact.role] if contact else receiving) + [state.agency]
    stage_name = p.name_of(stage, state.route)
    decided = decision_words(state)
    details = []
    by = opened.get("decision_by")
    if isinstance(by, dict) and by.get("name"):
        details.append("made by " + ", ".join(str(by[k]) for k in ("name", "role", "agency") if by.get(k)))
    if state.decision_at:
        details.append(f"received {clock.show(clock.from_iso(state.decision_at), tz)}")
    harm = "the adult" if p.applies_to == "adults" else "the child"
    intro = (
        f"I am writing as {settings.role}" + (f" at {settings.setting}" if settings.setting else "") + " to raise a "
        f"professional disagreement about {harm} with the reference above, under {p.name}"
        + (f" ({p.partnership})" if p.partnership else "")
        + f", at {stage_name}: {stage.title}."
    )
    sections: list[tuple[str, tuple[str, ...]]] = [("", (intro,))]
    if state.immediate_risk:
        sections.append(
            (
                "Immediate risk",
                (f"I believe {harm} is at risk of immediate harm. Please treat this as urgent and respond today.",),
            )
        )
    sections.append(
        (
            "The decision I am challenging",
            (decided + (f" ({'; '.join(details)})" if details else "") + ".",),
        )
    )
    evidence = tuple(f"- {e}" for e in opened.get("evidence", []) or [])
    sections.append(("Our concern", (str(opened.get("concern", "")), *evidence)))
    history = [
        f"- {clock.show(r.occurred_at, tz)[:15]}: {journal.describe(r)}"
        for r in rep.rows[1:]
        if r.kind in ("contact", "response", "stepped-up", "decision-received", "action-agreed")
    ]
    if history:
        sections.append(("What has happened so far", tuple(history)))
    asked = _asked(rep, stage, tz, now)
    sought = str(opened.get("outcome_sought") or "")
    request = list(asked) or [
        "The procedure sets no timescale for this stage. Please reply as soon as you can; we ask for your reply "
        "within 5 working days."
    ]
    if sought:
        request.append(f"The outcome we are seeking: {sought}.")
    request += [f"- {a}" for a in stage.actions]
    sections.append(("What I am asking for", tuple(request)))
    nxt = p.next_stage(stage.number, state.route)
    if nxt is not None:
        following = f"{p.name_of(nxt, state.route)}: {nxt.title}"
        sections.append(
            ("", (f"If we cannot resolve this at {stage_name}, the procedure's next step is {following}.",))
        )
    references = [f"Our reference: {rep.case_ref} ({state.challenge})"]
    if opened.get("decision_ref"):
        references.append(f"Your reference: {opened['decision_ref']}")
    return Letter(
        challenge=state.challenge,
        date=_long_date(now, tz),
        to=tuple(to),
        greeting=f"Dear {contact.name}," if contact else "Dear colleague,",
        subject=f"Professional challenge ({stage_name}): {state.agency} decision - {decided[:80]}",
        references=tuple(references),
        sections=tuple(sections),
        closing="Yours sincerely,",
        sender=_sender(settings),
    )


def filled_form(rep: ChallengeReport, settings: Settings, name: str, now: dt.datetime) -> FilledForm:
    """The partnership's form ``name`` (a ``[[forms]]`` entry of the procedure) filled from the record."""
    p = rep.view.procedure
    forms = {f.name.lower(): f for f in p.forms}
    form = forms.get(name.strip().lower())
    if form is None:
        raise UsageError(
            f"{p.id} names no form {name.strip()!r}",
            hint=("Its forms: " + "; ".join(f.name for f in p.forms)) if p.forms else "This procedure names no forms.",
        )
    if not form.fields:
        raise UsageError(
            f"the form {form.name!r} lists no fields in the procedure file, so there is nothing to fill",
            hint="Add its headings as fields = [...] under [[forms]] (docs/procedure-format.md), or write a letter.",
        )
    rows = tuple((heading, draft_value(heading, rep)) for heading in form.fields)
    return FilledForm(
        rep.view.state.challenge, form.name, form.url, rows, _sender(settings), _long_date(now, settings.timezone)
    )


def _long_date(now: dt.datetime, tz: str) -> str:
    day = now.astimezone(clock.zone(tz))
    return f"{day.day} {clock.MONTHS_LONG[day.month - 1]} {day.year}"


# --- writing ---------------------------------------------------------------------------------


def text(doc: Letter | FilledForm) -> str:
    """Plain text, to paste into an email."""
    if isinstance(doc, FilledForm):
        lines = [doc.name, "=" * len(doc.name), ""]
        if doc.url:
            lines += [f"(the partnership's form: {doc.url})", ""]
        for heading, value in doc.rows:
            lines += [f"{heading}:", f"  {value}", ""]
        lines += ["Completed by:", *(f"  {s}" for s in doc.sender), f"  {doc.date}"]
        return "\n".join(lines) + "\n"
    lines = [*doc.to, "", doc.date, "", *doc.references, "", f"Subject: {doc.subject}", "", doc.greeting, ""]
    for heading, paragraphs in doc.sections:
        if heading:
            lines.append(heading)
        lines += list(paragraphs)
        lines.append("")
    lines += [doc.closing, "", *doc.sender]
    return "\n".join(lines) + "\n"


def markdown(doc: Letter | FilledForm) -> str:
    if isinstance(doc, FilledForm):
        lines = [f"# {doc.name}", ""]
        if doc.url:
            lines += [f"The partnership's form: <{doc.url}>", ""]
        lines += ["| Heading | From the record |", "|---|---|"]
        lines += [f"| {_cell(h)} | {_cell(v)} |" for h, v in doc.rows]
        lines += ["", "Completed by " + ", ".join(doc.sender) + f", {doc.date}"]
        return "\n".join(lines) + "\n"
    lines = [*(f"{line}  " for line in doc.to), "", doc.date, "", *(f"{r}  " for r in doc.references), ""]
    lines += [f"**Subject: {doc.subject}**", "", doc.greeting, ""]
    for heading, paragraphs in doc.sections:
        if heading:
            lines += [f"## {heading}", ""]
        lines += list(paragraphs)
        lines.append("")
    lines += [doc.closing, "", *(f"{s}  " for s in doc.sender)]
    return "\n".join(lines) + "\n"


def _cell(value: str) -> str:
    return value.replace("|", "\\|").replace("\n", " ")


def docx(doc: Letter | FilledForm) -> bytes:
    """A Word document (python-docx)."""
    import docx as python_docx  # lazy: python-docx and lxml, only where a Word file is made

    word = python_docx.Document()
    word.core_properties.author = doc.sender[0] if doc.sender else ""
    if isinstance(doc, FilledForm):
        word.core_properties.title = doc.name
        word.add_heading(doc.name, level=1)
        if doc.url:
            word.add_paragraph(f"The partnership's form: {doc.url}")
        table = word.add_table(rows=0, cols=2)
        table.style = "Table Grid"
        for heading, value in doc.rows:
            cells = table.add_row().cells
            cells[0].text = heading
            cells[1].text = value
        word.add_paragraph("")
        word.add_paragraph("Completed by: " + ", ".join(doc.sender) + f", {doc.date}")
    else:
        word.core_properties.title = doc.subject
        for line in doc.to:
            word.add_paragraph(line)
        word.add_paragraph(doc.date)
        for line in doc.references:
            word.add_paragraph(line)
        subject = word.add_paragraph()
        subject.add_run(f"Subject: {doc.subject}").bold = True
        word.add_paragraph(doc.greeting)
        for heading, paragraphs in doc.sections:
            if heading:
                word.add_heading(heading, level=2)
            for para in paragraphs:
                if para.startswith("- "):
                    word.add_paragraph(para[2:], style="List Bullet")
                else:
                    word.add_paragraph(para)
        word.add_paragraph(doc.closing)
        for line in doc.sender:
            word.add_paragraph(line)
    out = io.BytesIO()
    word.save(out)
    return out.getvalue()


def check_request(output: Path, fmt: str | None, *, stage: str | None, form: str | None, force: bool) -> str:
    """The format a letter is written in (given, or the file name's), once the request holds together;
    refused before anything is read, written or recorded."""
    chosen = fmt or output.suffix.lower().lstrip(".")
    if chosen not in FORMATS:
        raise UsageError(
            f"a letter is written as txt, md or docx, not {chosen or 'a file without an extension'!r}",
            hint="Choose txt, md or docx, or name the file .txt, .md or .docx.",
        )
    suffix = output.suffix.lower().lstrip(".")
    if suffix in FORMATS and suffix != chosen:
        raise UsageError(f"the file name {output.name} ends .{suffix} but the format is {chosen}")
    if form and stage:
        raise UsageError("a form is the procedure's own; a stage chooses a letter's: give one of them")
    check_output(output, force)
    return chosen


def make(
    store: journal.LogStore,
    settings: Settings,
    catalogue: Catalogue | None,
    challenge: str,
    output: Path,
    *,
    fmt: str | None = None,
    stage: str | None = None,
    form: str | None = None,
    redact: bool = False,
    force: bool = False,
    now: dt.datetime | None = None,
) -> str:
    """Write the letter (or the form) for ``challenge`` to ``output`` and record it in the log like an
    export, in one step: the file gets its name only once the log says it was made. Returns what was
    made, in words ("letter: Stage 2")."""
    chosen = check_request(output, fmt, stage=stage, form=form, force=force)
    now = now or clock.now()
    settings = journal.recording_as(settings, store)  # (signed by whom the log records it was made by)
    rep = challenge_report(store, catalogue, challenge, Pseudonyms() if redact else None, now=now)
    if form:
        filled = filled_form(rep, settings, form, now)
        doc: Letter | FilledForm = filled
        scope = f"form: {filled.name}"[:200]
    else:
        doc = letter(rep, settings, stage, now)
        scope = f"letter: {rep.view.procedure.name_of(choose_stage(rep, stage), rep.view.state.route)}"
    data = render(doc, chosen)

    def recorded(digest: str) -> None:
        journal.record_exports(
            store,
            settings,
            [challenge],
            {"scope": scope, "format": chosen, "redacted": redact, "sha256": digest, "entries": len(rep.rows)},
        )

    write_atomic(output, [data], before_rename=recorded)
    return scope


def render(doc: Letter | FilledForm, fmt: str) -> bytes:
    if fmt == "docx":
        return docx(doc)
    if fmt == "md":
        return markdown(doc).encode("utf-8")
    return text(doc).encode("utf-8")
