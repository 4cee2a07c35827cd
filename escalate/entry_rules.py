"""What an entry must mean before it is recorded: the checks that need its challenge and the clock.

:func:`escalate.entry.check_data` has checked what each field is (text, one line, a time, a number);
these check what the entry says, because the log is append-only and a false entry stays false for good:

* nothing happened in the future (beyond :data:`FUTURE_TOLERANCE`, for clocks a little apart);
* a decision was received no later than the entry that records it;
* an extension moves a deadline later, never earlier, and an agreed date is not before its agreement;
* nothing happened before its challenge was opened, except as earlier history with a reason;
* a correction's value is read as the field it corrects (a time as a time, an outcome as an outcome).

Each refusal is a :class:`FieldError` naming the field, so a form shows it next to that field.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Mapping
from typing import Any

from escalate import challenge as ch
from escalate import clock, entry, entry_kinds
from escalate.challenge import ChallengeState
from escalate.entry import HISTORY_KINDS, MEDIA, OUTCOMES, checked_text
from escalate.errors import FieldError, UsageError, shown
from escalate.procedure import Procedure
from escalate.triggers import TRIGGER_IDS

#: how far ahead of this computer's clock a time may be (another desk's clock, a minute typed ahead)
FUTURE_TOLERANCE = dt.timedelta(minutes=5)

#: fields a correction cannot change, with why: what escalate decided or recorded by itself
FIXED_FIELDS = {
    "procedure_id": "the procedure a challenge was opened under",
    "procedure_version": "the procedure a challenge was opened under",
    "procedure_fingerprint": "the procedure a challenge was opened under",
    "procedure_text": "the procedure a challenge was opened under",
    "procedure_path": "the procedure a challenge was opened under",
    "setting": "the setting of whoever recorded it",
    "route": "the route a challenge runs on",
    "start_stage": "the stage a challenge started at",
    "skip_rule": "the skip rule a challenge was opened under",
    "referral": "whether a challenge was opened at a referral",
    "from_stage": "a step up between stages",
    "to_stage": "a step up between stages",
    "deadline": "which deadline an entry was about",
    "target_seq": "what a correction corrects",
    "field": "what a correction corrects",
    "new_value": "what a correction corrects",
    "scope": "an export's record",
    "format": "an export's record",
    "redacted": "an export's record",
    "sha256": "an export's record",
    "entries": "an export's record",
}

_PERSON_PARTS = ("name", "role", "agency")
#: the times that are dates set for later, not moments that have happened
_DATES_AHEAD = ("due", "new_due", "protective_by")
_YES, _NO = ("true", "yes", "y"), ("false", "no", "n")


def not_future(field: str, when: dt.datetime, now: dt.datetime, tz: str, what: str) -> None:
    if when > now + FUTURE_TOLERANCE:
        raise FieldError(
            field,
            f"{what} {clock.show(when, tz)} is in the future",
            hint="Record things that have happened; deadlines are computed for you.",
        )


def check_opening(data: Mapping[str, Any], opened: dt.datetime, tz: str) -> None:
    """An opening's times against the moment it says the disagreement arose (``opened``)."""
    decided = data.get("decision_at")
    if decided is not None and clock.from_iso(decided) > opened:
        raise FieldError(
            "decision_at",
            f"the decision is said to be received {clock.show(clock.from_iso(decided), tz)}, after the "
            f"disagreement with it arose ({clock.show(opened, tz)})",
            hint="Give when the decision came; it cannot be later than the disagreement with it.",
        )
    protective = data.get("protective_by")
    if protective is not None and clock.from_iso(protective) <= opened:
        raise FieldError(
            "protective_by",
            f"the protective timescale {clock.show(clock.from_iso(protective), tz)} has passed before the "
            "challenge opens",
            hint="Give the date by which the child must be protected, after today.",
        )


