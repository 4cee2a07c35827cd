"""The agenda: what a DSL has to do across all their challenges, soonest first.

One list for a login shell, a scheduled job, the app's first screen and a calendar file: deadlines
overdue, due today and due within a week; agreed actions by their due dates; follow-ups a procedure
asks for after resolution; challenges whose clock has not started for longer than the DSL allows; and
immediate-risk steps not yet recorded as done. Every item names its challenge and says what to do.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

from escalate import briefing, clock, journal, workcalendar
from escalate.catalogue import Catalogue
from escalate.challenge import AgreedAction, ChallengeView, DeadlineRow, open_follow_ups
from escalate.settings import Settings
from escalate.wording import OWNER_WORDS, describe_start, what_words

#: an item's place on the agenda, in the order shown
When = Literal["overdue", "today", "week", "later", "waiting"]
WHEN_TITLES: dict[When, str] = {
    "overdue": "Overdue",
    "today": "Due today",
    "week": "Due within a week",
    "later": "Due later",
    "waiting": "Needs a look",
}
#: what an item is
Kind = Literal["deadline", "action", "follow-up", "no-clock", "immediate-risk"]
#: how far back a resolved challenge is looked at for follow-ups still to do
FOLLOW_UPS_FOR = dt.timedelta(days=120)


@dataclass(frozen=True)
class Item:
    """One thing to do, on one challenge."""

    challenge: str
    case_ref: str
    agency: str
    kind: Kind
    what: str  # what is to be done, in words
    owner: str  # whose action it is, in words ("" where not known)
    due: dt.datetime | None
    when: When
    #: a stable id for the thing itself, so a calendar imported again updates its event
    key: str
    #: for an agreed action: the entry that agreed it (action-done --action-seq)
    action_seq: int | None = None
    #: how many entries the challenge has: grows whenever something is recorded (a calendar's SEQUENCE)
    revision: int = 0


@dataclass(frozen=True)
class Agenda:
    made_at: dt.datetime
    timezone: str
    items: tuple[Item, ...]
    challenges_open: int

    def under(self, when: When) -> tuple[Item, ...]:
        return tuple(i for i in self.items if i.when == when)

    @property
    def pressing(self) -> int:
        """How many items are overdue or due today (what a login shell is told first)."""
        return sum(1 for i in self.items if i.when in ("overdue", "today"))


def _when(due: dt.datetime, now: dt.datetime, tz: str) -> When:
    if due < now:
        return "overdue"
    today = clock.today(tz, now)
    day = due.astimezone(clock.zone(tz)).date()
    if day == today:
        return "today"
    return "week" if day <= today + dt.timedelta(days=7) else "later"


def _deadline_item(view: ChallengeView, row: DeadlineRow, kind: Kind, now: dt.datetime, tz: str) -> Item | None:
    if row.due is None:
        return None
    owner = OWNER_WORDS.get(row.owner, row.owner)
    return Item(
        view.state.challenge,
        view.case_ref,
        view.state.agency,
        kind,
        f"{what_words(row.what)} ({view.procedure.name_of(row.stage, view.state.route)})",
        owner,
        row.due,
        _when(row.due, now, tz),
        f"{view.state.challenge}/deadline/{row.stage}/{row.id}",
        revision=view.state.entries,
    )


def _action_item(view: ChallengeView, action: AgreedAction, now: dt.datetime, tz: str) -> Item:
    due = clock.from_iso(action.due)
    return Item(
        view.state.challenge,
        view.case_ref,
        view.state.agency,
        "action",
        f"Agreed action: {action.action} (agreed at entry {action.cseq}; record it done when it is)",
        action.owner or "",
        due,
        _when(due, now, tz),
        f"{view.state.challenge}/action/{action.cseq}",
        action_seq=action.cseq,
        revision=view.state.entries,
    )


def _no_clock(view: ChallengeView, now: dt.datetime, limit: int) -> Item | None:
    """An open challenge with nothing timed in its stage, that has waited ``limit`` working days or more
    (a clock that starts at the first contact does not start by itself)."""
    if view.next_deadline is not None or any(r.live or r.status == "as soon as possible" for r in view.deadlines):
        return None
    waiting = [r for r in view.deadlines if r.status == "waiting"]
    entered = clock.from_iso(view.state.stages[-1].entered_at)
    days = workcalendar.working_days_between(entered, now, view.region)
    if days < limit or (not waiting and view.deadlines):
        return None
    starts = "; ".join(dict.fromkeys(describe_start(r.starts) for r in waiting)) or "nothing in this stage is timed"
    return Item(
        view.state.challenge,
        view.case_ref,
        view.state.agency,
        "no-clock",
        f"No deadline running for {days} working days at {view.procedure.name_of(view.state.stage, view.state.route)}"
        f" ({starts}): record what has happened, or step up",
        OWNER_WORDS["us"],
        None,
        "waiting",
        f"{view.state.challenge}/no-clock/{view.state.stage}",
        revision=view.state.entries,
    )


def _risk_item(view: ChallengeView, tz: str) -> Item | None:
    lines = briefing.immediate_risk(view, tz)
    if not lines or not any(line.startswith("Not yet recorded as done") for line in lines):
        return None
    return Item(
        view.state.challenge,
        view.case_ref,
        view.state.agency,
        "immediate-risk",
        "Immediate risk: the contact or notification the procedure asks for at once is not recorded as done",
        OWNER_WORDS["us"],
        None,
        "overdue",
        f"{view.state.challenge}/immediate-risk",
        revision=view.state.entries,
    )


def items_of(view: ChallengeView, now: dt.datetime, tz: str, waiting_limit: int) -> list[Item]:
    """What one challenge asks of the DSL now."""
    state = view.state
    found: list[Item | None] = []
    if state.is_open:
        found.append(_risk_item(view, tz))
        found += [_deadline_item(view, r, "deadline", now, tz) for r in view.deadlines if r.live]
        found += [_action_item(view, a, now, tz) for a in state.actions if a.done_at is None]
        found.append(_no_clock(view, now, waiting_limit))
    elif state.status != "withdrawn":
        found += [_deadline_item(view, r, "follow-up", now, tz) for r in open_follow_ups(state, view.procedure, now)]
    return [i for i in found if i is not None]


_ORDER: dict[When, int] = {"overdue": 0, "today": 1, "week": 2, "later": 3, "waiting": 4}
_FAR = dt.datetime.max.replace(tzinfo=dt.timezone.utc)


def agenda(views: Iterable[ChallengeView], now: dt.datetime, tz: str, waiting_limit: int) -> Agenda:
    items: list[Item] = []
    open_count = 0
    for view in views:
        open_count += view.state.is_open
        items += items_of(view, now, tz, waiting_limit)
    items.sort(key=lambda i: (_ORDER[i.when], i.kind != "immediate-risk", i.due or _FAR, i.challenge, i.key))
    return Agenda(now, tz, tuple(items), open_count)


def worth_a_look(status: str, resolved_at: str | None, now: dt.datetime) -> bool:
    """Whether a challenge can have anything on the agenda: open, or resolved recently enough to have
    a follow-up still to do (so an agenda over years of closed challenges reads only the recent ones)."""
    if status == "open":
        return True
    return status != "withdrawn" and resolved_at is not None and now - clock.from_iso(resolved_at) < FOLLOW_UPS_FOR


def of_store(
    store: journal.LogStore, catalogue: Catalogue | None, settings: Settings, now: dt.datetime | None = None
) -> Agenda:
    """The agenda of every challenge in ``store``: the open ones and those resolved recently enough to
    have a follow-up left, each read in full (the rest are only counted from their list rows)."""
    now = now or clock.now()
    rows = journal.summaries(store, catalogue, now)
    views = (
        journal.view(store, catalogue, r.state.challenge, now)
        for r in rows
        if worth_a_look(r.state.status, r.state.resolved_at, now)
    )
    return agenda(views, now, settings.timezone, settings.waiting_limit)


def lines(book: Agenda) -> list[str]:
    """The agenda as plain text, for a terminal or a scheduled job's mail."""
    tz = book.timezone
    out = [f"Agenda for {clock.show(book.made_at, tz)}: {book.challenges_open} challenge(s) open"]
    if not book.items:
        out.append("Nothing is due: no deadline, agreed action or follow-up is waiting on you or them.")
        return out
    for when in WHEN_TITLES:
        group = book.under(when)
        if not group:
            continue
        out += ["", f"{WHEN_TITLES[when]} ({len(group)})"]
        for i in group:
            due = f"due {clock.show(i.due, tz)}" if i.due else ""
            whose = f"{i.owner}" if i.owner else ""
            tail = " · ".join(x for x in (due, whose) if x)
            out.append(f"  {i.challenge} · {i.case_ref} · {i.agency}")
            out.append(f"    {i.what}" + (f" · {tail}" if tail else ""))
    return out
