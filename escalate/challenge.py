"""Challenge state: a fold over the entries, and what it means today.

Two steps, both pure:

* :func:`fold_step` folds one entry into a :class:`ChallengeState`: stage history, clock events,
  extensions, pauses, agreed dates, actions, counters. :func:`fold` runs it over a whole challenge.
  The store caches the state (as JSON, :data:`FOLD`) so a list of 10,000 challenges does not
  re-read a million entries, and rebuilds it from the log whenever it is not current.
* :func:`derive` turns a state, the procedure snapshot and "now" into a :class:`ChallengeView`:
  deadlines with due times (computed only by :mod:`escalate.workcalendar`), their status, missed
  timescales by side, and what the procedure says to do next.

A list row (:class:`ListRow`) is the part of a view that does not depend on "now", small enough for
the store to keep beside the state; :func:`judge_listing` makes it a :class:`ListView`.

Nothing here writes anything, and nothing here words anything: the faces do (escalate.wording).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, replace
from functools import cache
from typing import Annotated, Any, Literal, Protocol

from pydantic import Field, TypeAdapter, ValidationError

from escalate import clock, entry_kinds, workcalendar
from escalate.entry import OUTCOMES, Content
from escalate.procedure import (
    CalendarDays,
    Contact,
    Deadline,
    Hours,
    Immediately,
    LesserOfProtective,
    Notification,
    Procedure,
    SkipRule,
    Stage,
    Timescale,
    WorkingDays,
)
from escalate.store import Fold, StoredEntry, WholeFold
from escalate.triggers import TRIGGER_IDS

LATE_AFTER = dt.timedelta(hours=24)
#: the id of a skip rule's timescale kept as a deadline (see _skip_rule_rows)
SKIP_PREFIX = "skip-rule:"
#: the fold's version (see ChallengeState.fold_format); 1: events by medium, for format 2's clock starts;
#: 2: notifications by recipient, for a notification's own timescale; 4: agreed actions recorded done;
#: 5: who recorded the last entry
FOLD_FORMAT = 5
#: a contact's medium -> the clock-start event it also is (procedure.CLOCK_STARTS)
MEDIUM_EVENTS = {
    "email": "contact-in-writing",
    "letter": "contact-in-writing",
    "form": "contact-in-writing",
    "phone": "contact-by-phone",
    "meeting": "meeting-held",
    "video": "meeting-held",
    "in-person": "meeting-held",
}
#: "due soon" is at most one working day away, which no run of holidays stretches past 8 calendar
#: days: further than this needs no calendar (and a list need not load the holiday data at all)
SOON_SPAN = dt.timedelta(days=8)
KEEP_EARLIEST = 8

Status = Literal["open", "resolved", "withdrawn"]
#: an event's time and its entry's number: (occurred_at, seq); times are clock.iso text, which sorts
Moment = tuple[str, int]
Side = Literal["us", "them", "both"]


# --- the folded state ----------------------------------------------------------------------


@dataclass(frozen=True)
class EventTimes:
    """When entries of one kind occurred in a stage: the earliest few (a deadline is met by the
    first after its start) and the latest."""

    first: tuple[Moment, ...]
    latest: Moment | None

    def moments(self) -> tuple[Moment, ...]:
        return self.first + ((self.latest,) if self.latest is not None else ())


@dataclass(frozen=True)
class StageVisit:
    """One stage as the challenge visited it: when, and what happened to its deadlines there."""

    stage: int
    route: str
    entered_at: str
    entered_seq: int
    left_at: str | None
    events: Mapping[str, EventTimes]
    extended: Mapping[str, str]  # deadline id -> new due
    paused: Mapping[str, str]  # deadline id -> paused since
    pause_total: Mapping[str, int]  # deadline id -> seconds paused, ended
    agreed: Mapping[str, str]  # deadline id -> the agreed date
    notified: tuple[str, ...]
    not_needed: tuple[str, ...] = ()  # recipients of conditional notifications answered "does not apply"

    @classmethod
    def entered(cls, stage: int, route: str, at: str, seq: int) -> StageVisit:
        """A stage as the challenge enters it: nothing has happened there yet."""
        return cls(stage, route, at, seq, None, {}, {}, {}, {}, {}, ())


@dataclass(frozen=True)
class AgreedAction:
    cseq: int
    action: str
    due: str
    owner: str | None
    stage: int
    done_at: str | None = None  # when an action-done entry recorded it done
    done_seq: int | None = None


@dataclass(frozen=True)
class NoFurther:
    """A recorded decision to escalate no further."""

    at: str
    cseq: int


@dataclass(frozen=True)
class ChallengeState:
    """A challenge folded from its entries: everything the views need, nothing worded."""

    challenge: str
    opened_seq: int
    procedure_id: str
    procedure_version: str
    fingerprint: str
    case_ref_sd: str | None
    agency: str
    team: str | None
    decision: str
    decision_at: str | None
    triggers: tuple[str, ...]
    immediate_risk: bool
    skip_rule: str | None
    route: str
    stage: int
    highest_stage: int
    status: Status
    outcome: str | None
    opened_at: str
    resolved_at: str | None
    protective_by: str | None
    stages: Annotated[tuple[StageVisit, ...], Field(min_length=1)]  # the last is the current one
    actions: tuple[AgreedAction, ...]
    late: tuple[int, ...]  # cseqs of entries recorded more than LATE_AFTER after they occurred
    backwards: int  # entries recorded at an earlier time than the one before
    last_recorded: str
    last_at: str
    entries: int
    amendments: int
    exports: int
    no_further: NoFurther | None
    cseq: int
    #: which fold made this state: a cached state from an older fold (0: before there was a number) is
    #: worked out again from the log, since it may lack events the deadlines now read
    fold_format: int = 0
    #: the procedure's own disagreements chosen at opening (format 2; ``triggers`` holds what they count as)
    disagreements: tuple[str, ...] = ()
    #: opened at the referral, before any decision; ``decision`` is "" until one is recorded
    referral: bool = False
    #: the fields of the opening that amendments corrected (the values above are the corrected ones;
    #: the originals stay in the opening entry, shown in the chronology)
    corrected: tuple[str, ...] = ()
    #: entries that say something impossible (escalate refuses them now; a log may hold them from
    #: before, or from elsewhere): (cseq, what is wrong), for the audit to warn of
    suspect: tuple[tuple[int, str], ...] = ()
    #: the setting (school, nursery) of whoever opened it, as their settings said
    setting: str | None = None
    #: who recorded its last entry (not counting exports and checkpoints): the digest of their sealed
    #: name (the store discloses it), or the name as stored in clear
    last_by: str | None = None

    @property
    def is_open(self) -> bool:
        return self.status == "open"


def _opened(e: StoredEntry, data: entry_kinds.Opened, at: str, rec: str) -> ChallengeState:
    sealed = data.case_ref
    return ChallengeState(
        challenge=e.challenge,
        opened_seq=e.seq,
        procedure_id=data.procedure_id,
        procedure_version=data.procedure_version,
        fingerprint=data.procedure_fingerprint,
        case_ref_sd=sealed.digest if isinstance(sealed, entry_kinds.Sealed) else None,
        agency=data.agency,
        team=data.team,
        decision=data.decision or "",
        decision_at=data.decision_at,
        triggers=data.triggers,
        immediate_risk=data.immediate_risk,
        skip_rule=data.skip_rule,
        route=data.route,
        stage=data.start_stage,
        highest_stage=data.start_stage,
        status="open",
        outcome=None,
        opened_at=at,
        resolved_at=None,
        protective_by=data.protective_by,
        stages=(StageVisit.entered(data.start_stage, data.route, at, e.seq),),
        actions=(),
        late=(),
        backwards=0,
        last_recorded=rec,
        last_at=at,
        entries=0,
        amendments=0,
        exports=0,
        no_further=None,
        cseq=0,
        fold_format=FOLD_FORMAT,
        disagreements=data.disagreements,
        referral=bool(data.referral),
        setting=data.setting,
    )


class NotOpened(ValueError):
    """A challenge whose first entry is not 'opened' (the log was changed outside escalate)."""


def _moments(times: EventTimes) -> list[Moment]:
    """An event's kept times, in the order they would have been added (the latest last)."""
    kept = list(times.first)
    if times.latest is not None:
        if times.latest in kept:
            kept.remove(times.latest)
        kept.append(times.latest)
    return kept


