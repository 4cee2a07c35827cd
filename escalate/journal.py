"""What a user does to the log: open a challenge, record, step up, resolve, reopen, amend.

The CLI and the TUI call these functions and nothing lower: every rule about what may be
recorded when (no recording on a resolved challenge, no step past the last stage, no time
in the future) lives here, and is checked inside the store's write transaction.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any, Protocol

from escalate import challenge as ch
from escalate import clock, entry, entry_kinds, entry_rules, parallel, paths, pgstore, workcalendar
from escalate.catalogue import Catalogue
from escalate.challenge import (
    FOLD,
    LIMIT_PREFIX,
    ChallengeState,
    ChallengeView,
    ListRow,
    ListView,
    current_limits,
    derive,
    fold_contents,
    starting_stage,
    unfit,
)
from escalate.errors import ChallengeError, ConfigError, FieldError, ProcedureFileError, UsageError, shown
from escalate.procedure import Procedure
from escalate.procedure_file import parse
from escalate.settings import Settings
from escalate.settings import load as load_settings
from escalate.store import Store, StoredEntry, damaged_challenge, damaged_entry
from escalate.triggers import TRIGGER_IDS

#: kinds that may be recorded on a resolved or withdrawn challenge
AFTER_RESOLUTION = ("reopened", "exported", "amendment", "note", "action-done", "checkpoint")


#: the store as escalate opens it: folding challenges as :mod:`escalate.challenge` does
LogStore = Store[ChallengeState]


class EntrySource(Protocol):
    """What reading a challenge's record needs of a log: a store has it, and so has the log a file for
    people carries (:mod:`escalate.carried`), from which the file can be made again to check it."""

    def entries(
        self, challenge: str | None = None, *, after: int = 0, limit: int | None = None, kind: str | None = None
    ) -> list[StoredEntry]: ...

    def entry(self, challenge: str, cseq: int) -> StoredEntry | None: ...

    def challenge_disclosures(self, challenge: str) -> dict[str, bytes]: ...

    def disclosure_values(self, digests: list[str]) -> dict[str, str]: ...


def open_store(*, create: bool = True, readonly: bool = False) -> LogStore:
    """The store in use: a team store named by ``--store`` or ``ESCALATE_STORE``, or the file in the
    folders in use (``--data-dir``, ``ESCALATE_HOME`` or the user's)."""
    url = store_url()
    if url is not None:
        if not pgstore.is_url(url):
            raise UsageError(
                f"the store {shown(url)} is not a PostgreSQL URL",
                hint="A team store is named postgresql://HOST/DATABASE (--store or ESCALATE_STORE).",
            )
        return store_at(url, create=create, readonly=readonly)
    return store_at(paths.locations().store, create=create, readonly=readonly)


def store_url() -> str | None:
    """The team store in use, if one is named: by --store, ESCALATE_STORE, or the settings' ``store``."""
    return paths.locations().store_url or load_settings().store or None


def store_at(path: str | os.PathLike[str], *, create: bool = True, readonly: bool = False) -> LogStore:
    """The store at ``path`` (a file, or a team store's postgresql:// URL), folding challenges as
    :mod:`escalate.challenge` does."""
    if isinstance(path, str) and pgstore.is_url(path):
        return pgstore.PgStore.open_url(path, fold=FOLD, readonly=readonly)
    return Store.open(path, fold=FOLD, create=create, readonly=readonly)


def recording_as(settings: Settings, store: LogStore) -> Settings:
    """The settings with the name, role and setting entries are recorded under: on a team store the
    signed-in person's (the settings file's contact details and preferences kept, for a letter's
    signature), else the settings as they are."""
    person = store.person()
    if person is None:
        return settings
    return settings._replace(name=person["name"], role=person["role"], setting=person["setting"])


def _author(settings: Settings, store: LogStore) -> dict[str, str]:
    """Who is recording: on a team store, the person the database knows the session's login as (the
    settings file says nothing there; the server checks every entry against it); else the settings."""
    person = store.person()
    if person is not None:
        return {**settings.author(), **person}
    if not settings.name or not settings.role:
        raise ConfigError(
            "your name and role are not set: every entry records who made it",
            hint='Run `escalate config set name "Your Name"` and `escalate config set role "DSL"` '
            "(or use Settings in the app).",
        )
    return settings.author()


def occurred(text: str | None, settings: Settings, *, what: str = "--at") -> str:
    """Check a user-given time (default now) and return it as stored text."""
    now = clock.now()
    try:
        when = clock.parse_time(text, settings.timezone, what=what) if text else now
    except UsageError as exc:
        raise FieldError("occurred_at", exc.message, hint=exc.hint) from None
    entry_rules.not_future("occurred_at", when, now, settings.timezone, what)
    return clock.iso(when)


def _instant(text: str | None, settings: Settings, what: str, field: str) -> str | None:
    if not text:
        return None
    try:
        return clock.iso(clock.parse_time(text, settings.timezone, what=what))
    except UsageError as exc:
        raise FieldError(field, exc.message, hint=exc.hint) from None


# --- procedures of existing challenges ---------------------------------------------------

_snapshots: dict[str, Procedure] = {}


def procedure_of(store: EntrySource, state: ChallengeState) -> Procedure:
    """The procedure snapshot a challenge was opened under (parsed once per fingerprint). A snapshot
    that no longer parses (its entry verifies, so escalate wrote it) is damage, and says so."""
    fp = state.fingerprint
    if fp not in _snapshots:
        opened = store.entry(state.challenge, 1)
        data = opened.content().data if opened is not None else None
        if not isinstance(data, entry_kinds.Opened):
            raise damaged_challenge(state.challenge)
        try:
            _snapshots[fp] = parse(data.procedure_text.encode("utf-8"), f"snapshot of {state.procedure_id}").procedure
        except ProcedureFileError:
            raise damaged_challenge(state.challenge) from None
    return _snapshots[fp]


# --- opening -----------------------------------------------------------------------------


def open_challenge(
    store: LogStore,
    catalogue: Any,
    settings: Settings,
    *,
    procedure_id: str,
    triggers: list[str],
    case_ref: str,
    agency: str,
    decision: str,
    concern: str,
    outcome_sought: str = "",
    immediate_risk: bool = False,
    at: str | None = None,
    team: str = "",
    decision_at: str | None = None,
    decision_by: dict[str, str] | None = None,
    decision_ref: str = "",
    evidence: list[str] | None = None,
    checks: list[str] | None = None,
    subject_name: str = "",
    route: str = "main",
    protective_by: str | None = None,
    start_stage: int | None = None,
    referral: bool = False,
) -> StoredEntry:
    """Open a challenge; ``start_stage``: one of the stages the procedure lets it start at on its
    route (challenge.start_choices), else the default. ``referral``: opened at the referral itself,
    before any decision, at the procedure's follow-up stage (the decision and triggers may wait)."""
    author = _author(settings, store)
    loaded = catalogue.get(procedure_id)
    procedure = loaded.procedure
    if referral:
        _check_referral(procedure, procedure_id, route, start_stage, decision)
    elif not decision.strip():
        raise UsageError(
            "give the decision you challenge",
            hint="To follow up a referral before any decision, open it with --referral (where the procedure "
            "has a step for it).",
        )
    # the procedure's own disagreements (format 2) count under the built-in triggers they map to
    own = {d.id: d for d in procedure.disagreements}
    offered = ", ".join([*own, *TRIGGER_IDS])
    triggers = [t.strip() for t in triggers if t.strip()]  # a blank says nothing
    if not triggers and not referral:
        raise UsageError("choose at least one trigger", hint="Triggers: " + offered)
    for t in triggers:
        if t not in TRIGGER_IDS and t not in own:
            raise UsageError(f"unknown trigger {t!r}", hint="Triggers: " + offered)
    disagreements = [t for t in dict.fromkeys(triggers) if t in own]
    triggers = [t for t in triggers if t in TRIGGER_IDS] + [x for d in disagreements for x in own[d].triggers]
    try:
        procedure.ladder(route)
    except KeyError:
        routes = ", ".join(["main"] + [r.id for r in procedure.routes])
        raise UsageError(f"procedure {procedure_id} has no route {route!r}", hint=f"Routes: {routes}") from None
    try:
        stage, skip = (
            (procedure.first_stage(referral=True), None)
            if referral
            else starting_stage(procedure, route, immediate_risk, start_stage)
        )
    except KeyError:
        offered = ", ".join(
            f"{s.number} ({procedure.name_of(s, route)})" for s, _ in ch.start_choices(procedure, route, immediate_risk)
        )
        raise UsageError(
            f"procedure {procedure_id} does not let a challenge start at stage {start_stage} on this route",
            hint=f"Stages it may start at: {offered}",
        ) from None
    start = stage.number
    data = {
        "procedure_id": procedure.id,
        "procedure_version": procedure.version,
        "procedure_fingerprint": loaded.fingerprint,
        "procedure_text": loaded.text,
        "procedure_path": loaded.path,
        "case_ref": case_ref,
        "subject_name": subject_name,
        "setting": author.get("setting", settings.setting),  # (on a team store, the person's)
        "agency": agency,
        "team": team,
        "decision": decision,
        "decision_at": _instant(decision_at, settings, "decision time", "decision_at"),
        "decision_by": decision_by or None,
        "decision_ref": decision_ref,
        "triggers": list(dict.fromkeys(triggers)),
        "disagreements": disagreements,
        "checks": checks or [],
        "concern": concern,
        "evidence": evidence or [],
        "outcome_sought": outcome_sought,
        "immediate_risk": immediate_risk,
        "skip_rule": skip.id if skip else "",
        "route": route,
        "start_stage": start,
        "protective_by": _instant(protective_by, settings, "protective timescale", "protective_by"),
        "referral": True if referral else None,
    }
    data = entry.check_data("opened", data)
    when = occurred(at, settings)
    if data.get("decision_at"):
        entry_rules.not_future(
            "decision_at", clock.from_iso(data["decision_at"]), clock.now(), settings.timezone, "decision time"
        )
    entry_rules.check_opening(data, clock.from_iso(when), settings.timezone)
    return store.append(None, "opened", when, author, data)


# --- recording ---------------------------------------------------------------------------


def _check_referral(
    procedure: Procedure, procedure_id: str, route: str, start_stage: int | None, decision: str
) -> None:
    """A referral can be followed up only where the procedure has a step for it, on its main ladder."""
    if not procedure.follows_up_referrals():
        raise UsageError(
            f"procedure {procedure_id} has no step for following up a referral before any decision",
            hint="Open the challenge when you have the decision you disagree with.",
        )
    if route != "main" or start_stage is not None:
        raise UsageError("a referral is followed up from the procedure's first step: no route or start stage")
    if decision.strip():
        raise UsageError(
            "a referral is followed up before any decision: leave the decision out",
            hint="Record it when it comes: `escalate record ID decision-received --decision ...`.",
        )


def _meets_a_follow_up(store: LogStore, state: ChallengeState, kind: str) -> bool:
    """Whether an entry of ``kind`` would meet a follow-up deadline after resolution still to be met
    (Sefton: the outcome letter within 2 working days of resolution)."""
    procedure = procedure_of(store, state)
    for row in ch.open_follow_ups(state, procedure, clock.now()):
        if kind in ch.follow_up_kinds(procedure.stage(row.stage, state.route)).get(row.id, ()):
            return True
    return False


def record(
    store: LogStore, settings: Settings, challenge: str, kind: str, data: dict[str, Any], at: str | None = None
) -> StoredEntry:
    """Append one entry of ``kind`` to an existing challenge, after checking it makes sense now."""
    if kind == "opened":
        raise UsageError("use `escalate open` to open a challenge")
    author = _author(settings, store)
    for key in ("due", "new_due"):
        if data.get(key):
            data = {**data, key: _instant(data[key], settings, key.replace("_", " "), key)}
    clean = entry.check_data(kind, data)
    when = occurred(at, settings)

    def check(state: ChallengeState | None) -> None:
        if state is None:  # (the store passes None only to an opening entry, which is refused above)
            raise ChallengeError(f"no challenge {challenge!r} in this store")
        if kind == "reopened" and state.is_open:
            raise ChallengeError(f"challenge {challenge} is already open")
        if kind == "decision-received" and not state.referral:
            raise ChallengeError(
                f"challenge {challenge} was opened with the decision it challenges",
                hint="Record their later replies as responses.",
            )
        unknown = [t for t in clean.get("triggers", ()) if t not in TRIGGER_IDS] if kind == "decision-received" else []
        if unknown:
            raise UsageError(f"unknown trigger {unknown[0]!r}", hint="Triggers: " + ", ".join(TRIGGER_IDS))
        if kind == "decision-received" and state.decision:
            raise ChallengeError(
                f"the decision on challenge {challenge}'s referral is already recorded",
                hint="Record a correction with `escalate amend` if it was wrong.",
            )
        if kind == "resolved" and clean.get("outcome") == "no-disagreement" and not state.referral:
            raise ChallengeError(
                "'no-disagreement' closes a challenge opened at a referral whose outcome you accept",
                hint="Use resolved, partly-resolved, unresolved or withdrawn.",
            )
        if kind == "resolved" and not state.is_open:
            raise ChallengeError(
                f"challenge {challenge} is already {state.status}",
                hint="Reopen it first if the outcome has changed.",
            )
        if not state.is_open and kind not in AFTER_RESOLUTION and not _meets_a_follow_up(store, state, kind):
            raise ChallengeError(
                f"challenge {challenge} is {state.status}: reopen it before recording a {kind}",
                hint=f"`escalate record {challenge} reopened --reason ...` or the app's Reopen.",
            )
        if kind.startswith("deadline-") or kind == "timescale-agreed":
            procedure = procedure_of(store, state)
            stage = procedure.stage(state.stage, state.route)
            # a limit over several stages may be extended or paused too, while the challenge is in its range
            limits = current_limits(state, procedure) if kind.startswith("deadline-") else []
            ids = [d.id for d in stage.deadlines] + limits
            if clean["deadline"] not in ids:
                if kind == "timescale-agreed" and clean["deadline"].startswith(LIMIT_PREFIX):
                    raise UsageError(
                        f"{clean['deadline']!r} is a limit set by the procedure: no timescale is agreed for it",
                        hint="Record an extension of it if one was agreed.",
                    )
                raise UsageError(
                    f"stage {stage.number} has no deadline {clean['deadline']!r}",
                    hint="Deadlines of this stage: " + (", ".join(ids) or "none"),
                )
            st = state.stages[-1]
            if kind == "deadline-resumed" and clean["deadline"] not in st.paused:
                if any(clean["deadline"] in earlier.paused for earlier in state.stages[:-1]):
                    raise ChallengeError(
                        f"{clean['deadline']!r} is not paused: its pause ended when the challenge "
                        f"stepped up to {procedure.name_of(state.stage, state.route)}",
                        hint="Its clock runs again from then; pause it again if that was agreed.",
                    )
                raise ChallengeError(f"deadline {clean['deadline']!r} is not paused")
            if kind == "deadline-paused" and clean["deadline"] in st.paused:
                raise ChallengeError(f"deadline {clean['deadline']!r} is already paused")
            if kind == "timescale-agreed":
                limit = ch.fixed_limit(state, procedure, clean["deadline"])
                if limit is not None and clock.from_iso(clean["due"]) > limit:
                    raise UsageError(
                        f"the agreed date is later than the procedure's limit for {clean['deadline']!r}, "
                        f"{clock.show(limit, settings.timezone)}: a protective timescale can only bring it sooner",
                        hint="Record an extension of the deadline if a later date was agreed, with the reason.",
                    )
        if kind == "stepped-up":
            procedure = procedure_of(store, state)
            nxt = procedure.next_stage(state.stage, state.route)
            if nxt is None:
                raise ChallengeError(
                    f"challenge {challenge} is at the last stage ({state.stage}) of "
                    f"{procedure.id}: there is no stage to step up to",
                    hint=procedure.complaints_route or "Record the outcome or the decision not to escalate further.",
                )
            if clean["from_stage"] != state.stage or clean["to_stage"] != nxt.number:
                raise ChallengeError("the challenge moved on meanwhile; look again before stepping up")
        if kind == "action-done":
            action = next((a for a in state.actions if a.cseq == clean["action_seq"]), None)
            if action is None:
                agreed = ", ".join(f"{a.cseq} ({a.action})" for a in state.actions if a.done_at is None)
                raise UsageError(
                    f"challenge {challenge} has no action agreed at entry {clean['action_seq']}",
                    hint=f"Actions agreed and not yet done: {agreed}" if agreed else "No action agreed is open.",
                )
            if action.done_at is not None:
                raise ChallengeError(
                    f"the action agreed at entry {action.cseq} ({action.action}) was recorded done at entry "
                    f"{action.done_seq}"
                )
        if kind == "amendment":
            target = store.entry(challenge, clean["target_seq"])
            if target is None or target.kind == "amendment":
                raise UsageError(f"challenge {challenge} has no entry {clean['target_seq']} that can be amended")
        entry_rules.check_entry(
            kind, clean, clock.from_iso(when), state, lambda: procedure_of(store, state), settings.timezone
        )

    return store.append(challenge, kind, when, author, clean, check=check)


def record_exports(store: LogStore, settings: Settings, challenges: list[str], data: dict[str, Any]) -> None:
    """Record one export on every challenge it covered, in one transaction (all or none)."""
    author = _author(settings, store)
    clean = entry.check_data("exported", data)
    when = clock.iso(clock.now())
    store.append_many([(c, "exported", when, author, clean, None) for c in challenges])


def step_up(
    store: LogStore,
    settings: Settings,
    challenge: str,
    reason: str,
    at: str | None = None,
    *,
    seen_stage: int | None = None,
) -> StoredEntry:
    """Step a challenge up from its stage; ``seen_stage``: the stage the user saw when they chose to (a
    screen's), so that a step up a colleague made meanwhile is told, not stepped past."""
    state = store.state(challenge)
    stage = state.stage if seen_stage is None else seen_stage
    procedure = procedure_of(store, state)
    nxt = procedure.next_stage(stage, state.route)
    to = nxt.number if nxt else stage + 1  # refused inside record() with a clear message
    return record(store, settings, challenge, "stepped-up", {"from_stage": stage, "to_stage": to, "reason": reason}, at)


def amend(
    store: LogStore,
    settings: Settings,
    challenge: str,
    target: int,
    field: str,
    value: str,
    reason: str,
    at: str | None = None,
) -> StoredEntry:
    """Record a correction of one field of an earlier entry; the original stays as it was."""
    leaf = field.rsplit(".", 1)[-1]
    data: dict[str, Any] = {"target_seq": target, "field": field, "reason": reason}
    original = store.entry(challenge, target)
    if original is not None:
        content = original.content()
        known = set(content.data.model_dump(by_alias=True, exclude_defaults=True)) | {"occurred_at"}
        top = field.split(".", 1)[0]
        if top not in known and top not in entry_kinds.KINDS.get(original.kind, {}):
            raise FieldError(
                "field",
                f"entry {target} ({original.kind}) has no field {shown(field)}",
                hint="Fields: " + ", ".join(sorted(known - set(entry_rules.FIXED_FIELDS))),
            )
        procedure = procedure_of(store, store.state(challenge))
        value = entry_rules.corrected_value(
            field, value, content, original.kind, procedure, settings.timezone, clock.now()
        )
    if leaf in entry.PERSONAL_KEYS:
        # A corrected name is personal too: it goes in a concealed field, never in clear.
        data["new_value"] = "(personal field: see disclosure)"
        data["corrected_" + leaf] = value
    else:
        data["new_value"] = value
    return record(store, settings, challenge, "amendment", data, at)


# --- reading -----------------------------------------------------------------------------


def view(
    store: LogStore, catalogue: Catalogue | None, challenge: str, now: dt.datetime | None = None, *, fresh: bool = False
) -> ChallengeView:
    """Everything about one challenge as of ``now``: derived state plus what the user needs to read it.
    ``fresh``: fold the hashed entries again rather than trust the store's cache (for what leaves the
    system: exports and packs)."""
    state = store.state(challenge, fresh=fresh)
    procedure = procedure_of(store, state)
    if not fresh and not _fits(state, procedure):  # a cached fold changed outside escalate: fold the log
        state = store.state(challenge, fresh=True)
    return _view_of(store, catalogue, state, now)


def _view_of(
    store: EntrySource, catalogue: Catalogue | None, state: ChallengeState, now: dt.datetime | None = None
) -> ChallengeView:
    procedure = procedure_of(store, state)
    if not _fits(state, procedure):
        raise damaged_challenge(state.challenge)
    out = derive(state, procedure, now or clock.now())
    values = store.disclosure_values([state.case_ref_sd] if state.case_ref_sd else [])
    current = catalogue.procedures.get(state.procedure_id) if catalogue is not None else None
    # Named people are kept apart from the rules because they change: the procedure file loaded now
    # names them, not the snapshot the challenge keeps (which may be years old).
    return replace(
        out,
        case_ref=values.get(state.case_ref_sd or "", "(withheld)"),
        newer_version=bool(current and current.fingerprint != state.fingerprint),
        contacts=tuple((current.procedure if current else procedure).contacts),
    )


def _fits(state: ChallengeState, procedure: Procedure) -> bool:
    return unfit(state, procedure) is None


def _listing_key() -> str:
    """What a cached list row (and glance) was made with: its format and the bank-holiday data."""
    return f"{ch.LISTING_FORMAT}/{workcalendar.data_version()}"


def summaries(store: LogStore, catalogue: Catalogue | None = None, now: dt.datetime | None = None) -> list[ListView]:
    """Every challenge's list row as of ``now`` (see :func:`challenge.judge_listing`), with case
    references revealed. Rows are cached in the store until a challenge's next entry, keyed by the
    bank-holiday data, so a list reads small rows rather than folds and calendars."""
    now = now or clock.now()
    key = _listing_key()
    items: list[ListRow] = []
    fresh: list[tuple[str, int, ChallengeState, str, str]] = []
    for cid, text in store.listings(key):
        # a cached row that cannot be read (changed outside escalate) is worked out again
        item = ch.load_listing(text) if text is not None else None
        if item is None:
            item = _fresh_listing(store, cid, text is not None, fresh)
        items.append(item)
    store.keep_listings(key, fresh)
    return _judged(store, items, now)


def store_problem(store: LogStore) -> str | None:
    """What verify checks beyond the chain of entries (once that holds), or None: every personal
    field an entry seals has its disclosure kept (a store keeps them all), and the caches lists and
    screens read are what the entries say (:func:`cache_problem`), and SQLite finds the file whole (a
    damaged page of an index, which no hash covers, can make every append fail)."""
    damage = store.damage()
    if damage is not None:
        return f"the store file: SQLite finds it damaged ({damage[:300]})"
    missing = store.missing_disclosure()
    if missing is not None:
        return f"entry {missing}: a personal field's disclosure is missing from the store (a row was deleted)"
    return cache_problem(store)


def cache_problem(store: LogStore) -> str | None:
    """The first cache the log does not bear out, or None: the index of challenges, and each cached
    fold, list row and glance that a list or a screen would trust (made at the challenge's last entry,
    by this escalate), against the challenge folded again from its hashed entries. Rows a list would
    not trust (older, or unreadable) are worked out again anyway, and are not reported."""
    problem = store.index_problem()
    if problem is not None:
        return problem
    rows = store.cache_rows()
    if len(rows) < CACHES_BESIDE or parallel.cores() < 2:
        return _caches_problem(store, rows)
    # folding every challenge again is most of the work: the second half is folded by a worker meanwhile
    half = len(rows) // 2
    worker = parallel.beside(_caches_problem_at, store.location(), [r[0] for r in rows[half:]])
    try:
        problem = _caches_problem(store, rows[:half])
        if problem is not None:
            return problem
        answer = worker.result()
    finally:
        worker.close()
    return _caches_problem(store, rows[half:]) if answer is None else answer[0]


#: challenges from which the caches are checked by two processes
CACHES_BESIDE = 2000


def _caches_problem_at(path: str, challenges: list[str]) -> tuple[str | None]:
    """:func:`_caches_problem` of some challenges, in a worker: (the problem or None,) so that no
    answer at all (None) is never taken for "no problem"."""
    wanted = set(challenges)
    with store_at(path, create=False, readonly=True) as store:
        return (_caches_problem(store, [r for r in store.cache_rows() if r[0] in wanted]),)


def _caches_problem(store: LogStore, rows: list[tuple[Any, ...]]) -> str | None:
    key = _listing_key()
    for cid, last, s_cseq, s_text, l_key, l_text, g_cseq, g_key, g_text in rows:
        state = ch.load_cached(s_text) if s_cseq == last else None
        listed = ch.load_listing(l_text) if s_cseq == last and l_key == key and isinstance(l_text, str) else None
        glanced = ch.load_glance(g_text) if g_cseq == last and g_key == key and isinstance(g_text, str) else None
        if state is None and listed is None and glanced is None:
            continue
        fresh = store.state(cid, fresh=True)
        row = ch.listing(fresh, procedure_of(store, fresh)) if listed is not None or glanced is not None else None
        for what, cached, real in (
            ("folded state", state, fresh),
            ("list row", listed, row),
            ("glance", glanced, ch.glance(row) if row is not None else None),
        ):
            if cached is not None and cached != real:
                return (
                    f"challenge {cid}: its cached {what} is not what its entries say (it was changed outside "
                    "escalate; lists and screens could show it)"
                )
    return None


def glances(store: LogStore) -> list[ch.Glance]:
    """A glance at every challenge (see :class:`challenge.Glance`), oldest first: what a list counts,
    orders and filters by. Cached beside the list rows; a challenge without one (or with one that
    cannot be read) gets both worked out and kept."""
    key = _listing_key()
    out: list[ch.Glance] = []
    fresh: list[tuple[str, int, ChallengeState, str, str]] = []
    for cid, text in store.glances(key):
        g = ch.load_glance(text) if text is not None else None
        if g is None or g.challenge != cid:
            g = ch.glance(_fresh_listing(store, cid, text is not None, fresh))
        out.append(g)
    store.keep_listings(key, fresh)
    return out


def case_refs(store: LogStore, glances: list[ch.Glance]) -> dict[str, str]:
    """Challenge -> its case reference revealed ("(withheld)" if its disclosure is not held): what a
    list searches by, read only once someone searches (10,000 take 0.08 s)."""
    refs = store.disclosure_values([g.case_ref_sd for g in glances if g.case_ref_sd])
    return {g.challenge: refs.get(g.case_ref_sd or "", "(withheld)") for g in glances}


def list_views(store: LogStore, challenges: list[str], now: dt.datetime | None = None) -> list[ListView]:
    """The list rows of some challenges (a page of a list ordered by their glances), as of ``now``."""
    now = now or clock.now()
    key = _listing_key()
    cached = store.listings_of(key, challenges)
    items: list[ListRow] = []
    fresh: list[tuple[str, int, ChallengeState, str, str]] = []
    for cid in challenges:
        text = cached.get(cid)
        item = ch.load_listing(text) if text is not None else None
        items.append(item if item is not None else _fresh_listing(store, cid, text is not None, fresh))
    store.keep_listings(key, fresh)
    return _judged(store, items, now)


def keep_caches_of(source: LogStore, target: LogStore, batch: int = 1000) -> None:
    """Every challenge's fold, list row and glance, as ``source`` has them (or works them out), kept in
    ``target``, which holds the same log (a copy of it): so that the copy's first readers, who may
    have no right to keep caches, do not fold every challenge again."""
    key = _listing_key()
    fresh: list[tuple[str, int, ChallengeState, str, str]] = []
    for cid in source.challenge_ids():
        _fresh_listing(source, cid, False, fresh)
        if len(fresh) >= batch:
            target.keep_listings(key, fresh)
            fresh = []
    target.keep_listings(key, fresh)


def _fresh_listing(
    store: LogStore, cid: str, suspect: bool, fresh: list[tuple[str, int, ChallengeState, str, str]]
) -> ListRow:
    """A challenge's list row worked out again, added to ``fresh`` (to be kept, with its glance)."""
    state, item = _listed(store, cid, suspect=suspect)
    fresh.append((cid, state.cseq, state, ch.dump_listing(item), ch.dump_glance(ch.glance(item))))
    return item


def _judged(store: LogStore, items: list[ListRow], now: dt.datetime) -> list[ListView]:
    refs = store.disclosure_values([i.state.case_ref_sd for i in items if i.state.case_ref_sd])
    return [
        replace(ch.judge_listing(item, now), case_ref=refs.get(item.state.case_ref_sd or "", "(withheld)"))
        for item in items
    ]


def _listed(store: LogStore, cid: str, *, suspect: bool) -> tuple[ChallengeState, ListRow]:
    """(state, list row) of one challenge: from the cached fold, or, if that does not fit its procedure
    or is ``suspect`` (its cached row could not be read), folded again from the log."""

    state = store.state(cid, fresh=suspect)
    procedure = procedure_of(store, state)
    if not suspect and not _fits(state, procedure):
        state = store.state(cid, fresh=True)
    if not _fits(state, procedure):
        raise damaged_challenge(cid)
    return state, ch.listing(state, procedure)


@dataclass(frozen=True)
class ChronologyItem:
    """One entry as a person reads it: personal fields revealed (or "(withheld)"), its kind's fields
    as they were recorded (``data``: text, numbers, lists, people as mappings), and the corrections
    recorded later against it (the entry itself never changes)."""

    seq: int
    cseq: int
    kind: str
    occurred_at: dt.datetime | None  # None only for an unreadable entry
    recorded_at: dt.datetime | None
    author: Mapping[str, str]
    data: Mapping[str, Any]
    hash: str
    late: bool = False
    amended_by: tuple[int, ...] = ()
    corrected: Mapping[str, str] = field(default_factory=dict)  # field -> corrected value
    #: why an entry's bytes cannot be read (changed outside escalate); None for every entry escalate wrote
    unreadable: str | None = None


def chronology(
    store: LogStore, challenge: str, *, after: int = 0, limit: int | None = None, tolerant: bool = False
) -> list[ChronologyItem]:
    """Entries of a challenge (a page of them, from ``after``) with personal fields revealed and every
    amendment shown against the entry it corrects. The original entries are never changed.

    An entry that cannot be read (changed outside escalate) raises a StoreError naming it, unless
    ``tolerant`` (the app's chronology): then it stands as an item saying so (``unreadable``), and
    the entries around it are shown as they are."""
    corrections = store.entries(challenge, kind="amendment")
    rows = store.entries(challenge, after=after, limit=limit)
    values = {d: entry.readable_value(b) for d, b in store.challenge_disclosures(challenge).items()}
    try:
        return annotate(rows, corrections, values, tolerant=tolerant)
    except _Unreadable as exc:
        raise damaged_entry(exc.args[0]) from None


def annotate(
    rows: list[StoredEntry], corrections: list[StoredEntry], values: dict[str, str], *, tolerant: bool = False
) -> list[ChronologyItem]:
    """Chronology items for ``rows``: personal fields revealed from ``values`` (digest -> value;
    missing ones read "(withheld)"), and each amendment among ``corrections`` marked on the entry
    it corrects. Pure: the store and exported files (the auditor's view) both use it.
    ``tolerant``: an entry that cannot be read becomes an item saying so, and an amendment that
    cannot be read marks nothing, instead of raising."""
    return [item for item, _ in _annotated(rows, corrections, values, tolerant)]


def _annotated(
    rows: list[StoredEntry], corrections: list[StoredEntry], values: dict[str, str], tolerant: bool
) -> list[tuple[ChronologyItem, entry.Content | None]]:
    """:func:`annotate`'s items, each with its entry's content as stored (None where it cannot be read)."""
    amended_by: dict[int, list[int]] = {}
    corrected: dict[int, dict[str, str]] = {}
    for amendment in corrections:
        try:
            content, revealed = _read(amendment, values)
        except _Unreadable:
            if not tolerant:
                raise
            continue
        d = content.data
        if isinstance(d, entry_kinds.Amendment):
            leaf = d.field.rsplit(".", 1)[-1]
            # a corrected personal value is sealed in the entry: shown as revealed (or "(withheld)")
            value = revealed["data"].get("corrected_" + leaf) if leaf in entry.PERSONAL_KEYS else None
            amended_by.setdefault(d.target_seq, []).append(amendment.cseq)
            corrected.setdefault(d.target_seq, {})[d.field] = value if isinstance(value, str) else d.new_value
    out: list[tuple[ChronologyItem, entry.Content | None]] = []
    for e in rows:
        try:
            content, revealed = _read(e, values)
        except _Unreadable:
            if not tolerant:
                raise
            out.append((_unreadable_item(e), None))
            continue
        # times from the hashed bytes, not the table's columns
        occurred_at, recorded_at = content.occurred, content.recorded
        item = ChronologyItem(
            seq=e.seq,
            cseq=e.cseq,
            kind=e.kind,
            occurred_at=occurred_at,
            recorded_at=recorded_at,
            author=revealed["author"],
            data=revealed["data"],
            hash=e.hash,
            late=recorded_at - occurred_at > dt.timedelta(hours=24),
            amended_by=tuple(amended_by.get(e.cseq, ())),
            corrected=corrected.get(e.cseq, {}),
        )
        out.append((item, content))
    return out


def record_of(
    store: EntrySource, catalogue: Catalogue | None, challenge: str, now: dt.datetime | None = None
) -> tuple[ChallengeView, list[ChronologyItem]]:
    """A challenge's view as of ``now`` (default: now) and its whole chronology, from one reading of its
    entries: each is parsed once, folded, and revealed (exports and packs: from the hashed entries,
    never the cache)."""
    rows = store.entries(challenge)
    values = {d: entry.readable_value(b) for d, b in store.challenge_disclosures(challenge).items()}
    try:
        annotated = _annotated(rows, [e for e in rows if e.kind == "amendment"], values, tolerant=False)
    except _Unreadable as exc:
        raise damaged_entry(exc.args[0]) from None
    try:
        state = fold_contents((e, content) for e, (_, content) in zip(rows, annotated) if content is not None)
    except ValueError:
        raise damaged_challenge(challenge) from None
    view = _view_of(store, catalogue, state, now)
    return view, [item for item, _ in annotated]


def _unreadable_item(e: StoredEntry) -> ChronologyItem:
    """A chronology item for an entry whose bytes are not what escalate wrote: where it stands, as the
    table's columns say, and the message; nothing is read from its bytes."""
    return ChronologyItem(e.seq, e.cseq, e.kind, None, None, {}, {}, e.hash, unreadable=damaged_entry(e).message)


class _Unreadable(Exception):
    """An entry whose bytes are not what escalate wrote (args[0]: the entry)."""


def _read(e: StoredEntry, values: dict[str, str]) -> tuple[entry.Content, dict[str, Any]]:
    """An entry's content as stored, typed (which checks it is what escalate wrote), and its parsed JSON
    with personal fields revealed from ``values`` ("(withheld)" where a value is not known)."""
    try:
        raw = entry.split(e.body)[1]
        content = entry.parse_content(e.kind, raw)
    except (ValueError, RecursionError):  # DamagedEntry; JSON that does not parse or nests too deep
        raise _Unreadable(e) from None
    return content, entry.reveal_content(raw, values, "(withheld)") if b'"_sd"' in e.body else raw


def _text(d: Mapping[str, Any], key: str) -> str:
    value = d.get(key)
    return "" if value is None else str(value)


def _time(d: Mapping[str, Any], key: str) -> str:
    """A stored time for people; text in its place (withheld, say) is shown as it is."""
    value = _text(d, key)
    return clock.show(clock.from_iso(value)) if clock.is_iso(value) else value


def _person(value: object) -> str:
    if not isinstance(value, Mapping):
        return "" if value is None else str(value)
    return ", ".join(str(v) for v in (value.get("name"), value.get("role"), value.get("agency")) if v)


def describe(item: ChronologyItem) -> str:
    """One line saying what an entry records, with corrections applied and marked."""
    d = dict(item.data)
    for name, value in item.corrected.items():
        if "." not in name:  # the original one line away: on this one (in full: the entry's details)
            was = item.data.get(name)
            was = ", ".join(map(str, was)) if isinstance(was, list) else was
            d[name] = (
                f"{value} [corrected; was: {was}]"
                if isinstance(was, str) and len(was) <= 80
                else f"{value} [corrected]"
            )
    kind = item.kind

    def t(key: str) -> str:
        return _text(d, key)

    person = _person(d.get("with"))
    if kind == "opened" and d.get("referral"):
        return (
            f"Opened at the referral, before any decision, under {t('procedure_id')} ({t('procedure_version')}): "
            f"{t('agency')}. Concern: {t('concern')}"
        )
    if kind == "opened":
        return (
            f"Opened under {t('procedure_id')} ({t('procedure_version')}): {t('agency')}; decision "
            f"challenged: {t('decision')}. Concern: {t('concern')}"
        )
    if kind == "decision-received":
        by = _person(d.get("decision_by"))
        triggers = ", ".join(map(str, d.get("triggers") or ()))
        return (
            f"Decision received on the referral: {t('decision')}"
            + (f" (by {by})" if by else "")
            + (f". Disagreed with: {triggers}" if triggers else "")
        )
    if kind == "contact":
        return (
            f"Contact {t('direction')} by {t('medium')}" + (f" with {person}" if person else "") + f": {t('summary')}"
        )
    if kind == "response":
        return (
            "Response"
            + (f" from {person}" if person else "")
            + f": {t('decision')}"
            + (f" Rationale: {t('rationale')}" if t("rationale") else "")
        )
    if kind == "action-agreed":
        return f"Action agreed: {t('action')} (due {_time(d, 'due')})"
    if kind == "action-done":
        return f"Action agreed at entry {t('action_seq')} done" + (f": {t('summary')}" if t("summary") else "")
    if kind == "deadline-extended":
        return f"Deadline {t('deadline')} extended to {_time(d, 'new_due')}: {t('reason')}"
    if kind == "deadline-paused":
        return f"Deadline {t('deadline')} paused: {t('reason')}"
    if kind == "deadline-resumed":
        return f"Deadline {t('deadline')} resumed" + (f": {t('reason')}" if t("reason") else "")
    if kind == "timescale-agreed":
        return f"Timescale for {t('deadline')} set to {_time(d, 'due')}" + (f": {t('reason')}" if t("reason") else "")
    if kind == "notification-sent":
        return (
            f"Notification sent to {t('to')}"
            + (f" ({t('form')})" if t("form") else "")
            + (f": {t('summary')}" if t("summary") else "")
        )
    if kind == "advice-sought":
        return f"Advice sought from {person}: {t('summary')}"
    if kind == "stepped-up":
        return f"Stepped up from stage {t('from_stage')} to stage {t('to_stage')}: {t('reason')}"
    if kind == "no-further-escalation":
        return f"Decided not to escalate further: {t('reason')}"
    if kind == "note":
        return f"Note: {t('summary')}"
    if kind == "amendment":
        leaf = t("field").rsplit(".", 1)[-1]
        value = d.get("corrected_" + leaf) or t("new_value")
        return f"Correction of entry {t('target_seq')}, {t('field')} -> {value}: {t('reason')}"
    if kind == "resolved":
        return f"Outcome: {t('outcome')}. {t('rationale')}" + (f" Impact: {t('impact')}" if t("impact") else "")
    if kind == "reopened":
        return f"Reopened: {t('reason')}"
    if kind == "checkpoint":
        entries = "entry" if t("count") == "1" else f"{t('count')} entries"
        return f"Checkpoint: the log's first {entries} signed by {t('principal')}"
    if kind == "exported":
        return f"Exported {t('scope')} as {t('format')}" + (" (redacted)" if d.get("redacted") else "")
    return kind


#: fields of an opening entry not listed in full: the procedure's text is long and shown as its ladder
_NOT_LISTED = ("procedure_text", "procedure_path")
_TIMES = ("due", "new_due", "decision_at", "protective_by")


def details(item: ChronologyItem, tz: str = clock.DEFAULT_TZ) -> list[tuple[str, str]]:
    """Every field of one chronology item as (label, text), for reading an entry in full: who and when,
    then each data field, corrections applied and marked, times in ``tz``, people as name, role, agency."""

    def text(key: str, value: object) -> str:
        if isinstance(value, bool):
            return "yes" if value else "no"
        if isinstance(value, Mapping):
            return _person(value)
        if isinstance(value, list):
            return "; ".join(map(str, value)) or "-"
        if isinstance(value, str) and key in _TIMES and clock.is_iso(value):
            return clock.show(clock.from_iso(value), tz)
        return str(value)

    author = item.author
    rows = [
        ("occurred", clock.show(item.occurred_at, tz)),
        ("recorded", clock.show(item.recorded_at, tz) + ("  [LATE ENTRY]" if item.late else "")),
        ("by", ", ".join(v for v in (author.get("name"), author.get("role"), author.get("setting")) if v)),
    ]
    corrected = {name: value for name, value in item.corrected.items() if "." not in name}
    for key, value in item.data.items():
        if key in _NOT_LISTED:
            continue
        shown = text(key, value)
        if key in corrected:
            shown = f"{corrected[key]} [corrected; was: {shown}]"
        rows.append((key.replace("_", " "), shown))
    for name, value in item.corrected.items():
        if "." in name:
            rows.append((f"{name.replace('_', ' ')} [corrected]", str(value)))
    if item.amended_by:
        rows.append(("amended by", ", ".join(f"#{n}" for n in item.amended_by)))
    rows.append(("hash", item.hash))
    return rows
