"""The auditor's summary across many challenges, from exported files or the store.

Every input is verified first; one that fails is reported and left out of the figures,
never silently counted. Challenges are folded and derived with the same code as every
view, from the procedure snapshot each one carries.
"""

from __future__ import annotations

import datetime as dt
import gc
import html
import json
import statistics
from collections import ChainMap, Counter
from collections.abc import Iterable, Iterator, MutableMapping
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, NamedTuple

from escalate import clock, entry, journal, workcalendar
from escalate.challenge import ChallengeState, ChallengeView, MissedBy, NotOpened, derive, fold_contents, unfit
from escalate.entry_kinds import Opened
from escalate.errors import EscalateError, ExportError
from escalate.procedure import Procedure
from escalate.procedure_file import parse
from escalate.report import bar_chart
from escalate.store import StoredEntry
from escalate.verify import digests_in, entry_lines, read_jsonl, verify_records, verify_store
from escalate.wording import copies_counted_once, missed_words


class Input(NamedTuple):
    label: str
    ok: bool
    problem: str | None
    entries: int
    withheld: int = 0
    challenges: int = 0  # read from this input (before duplicates across inputs are removed)


class Audited(NamedTuple):
    """One challenge from a verified input: its folded state and procedure snapshot; for a file
    also its entries and the disclosures the file carries (digest -> disclosure text, shared by the
    file's challenges; decoded only when shown). The store reads its entries on demand."""

    key: str
    source: str
    state: ChallengeState
    procedure: Procedure
    rows: list[StoredEntry]
    disclosures: MutableMapping[str, str]  # a dict, or a ChainMap of several files' dicts
    also_in: tuple[str, ...] = ()  # other verified files holding the same challenge
    view: ChallengeView | None = None  # derived as of ``view_at`` when the file was checked
    view_at: dt.datetime | None = None

    def value(self, digest: str | None) -> str:
        """The disclosed value of a digest, or "(withheld)"."""
        text = self.disclosures.get(digest or "")
        return entry.disclosed_value(text.encode("utf-8")) if text is not None else "(withheld)"

    def values(self) -> dict[str, str]:
        """Disclosed values of every personal field in this challenge's entries."""

        return {
            d: entry.disclosed_value(self.disclosures[d].encode("utf-8"))
            for e in self.rows
            for d in digests_in(e.body)
            if d in self.disclosures
        }


def _snapshot(text: str, procedure_id: str, cache: dict[str, Procedure]) -> Procedure:
    """The procedure a challenge carries, parsed once per distinct text. Keyed by the text itself, not
    by the fingerprint the entry states: a file could state one and carry another. (A file's copies of
    one text are one string object (:func:`_cut`), whose hash Python computes once.)"""

    if text not in cache:
        cache[text] = parse(text.encode("utf-8"), f"snapshot of {procedure_id}").procedure
    return cache[text]


def from_file(path: str, snapshots: dict[str, Procedure], now: dt.datetime) -> tuple[Input, list[Audited]]:

    try:
        header, records = read_jsonl(path)  # read and parsed once, then verified, then folded
    except ExportError as exc:
        return Input(path, False, exc.message, 0), []
    bodies: list[bytes] = []
    report = verify_records(header, records, bodies=bodies)
    if not report.ok:
        return Input(path, False, report.problem, report.count), []
    # A file can verify (nothing changed since it was written) and still not hold escalate entries,
    # if whoever wrote it made them up: such a file is reported and left out like a broken one.
    try:
        out = read_challenges(path, entry_lines(records), bodies, snapshots, now)
    except NotAnEntry as exc:
        return Input(path, False, str(exc), report.count), []
    return Input(path, True, None, report.count, report.withheld, len(out)), out


_TEXT_KEY = '"procedure_text":"'
_TEXT_END = '","procedure_version":'


