"""A challenge's briefing: what a DSL reads of one challenge now, worded once for every face.

`escalate show` prints it and the app's Now tab (and the auditor's view of a challenge) shows it:
who and where, the next deadline, this stage's deadlines, notifications and overdue actions, the
timescales missed, what the procedure asks of this stage, its named contacts, and what comes next.
The text is plain; each face adds its own emphasis (the headings) and escapes it for its markup.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from escalate import clock, workcalendar
from escalate.challenge import ChallengeState, ChallengeView, DeadlineRow, Listed
from escalate.wording import (
    OWNER_WORDS,
    contact_line,
    decision_words,
    describe_start,
    describe_timescale,
    missed_words,
    notification_line,
    relative_due,
    safety_fallback,
    stage_guidance,
    what_words,
)


@dataclass(frozen=True)
class Section:
    """A heading (shown in bold), the text that follows it on its line, and the lines under it."""

    heading: str
    lead: str = ""  # with its own punctuation: ": raised by ...", " (from the procedure file)"
    lines: tuple[str, ...] = ()


@dataclass(frozen=True)
class Briefing:
    challenge: str
    case_ref: str
    agency: str
    status: str  # OPEN, RESOLVED (partly-resolved), WITHDRAWN
    procedure: str  # name (id, version)
    position: str  # Stage 2 of 4: Escalation to team manager
    next_due: str  # Fri 18 Dec 10:00 · in 3 working days; or - · the outcome
    newer_version: bool
    sections: tuple[Section, ...]


def position(view: ChallengeView) -> str:
    """Where a challenge stands, in the procedure's own words for the stage and then its place on
    the ladder: 'Step 0 (1 of 4): Follow-up of the report' (Step 0 is the first of four)."""
    return f"{view.procedure.name_of(view.stage)} ({view.stage_index} of {view.stage_count}): {view.stage.title}"


def next_due(view: Listed, now: dt.datetime, tz: str) -> tuple[str, str]:
    """(due date, relative words) of a challenge's next deadline; the words never rely on colour.
    Lists (the CLI's and the dashboard) and the briefing all say it this way."""
    nd, state = view.next_deadline, view.state
    if not state.is_open:
        return "-", state.outcome or state.status
    if nd is None or nd.due is None:
        if any(r.status == "as soon as possible" for r in view.deadlines):
            return "-", "as soon as possible"
        return "-", "no timed deadline"
    n = workcalendar.working_days_between(now, nd.due, view.region)
    return nd.due.astimezone(clock.zone(tz)).strftime("%a %d %b %H:%M"), relative_due(n, nd.status == "overdue")


def deadline_line(r: DeadlineRow, tz: str) -> str:
    due = (clock.show(r.due, tz) if r.due else "-") + (" (extended)" if r.extended else "")
    unknown = f" · {describe_start(r.starts)}" if r.status == "not computable" else ""
    other = ""
    if r.other is not None:  # the source's second reading, shown and never judged
        when = clock.show(r.other_due, tz) if r.other_due else "-"
        other = f" · the source also says {describe_timescale(r.other)}: {when} (not the one computed)"
    return (
        f"[{r.status.upper()}] {what_words(r.what)} · {OWNER_WORDS.get(r.owner, r.owner)} · "
        f"{describe_timescale(r.timescale)} · id {r.id} · due {due}{unknown}{other}"
    )


def brief(view: ChallengeView, now: dt.datetime, tz: str) -> Briefing:
    state, p, stage = view.state, view.procedure, view.stage
    due, words = next_due(view, now, tz)
    risk = immediate_risk(view, tz)
    sections = ([Section("IMMEDIATE RISK", "", risk)] if risk else []) + [_this_stage_deadlines(view, tz)]
    if view.missed:
        m = view.missed_by
        sections.append(Section("Timescales missed so far", f": {missed_words(m)}"))
    sections.append(
        Section(
            "This stage",
            f": raised by {'; '.join(stage.raised_by) or 'not stated'}; "
            f"contact {'; '.join(stage.received_by) or 'not stated'}",
            tuple(f"- {a}" for a in stage.actions) + tuple(stage_guidance(stage, p)),
        )
    )
    if view.contacts:  # (the auditor's view of an export has none: they belong to the DSL's files)
        today = clock.today(tz, now)
        sections.append(
            Section(
                "Named contacts",
                " (from the procedure file)",
                tuple(f"- {contact_line(c, today)}" for c in view.contacts),
            )
        )
    nxt = view.next_stage
    if state.is_open and nxt is not None:
        sections.append(
            Section(
                "If not resolved, next",
                f": {p.name_of(nxt, state.route)}: {nxt.title}",
                (
                    f"raised by {'; '.join(nxt.raised_by) or 'not stated'}; "
                    f"received by {'; '.join(nxt.received_by) or 'not stated'}",
                    *(f"notify {n.to}" + (f" ({n.how})" if n.how else "") for n in nxt.notify),
                ),
            )
        )
    elif state.is_open:
        sections.append(
            Section("This is the last stage", "." + (f" {p.complaints_route}" if p.complaints_route else ""))
        )
    sections.append(_how_opened(view))  # facts of the opening: below what to do now
    return Briefing(
        challenge=state.challenge,
        case_ref=view.case_ref + corrected_mark(state, "case_ref"),
        agency=state.agency + corrected_mark(state, "agency"),
        status=state.status.upper()
        + (f" ({state.outcome})" if state.outcome else "")
        + (f" · {RISK_FLAG}" if state.immediate_risk else ""),
        procedure=f"{p.name} ({p.id}, {p.version})",
        position=position(view),
        next_due=f"{due} · {words}",
        newer_version=view.newer_version,
        sections=tuple(sections),
    )


#: beside a challenge's status wherever it is shown, for as long as the challenge lasts
RISK_FLAG = "IMMEDIATE RISK"


def immediate_risk(view: ChallengeView, tz: str) -> tuple[str, ...]:
    """For an open challenge opened at immediate risk of harm: what the procedure says to do at once,
    until a contact or notification after the opening records it done, and the protective timescale
    the procedure expects where none is recorded. Nothing for any other challenge."""
    state, p = view.state, view.procedure
    if not (state.immediate_risk and state.is_open):
        return ()
    harm = "the adult" if p.applies_to == "adults" else "the child"
    rule = next((r for r in p.skip_rules if r.id == state.skip_rule), None)
    first = state.stages[0]
    done = [  # (earlier history recorded before the opening does not count)
        at
        for kind in ("contact", "notification-sent")
        if kind in first.events
        for at, _ in first.events[kind].first
        if at >= state.opened_at
    ]
    said = "corrected" if "immediate_risk" in state.corrected else "stated when opened"
    lines = [f"{harm[0].upper()}{harm[1:]} is at risk of immediate harm (as {said})."]
    if rule is not None:
        lines.append(f"The procedure says: {rule.instruction}")
        if rule.contact_directly:
            lines.append(f"Contact directly: {'; '.join(rule.contact_directly)}")
    else:
        lines.append(safety_fallback(p.applies_to))
    if done:
        when = clock.show(clock.from_iso(min(done)), tz)
        lines.append(f"A contact or notification is recorded since the opening ({when}).")
    else:
        lines.append("Not yet recorded as done: record the contact or notification when it is made.")
    protective = [r for r in view.deadlines if r.timescale.kind == "lesser-of-protective"]
    if protective and state.protective_by is None and not any(r.id in state.stages[-1].agreed for r in protective):
        ids = ", ".join(r.id for r in protective)
        lines.append(
            f"The procedure expects a timescale that protects {harm} ({ids}): none is recorded. Agree one and "
            f"record it as a timescale agreed (the app's Set timescale, key t, or `escalate record {state.challenge} "
            f"timescale-agreed --deadline {protective[0].id} --due DATE`)."
        )
    return tuple(lines)


def status_words(state: ChallengeState) -> str:
    """A challenge's status for a summary: with its outcome, and the immediate-risk flag."""
    return (
        state.status
        + (f" ({state.outcome})" if state.outcome else "")
        + (f" · {RISK_FLAG}" if state.immediate_risk else "")
    )


def corrected_mark(state: ChallengeState, field: str) -> str:
    """ " (corrected)" after a value of the opening that an amendment corrected, else nothing."""
    return " (corrected)" if field in state.corrected else ""


def how_opened(view: ChallengeView) -> tuple[str, ...]:
    """The route the challenge is on, the answer to the immediate-risk question, and the skip rule
    applied when it was opened (its instruction and whom to contact), as the procedure words them."""
    state, p = view.state, view.procedure
    route = next((r for r in p.routes if r.id == state.route), None)
    harm = "the adult" if p.applies_to == "adults" else "the child"
    own = {d.id: d for d in p.disagreements}
    referral = (
        [
            f"Opened at the referral, before any decision: {decision_words(state)}"
            if not state.decision
            else f"Opened at the referral; the decision received: {state.decision}"
        ]
        if state.referral
        else []
    )
    lines = [
        *referral,
        *(
            f"Disagreement: {own[d].title if d in own else d} (the procedure's own; counted as "
            f"{', '.join(state.triggers)})"
            for d in state.disagreements
        ),
        f"Route: {route.name} (id {route.id})" if route is not None else "Route: the main ladder",
        f"Immediate risk of harm to {harm}: {'yes' if state.immediate_risk else 'no'}, "
        + ("as corrected after opening" if "immediate_risk" in state.corrected else "as answered when opened"),
    ]
    if state.corrected:
        lines.append(
            "Corrected since it was opened: "
            + ", ".join(f.replace("_", " ") for f in state.corrected)
            + " (each amendment, and the value it corrected, is in the chronology)"
        )
    rule = next((r for r in p.skip_rules if r.id == state.skip_rule), None)
    if rule is not None:
        lines.append(f"Skip rule applied: {rule.id}: {rule.when}: {rule.instruction}")
        if rule.contact_directly:
            lines.append(f"Contact directly: {'; '.join(rule.contact_directly)}")
        if rule.starts():
            first = state.stages[0].stage
            lines.append(f"It started the challenge at {p.name_of(first, state.route)}")
    elif state.skip_rule:  # a rule of the version it was opened under that this file no longer has
        lines.append(f"Skip rule applied: {state.skip_rule} (not in the procedure file now loaded)")
    return tuple(lines)


def _how_opened(view: ChallengeView) -> Section:
    return Section("How it was opened", "", how_opened(view))


def _this_stage_deadlines(view: ChallengeView, tz: str) -> Section:
    lines = [deadline_line(r, tz) for r in view.deadlines] or ["none stated"]
    lines += [notification_line(n.notification, n.sent, n.not_needed) for n in view.notifications]
    lines += [
        f"[OVERDUE ACTION] {a.action} (due {clock.show(clock.from_iso(a.due), tz)})" for a in view.overdue_actions
    ]
    return Section("Deadlines of this stage", "", tuple(lines))


#: said under a newer procedure file than a challenge was opened under
NEWER_VERSION = "A newer version of this procedure is loaded; this challenge keeps the version it was opened under."


def ladder(view: ChallengeView, tz: str) -> list[str]:
    """All stages of the route, the current one marked, with time spent and each stage's timescales."""
    procedure, state = view.procedure, view.state
    visited = {h.stage: h for h in view.history}
    lines = []
    for stage in procedure.ladder(state.route):
        mark = ">>" if stage.number == state.stage else ("ok" if stage.number in visited else "  ")
        current = " (current)" if stage.number == state.stage else ""
        lines.append(f"{mark} {procedure.name_of(stage)}: {stage.title}{current}")
        timescales = "; ".join(f"{d.id}: {describe_timescale(d.timescale)}" for d in stage.deadlines)
        if timescales:
            lines.append(f"     {timescales}")
        h = visited.get(stage.number)
        if h:
            left = clock.show(h.left_at, tz) if h.left_at else "now"
            lines.append(f"     entered {clock.show(h.entered_at, tz)}, until {left}")
    return lines
