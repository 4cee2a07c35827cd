"""Challenge state: a fold over the entries, and what it means today.

Two steps, both pure:

* :func:`fold_step` folds one entry into a small JSON-able summary (stage history, clock
  events, extensions, pauses, agreed dates, actions, counters). :func:`fold` runs it over a
  whole challenge. The store caches the summary so a list of 10,000 challenges does not
  re-read a million entries, and rebuilds it from the log whenever it is not current.
* :func:`derive` turns a summary, the procedure snapshot and "now" into deadlines with due
  times (computed only by :mod:`escalate.workcalendar`), their status, missed timescales
  by side, and what the procedure says to do next.

Nothing here writes anything.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from escalate import clock, workcalendar
from escalate.store import Fold

LATE_AFTER = dt.timedelta(hours=24)
#: "due soon" is at most one working day away, which no run of holidays stretches past 8 calendar
#: days: further than this needs no calendar (and a list need not load the holiday data at all)
SOON_SPAN = dt.timedelta(days=8)
KEEP_EARLIEST = 8


def _new_stage(number: int, route: str, at: str, seq: int) -> dict[str, Any]:
    return {
        "stage": number,
        "route": route,
        "entered_at": at,
        "entered_seq": seq,
        "left_at": None,
        "events": {},
        "extended": {},
        "paused": {},
        "pause_total": {},
        "agreed": {},
        "notified": [],
    }


def _event(st: dict[str, Any], kind: str, at: str, seq: int) -> None:
    ev = st["events"].setdefault(kind, {"first": [], "max": None})
    ev["first"].append([at, seq])
    ev["first"].sort()
    del ev["first"][KEEP_EARLIEST:]
    if ev["max"] is None or at >= ev["max"][0]:
        ev["max"] = [at, seq]


def fold_step(state: dict[str, Any] | None, e: Any, content: dict[str, Any]) -> dict[str, Any]:
    """Fold one stored entry (``e``: StoredEntry; ``content``: its JSON) into the summary."""
    data = content["data"]
    # the times inside the hashed bytes, never the table's columns (an index that verify does not cover)
    at, rec = content["occurred_at"], content["recorded_at"]
    if e.kind == "opened":
        stage = data["start_stage"]
        state = {
            "challenge": e.challenge,
            "opened_seq": e.seq,
            "procedure_id": data["procedure_id"],
            "procedure_version": data["procedure_version"],
            "fingerprint": data["procedure_fingerprint"],
            "case_ref_sd": (data.get("case_ref") or {}).get("_sd"),
            "agency": data["agency"],
            "team": data.get("team"),
            "decision": data["decision"],
            "decision_at": data.get("decision_at"),
            "triggers": data["triggers"],
            "immediate_risk": data["immediate_risk"],
            "skip_rule": data.get("skip_rule"),
            "route": data["route"],
            "stage": stage,
            "highest_stage": stage,
            "status": "open",
            "outcome": None,
            "opened_at": at,
            "resolved_at": None,
            "protective_by": data.get("protective_by"),
            "stages": [_new_stage(stage, data["route"], at, e.seq)],
            "actions": [],
            "late": [],
            "backwards": 0,
            "last_recorded": rec,
            "last_at": at,
            "entries": 0,
            "amendments": 0,
            "exports": 0,
            "no_further": None,
        }
    assert state is not None, "the first entry of a challenge must be 'opened'"
    state["cseq"] = e.cseq
    state["entries"] += 1
    if clock.from_iso(rec) - clock.from_iso(at) > LATE_AFTER:
        state["late"].append(e.cseq)
    if rec < state["last_recorded"]:
        state["backwards"] += 1
    state["last_recorded"] = max(rec, state["last_recorded"])
    state["last_at"] = max(at, state["last_at"])
    st = state["stages"][-1]
    kind = e.kind
    if kind == "contact":
        _event(st, "contact" if data["direction"] == "made" else "contact-received", at, e.seq)
    elif kind in ("response", "notification-sent", "action-agreed", "resolved"):
        _event(st, kind, at, e.seq)
    if kind == "action-agreed":
        state["actions"].append(
            {
                "cseq": e.cseq,
                "action": data["action"],
                "due": data["due"],
                "owner": data.get("owner"),
                "stage": st["stage"],
            }
        )
    elif kind == "notification-sent":
        st["notified"].append(data["to"])
    elif kind == "deadline-extended":
        st["extended"][data["deadline"]] = data["new_due"]
    elif kind == "deadline-paused":
        st["paused"].setdefault(data["deadline"], at)
    elif kind == "deadline-resumed":
        since = st["paused"].pop(data["deadline"], None)
        if since is not None:
            seconds = int((clock.from_iso(at) - clock.from_iso(since)).total_seconds())
            st["pause_total"][data["deadline"]] = st["pause_total"].get(data["deadline"], 0) + max(0, seconds)
    elif kind == "timescale-agreed":
        st["agreed"][data["deadline"]] = data["due"]
    elif kind == "stepped-up":
        _event(st, "stepped-up", at, e.seq)
        st["left_at"] = at
        state["stage"] = data["to_stage"]
        state["highest_stage"] = max(state["highest_stage"], data["to_stage"])
        state["stages"].append(_new_stage(data["to_stage"], state["route"], at, e.seq))
    elif kind == "no-further-escalation":
        state["no_further"] = {"at": at, "cseq": e.cseq}
    elif kind == "resolved":
        state["status"] = "withdrawn" if data["outcome"] == "withdrawn" else "resolved"
        state["outcome"] = data["outcome"]
        state["resolved_at"] = at
    elif kind == "reopened":
        state["status"] = "open"
        state["outcome"] = None
        state["resolved_at"] = None
    elif kind == "amendment":
        state["amendments"] += 1
    elif kind == "exported":
        state["exports"] += 1
    return state


#: every key of a folded state (a cached fold without them all is folded again)
STATE_KEYS = frozenset(
    (
        "challenge",
        "opened_seq",
        "procedure_id",
        "procedure_version",
        "fingerprint",
        "case_ref_sd",
        "agency",
        "team",
        "decision",
        "decision_at",
        "triggers",
        "immediate_risk",
        "skip_rule",
        "route",
        "stage",
        "highest_stage",
        "status",
        "outcome",
        "opened_at",
        "resolved_at",
        "protective_by",
        "stages",
        "actions",
        "late",
        "backwards",
        "last_recorded",
        "last_at",
        "entries",
        "amendments",
        "exports",
        "no_further",
        "cseq",
    )
)


def fold(entries: Iterable[Any]) -> dict[str, Any]:
    state: dict[str, Any] | None = None
    for e in entries:
        state = fold_step(state, e, e.content())
    if state is None:
        raise ValueError("a challenge with no entries")
    return state


#: what the store runs and caches for every challenge (the store itself knows nothing of challenges)
FOLD = Fold(step=fold_step, whole=fold, keys=STATE_KEYS)


# --- derivation -------------------------------------------------------------------------


def _t(text: str | None) -> dt.datetime | None:
    return clock.from_iso(text) if text else None


def _when(text: str) -> dt.datetime:
    """A time the summary always holds (a stage's entry, an event's time)."""
    return clock.from_iso(text)


def _due(timescale: Any, start: dt.datetime, procedure: Any) -> dt.datetime | None:
    kind = timescale.kind
    region, cutoff = procedure.region, procedure.cutoff
    if kind in ("working-days", "hours", "calendar-days"):
        return workcalendar.add(start, timescale.amount, kind, region, cutoff)
    if kind == "immediately":
        return start
    if kind == "same-working-day":
        return workcalendar.same_working_day(start, region, cutoff)
    return None


def _first_after(st: dict[str, Any], kinds: tuple[str, ...], start: str, exclude_seq: int | None) -> str | None:
    best: str | None = None
    for kind in kinds:
        ev = st["events"].get(kind)
        if not ev:
            continue
        for at, seq in ev["first"] + ([ev["max"]] if ev["max"] else []):
            if at >= start and seq != exclude_seq and (best is None or at < best):
                best = at
    return best


def plan_stage(state: dict[str, Any], st: dict[str, Any], stage: Any, procedure: Any) -> list[dict[str, Any]]:
    """Every deadline of one visited stage with its start, due time and met time: what does not
    depend on "now". Statuses that do (due, due soon, overdue, missed) are left empty for
    :func:`judge` to fill in, so this part can be cached until the challenge's next entry."""
    rows: dict[str, dict[str, Any]] = {}

    def start_of(d: Any) -> tuple[dt.datetime | None, int | None]:
        s = d.starts
        if s == "disagreement":
            return _t(state["opened_at"]), None
        if s == "decision-received":
            return _t(state["decision_at"] or state["opened_at"]), None
        if s == "stage-entered":
            return _t(st["entered_at"]), None
        if s in ("concern-raised", "reply-received"):
            ev = st["events"].get("contact" if s == "concern-raised" else "response")
            first = ev["first"][0] if ev and ev["first"] else None
            return (_t(first[0]), first[1]) if first else (None, None)
        target = s.split(":", 1)[1]
        return (compute(next(x for x in stage.deadlines if x.id == target))["due"], None)

    def compute(d: Any) -> dict[str, Any]:
        if d.id in rows:
            return rows[d.id]
        start, start_seq = start_of(d)
        row: dict[str, Any] = {
            "id": d.id,
            "what": d.what,
            "owner": d.owner,
            "starts": d.starts,
            "timescale": d.timescale,
            "stage": st["stage"],
            "start": start,
            "due": None,
            "met_at": None,
            "status": "",
            "extended": False,
            "paused": False,
        }
        rows[d.id] = row
        t = d.timescale
        if start is None and not st["extended"].get(d.id):
            row["status"] = "waiting"
            return row
        due = None
        if st["extended"].get(d.id):  # a date agreed for it holds even before its clock would start
            due, row["extended"] = _t(st["extended"][d.id]), True
        elif start is None:  # not reached: a deadline without a start returned "waiting" above
            due = None
        elif t.kind == "agreed":
            due = _t(st["agreed"].get(d.id))
        elif t.kind == "lesser-of-protective":
            fixed = _due(t.fixed, start, procedure)
            protective = _t(st["agreed"].get(d.id) or state.get("protective_by"))
            due = min(fixed, protective) if fixed is not None and protective is not None else fixed or protective
        else:
            due = _due(t, start, procedure)
        if due is not None and st["pause_total"].get(d.id):
            due += dt.timedelta(seconds=st["pause_total"][d.id])
        row["due"] = due
        met = _first_after(st, d.meeting_kinds(), clock.iso(start or _when(st["entered_at"])), start_seq)
        row["met_at"] = _t(met)
        if met is not None:
            row["status"] = "met late" if due is not None and _when(met) > due else "met"
        elif d.id in st["paused"]:
            row["status"], row["paused"] = "paused", True
        elif due is None:
            row["status"] = "no timescale" if t.kind == "not-stated" else "date needed"
        return row

    for d in stage.deadlines:
        compute(d)
    return [rows[d.id] for d in stage.deadlines] + _limit_rows(state, st, procedure)