def _contents(bodies: list[str], texts: dict[str, str]) -> list[Any]:
    """The content of each entry (its text after the header line), exactly as json.loads gives it.

    Every opening entry carries its procedure's whole text (most of an export's bytes), and a file
    holds the same few procedures many times. So the text's escaped form is cut out before parsing
    and decoded once per distinct form (:func:`_cut`). Then all contents are parsed by one
    json.loads, as one array (a call per entry costs more than most entries); if anything is amiss,
    one by one, which raises at the first that is not JSON."""

    cuts = [_cut(body, texts) for body in bodies]
    parts = [c for c, _ in cuts]
    if parts:  # brackets on the end parts, not around the joined whole (one copy of it, not three)
        parts[0], parts[-1] = "[" + parts[0], parts[-1] + "]"
    joined = ",".join(parts)
    try:
        parsed = json.loads(joined) if parts else []
        if len(parsed) != len(cuts):  # a content of two values: they would not line up
            raise ValueError
    except (ValueError, RecursionError):
        parsed = [json.loads(c) for c, _ in cuts]
    if "\\ud" in joined or "\\uD" in joined:  # rare: look closer (parsing joins surrogate pairs)
        for value in parsed:
            entry.canonical(value)  # a lone surrogate raises UnicodeEncodeError: no escalate entry holds one
    return [
        value if text is None else _paste(value, text, body) for value, (_, text), body in zip(parsed, cuts, bodies)
    ]


def _content(body: str, texts: dict[str, str]) -> Any:
    """One entry's content, as :func:`_contents` gives it."""
    return _contents([body], texts)[0]


def _cut(body: str, texts: dict[str, str]) -> tuple[str, str | None]:
    """(the body's content, after its header line, with its procedure text emptied; the text), or
    (the content, None) to parse it as it is. Cut from the body where it lies: an opening's whole
    content is never copied. Keys are sorted, so procedure_version follows procedure_text; an
    unescaped '","procedure_version":' cannot occur inside a JSON string, so the first after the key
    ends the text, and decoding the cut-out part alone proves it is one JSON string."""

    begin = body.find("\n") + 1
    start = body.find(_TEXT_KEY, begin)
    if start == -1 or body.count(_TEXT_KEY, begin) != 1:
        return body[begin:], None
    start += len(_TEXT_KEY)
    end = body.find(_TEXT_END, start)
    if end == -1:
        return body[begin:], None
    escaped = body[start:end]
    text = texts.get(escaped)
    if text is None:
        try:
            text = texts[escaped] = json.loads('"' + escaped + '"')
        except ValueError:
            return body[begin:], None
    return body[begin:start] + body[end:], text


def _paste(value: Any, text: str, body: str) -> Any:
    """Put the procedure text back where :func:`_cut` emptied it; if the emptied key was not the
    opening's data.procedure_text, parse the content as it stands instead."""

    data = value.get("data") if isinstance(value, dict) else None
    if not isinstance(data, dict) or data.get("procedure_text") != "":
        return json.loads(body[body.find("\n") + 1 :])
    data["procedure_text"] = text
    return value


class NotAnEntry(Exception):
    """An entry of a verified file whose content is not an escalate entry."""


def read_challenges(
    path: str, records: list[dict[str, Any]], bodies: list[bytes], snapshots: dict[str, Procedure], now: dt.datetime
) -> list[Audited]:

    groups: dict[str, list[StoredEntry]] = {}
    folded: dict[str, list[tuple[StoredEntry, entry.Content]]] = {}
    skipped: set[str] = set()  # challenges the file holds from part way: listed in the figures, not folded
    opened: dict[str, str] = {}
    disclosures: dict[str, str] = {}
    try:  # each body is parsed once: folded here, kept as bytes
        contents = _contents([rec["body"] for rec in records], {})
    except (ValueError, RecursionError):
        for rec in records:  # say which
            try:
                _content(rec["body"], {})
            except (ValueError, RecursionError) as exc:
                raise NotAnEntry(
                    f"entry {rec['seq']} ({rec['kind']}): its content is not an escalate entry "
                    f"({type(exc).__name__}: {exc})"
                ) from None
        raise NotAnEntry("the entries' contents cannot be read as JSON") from None
    for rec, body, raw in zip(records, bodies, contents):
        try:
            content = entry.parse_content(rec["kind"], raw)
        except entry.DamagedEntry as exc:
            raise NotAnEntry(
                f"entry {rec['seq']} ({rec['kind']}): its content is not an escalate entry: {exc}"
            ) from None
        e = StoredEntry(
            rec["seq"],
            rec["challenge"],
            rec["cseq"],
            rec["kind"],
            content.occurred_at,
            content.recorded_at,
            body,
            rec["hash"],
        )
        cid = e.challenge
        if cid not in groups:
            groups[cid] = []
            if e.kind != "opened":  # a selection export always starts a challenge at entry 1
                skipped.add(cid)
        groups[cid].append(e)
        disclosures.update(rec["disclosures"])
        if cid in skipped:
            continue
        if isinstance(content.data, Opened):
            opened[cid] = content.data.procedure_text
        folded.setdefault(cid, []).append((e, content))
    out = []
    name = Path(path).name
    for cid, rows in groups.items():
        if cid in skipped:
            continue
        try:
            state = fold_contents(folded[cid])
        except NotOpened as exc:
            raise NotAnEntry(str(exc)) from None
        try:
            procedure = _snapshot(opened[cid], state.procedure_id, snapshots)
        except EscalateError as exc:
            raise NotAnEntry(
                f"challenge {cid}: the procedure it was opened under cannot be read ({exc.message})"
            ) from None
        problem = unfit(state, procedure)
        if problem is not None:
            raise NotAnEntry(f"challenge {cid}: its entries do not fit the procedure it was opened under ({problem})")
        view = derive(state, procedure, now)
        out.append(Audited(f"{name}:{cid}", path, state, procedure, rows, disclosures, view=view, view_at=now))
    return out