class _Visit:
    """A stage visit while entries are folded in: :class:`StageVisit`'s fields, changed in place."""

    __slots__ = (
        "agreed",
        "entered_at",
        "entered_seq",
        "events",
        "not_needed",
        "extended",
        "left_at",
        "notified",
        "pause_total",
        "paused",
        "route",
        "stage",
    )

    def __init__(self, v: StageVisit) -> None:
        self.stage, self.route, self.entered_at, self.entered_seq = v.stage, v.route, v.entered_at, v.entered_seq
        self.left_at = v.left_at
        self.events: dict[str, list[Moment]] = {k: _moments(e) for k, e in v.events.items()}
        self.extended, self.paused = dict(v.extended), dict(v.paused)
        self.pause_total, self.agreed = dict(v.pause_total), dict(v.agreed)
        self.notified = list(v.notified)
        self.not_needed = list(v.not_needed)

    def event(self, kind: str, at: str, seq: int) -> None:
        self.events.setdefault(kind, []).append((at, seq))

    def frozen(self) -> StageVisit:
        events = {}
        for kind, moments in self.events.items():
            ordered = sorted(moments)
            latest = max(moments, key=lambda m: m[0])  # (the last recorded of the latest time, as one by one)
            latest = next(m for m in reversed(moments) if m[0] == latest[0])
            events[kind] = EventTimes(tuple(ordered[:KEEP_EARLIEST]), latest)
        return StageVisit(
            self.stage,
            self.route,
            self.entered_at,
            self.entered_seq,
            self.left_at,
            events,
            self.extended,
            self.paused,
            self.pause_total,
            self.agreed,
            tuple(self.notified),
            tuple(self.not_needed),
        )


class _Folding:
    """A challenge while its entries are folded in: the fields entries change, changed in place, over
    the state the challenge was opened with. (A new frozen state per entry spent most of an audit of
    100,000 entries in dataclasses.replace.)"""

    def __init__(self, state: ChallengeState, *, whole: bool = False) -> None:
        #: folding a whole challenge, its entries read as corrected (else one entry onto a cached state)
        self.whole = whole
        self.base = state
        self.stage, self.highest_stage, self.status = state.stage, state.highest_stage, state.status
        self.outcome, self.resolved_at, self.no_further = state.outcome, state.resolved_at, state.no_further
        self.stages = [_Visit(v) for v in state.stages]
        self.actions, self.late = list(state.actions), list(state.late)
        self.backwards, self.entries, self.cseq = state.backwards, state.entries, state.cseq
        self.amendments, self.exports = state.amendments, state.exports
        self.last_recorded, self.last_at = state.last_recorded, state.last_at
        self.decision, self.decision_at, self.triggers = state.decision, state.decision_at, state.triggers
        self.agency, self.team, self.case_ref_sd = state.agency, state.team, state.case_ref_sd
        self.immediate_risk, self.protective_by, self.corrected = (
            state.immediate_risk,
            state.protective_by,
            state.corrected,
        )
        self.suspect = list(state.suspect)
        self.last_by = state.last_by

    def frozen(self) -> ChallengeState:
        return replace(
            self.base,
            decision=self.decision,
            decision_at=self.decision_at,
            triggers=self.triggers,
            agency=self.agency,
            team=self.team,
            case_ref_sd=self.case_ref_sd,
            immediate_risk=self.immediate_risk,
            protective_by=self.protective_by,
            corrected=self.corrected,
            suspect=tuple(self.suspect),
            last_by=self.last_by,
            stage=self.stage,
            highest_stage=self.highest_stage,
            status=self.status,
            outcome=self.outcome,
            resolved_at=self.resolved_at,
            no_further=self.no_further,
            stages=tuple(v.frozen() for v in self.stages),
            actions=tuple(self.actions),
            late=tuple(self.late),
            backwards=self.backwards,
            entries=self.entries,
            cseq=self.cseq,
            amendments=self.amendments,
            exports=self.exports,
            last_recorded=self.last_recorded,
            last_at=self.last_at,
        )

    def step(self, e: StoredEntry, content: Content) -> None:
        """Fold one stored entry (its parsed ``content``) in."""
        data = content.data
        # the times inside the hashed bytes, never the table's columns (an index that verify does not cover)
        at = content.occurred_at
        if isinstance(data, entry_kinds.Opened):
            raise NotOpened(f"challenge {e.challenge} is opened twice")
        self.count(e, content)
        st = self.stages[-1]
        if isinstance(data, entry_kinds.DecisionReceived):  # the referral's outcome, when it comes
            self.decision, self.decision_at = data.decision, at
            self.triggers = tuple(dict.fromkeys(self.triggers + data.triggers))
            st.event("response", at, e.seq)  # (their reply: it meets a deadline waiting for one)
        elif isinstance(data, entry_kinds.Contact):
            st.event("contact" if data.direction == "made" else "contact-received", at, e.seq)
            medium_event = MEDIUM_EVENTS.get(data.medium)
            if medium_event == "meeting-held" or (medium_event is not None and data.direction == "made"):
                st.event(medium_event, at, e.seq)
        elif isinstance(data, entry_kinds.Response):
            st.event("response", at, e.seq)
        elif isinstance(data, entry_kinds.ActionAgreed):
            st.event(e.kind, at, e.seq)
            self.actions.append(AgreedAction(e.cseq, data.action, data.due, data.owner, st.stage))
        elif isinstance(data, entry_kinds.ActionDone):
            self.actions = [
                replace(a, done_at=at, done_seq=e.cseq) if a.cseq == data.action_seq and a.done_at is None else a
                for a in self.actions
            ]
        elif isinstance(data, entry_kinds.NotificationSent):
            st.event(e.kind, at, e.seq)
            st.event(NOTIFIED + data.to.strip().lower(), at, e.seq)  # what a notification's own timescale waits for
            st.notified.append(data.to)
        elif isinstance(data, entry_kinds.NotificationNotNeeded):
            st.not_needed.append(data.to)
        elif isinstance(data, entry_kinds.DeadlineExtended):
            before = st.extended.get(data.deadline)
            if before is not None and data.new_due < before and not self.suspect_at(e.cseq):
                self.suspect.append((e.cseq, f"moves deadline {data.deadline!r} earlier than its last extension"))
            st.extended[data.deadline] = data.new_due
        elif isinstance(data, entry_kinds.DeadlinePaused):
            st.paused.setdefault(data.deadline, at)
        elif isinstance(data, entry_kinds.DeadlineResumed):
            since = st.paused.pop(data.deadline, None)
            if since is not None:
                seconds = max(0, int((clock.from_iso(at) - clock.from_iso(since)).total_seconds()))
                st.pause_total[data.deadline] = st.pause_total.get(data.deadline, 0) + seconds
        elif isinstance(data, entry_kinds.TimescaleAgreed):
            st.agreed[data.deadline] = data.due
        elif isinstance(data, entry_kinds.SteppedUp):
            st.event("stepped-up", at, e.seq)
            st.left_at = at
            self.stage, self.highest_stage = data.to_stage, max(self.highest_stage, data.to_stage)
            self.stages.append(_Visit(StageVisit.entered(data.to_stage, self.base.route, at, e.seq)))
        elif isinstance(data, entry_kinds.NoFurtherEscalation):
            self.no_further = NoFurther(at, e.cseq)
        elif isinstance(data, entry_kinds.Resolved):
            st.event("resolved", at, e.seq)
            self.status = "withdrawn" if data.outcome == "withdrawn" else "resolved"
            self.outcome, self.resolved_at = data.outcome, at
        elif isinstance(data, entry_kinds.Reopened):
            self.status, self.outcome, self.resolved_at = "open", None, None
        elif isinstance(data, entry_kinds.Amendment):
            if _retimes(data) and not self.whole:  # it changes what was folded before it: fold it all again
                raise WholeFold(data.field)
            self.amendments += 1
            self.correct(data)
        elif isinstance(data, entry_kinds.Exported):
            self.exports += 1
        # advice sought, a note: on the record, changing no deadline

    def suspect_at(self, cseq: int) -> bool:
        return any(n == cseq for n, _ in self.suspect)

    def correct(self, data: entry_kinds.Amendment) -> None:
        """Take a correction into the state: of the opening's fields the views show, and of an agreed
        action's due date. A value that does not fit its field (recorded before escalate checked
        corrections) changes nothing here; the chronology still shows it, and the audit warns of it."""
        field, value = data.field, data.new_value
        if data.target_seq != 1:
            if field == "due" and clock.is_iso(value):
                self.actions = [replace(a, due=value) if a.cseq == data.target_seq else a for a in self.actions]
            return
        if field in ("agency", "team", "decision"):
            if value.strip():
                setattr(self, field, value)
        elif field == "case_ref" and isinstance(data.corrected_case_ref, entry_kinds.Sealed):
            self.case_ref_sd = data.corrected_case_ref.digest
        elif field in ("decision_at", "protective_by") and clock.is_iso(value):
            setattr(self, field, value)
        elif field == "immediate_risk" and value in ("true", "false"):
            self.immediate_risk = value == "true"
        elif field == "triggers":
            ids = tuple(t.strip() for t in value.split(","))
            if ids and all(t in TRIGGER_IDS for t in ids):
                self.triggers = ids
            else:
                return
        else:
            return
        self.corrected = tuple(dict.fromkeys((*self.corrected, field)))

    def count(self, e: StoredEntry, content: Content) -> None:
        """What every entry counts: its number, lateness, whether the recording clock went back, and
        whether it says something impossible."""
        why = suspicion(self.base, e, content)
        if why is not None:
            self.suspect.append((e.cseq, why))
        at, rec = content.occurred_at, content.recorded_at
        self.cseq, self.entries = e.cseq, self.entries + 1
        if e.kind not in ("exported", "checkpoint"):  # (the log's bookkeeping, not a step of the challenge)
            name = content.author.name
            self.last_by = name.digest if isinstance(name, entry_kinds.Sealed) else name
        if content.recorded - content.occurred > LATE_AFTER:
            self.late.append(e.cseq)
        self.backwards += rec < self.last_recorded
        self.last_recorded, self.last_at = max(rec, self.last_recorded), max(at, self.last_at)


