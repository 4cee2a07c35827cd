"""Words for people: how timescales, deadlines and statuses read in every view and export."""

from __future__ import annotations

from typing import Any

UNIT_WORDS = {"working-days": "working day", "hours": "hour", "calendar-days": "calendar day"}


def plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def relative_due(working_days: int, overdue: bool) -> str:
    """How far a deadline is, in words that never rely on colour (the CLI's list and the app's
    dashboard and header all say it this way). ``working_days``: from now to the due date."""
    if overdue:
        return f"OVERDUE by {plural(-working_days, 'working day')}" if working_days < 0 else "OVERDUE today"
    return "due today" if working_days <= 0 else f"in {plural(working_days, 'working day')}"


#: who to refer to now, by whom a procedure is for (its ``applies_to``)
SOCIAL_CARE = {"children": "children's social care", "adults": "adult social care"}


def safety_fallback(applies_to: str) -> str:
    """What to do at immediate risk under a procedure that states no skip rule."""
    care = SOCIAL_CARE.get(applies_to, "children's or adult social care")
    return (
        "This procedure states no skip rule. Do not wait for escalation: "
        f"call the police on 999 or refer to {care} now."
    )


def immediate_risk_instruction(procedure: Any) -> str:
    """Every immediate-risk skip rule of the procedure, each with whom to contact directly and how
    soon; or the fallback. The wizard and `escalate open --immediate-risk` both show this."""
    rules = [r for r in procedure.skip_rules if r.immediate_risk]
    if not rules:
        return safety_fallback(procedure.applies_to)
    texts = []
    for rule in rules:
        text = f"{rule.when}: {rule.instruction}"
        if rule.timescale is not None:
            text += f" ({describe_timescale(rule.timescale)})"
        if rule.contact_directly:
            text += "\nContact directly: " + "; ".join(rule.contact_directly)
        texts.append(text)
    return "\n".join(texts)


def describe_timescale(t: Any) -> str:
    kind = t.kind
    if kind in UNIT_WORDS:
        text = plural(t.amount, UNIT_WORDS[kind])
    elif kind == "immediately":
        text = "immediately"
        tolerance = getattr(t, "tolerance", None)
        if tolerance is not None and tolerance.kind == "same-working-day":
            text += " (allowing the rest of that working day)"
        elif tolerance is not None and tolerance.kind == "hours":
            text += f" (allowing {plural(tolerance.amount, 'hour')})"
    elif kind == "as-soon-as-possible":
        text = "as soon as possible (no time stated: never overdue)"
    elif kind == "same-working-day":
        text = "the same working day"
    elif kind == "agreed":
        text = "a timescale agreed with the other agency"
    elif kind == "not-stated":
        text = "timescale not stated"
    elif kind == "lesser-of-protective":
        text = f"{describe_timescale(t.fixed)} or a protective timescale, whichever is sooner"
    else:  # pragma: no cover - the model admits no other kinds
        text = kind
    if getattr(t, "wording", None):
        text += f' ("{t.wording}")'
    return text


OWNER_WORDS = {"us": "our action", "them": "their action", "both": "both sides", "not-stated": "whose not stated"}


#: a deadline's clock start (procedure.CLOCK_STARTS) as a DSL reads it
START_WORDS = {
    "disagreement": "from the disagreement arising",
    "decision-received": "from receiving the decision",
    "stage-entered": "from entering the stage",
    "concern-raised": "from our first contact in the stage",
    "reply-received": "from their first response in the stage",
    "contact-in-writing": "from our first contact in writing (email, letter or form)",
    "contact-by-phone": "from our first phone call in the stage",
    "second-contact": "from our second contact in the stage",
    "meeting-held": "from the first meeting in the stage",
    "agreement-reached": "from the first action agreed in the stage",
    "resolved": "from the challenge being resolved",
    "not-stated": "not computable: the source does not say when its clock starts",
}


def describe_start(starts: str, wording: str | None = None) -> str:
    """When a deadline's clock starts, with the source's own words for it where the file gives them."""
    text = START_WORDS.get(starts) or f"from when deadline {starts.split(':', 1)[-1]} falls due"
    if wording and wording.lower().startswith("not stated"):  # the file's reading where the source is silent
        return f"{text} ({wording})"
    return text + (f' (the source: "{wording}")' if wording else "")