def from_store(store: Any) -> tuple[Input, list[Audited]]:

    report = verify_store(store, warnings=False)  # the figures count late entries themselves
    label = f"store {store.path}"
    if not report.ok:
        return Input(label, False, report.problem, report.count), []
    # The store's cached folds (rebuilt whenever not current). They are not covered by verify: an audit
    # that must rest on the hashed entries alone is run on exported files (docs/log-format.md).
    out = [
        Audited(f"store:{state.challenge}", label, state, journal.procedure_of(store, state), [], {})
        for state in store.states()
    ]
    return Input(label, True, None, report.count, 0, len(out)), out


def load(
    files: Iterable[str] = (), store: Any = None, now: dt.datetime | None = None
) -> tuple[list[Input], list[Audited]]:
    """Verify every input, then read the challenges of those that passed (and only those).

    A challenge exported twice (two exports of the same store) is one challenge: files are
    matched by the hash of its opening entry, and the copy with the most entries is kept."""
    snapshots: dict[str, Procedure] = {}
    now = now or clock.now()
    with collector_off():
        loaded = [from_store(store)] if store is not None else []
        loaded += [from_file(f, snapshots, now) for f in files]
    unique: dict[str, Audited] = {}
    for _, challenges in loaded:
        for c in challenges:
            key = c.rows[0].hash if c.rows else c.key
            kept = unique.get(key)
            if kept is None:
                unique[key] = c
                continue
            # the same entries have the same digests: what any copy discloses, the kept one shows
            longer = c if len(c.rows) > len(kept.rows) else kept
            other = kept if longer is c else c
            unique[key] = longer._replace(
                disclosures=ChainMap(kept.disclosures, c.disclosures),  # no copying
                also_in=(*longer.also_in, other.source, *other.also_in),
            )
    return [info for info, _ in loaded], list(unique.values())


@contextmanager
def collector_off() -> Iterator[None]:
    """Reading a file makes millions of small objects, none of them in a cycle: the collector would
    walk them again and again (it doubled the time) and free nothing."""

    collecting = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if collecting:
            gc.enable()


class Facts(NamedTuple):
    """What the figures take from one challenge: a few small values (a forked reader sends them back,
    :mod:`escalate.audit_file`). ``same`` identifies the challenge across files (its opening entry's
    hash) and ``entries`` says which copy is the longest."""

    key: str
    same: str
    entries: int
    triggers: tuple[str, ...]
    agency: str
    procedure: str
    highest: str
    outcome: str
    missed_by: MissedBy
    days_to_resolution: int | None
    overdue: bool
    late: int
    exports: int
    suspect: tuple[str, ...] = ()  # "KEY #N: what is wrong", for each entry that cannot be true
    opened_at: str = ""
    resolved_at: str | None = None
    setting: str | None = None


@dataclass(frozen=True)
class Scope:
    """Which challenges an audit counts: those open at any time from ``since`` to ``until`` (the
    start of each day, and the end of the last; either may be left open), opened at ``settings``
    (any, if empty). Inputs are verified whole whatever the scope."""

    since: str | None = None
    until: str | None = None
    settings: tuple[str, ...] = ()

    def holds(self, f: Facts) -> bool:
        if self.until is not None and f.opened_at >= self.until:
            return False
        if self.since is not None and f.resolved_at is not None and f.resolved_at < self.since:
            return False
        wanted = {s.casefold() for s in self.settings}
        return not wanted or (f.setting or "").strip().casefold() in wanted