def _started(e: StoredEntry, content: Content) -> _Folding:
    """The fold of a challenge's first entry, which must open it."""
    data = content.data
    if not isinstance(data, entry_kinds.Opened):
        raise NotOpened(f"the first entry of challenge {e.challenge} is not 'opened'")
    folding = _Folding(_opened(e, data, content.occurred_at, content.recorded_at))
    folding.count(e, content)
    return folding


#: how far after its recording an entry may say it happened (clocks a little apart), as escalate allows
AHEAD = dt.timedelta(minutes=5)
_TIME_FIELDS = ("occurred_at", "decision_at", "due", "new_due", "protective_by")


def suspicion(state: ChallengeState, e: StoredEntry, content: Content) -> str | None:
    """What an entry says that cannot be true, or None (each is refused when recorded now): a time
    after its own recording, a decision received after the disagreement with it, something dated
    before the challenge opened but not recorded as earlier history, an extension or agreement to a
    date already past, a correction whose value cannot be what its field holds."""
    data, at = content.data, content.occurred_at
    if content.occurred - content.recorded > AHEAD:
        return "dated after it was recorded (in the future)"
    if isinstance(data, entry_kinds.Opened):
        if data.decision_at and data.decision_at > at:
            return "the decision is dated after the disagreement with it arose"
        return None
    if at < state.opened_at and not getattr(data, "history", None):
        return "dated before the challenge was opened, and not recorded as earlier history"
    if isinstance(data, entry_kinds.DeadlineExtended) and data.new_due <= at:
        return f"extends deadline {data.deadline!r} to a date already past when it was recorded"
    if isinstance(data, (entry_kinds.TimescaleAgreed, entry_kinds.ActionAgreed)) and data.due[:10] < at[:10]:
        return "agrees a date before the day it was agreed"
    if isinstance(data, entry_kinds.Amendment):
        value = data.new_value
        if data.field in _TIME_FIELDS and not clock.is_iso(value):
            return f"corrects {data.field} to something that is not a time ({value[:40]!r})"
        if data.field in ("immediate_risk", "referral", "redacted") and value not in ("true", "false"):
            return f"corrects {data.field} to something that is not yes or no ({value[:40]!r})"
        if data.field == "triggers" and not all(t.strip() in TRIGGER_IDS for t in value.split(",")):
            return f"corrects the triggers to ones that are not known ({value[:40]!r})"
    return None


def fold_step(state: ChallengeState | None, e: StoredEntry, content: Content) -> ChallengeState:
    """The state with one more stored entry (its parsed ``content``) folded in."""
    if state is None:
        return _started(e, content).frozen()
    folding = _Folding(state)
    folding.step(e, content)
    return folding.frozen()


#: corrections of an earlier entry that move what the fold took from it (an event's time, an extended or
#: agreed date, an outcome): taken in by folding the challenge again with the entry read as corrected
_RETIMED = ("occurred_at", "new_due", "due", "outcome")


def _retimes(data: entry_kinds.Amendment) -> bool:
    """Whether a correction is one the whole fold takes in (and fits its field: one recorded before
    escalate checked corrections, not fitting, changes nothing)."""
    if data.field == "outcome":
        return data.new_value in OUTCOMES
    return data.field in _RETIMED and clock.is_iso(data.new_value)


def _as_corrected(content: Content, fixes: dict[str, str]) -> Content:
    """An entry's content read with the corrections of it that the fold takes in (the stored entry is
    never changed: only what the fold reads)."""
    at = fixes.get("occurred_at")
    changes = {f: v for f, v in fixes.items() if f != "occurred_at" and f in type(content.data).model_fields}
    data = content.data.model_copy(update=changes) if changes else content.data
    if at is None:
        return replace(content, data=data)
    return replace(content, data=data, occurred_at=at, occurred=clock.from_iso(at))


def fold_contents(entries: Iterable[tuple[StoredEntry, Content]]) -> ChallengeState:
    """A whole challenge folded from its entries and their parsed contents, in order, each read with
    the corrections of its time, dates or outcome recorded later (the rest are taken in as they come)."""
    items = list(entries)
    fixes: dict[int, dict[str, str]] = {}
    for _, content in items:
        data = content.data
        if isinstance(data, entry_kinds.Amendment) and _retimes(data):
            fixes.setdefault(data.target_seq, {})[data.field] = data.new_value
    folding: _Folding | None = None
    for e, content in items:
        if e.cseq in fixes:
            content = _as_corrected(content, fixes[e.cseq])
        if folding is None:
            folding = _started(e, content)
            folding.whole = True
        else:
            folding.step(e, content)
    if folding is None:
        raise NotOpened("a challenge with no entries")
    return folding.frozen()