def check_entry(
    kind: str,
    data: Mapping[str, Any],
    when: dt.datetime,
    state: ChallengeState,
    procedure: Callable[[], Procedure],
    tz: str,
) -> None:
    """A new entry of ``kind`` said to have happened ``when``, against its challenge as it is now
    (``procedure`` gives the challenge's procedure, read only where a deadline is looked up)."""
    opened = clock.from_iso(state.opened_at)
    history = data.get("history")
    if when < opened and not history:
        hint = (
            "If it is earlier history worth keeping, give the reason it is recorded now (--history in "
            "`escalate record`; the form's last field in the app)."
            if kind in HISTORY_KINDS
            else f"A {kind} happens within the challenge: check the date."
        )
        raise FieldError(
            "occurred_at",
            f"{clock.show(when, tz)} is before challenge {state.challenge} was opened ({clock.show(opened, tz)})",
            hint=hint,
        )
    if history and when >= opened:
        raise FieldError(
            "history",
            "earlier history is only for something that happened before the challenge was opened "
            f"({clock.show(opened, tz)})",
            hint="Leave the history reason out: this is part of the challenge.",
        )
    if kind == "deadline-extended":
        new_due = clock.from_iso(data["new_due"])
        due = ch.current_due(state, procedure(), data["deadline"])
        if due is not None and new_due <= due:
            raise FieldError(
                "new_due",
                f"the new date {clock.show(new_due, tz)} is not later than the deadline it extends "
                f"({clock.show(due, tz)})",
                hint="An extension moves a deadline later; record an agreed earlier date as a timescale agreed.",
            )
        if due is None and new_due <= when:
            raise FieldError(
                "new_due",
                f"the new date {clock.show(new_due, tz)} is not after the extension itself ({clock.show(when, tz)})",
            )
    if kind in ("timescale-agreed", "action-agreed") and clock.from_iso(data["due"]).date() < when.date():
        raise FieldError(
            "due",
            f"the date {clock.show(clock.from_iso(data['due']), tz)} is before it was agreed ({clock.show(when, tz)})",
            hint="Give the date agreed for it, from the day of the agreement on.",
        )


def corrected_value(
    field: str,
    value: str,
    target: entry.Content,
    target_kind: str,
    procedure: Procedure,
    tz: str,
    now: dt.datetime,
) -> str:
    """A correction's value read as the field it corrects, in the form that field is stored: a time
    as stored text, true or false, a known outcome... or FieldError("new_value") saying what is expected."""
    top, _, part = field.partition(".")
    if top in FIXED_FIELDS or (top.startswith("corrected_")):
        raise FieldError(
            "field",
            f"{field!r} cannot be corrected: it is {FIXED_FIELDS.get(top, 'a correction')}",
            hint="Record a note saying what is wrong, or open the challenge again if it was opened wrongly.",
        )
    where = f"the corrected {field.replace('_', ' ')}"
    if top == "occurred_at":
        return _time(value, "the corrected time it happened", tz, now, ahead=False)
    kind_of, _required = entry_kinds.KINDS[target_kind].get(top, ("str", False))
    if kind_of == "person":
        if part not in _PERSON_PARTS:
            raise FieldError(
                "field",
                f"{field!r} names a person: correct one part of it",
                hint="e.g. " + ", ".join(f"{top}.{p}" for p in _PERSON_PARTS),
            )
        return checked_text("new_value", where, value, line=True) or _empty(where)
    if part:
        raise FieldError("field", f"{top!r} has no parts: correct it as {top!r}")
    if kind_of == "instant":
        return _time(value, where, tz, now, ahead=top in _DATES_AHEAD)
    if kind_of == "int":
        if not re.fullmatch(r"\s*\d{1,9}\s*", value):
            raise FieldError("new_value", f"{where} must be a whole number, not {shown(value)}")
        return str(int(value))
    if kind_of == "bool":
        answer = value.strip().lower()
        if answer not in _YES + _NO:
            raise FieldError("new_value", f"{where} must be yes or no, not {shown(value)}")
        return "true" if answer in _YES else "false"
    if kind_of == "list" and top in ("triggers", "disagreements"):
        offered = TRIGGER_IDS if top == "triggers" else tuple(d.id for d in procedure.disagreements)
        return _triggers(top, value, where, offered)
    allowed = {"outcome": OUTCOMES, "medium": MEDIA, "direction": ("made", "received")}.get(top)
    text = checked_text("new_value", where, value, line=kind_of == "line") or _empty(where)
    if allowed is not None and text not in allowed:
        raise FieldError(
            "new_value", f"{where} {shown(text)} is not known", hint="Expected one of: " + ", ".join(allowed)
        )
    return text


def _empty(where: str) -> str:
    raise FieldError("new_value", f"{where} is empty", hint="Give the value it should have.")


def _time(value: str, where: str, tz: str, now: dt.datetime, *, ahead: bool) -> str:
    """A corrected time as stored; ``ahead``: whether it may be later than now (a due date may; when
    something happened may not)."""
    try:
        when = clock.parse_time(value, tz, what=where)
    except UsageError as exc:
        raise FieldError("new_value", exc.message, hint=exc.hint) from None
    if not ahead:
        not_future("new_value", when, now, tz, where)
    return clock.iso(when)


def _triggers(top: str, value: str, where: str, known: tuple[str, ...]) -> str:
    """Corrected triggers (or disagreements): ids, separated by commas or spaces, each one known."""
    ids = [t for t in re.split(r"[\s,]+", value.strip()) if t]
    if not ids:
        _empty(where)
    unknown = [t for t in ids if t not in known]
    if unknown:
        raise FieldError(
            "new_value", f"{shown(unknown[0])} is not one of the {top}", hint="Expected: " + ", ".join(known)
        )
    return ", ".join(dict.fromkeys(ids))