#: a limit's row id: beside a stage's own deadlines, never one of them
LIMIT_PREFIX = "limit:"


def _limit_rows(state: dict[str, Any], st: dict[str, Any], procedure: Any) -> list[dict[str, Any]]:
    """The procedure's limits over a range of stages ("stages 1 and 2 within 10 working days"),
    each shown and counted once: with the last visited stage of its range (the current stage while
    the challenge is inside it). A limit starts when the challenge entered its range, and is met
    when the challenge left the range upwards or was resolved inside it."""
    if not procedure.limits:  # most procedures: nothing to look up
        return []
    visited = state["stages"]
    here = next((i for i, x in enumerate(visited) if x["entered_seq"] == st["entered_seq"]), None)
    if here is None or state["route"] != "main":  # limits count the main ladder's stages, not a route's
        return []
    rows = []
    for limit in procedure.limits:
        inside = [i for i, x in enumerate(visited) if limit.from_stage <= x["stage"] <= limit.to_stage]
        if not inside or inside[-1] != here:
            continue
        start = _when(visited[inside[0]]["entered_at"])
        if here + 1 < len(visited):
            met = _t(st["left_at"]) if visited[here + 1]["stage"] > limit.to_stage else None
        else:
            met = _t(state["resolved_at"]) if state["status"] != "open" else None
        t = limit.timescale
        due = _due(t, start, procedure)
        if t.kind == "lesser-of-protective":  # the fixed limit, or the case's protective date if sooner
            protective = _t(state.get("protective_by"))
            due = _due(t.fixed, start, procedure)
            due = min(due, protective) if due is not None and protective is not None else due
        lid = LIMIT_PREFIX + limit.id
        # Extended or paused in any stage of its range (each entry is kept with the stage it was
        # recorded in): the latest extension holds, and every pause counts. A pause still running
        # when its stage was left ended then: a step up starts the next level's clock again.
        extended, paused_for, paused = None, 0, False
        for i in inside:
            s = visited[i]
            extended = s["extended"].get(lid) or extended
            paused_for += s["pause_total"].get(lid, 0)
            since = s["paused"].get(lid)
            if since is not None and s["left_at"] is not None:
                paused_for += max(0, int((_when(s["left_at"]) - _when(since)).total_seconds()))
            elif since is not None:
                paused = True
        if extended:
            due = _t(extended)
        if due is not None and paused_for:
            due += dt.timedelta(seconds=paused_for)
        label = procedure.stage_label
        row = {
            "id": lid,
            "what": f"{limit.what} ({label}s {limit.from_stage} to {limit.to_stage}, overall)",
            "owner": "both",
            "starts": "stage-entered",
            "timescale": limit.timescale,
            "stage": st["stage"],
            "start": start,
            "due": due,
            "met_at": met,
            "status": "",
            "extended": bool(extended),
            "paused": False,
        }
        if met is not None:
            row["status"] = "met late" if due is not None and met > due else "met"
        elif paused and state["status"] == "open":
            row["status"], row["paused"] = "paused", True
        elif due is None:  # (an "agreed" limit has no date to agree: it can be given one by an extension)
            row["status"] = "no timescale"
        rows.append(row)
    return rows