def facts(item: Audited, now: dt.datetime) -> Facts:
    state, procedure = item.state, item.procedure
    view = item.view if item.view is not None and item.view_at == now else derive(state, procedure, now)
    days = None
    if state.resolved_at:
        days = workcalendar.working_days_between(
            clock.from_iso(state.opened_at), clock.from_iso(state.resolved_at), procedure.region
        )
    return Facts(
        item.key,
        item.rows[0].hash if item.rows else item.key,
        len(item.rows),
        state.triggers,
        state.agency,
        f"{procedure.partnership} ({state.procedure_id})",
        procedure.name_of(state.highest_stage, state.route),
        state.outcome or "open",
        view.missed_by,
        days,
        view.overdue,
        len(state.late),
        state.exports,
        tuple(f"{item.key} #{cseq}: {why}" for cseq, why in state.suspect),
        state.opened_at,
        state.resolved_at,
        state.setting,
    )


@dataclass(frozen=True)
class ChallengeLine:
    """One counted challenge, for the drill-down under the figures."""

    key: str
    agency: str
    procedure: str
    highest: str
    outcome: str
    overdue: bool
    missed_by: MissedBy
    days_to_resolution: int | None
    suspect: tuple[str, ...]


@dataclass(frozen=True)
class ResolutionDays:
    """Working days from opening to resolution, over the resolved challenges."""

    resolved: int
    median: float | None
    p90: int | None


@dataclass(frozen=True)
class Figures:
    """The audit's figures: each input as verified, and counts over the challenges of those that passed
    (most common first), each challenge counted once however many files hold it."""

    inputs: list[Input]
    challenges: int
    duplicates: int  # more copies, in other files, of challenges already counted
    by_trigger: dict[str, int]
    by_agency: dict[str, int]
    by_procedure: dict[str, int]
    highest_stage: dict[str, int]
    outcomes: dict[str, int]
    working_days_to_resolution: ResolutionDays
    timescales_missed: MissedBy
    open_past_deadline: list[str]
    late_entries: int
    exports: int
    #: entries that say something impossible (a date in the future, before the opening, an extension
    #: to a date past, a correction that is not what its field holds): warnings, never failures
    suspect_entries: list[str]
    #: verified challenges left out because the audit was limited (--since, --until, --setting)
    out_of_scope: int = 0
    #: each counted challenge, in input order: what the figures are made of
    each: tuple[ChallengeLine, ...] = ()

    def to_json(self) -> dict[str, object]:
        """The figures as `escalate audit --json` prints them."""
        return dict(asdict(self), inputs=[i._asdict() for i in self.inputs])


def figures(inputs: list[Input], challenges: list[Audited], now: dt.datetime) -> Figures:
    return tally(inputs, [facts(c, now) for c in challenges])


def tally(inputs: list[Input], challenges: list[Facts], out_of_scope: int = 0) -> Figures:
    by_trigger: Counter[str] = Counter()
    by_agency: Counter[str] = Counter()
    by_procedure: Counter[str] = Counter()
    highest: Counter[str] = Counter()
    outcomes: Counter[str] = Counter()
    missed = MissedBy()
    days_to_resolution: list[int] = []
    overdue, late, exports = [], 0, 0
    suspect: list[str] = []
    for c in challenges:
        suspect += c.suspect
        by_trigger.update(c.triggers)
        by_agency[c.agency] += 1
        by_procedure[c.procedure] += 1
        highest[c.highest] += 1
        outcomes[c.outcome] += 1
        missed = missed + c.missed_by
        if c.days_to_resolution is not None:
            days_to_resolution.append(c.days_to_resolution)
        if c.overdue:
            overdue.append(c.key)
        late += c.late
        exports += c.exports
    days = sorted(days_to_resolution)
    return Figures(
        inputs=inputs,
        challenges=len(challenges),
        duplicates=sum(i.challenges for i in inputs) - len(challenges) - out_of_scope,
        out_of_scope=out_of_scope,
        by_trigger=dict(by_trigger.most_common()),
        by_agency=dict(by_agency.most_common()),
        by_procedure=dict(by_procedure.most_common()),
        highest_stage=dict(sorted(highest.items())),
        outcomes=dict(outcomes.most_common()),
        working_days_to_resolution=ResolutionDays(
            len(days),
            statistics.median(days) if days else None,
            days[min(len(days) - 1, int(round(0.9 * (len(days) - 1))))] if days else None,
        ),
        timescales_missed=missed,
        open_past_deadline=overdue,
        late_entries=late,
        exports=exports,
        suspect_entries=suspect,
        each=tuple(
            ChallengeLine(
                c.key,
                c.agency,
                c.procedure,
                c.highest,
                c.outcome,
                c.overdue,
                c.missed_by,
                c.days_to_resolution,
                c.suspect,
            )
            for c in challenges
        ),
    )