def fold(entries: Iterable[StoredEntry]) -> ChallengeState:
    return fold_contents((e, e.content()) for e in entries)


@cache
def _state_json() -> TypeAdapter[ChallengeState]:
    """How a cached state is read and written (built when first needed: 10 ms a command that needs none)."""
    return TypeAdapter(ChallengeState)


def _times(state: ChallengeState) -> Iterator[str | None]:
    """Every time a state holds, as text (each is read as a time when the state is derived)."""
    yield from (state.opened_at, state.last_recorded, state.last_at, state.resolved_at, state.decision_at)
    yield state.protective_by
    yield state.no_further.at if state.no_further is not None else None
    for a in state.actions:
        yield from (a.due, a.done_at)
    for v in state.stages:
        yield from (v.entered_at, v.left_at)
        yield from (*v.extended.values(), *v.paused.values(), *v.agreed.values())
        for times in v.events.values():
            yield from (at for at, _ in times.moments())


def _load_state(text: str | bytes) -> ChallengeState:
    """A cached state; a row that does not fit, or from an older fold, raises ValueError (pydantic's
    ValidationError is one), and the store works it out again. Its times are checked too: a cache
    changed outside escalate must not reach the calendar as a time that is not one."""
    state = _state_json().validate_json(text)
    if state.fold_format != FOLD_FORMAT:
        raise ValueError(f"a state cached by fold {state.fold_format}, not {FOLD_FORMAT}")
    if not all(t is None or clock.is_iso(t) for t in _times(state)):
        raise ValueError("a cached state holds a time that is not one")
    return state


def load_cached(text: object) -> ChallengeState | None:
    """A cached state as a reader would trust it, or None where a reader would work it out again."""
    if not isinstance(text, (str, bytes)):
        return None
    try:
        return _load_state(text)
    except (ValueError, RecursionError):  # pydantic's ValidationError is a ValueError
        return None


def _dump_state(state: ChallengeState) -> str:
    return _state_json().dump_json(state).decode("utf-8")


#: what the store runs and caches for every challenge (the store itself knows nothing of challenges)
FOLD: Fold[ChallengeState] = Fold(
    step=fold_step,
    whole=fold,
    load=_load_state,
    dump=_dump_state,
    warnings=lambda state: (len(state.late), state.backwards),
)


# --- derivation -------------------------------------------------------------------------


#: a procedure timescale's id -> (the timescale, kept alive so its id is not reused; its facts)
_FACTS: dict[int, tuple[object, TimescaleFacts]] = {}


@dataclass(frozen=True)
class TimescaleFacts:
    """A deadline's timescale as a row keeps it: what the procedure states, not words for it (the
    faces word it with :func:`escalate.wording.describe_timescale`, as they word the procedure's own
    timescale objects, whose attributes these are)."""

    kind: str
    amount: int | None = None
    wording: str | None = None
    fixed: TimescaleFacts | None = None
    tolerance: TimescaleFacts | None = None  # what an "immediately" allows

    @classmethod
    def of(cls, timescale: Timescale) -> TimescaleFacts:
        """The facts of a procedure's timescale (escalate.procedure's models). A procedure's timescales
        live as long as the procedure, so their facts are kept by identity (deriving 10,000 challenges
        asked for the same few thousands of times)."""
        known = _FACTS.get(id(timescale))
        if known is not None and known[0] is timescale:
            return known[1]
        fixed = getattr(timescale, "fixed", None)
        tolerance = getattr(timescale, "tolerance", None)
        facts = cls(
            timescale.kind,
            getattr(timescale, "amount", None),
            getattr(timescale, "wording", None),
            cls.of(fixed) if fixed is not None else None,
            cls.of(tolerance) if tolerance is not None else None,
        )
        if len(_FACTS) < 4096:  # (procedures are few; a bound all the same)
            _FACTS[id(timescale)] = (timescale, facts)
        return facts


class Unchanged:
    """A field :meth:`DeadlineRow.but` leaves as it is (None is a value: no date)."""


UNCHANGED = Unchanged()


@dataclass(frozen=True)
class DeadlineRow:
    """One deadline of a visited stage (or a limit over several stages) as of a moment."""

    id: str
    what: str
    owner: str
    starts: str
    timescale: TimescaleFacts
    stage: int
    start: dt.datetime | None
    due: dt.datetime | None
    met_at: dt.datetime | None
    #: "" until judged; then waiting, met, met late, paused, no timescale, date needed, as soon as
    #: possible, not met (known without "now"), or overdue, due soon, due (the current stage), missed,
    #: not reached (a stage left)
    status: str = ""
    extended: bool = False
    paused: bool = False
    #: when the source's second reading of the timescale would fall (shown beside the binding one)
    other_due: dt.datetime | None = None
    other: TimescaleFacts | None = None

    def but(
        self,
        *,
        due: dt.datetime | None | Unchanged = UNCHANGED,
        met_at: dt.datetime | None | Unchanged = UNCHANGED,
        status: str | None = None,
        extended: bool | None = None,
        paused: bool | None = None,
        other_due: dt.datetime | None | Unchanged = UNCHANGED,
    ) -> DeadlineRow:
        """This row with the given fields changed (dataclasses.replace, which looks every field up by
        name, took a fifth of an audit's derivations)."""
        return DeadlineRow(
            self.id,
            self.what,
            self.owner,
            self.starts,
            self.timescale,
            self.stage,
            self.start,
            self.due if isinstance(due, Unchanged) else due,
            self.met_at if isinstance(met_at, Unchanged) else met_at,
            self.status if status is None else status,
            self.extended if extended is None else extended,
            self.paused if paused is None else paused,
            self.other_due if isinstance(other_due, Unchanged) else other_due,
            self.other,
        )

    @property
    def live(self) -> bool:
        """Still to be met, with a date: what "next deadline" is chosen from."""
        return self.due is not None and self.status in ("overdue", "due soon", "due")


@dataclass(frozen=True)
class StageHistory:
    stage: int
    title: str
    entered_at: dt.datetime
    left_at: dt.datetime | None
    deadlines: tuple[DeadlineRow, ...]


@dataclass(frozen=True)
class MissedBy:
    """Timescales missed (or met late, or overdue), counted by whose they were."""

    us: int = 0
    them: int = 0
    both: int = 0
    unstated: int = 0  # deadlines whose source does not say whose action they are

    @property
    def total(self) -> int:
        return self.us + self.them + self.both + self.unstated

    def __add__(self, other: MissedBy) -> MissedBy:
        return MissedBy(
            self.us + other.us, self.them + other.them, self.both + other.both, self.unstated + other.unstated
        )


@dataclass(frozen=True)
class NotificationDue:
    """A notification the current stage asks for, and whether one recorded at this stage names its
    recipient, or (a conditional one) its condition was answered as not applying."""

    notification: Notification
    sent: bool
    not_needed: bool = False


@dataclass(frozen=True)
class ChallengeView:
    """A challenge as of a moment: what every face shows of it (journal.view adds the case reference
    and the procedure's named people, which are not in the fold)."""

    state: ChallengeState
    procedure: Procedure
    region: str
    stage: Stage
    stage_count: int
    stage_index: int
    deadlines: tuple[DeadlineRow, ...]
    history: tuple[StageHistory, ...]
    missed: tuple[DeadlineRow, ...]
    missed_by: MissedBy
    next_deadline: DeadlineRow | None
    overdue: bool
    overdue_actions: tuple[AgreedAction, ...]
    notifications: tuple[NotificationDue, ...]
    notifications_sent: tuple[str, ...]
    next_stage: Stage | None
    case_ref: str = "(withheld)"
    newer_version: bool = False
    contacts: tuple[Contact, ...] = ()

    @property
    def stage_title(self) -> str:
        return self.stage.title

    @property
    def notifications_required(self) -> tuple[Notification, ...]:
        return tuple(n.notification for n in self.notifications if n.notification.required)

    @property
    def late_entries(self) -> tuple[int, ...]:
        return self.state.late