def current_limits(state: dict[str, Any], procedure: Any) -> list[str]:
    """The row ids of the procedure's limits whose range holds the open challenge's current stage
    on the main ladder: the limits that may be extended, paused or resumed now."""
    if state["route"] != "main" or state["status"] != "open":
        return []
    return [LIMIT_PREFIX + x.id for x in procedure.limits if x.from_stage <= state["stage"] <= x.to_stage]


def judge(
    rows: list[dict[str, Any]], now: dt.datetime, *, current: bool, end: dt.datetime | None, region: str
) -> list[dict[str, Any]]:
    """Fill in the statuses that depend on "now" (rows from :func:`plan_stage`, changed in place).
    ``current``: the stage is the open challenge's current one; else ``end`` is when it ended."""
    for row in rows:
        if row["status"]:
            continue
        due = row["due"]
        if not current:
            row["status"] = "missed" if end is not None and due < end else "not reached"
        elif now > due:
            row["status"] = "overdue"
        elif due - now < SOON_SPAN and workcalendar.working_days_between(now, due, region) <= 1:
            row["status"] = "due soon"
        else:
            row["status"] = "due"
    return rows


def stage_deadlines(
    state: dict[str, Any], st: dict[str, Any], stage: Any, procedure: Any, now: dt.datetime
) -> list[dict[str, Any]]:
    """Every deadline of one visited stage with its start, due time and status as of ``now``."""
    current = st["left_at"] is None and state["status"] == "open"
    end = _t(st["left_at"]) or _t(state["resolved_at"]) or now
    return judge(plan_stage(state, st, stage, procedure), now, current=current, end=end, region=procedure.region)