#: control characters a terminal would act on (ESC starts its sequences), shown as \xNN instead;
#: line breaks and tabs are kept
_CONTROLS = {c: f"\\x{c:02x}" for c in [*range(0x00, 0x09), *range(0x0B, 0x20), 0x7F, *range(0x80, 0xA0)]}


def printable(text: str) -> str:
    """``text`` (recorded, or from a procedure file) safe to put on a terminal: every control
    character but a line break or a tab shown as its escape, so none reaches the terminal raw."""
    return text.translate(_CONTROLS)


def what_words(what: str) -> str:
    """A deadline's "what", with format 2's "not-stated" said in words."""
    return "what must happen is not stated" if what == "not-stated" else what


def decision_words(state: Any) -> str:
    """The decision challenged; for a challenge opened at a referral, until its outcome is recorded,
    that it is awaited."""
    return state.decision or "(awaiting the outcome of the referral)"


def missed_words(missed: Any) -> str:
    """Timescales missed, by side (a :class:`escalate.challenge.MissedBy`), as every face says it."""
    text = f"ours {missed.us}, theirs {missed.them}, shared {missed.both}"
    return text + (f", whose not stated {missed.unstated}" if missed.unstated else "")


def copies_counted_once(n: int) -> str:
    """An audit's duplicates: ``n`` more copies of challenges already counted (two exports of one
    store hold the same challenges), not ``n`` challenges."""
    return f"{n} more cop{'y' if n == 1 else 'ies'} in other files, each challenge counted once"


def contact_line(contact: Any, today: Any) -> str:
    """One named contact: who, how to reach them, and whether their entry is due for a check."""
    parts = [f"{contact.name} ({contact.role})"]
    parts += [value for value in (contact.phone, contact.email) if value]
    if contact.review_by is not None:
        when = contact.review_by.strftime("%d %b %Y")
        parts.append(
            f"PAST ITS REVIEW DATE ({when}): check it is still right"
            if contact.review_overdue(today)
            else f"review by {when}"
        )
    return " · ".join(parts)


def not_covered(procedure: Any) -> list[str]:
    """What the procedure says it does not cover, each with where to go instead (an allegation
    against a member of staff goes to the LADO, not up this ladder)."""
    return [
        f"{ex.matter}: go to {ex.go_to}" if ex.go_to else f"{ex.matter}: where to go instead is not stated"
        for ex in procedure.exclusions
    ]


def stage_guidance(stage: Any, procedure: Any) -> list[str]:
    """What the procedure asks of a stage beyond its deadlines: what to record, the forms it uses
    (with where to find them), and the transcription's note on it (how escalate read a gap)."""
    lines = []
    if stage.record:
        lines.append("Record: " + "; ".join(stage.record))
    urls = {f.name: f.url for f in procedure.forms}
    if stage.forms:
        lines.append(
            "Forms: " + "; ".join(f"{name} ({urls[name]})" if urls.get(name) else name for name in stage.forms)
        )
    if stage.note:
        lines.append(f"Note: {stage.note}")
    return lines


def notification_line(notification: Any, sent: bool, not_needed: bool = False) -> str:
    """A stage's notification as a DSL reads it: sent, not needed (its condition answered as not
    applying), to be asked about (a condition not yet answered), still required, or optional; how,
    the form, and how soon."""
    condition = getattr(notification, "condition", None)
    if sent or not_needed:
        mark = "SENT" if sent else "NOT NEEDED"
    elif condition:
        mark = "ASK"
    else:
        mark = "REQUIRED" if notification.required else "OPTIONAL"
    asked = f"does this apply: {condition}? If so, " if mark == "ASK" else ""
    timescale = getattr(notification, "timescale", None)
    return (
        f"[{mark}] {asked}notify {notification.to}"
        + (f" ({notification.how})" if notification.how else "")
        + (f" · form: {notification.form}" if notification.form else "")
        + (f" · {describe_timescale(timescale)}" if timescale is not None and mark != "SENT" else "")
    )