def _t(text: str | None) -> dt.datetime | None:
    return clock.from_iso(text) if text else None


def _when(text: str) -> dt.datetime:
    """A time the state always holds (a stage's entry, an event's time)."""
    return clock.from_iso(text)


def _due(timescale: Timescale, start: dt.datetime, procedure: Procedure, chained: bool = False) -> dt.datetime | None:
    """When a fixed timescale started at ``start`` ends; None for one without a fixed length.
    ``chained``: ``start`` is when another deadline fell due (counted from that working day)."""
    region, cutoff = procedure.region, procedure.cutoff
    if isinstance(timescale, (WorkingDays, Hours, CalendarDays)):
        return workcalendar.add(start, timescale.amount, timescale.kind, region, cutoff, chained=chained)
    if isinstance(timescale, Immediately):  # "immediately", allowing its tolerance
        tolerance = timescale.tolerance
        if isinstance(tolerance, Hours):
            return workcalendar.add_hours(start, tolerance.amount)
        if tolerance.kind == "same-working-day":
            return workcalendar.same_working_day(start, region, cutoff, chained=chained)
        return start
    if timescale.kind == "same-working-day":
        return workcalendar.same_working_day(start, region, cutoff, chained=chained)
    return None


def fixed_limit(state: ChallengeState, procedure: Procedure, deadline: str) -> dt.datetime | None:
    """For a deadline of the current stage timed "a fixed limit or a protective timescale, whichever
    is sooner": when its fixed limit falls (None for any other deadline, or one not started)."""
    st = state.stages[-1]
    stage = procedure.stage(st.stage, state.route)
    d = next((x for x in stage.deadlines if x.id == deadline), None)
    if d is None or not isinstance(d.timescale, LesserOfProtective):
        return None
    row = next(r for r in plan_stage(state, st, stage, procedure) if r.id == deadline)
    return _due(d.timescale.fixed, row.start, procedure, d.starts.startswith("deadline:")) if row.start else None


#: a clock start that is an event in the stage -> (the event, which of them: 0 the first)
EVENT_STARTS = {
    "concern-raised": ("contact", 0),
    "reply-received": ("response", 0),
    "contact-in-writing": ("contact-in-writing", 0),
    "contact-by-phone": ("contact-by-phone", 0),
    "second-contact": ("contact", 1),
    "meeting-held": ("meeting-held", 0),
    "agreement-reached": ("action-agreed", 0),
}


#: an event kind naming a notification's recipient: "notified:" and the recipient, as recorded
NOTIFIED = "notified:"


def _first_after(st: StageVisit, kinds: tuple[str, ...], start: str, exclude_seq: int | None) -> str | None:
    best: str | None = None
    for kind in kinds:
        if kind.startswith(NOTIFIED):  # a notification to this recipient (named as the Now tab matches it)
            found = [
                ev
                for key, ev in st.events.items()
                if key.startswith(NOTIFIED) and _names(kind[len(NOTIFIED) :], [key[len(NOTIFIED) :]])
            ]
        else:
            found = [ev] if (ev := st.events.get(kind)) is not None else []
        for at, seq in (moment for ev in found for moment in ev.moments()):
            if at >= start and seq != exclude_seq and (best is None or at < best):
                best = at
    return best


def plan_stage(state: ChallengeState, st: StageVisit, stage: Stage, procedure: Procedure) -> list[DeadlineRow]:
    """Every deadline of one visited stage with its start, due time and met time: what does not
    depend on "now". Statuses that do (due, due soon, overdue, missed) are left empty for
    :func:`judge` to fill in, so this part can be cached until the challenge's next entry."""
    rows: dict[str, DeadlineRow] = {}

    def start_of(d: Deadline) -> tuple[dt.datetime | None, int | None]:
        s = d.starts
        if s == "disagreement":
            return _t(state.opened_at), None
        if s == "decision-received":
            return _t(state.decision_at or state.opened_at), None
        if s == "stage-entered":
            return _t(st.entered_at), None
        if s == "not-stated":
            return None, None
        if s == "resolved":
            return _t(state.resolved_at), None
        if s in EVENT_STARTS:  # the first (or second) entry of its kind in this stage
            kind, nth = EVENT_STARTS[s]
            ev = st.events.get(kind)
            moments = sorted(ev.moments()) if ev is not None else []
            moment = moments[nth] if len(moments) > nth else None
            return (_t(moment[0]), moment[1]) if moment else (None, None)
        target = s.split(":", 1)[1]  # deadline:<id> (the procedure file checks it names one, without a loop)
        return compute(next(x for x in stage.deadlines if x.id == target)).due, None

    def compute(d: Deadline) -> DeadlineRow:
        if d.id in rows:
            return rows[d.id]
        start, start_seq = start_of(d)
        other, other_due = None, None
        if d.also_read_as is not None:  # shown beside the binding reading, never judged
            other = TimescaleFacts.of(d.also_read_as)
            other_due = _due(d.also_read_as, start, procedure, d.starts.startswith("deadline:")) if start else None
        facts = TimescaleFacts.of(d.timescale)
        row = DeadlineRow(
            d.id, d.what, d.owner, d.starts, facts, st.stage, start, None, None, other_due=other_due, other=other
        )
        rows[d.id] = row = _planned(row, d, st, state, start_seq, procedure)
        return row

    for d in stage.deadlines:
        compute(d)
    timed = []  # notifications with a timescale of their own, kept as deadlines of ours
    for i, n in enumerate(stage.notify):
        if n.timescale is None:
            continue
        d = _notification_deadline(n, i)
        row = compute(d)
        if _names(n.to, st.not_needed) and row.met_at is None:
            row = rows[d.id] = row.but(status="not needed")
        timed.append(row)
    return (
        [rows[d.id] for d in stage.deadlines]
        + timed
        + _skip_rule_rows(state, st, procedure)
        + _limit_rows(state, st, procedure)
    )


#: id(notification or skip rule) -> (it, its timescale as a deadline): built once per procedure
#: object, as the procedure's own deadlines are (holding it keeps its id from being reused)
_AS_DEADLINES: dict[int, tuple[object, Deadline]] = {}


def _as_deadline(source: Notification | SkipRule, **fields: Any) -> Deadline:
    """The deadline a notification or skip rule with a timescale of its own is kept as (the fields
    come from the procedure file, already validated: no second validation)."""
    known = _AS_DEADLINES.get(id(source))
    if known is None or known[0] is not source:
        known = _AS_DEADLINES[id(source)] = (source, Deadline.model_construct(owner="us", **fields))
    return known[1]


def _notification_deadline(n: Notification, index: int) -> Deadline:
    """A notification with its own timescale ("within 48 hours of the meeting"), as a deadline of ours
    met by a notification recorded after its start (id notify-N, N its place in the stage)."""
    return _as_deadline(
        n,
        id=f"notify-{index + 1}",
        what=f"Notify {n.to}" + (f" ({n.how})" if n.how else ""),
        starts=n.starts,
        starts_wording=n.starts_wording,
        timescale=n.timescale,
        met_by=[NOTIFIED + n.to.strip().lower()],  # a notification naming its recipient
    )