def _named(title: str, items: list[str], e: Any) -> str:
    """A titled list of challenges or entries, by name, for the HTML report (nothing when empty)."""
    if not items:
        return ""
    return f"<h3>{e(title)}: {len(items)}</h3><ul>" + "".join(f"<li>{e(i)}</li>" for i in items) + "</ul>"


def audit_html(result: Figures, tz: str) -> Iterator[bytes]:
    """The figures as one self-contained HTML page, with bar charts (no scripts)."""

    def e(text: str) -> str:
        # a file name in bytes that were not UTF-8 (lone surrogates) is written as its escapes
        return html.escape(text.encode("utf-8", "backslashreplace").decode("utf-8"))

    inputs = "".join(
        f"<tr><td>{e(i.label)}</td><td>{'OK' if i.ok else 'FAILED: left out'}</td><td>{i.entries}</td>"
        f"<td>{e(i.problem or '')}</td></tr>"
        for i in result.inputs
    )
    w, m = result.working_days_to_resolution, result.timescales_missed
    resolution = (
        f"{w.resolved} resolved; median {w.median} working days, 90th percentile {w.p90}"
        if w.resolved
        else "none resolved yet"
    )
    twice = f"<p>{e(copies_counted_once(result.duplicates))}.</p>" if result.duplicates else ""
    yield (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>Escalation audit</title><style>'
        "body{font-family:sans-serif;max-width:60em;margin:2em auto;color:#111}h1,h2,h3{color:#1f4e79}"
        "table{border-collapse:collapse}td,th{border:1px solid #999;padding:4px}</style></head><body>"
        f"<h1>Escalation audit</h1><p>Produced {e(clock.show(clock.now(), tz))}.</p>"
        "<h2>Inputs (each verified first)</h2><table><tr><th>input</th><th>verified</th><th>entries</th>"
        f"<th>problem</th></tr>{inputs}</table>"
        f"<h2>{result.challenges} challenge(s) from verified inputs</h2>{twice}"
        f"<p>Working days to resolution: {resolution}.<br>Timescales missed: {html.escape(missed_words(m))}"
        f".<br>Open challenges past a deadline: "
        f"{len(result.open_past_deadline)}.<br>Late entries: {result.late_entries}.<br>Exports made: "
        f"{result.exports}.</p>{_named('Open challenges past a deadline', result.open_past_deadline, e)}"
        f"{_named('Suspect entries (warnings: each says something that cannot be true)', result.suspect_entries, e)}"
    ).encode()
    for title, key in (
        ("By trigger", "by_trigger"),
        ("By agency challenged", "by_agency"),
        ("By partnership and procedure", "by_procedure"),
        ("Highest stage reached", "highest_stage"),
        ("Outcome", "outcomes"),
    ):
        yield bar_chart(title, getattr(result, key)).encode("utf-8")
    sides = {"ours": m.us, "theirs": m.them, "shared": m.both}
    if m.unstated:
        sides["whose not stated"] = m.unstated
    yield bar_chart("Timescales missed, by side", sides).encode()
    yield _each_html(result, e).encode("utf-8")
    yield b"</body></html>\n"


def _each_html(result: Figures, e: Any) -> str:
    """Each counted challenge in a row that opens (no script: an HTML details element) on what the
    figures took from it."""
    if not result.each:
        return ""
    rows = []
    for c in result.each:
        n = len(c.suspect)
        flags = ["OVERDUE"] * c.overdue + ([f"{n} suspect entr{'y' if n == 1 else 'ies'}"] if n else [])
        days = (
            f"{c.days_to_resolution} working days to resolution" if c.days_to_resolution is not None else "not resolved"
        )
        detail = "".join(f"<li>{e(s)}</li>" for s in c.suspect)
        rows.append(
            f'<details id="{e(c.key)}"><summary>{e(c.key)} · {e(c.agency)} · {e(c.outcome)} · {e(c.highest)}'
            f"{''.join(' · ' + e(f) for f in flags)}</summary><p>Procedure: {e(c.procedure)}<br>"
            f"Timescales missed: {e(missed_words(c.missed_by))}<br>{e(days)}</p>"
            f"{('<ul>' + detail + '</ul>') if detail else ''}</details>"
        )
    return f"<h2>Each challenge ({len(result.each)})</h2>" + "".join(rows)