def derive(state: dict[str, Any], procedure: Any, now: dt.datetime, *, history: bool = True) -> dict[str, Any]:
    """The challenge as of ``now``: current stage, deadlines, missed timescales, next steps.

    ``history=False`` derives the current stage only (lists of many challenges need no more);
    ``missed`` then covers the current stage alone.
    """
    route = state["route"]
    ladder = procedure.ladder(route)
    current = state["stages"][-1]
    stage = procedure.stage(state["stage"], route)
    missed = []
    visited = state["stages"] if history else state["stages"][-1:]
    history_rows = []
    for st in visited:
        model = procedure.stage(st["stage"], route)
        rows = stage_deadlines(state, st, model, procedure, now)
        for r in rows:
            if r["status"] in ("missed", "met late", "overdue"):
                missed.append(r)
        history_rows.append(
            {
                "stage": st["stage"],
                "title": model.title,
                "entered_at": _t(st["entered_at"]),
                "left_at": _t(st["left_at"]),
                "deadlines": rows,
            }
        )
    deadlines = history_rows[-1]["deadlines"]
    live = [r for r in deadlines if r["due"] is not None and r["status"] in ("overdue", "due soon", "due")]
    next_deadline = min(live, key=lambda r: r["due"]) if live and state["status"] == "open" else None
    overdue_actions = [a for a in state["actions"] if state["status"] == "open" and _when(a["due"]) < now]
    required = [n for n in stage.notify if n.required]
    sent_to = [text.lower() for text in current["notified"]]
    # a notification is sent when one recorded at this stage names its recipient (or is named by it)
    notifications = [(n, any(n.to.lower() in text or text in n.to.lower() for text in sent_to)) for n in stage.notify]
    nxt = procedure.next_stage(state["stage"], route)
    return {
        "state": state,
        "procedure": procedure,
        "region": procedure.region,
        "stage": stage,
        "stage_title": stage.title,
        "stage_count": len(ladder),
        "stage_index": [s.number for s in ladder].index(state["stage"]) + 1,
        "deadlines": deadlines,
        "history": history_rows,
        "missed": missed,
        "missed_by": {side: sum(1 for r in missed if r["owner"] == side) for side in ("us", "them", "both")},
        "next_deadline": next_deadline,
        "overdue": state["status"] == "open"
        and (any(r["status"] == "overdue" for r in deadlines) or bool(overdue_actions)),
        "overdue_actions": overdue_actions,
        "notifications_required": required,
        "notifications": notifications,  # (the stage's notification, whether one was sent), required or not
        "notifications_sent": current["notified"],
        "next_stage": nxt,
        "late_entries": state["late"],
    }