def _skip_rule_rows(state: ChallengeState, st: StageVisit, procedure: Procedure) -> list[DeadlineRow]:
    """The timescale of the skip rule a challenge was opened under ("escalate the same working day"),
    kept as a deadline of the stage it started at: from the opening, met by a contact or notification."""
    if not state.skip_rule or st.entered_seq != state.opened_seq:
        return []
    rule = next((r for r in procedure.skip_rules if r.id == state.skip_rule), None)
    if rule is None or rule.timescale is None:
        return []
    d = _as_deadline(
        rule,
        id=SKIP_PREFIX + rule.id,
        what=rule.instruction,
        starts="disagreement",
        timescale=rule.timescale,
        met_by=["contact", "notification-sent"],
    )
    row = DeadlineRow(
        d.id, d.what, d.owner, d.starts, TimescaleFacts.of(d.timescale), st.stage, _t(state.opened_at), None, None
    )
    return [_planned(row, d, st, state, None, procedure)]


def _planned(
    row: DeadlineRow, d: Deadline, st: StageVisit, state: ChallengeState, start_seq: int | None, procedure: Procedure
) -> DeadlineRow:
    """``row`` (its start known) with its due and met times, and any status known without "now"."""
    start, t = row.start, d.timescale
    chained = d.starts.startswith("deadline:")
    extended = st.extended.get(d.id)
    if d.starts == "not-stated" and not extended:  # never guessed: the source gives no start
        met = _first_after(st, d.meeting_kinds(), st.entered_at, None)
        return row.but(met_at=_t(met), status="met" if met is not None else "not computable")
    if start is None and not extended:
        return row.but(status="waiting")
    if extended:  # a date agreed for it holds even before its clock would start
        due = _t(extended)
    elif start is None:  # not reached: a deadline without a start returned "waiting" above
        due = None
    elif t.kind == "agreed":
        due = _t(st.agreed.get(d.id))
    elif t.kind == "lesser-of-protective":
        fixed = _due(t.fixed, start, procedure, chained)
        protective = _t(st.agreed.get(d.id) or state.protective_by)
        due = min(fixed, protective) if fixed is not None and protective is not None else fixed or protective
    else:
        due = _due(t, start, procedure, chained)
    if due is not None and st.pause_total.get(d.id):
        due += dt.timedelta(seconds=st.pause_total[d.id])
    met = _first_after(st, d.meeting_kinds(), clock.iso(start or _when(st.entered_at)), start_seq)
    status, paused = "", False
    if met is not None:
        status = "met late" if due is not None and _when(met) > due else "met"
    elif d.id in st.paused:
        status, paused = "paused", True
    elif t.kind == "as-soon-as-possible":  # never overdue, never missed: prompted while the stage lasts
        status = "as soon as possible" if st.left_at is None and state.is_open else "not met"
    elif due is None:
        status = "no timescale" if t.kind == "not-stated" else "date needed"
    return row.but(due=due, met_at=_t(met), extended=bool(extended), status=status, paused=paused)


#: a limit's row id: beside a stage's own deadlines, never one of them
LIMIT_PREFIX = "limit:"


def _limit_rows(state: ChallengeState, st: StageVisit, procedure: Procedure) -> list[DeadlineRow]:
    """The procedure's limits over a range of stages ("stages 1 and 2 within 10 working days"),
    each shown and counted once: with the last visited stage of its range (the current stage while
    the challenge is inside it). A limit starts when the challenge entered its range, and is met
    when the challenge left the range upwards or was resolved inside it."""
    if not procedure.limits:  # most procedures: nothing to look up
        return []
    visited = state.stages
    here = next((i for i, x in enumerate(visited) if x.entered_seq == st.entered_seq), None)
    if here is None or state.route != "main":  # limits count the main ladder's stages, not a route's
        return []
    rows = []
    for limit in procedure.limits:
        inside = [i for i, x in enumerate(visited) if limit.from_stage <= x.stage <= limit.to_stage]
        if not inside or inside[-1] != here:
            continue
        start = _when(visited[inside[0]].entered_at)
        met: dt.datetime | None
        if here + 1 < len(visited):
            met = _t(st.left_at) if visited[here + 1].stage > limit.to_stage else None
        else:
            met = _t(state.resolved_at) if not state.is_open else None
        t = limit.timescale
        due = _due(t, start, procedure)
        if t.kind == "lesser-of-protective":  # the fixed limit, or the case's protective date if sooner
            protective = _t(state.protective_by)
            due = _due(t.fixed, start, procedure)
            due = min(due, protective) if due is not None and protective is not None else due
        lid = LIMIT_PREFIX + limit.id
        # Extended or paused in any stage of its range (each entry is kept with the stage it was
        # recorded in): the latest extension holds, and every pause counts. A pause still running
        # when its stage was left ended then: a step up starts the next level's clock again.
        extended, paused_for, paused = None, 0, False
        for i in inside:
            s = visited[i]
            extended = s.extended.get(lid) or extended
            paused_for += s.pause_total.get(lid, 0)
            since = s.paused.get(lid)
            if since is not None and s.left_at is not None:
                paused_for += max(0, int((_when(s.left_at) - _when(since)).total_seconds()))
            elif since is not None:
                paused = True
        if extended:
            due = _t(extended)
        if due is not None and paused_for:
            due += dt.timedelta(seconds=paused_for)
        first, last = procedure.name_of(limit.from_stage), procedure.name_of(limit.to_stage)
        row = DeadlineRow(
            id=lid,
            what=f"{limit.what} ({first} to {last}, overall)",
            owner="both",
            starts="stage-entered",
            timescale=TimescaleFacts.of(limit.timescale),
            stage=st.stage,
            start=start,
            due=due,
            met_at=met,
            extended=bool(extended),
        )
        if met is not None:
            row = row.but(status="met late" if due is not None and met > due else "met")
        elif paused and state.is_open:
            row = row.but(status="paused", paused=True)
        elif due is None:  # (an "agreed" limit has no date to agree: it can be given one by an extension)
            row = row.but(status="no timescale")
        rows.append(row)
    return rows


def start_choices(procedure: Procedure, route: str, immediate_risk: bool) -> list[tuple[Stage, SkipRule | None]]:
    """The stages a new challenge on ``route`` may start at, each with the skip rule that offers it
    (None: the route's first stage), the default first. At immediate risk the default is where the
    first immediate-risk rule of the route with a starting stage says; a rule that is not about
    immediate risk ("the chair may go straight to Stage 2 or Stage 3") is offered as a choice."""
    first = procedure.first_stage(route)
    offered: list[tuple[Stage, SkipRule | None]] = []
    for rule in procedure.skip_rules:
        if rule.route != route or (rule.immediate_risk and not immediate_risk):
            continue
        for number in rule.starts():
            if all(stage.number != number for stage, _ in offered) and number != first.number:
                offered.append((procedure.stage(number, route), rule))
    immediate = [choice for choice in offered if choice[1] is not None and choice[1].immediate_risk]
    default = immediate[0] if immediate else (first, None)
    return [default] + [choice for choice in [(first, None), *offered] if choice[0].number != default[0].number]


def starting_stage(
    procedure: Procedure, route: str, immediate_risk: bool, chosen: int | None = None
) -> tuple[Stage, SkipRule | None]:
    """Where a new challenge starts (``chosen``, one of :func:`start_choices`, or the default), and
    the skip rule applied: the one that offers that stage, or at immediate risk the procedure's
    first immediate-risk rule (its instruction stands even where it names no stage).
    A ``chosen`` stage that is not offered raises KeyError."""
    choices = start_choices(procedure, route, immediate_risk)
    if chosen is None:
        stage, rule = choices[0]
    else:
        matching = [(s, r) for s, r in choices if s.number == chosen]
        if not matching:
            raise KeyError(chosen)
        stage, rule = matching[0]
    if rule is None and immediate_risk:
        rule = next((r for r in procedure.skip_rules if r.immediate_risk and r.route in (route, "main")), None)
    return stage, rule