# --- list rows ---------------------------------------------------------------------------

#: what a list row keeps of the folded state
LIST_FIELDS = (
    "challenge",
    "case_ref_sd",
    "status",
    "outcome",
    "procedure_id",
    "procedure_version",
    "fingerprint",
    "agency",
    "team",
    "triggers",
    "stage",
    "highest_stage",
    "route",
    "entries",
    "opened_at",
    "resolved_at",
    "immediate_risk",
)
LISTING_FORMAT = "L4"  # L2: rows of limits over several stages too; L3: limits extended and paused, and
# an extension holding before its deadline's clock starts; L4: timescales as facts, not sentences


@dataclass(frozen=True)
class TimescaleFacts:
    """A deadline's timescale as a cached list row keeps it: what the procedure states, not words
    for it (the faces word it, with :func:`escalate.wording.describe_timescale`, as they word the
    procedure's own timescale objects, whose attributes these are)."""

    kind: str
    amount: int | None = None
    wording: str | None = None
    fixed: TimescaleFacts | None = None

    @classmethod
    def of(cls, timescale: Any) -> TimescaleFacts:
        """The facts of a procedure's timescale (escalate.procedure's models)."""
        fixed = getattr(timescale, "fixed", None)
        return cls(
            timescale.kind,
            getattr(timescale, "amount", None),
            getattr(timescale, "wording", None),
            cls.of(fixed) if fixed is not None else None,
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "amount": self.amount,
            "wording": self.wording,
            "fixed": self.fixed.to_json() if self.fixed is not None else None,
        }

    @classmethod
    def from_json(cls, value: dict[str, Any]) -> TimescaleFacts:
        fixed = value["fixed"]
        return cls(value["kind"], value["amount"], value["wording"], cls.from_json(fixed) if fixed else None)


def listing(state: dict[str, Any], procedure: Any) -> dict[str, Any]:
    """A challenge's row in a list, less what depends on "now": small and JSON-able, so the store can
    keep it until the challenge's next entry and a list of 10,000 challenges reads rows instead of
    re-parsing folds and re-running the calendar. :func:`judge_listing` makes it a view."""
    route, st = state["route"], state["stages"][-1]
    stage = procedure.stage(state["stage"], route)
    ladder = procedure.ladder(route)
    current = st["left_at"] is None and state["status"] == "open"
    end = st["left_at"] or state["resolved_at"]

    def iso(value: dt.datetime | None) -> str | None:
        return clock.iso(value) if value else None

    rows = [
        {
            **r,
            "timescale": TimescaleFacts.of(r["timescale"]).to_json(),
            "start": iso(r["start"]),
            "due": iso(r["due"]),
            "met_at": iso(r["met_at"]),
        }
        for r in plan_stage(state, st, stage, procedure)
    ]
    return {
        "format": LISTING_FORMAT,
        "state": {k: state.get(k) for k in LIST_FIELDS},
        "region": procedure.region,
        "stage_title": stage.title,
        "stage_count": len(ladder),
        "stage_index": [s.number for s in ladder].index(state["stage"]) + 1,
        "current": current,
        "end": end,
        "deadlines": rows,
        "action_dues": [a["due"] for a in state["actions"]],
    }


def judge_listing(item: dict[str, Any], now: dt.datetime) -> dict[str, Any]:
    """A list row as of ``now``, with the keys of :func:`derive` that lists use (state, region,
    stage_title, stage_count, stage_index, deadlines, next_deadline, overdue)."""
    rows = [
        {
            **r,
            "timescale": TimescaleFacts.from_json(r["timescale"]),
            "start": _t(r["start"]),
            "due": _t(r["due"]),
            "met_at": _t(r["met_at"]),
        }
        for r in item["deadlines"]
    ]
    judge(rows, now, current=item["current"], end=_t(item["end"]), region=item["region"])
    state = item["state"]
    is_open = state["status"] == "open"
    live = [r for r in rows if r["due"] is not None and r["status"] in ("overdue", "due soon", "due")]
    overdue_actions = is_open and any(_when(due) < now for due in item["action_dues"])
    return {
        "state": state,
        "region": item["region"],
        "stage_title": item["stage_title"],
        "stage_count": item["stage_count"],
        "stage_index": item["stage_index"],
        "deadlines": rows,
        "next_deadline": min(live, key=lambda r: r["due"]) if live and is_open else None,
        "overdue": is_open and (any(r["status"] == "overdue" for r in rows) or overdue_actions),
    }