def opening_deadlines(
    procedure: Procedure,
    *,
    route: str,
    stage: Stage,
    at: dt.datetime,
    decision_at: dt.datetime | None = None,
    protective_by: dt.datetime | None = None,
) -> tuple[DeadlineRow, ...]:
    """The deadlines of ``stage`` for a challenge opened ``at`` (not yet saved), as the log will work
    them out once it is: what the wizard shows for review. Those whose clock starts later (the first
    contact, a reply) are "waiting"."""
    when = clock.iso(at)
    visit = StageVisit.entered(stage.number, route, when, 1)
    state = ChallengeState(
        challenge="(not saved)",
        opened_seq=1,
        procedure_id=procedure.id,
        procedure_version=procedure.version,
        fingerprint="",
        case_ref_sd=None,
        agency="",
        team=None,
        decision="",
        decision_at=clock.iso(decision_at) if decision_at else None,
        triggers=(),
        immediate_risk=False,
        skip_rule=None,
        route=route,
        stage=stage.number,
        highest_stage=stage.number,
        status="open",
        outcome=None,
        opened_at=when,
        resolved_at=None,
        protective_by=clock.iso(protective_by) if protective_by else None,
        stages=(visit,),
        actions=(),
        late=(),
        backwards=0,
        last_recorded=when,
        last_at=when,
        entries=1,
        amendments=0,
        exports=0,
        no_further=None,
        cseq=1,
    )
    return stage_deadlines(state, visit, stage, procedure, at)


def unfit(state: ChallengeState, procedure: Procedure) -> str | None:
    """Why ``state`` cannot be derived under ``procedure``, or None. The fold of entries escalate wrote
    always fits the snapshot it was opened under; a cached fold or a file changed outside escalate
    may name a route or stage the procedure does not have."""
    try:
        numbers = {s.number for s in procedure.ladder(state.route)}
    except KeyError:
        return f"the procedure has no route {state.route!r}"
    for stage in (*(v.stage for v in state.stages), state.stage):
        if stage not in numbers:
            return f"{procedure.stage_label.lower()} number {stage} is not on its ladder"
    return None


def current_limits(state: ChallengeState, procedure: Procedure) -> list[str]:
    """The row ids of the procedure's limits whose range holds the open challenge's current stage
    on the main ladder: the limits that may be extended, paused or resumed now."""
    if state.route != "main" or not state.is_open:
        return []
    return [LIMIT_PREFIX + x.id for x in procedure.limits if x.from_stage <= state.stage <= x.to_stage]


def current_due(state: ChallengeState, procedure: Procedure, deadline: str) -> dt.datetime | None:
    """When ``deadline`` (a row id of the current stage, or a limit over it) falls due now, with any
    extension and pause counted; None if it has no date yet (its clock has not started)."""
    st = state.stages[-1]
    stage = procedure.stage(st.stage, state.route)
    for row in [*plan_stage(state, st, stage, procedure), *_limit_rows(state, st, procedure)]:
        if row.id == deadline:
            return row.due
    return None


def judge(
    rows: Iterable[DeadlineRow], now: dt.datetime, *, current: bool, end: dt.datetime | None, region: str
) -> tuple[DeadlineRow, ...]:
    """Rows from :func:`plan_stage` with the statuses that depend on "now" filled in. ``current``:
    the stage is the open challenge's current one; else ``end`` is when it ended."""
    out = []
    for row in rows:
        due = row.due
        if not row.status and due is not None:  # (a row without a date was given its status when planned)
            if not current:
                row = row.but(status="missed" if end is not None and due < end else "not reached")
            elif now > due:
                row = row.but(status="overdue")
            elif due - now < SOON_SPAN and workcalendar.working_days_between(now, due, region) <= 1:
                row = row.but(status="due soon")
            else:
                row = row.but(status="due")
        out.append(row)
    return tuple(out)


def stage_deadlines(
    state: ChallengeState, st: StageVisit, stage: Stage, procedure: Procedure, now: dt.datetime
) -> tuple[DeadlineRow, ...]:
    """Every deadline of one visited stage with its start, due time and status as of ``now``."""
    current = st.left_at is None and state.is_open
    end = _t(st.left_at) or _t(state.resolved_at) or now
    rows = plan_stage(state, st, stage, procedure)
    judged = judge(rows, now, current=current, end=end, region=procedure.region)
    if state.resolved_at is None or st.left_at is not None:
        return judged
    # a follow-up after resolution ("the outcome letter within 2 working days") still runs once resolved
    after = judge(rows, now, current=True, end=None, region=procedure.region)
    follow_ups = set(follow_up_kinds(stage))
    return tuple(a if a.id in follow_ups else j for j, a in zip(judged, after))


def follow_up_kinds(stage: Stage) -> dict[str, tuple[str, ...]]:
    """The deadlines of ``stage`` that start at resolution (its own, and notifications with a
    timescale from resolution), each with the entry kinds that meet it."""
    kinds = {d.id: d.meeting_kinds() for d in stage.deadlines if d.starts == "resolved"}
    for i, n in enumerate(stage.notify):
        if n.timescale is not None and n.starts == "resolved":
            kinds[_notification_deadline(n, i).id] = ("notification-sent",)
    return kinds


def open_follow_ups(state: ChallengeState, procedure: Procedure, now: dt.datetime) -> tuple[DeadlineRow, ...]:
    """The follow-up deadlines after resolution of a resolved challenge's last stage still to be met:
    the entries that meet them are the only ones it accepts besides notes, exports and reopening."""
    if state.is_open or state.status == "withdrawn":
        return ()
    st = state.stages[-1]
    stage = procedure.stage(st.stage, state.route)
    rows = stage_deadlines(state, st, stage, procedure, now)
    follow_ups = set(follow_up_kinds(stage))
    return tuple(r for r in rows if r.id in follow_ups and r.met_at is None)


def _next_deadline(rows: Iterable[DeadlineRow], is_open: bool) -> DeadlineRow | None:
    live = [r for r in rows if r.live] if is_open else []
    return min(live, key=lambda r: r.due or clock.now()) if live else None


def _names(recipient: str, recorded: Iterable[str]) -> bool:
    """Whether one of the ``recorded`` recipients names ``recipient`` (or is named by it)."""
    wanted = recipient.lower()
    return any(wanted in text.lower() or text.lower() in wanted for text in recorded)


def _position(procedure: Procedure, state_stage: int, route: str) -> tuple[int, int]:
    """(1-based index of the stage on its ladder, the ladder's length)."""
    ladder = procedure.ladder(route)
    return [s.number for s in ladder].index(state_stage) + 1, len(ladder)


def derive(state: ChallengeState, procedure: Procedure, now: dt.datetime, *, history: bool = True) -> ChallengeView:
    """The challenge as of ``now``: current stage, deadlines, missed timescales, next steps.

    ``history=False`` derives the current stage only (lists of many challenges need no more);
    ``missed`` then covers the current stage alone.
    """
    route = state.route
    current = state.stages[-1]
    stage = procedure.stage(state.stage, route)
    visited = state.stages if history else state.stages[-1:]
    history_rows = []
    for st in visited:
        model = procedure.stage(st.stage, route)
        rows = stage_deadlines(state, st, model, procedure, now)
        history_rows.append(StageHistory(st.stage, model.title, _when(st.entered_at), _t(st.left_at), rows))
    missed = tuple(r for h in history_rows for r in h.deadlines if r.status in ("missed", "met late", "overdue"))
    deadlines = history_rows[-1].deadlines
    overdue_actions = tuple(a for a in state.actions if state.is_open and a.done_at is None and _when(a.due) < now)
    # a notification is sent when one recorded at this stage names its recipient (or is named by it)
    notifications = tuple(
        NotificationDue(n, _names(n.to, current.notified), _names(n.to, current.not_needed)) for n in stage.notify
    )
    index, count = _position(procedure, state.stage, route)
    return ChallengeView(
        state=state,
        procedure=procedure,
        region=procedure.region,
        stage=stage,
        stage_count=count,
        stage_index=index,
        deadlines=deadlines,
        history=tuple(history_rows),
        missed=missed,
        missed_by=MissedBy(
            *(sum(1 for r in missed if r.owner == side) for side in ("us", "them", "both", "not-stated"))
        ),
        next_deadline=_next_deadline(deadlines, state.is_open),
        overdue=state.is_open and (any(r.status == "overdue" for r in deadlines) or bool(overdue_actions)),
        overdue_actions=overdue_actions,
        notifications=notifications,
        notifications_sent=current.notified,
        next_stage=procedure.next_stage(state.stage, route),
    )


# --- list rows ---------------------------------------------------------------------------

LISTING_FORMAT = "L13"  # L2: rows of limits over several stages too; L3: limits extended and paused, and
# an extension holding before its deadline's clock starts; L4: timescales as facts, not sentences;
# L5: typed rows (pydantic reads them back, and one that does not fit is worked out again); L6: a
# deadline chained to another counts from the day that one falls due; L7: "immediately" allows a
# tolerance, and "as soon as possible"; L8: format 2's clock starts, and "not computable"; L9: a
# second reading of a timescale; L10: a notification's timescale met by one naming its recipient;
# L11: corrections of the opening taken into the state (agency, case reference, triggers...); L12:
# agreed actions recorded done are no longer due; L13: who recorded the last entry


@dataclass(frozen=True)
class ListedState:
    """What a list row keeps of the folded state."""

    challenge: str
    case_ref_sd: str | None
    status: Status
    outcome: str | None
    procedure_id: str
    procedure_version: str
    fingerprint: str
    agency: str
    team: str | None
    triggers: tuple[str, ...]
    stage: int
    highest_stage: int
    route: str
    entries: int
    opened_at: str
    resolved_at: str | None
    immediate_risk: bool
    last_by: str | None = None

    @property
    def is_open(self) -> bool:
        return self.status == "open"


@dataclass(frozen=True)
class ListRow:
    """A challenge's row in a list, less what depends on "now": small, so the store can keep it until the
    challenge's next entry and a list of 10,000 challenges reads rows instead of re-parsing folds and
    re-running the calendar. :func:`judge_listing` makes it a :class:`ListView`."""

    format: str
    state: ListedState
    region: str
    stage_title: str
    stage_count: int
    stage_index: int
    current: bool
    end: str | None
    deadlines: tuple[DeadlineRow, ...]
    action_dues: tuple[str, ...]


@dataclass(frozen=True)
class ListView:
    """A list row as of a moment: what lists show (the :class:`ChallengeView` fields of the same names)."""

    state: ListedState
    region: str
    stage_title: str
    stage_count: int
    stage_index: int
    deadlines: tuple[DeadlineRow, ...]
    next_deadline: DeadlineRow | None
    overdue: bool
    case_ref: str = "(withheld)"


class Listed(Protocol):
    """What a list shows of a challenge: a ListView, or a ChallengeView (the audit lists those)."""

    @property
    def state(self) -> ChallengeState | ListedState: ...

    @property
    def region(self) -> str: ...
    @property
    def stage_title(self) -> str: ...
    @property
    def stage_count(self) -> int: ...
    @property
    def stage_index(self) -> int: ...
    @property
    def deadlines(self) -> tuple[DeadlineRow, ...]: ...
    @property
    def next_deadline(self) -> DeadlineRow | None: ...
    @property
    def overdue(self) -> bool: ...
    @property
    def case_ref(self) -> str: ...


def listing(state: ChallengeState, procedure: Procedure) -> ListRow:
    """A challenge's row in a list, less what depends on "now" (see :class:`ListRow`)."""
    route, st = state.route, state.stages[-1]
    stage = procedure.stage(state.stage, route)
    index, count = _position(procedure, state.stage, route)
    listed = ListedState(**{f.name: getattr(state, f.name) for f in dataclasses.fields(ListedState)})
    return ListRow(
        format=LISTING_FORMAT,
        state=listed,
        region=procedure.region,
        stage_title=stage.title,
        stage_count=count,
        stage_index=index,
        current=st.left_at is None and state.is_open,
        end=st.left_at or state.resolved_at,
        deadlines=tuple(plan_stage(state, st, stage, procedure)),
        action_dues=tuple(a.due for a in state.actions if a.done_at is None),
    )


def judge_listing(item: ListRow, now: dt.datetime) -> ListView:
    """A list row as of ``now``."""
    rows = judge(item.deadlines, now, current=item.current, end=_t(item.end), region=item.region)
    is_open = item.state.is_open
    overdue_actions = is_open and any(_when(due) < now for due in item.action_dues)
    return ListView(
        state=item.state,
        region=item.region,
        stage_title=item.stage_title,
        stage_count=item.stage_count,
        stage_index=item.stage_index,
        deadlines=rows,
        next_deadline=_next_deadline(rows, is_open),
        overdue=is_open and (any(r.status == "overdue" for r in rows) or overdue_actions),
    )


@cache
def _row_json() -> TypeAdapter[ListRow]:
    return TypeAdapter(ListRow)


def load_listing(text: str | bytes) -> ListRow | None:
    """A cached list row, or None if it does not fit (changed outside escalate, or an older format)."""
    try:
        row = _row_json().validate_json(text)
    except ValidationError:
        return None
    if row.format != LISTING_FORMAT:
        return None
    times = (row.state.opened_at, row.state.resolved_at, row.end, *row.action_dues)
    if not all(t is None or clock.is_iso(t) for t in times):  # (read as times when the row is judged)
        return None
    return row


def dump_listing(row: ListRow) -> str:
    return _row_json().dump_json(row).decode("utf-8")


@dataclass(frozen=True)
class Glance:
    """A glance at a challenge: what a list needs to count, order, filter and search all of them by,
    without reading each one's row (a dashboard of 10,000 challenges reads 10,000 of these, and full
    rows for the page it shows). Less what depends on "now": :meth:`overdue` asks."""

    challenge: str
    status: Status
    agency: str
    triggers: tuple[str, ...]
    case_ref_sd: str | None
    region: str
    next_due: dt.datetime | None  # the open challenge's soonest deadline still to meet in its stage
    action_due: dt.datetime | None  # the soonest date of an action agreed (overdue once passed)

    @property
    def is_open(self) -> bool:
        return self.status == "open"

    def overdue(self, now: dt.datetime) -> bool:
        """As :func:`judge_listing` decides it: a deadline or an agreed action passed."""
        if not self.is_open:
            return False
        return (self.next_due is not None and now > self.next_due) or (
            self.action_due is not None and self.action_due < now
        )


def glance(row: ListRow) -> Glance:
    """The glance at a list row. The next deadline is chosen as :func:`judge_listing` chooses it: the
    soonest of the rows whose status depends on "now" (any other is met, waiting, paused or undated)."""
    open_now = row.state.is_open
    dues = [r.due for r in row.deadlines if not r.status and r.due is not None] if row.current and open_now else []
    actions = [_when(due) for due in row.action_dues] if open_now else []
    return Glance(
        row.state.challenge,
        row.state.status,
        row.state.agency,
        row.state.triggers,
        row.state.case_ref_sd,
        row.region,
        min(dues) if dues else None,
        min(actions) if actions else None,
    )


@cache
def _glance_json() -> TypeAdapter[Glance]:
    return TypeAdapter(Glance)


def load_glance(text: str | bytes) -> Glance | None:
    """A cached glance, or None if it does not fit (changed outside escalate)."""
    try:
        return _glance_json().validate_json(text)
    except ValidationError:
        return None


def dump_glance(g: Glance) -> str:
    return _glance_json().dump_json(g).decode("utf-8")
