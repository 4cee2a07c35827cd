"""CLI handlers over the challenge log: open, record, step-up, resolve, amend, list, show, verify, config."""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
from dataclasses import asdict, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from escalate import clock, paths, settings
from escalate.catalogue import discover
from escalate.cli import AppRequest
from escalate.cli.console import err, escape, out, plain
from escalate.cli.log_parser import WARNINGS_SHOWN
from escalate.entry import parse_person
from escalate.errors import UsageError
from escalate.exit_codes import ExitCode
from escalate.wording import copies_counted_once, describe_timescale, immediate_risk_instruction, missed_words

if TYPE_CHECKING:  # each command imports what it uses when it runs
    import datetime as dt

    from escalate.catalogue import Catalogue
    from escalate.challenge import ChallengeView, DeadlineRow, ListView
    from escalate.journal import ChronologyItem
    from escalate.settings import Settings


def _settings() -> Settings:

    return settings.load()


def _catalogue(args: argparse.Namespace) -> Catalogue:

    return discover(getattr(args, "procedures", None))


def _person(text: str | None) -> dict[str, str] | None:

    return parse_person(text) if text else None


def cmd_open(args: argparse.Namespace) -> int:
    from escalate import journal  # lazy: the log and pydantic: 74 ms

    settings = _settings()
    catalogue = _catalogue(args)
    procedure = args.procedure or next(iter(settings.own_procedures), None)
    if procedure is None:
        raise UsageError(
            "which procedure? give --procedure ID",
            hint="`escalate procedures list` lists them; `escalate config set partnerships ID` sets your default.",
        )
    with journal.open_store() as store:
        stored = journal.open_challenge(
            store,
            catalogue,
            settings,
            procedure_id=procedure,
            triggers=args.trigger,
            case_ref=args.case_ref,
            agency=args.agency,
            decision=args.decision,
            concern=args.concern,
            outcome_sought=args.outcome_sought,
            immediate_risk=args.immediate_risk,
            at=args.at,
            decision_at=args.decision_at,
            decision_by=_person(args.decision_by),
            decision_ref=args.decision_ref,
            evidence=args.evidence,
            route=args.route,
            subject_name=args.subject_name,
            protective_by=args.protective_by,
            start_stage=args.start_stage,
            referral=args.referral,
        )
        view = journal.view(store, catalogue, stored.challenge)
    plain(stored.challenge)
    if args.immediate_risk:
        text = immediate_risk_instruction(view.procedure)
        err().print(f"[bold red]Immediate risk:[/] {escape(text)}", soft_wrap=True)
    return ExitCode.OK


FIELD_OPTIONS = {
    "summary": "summary",
    "direction": "direction",
    "medium": "medium",
    "decision": "decision",
    "rationale": "rationale",
    "action": "action",
    "owner": "owner",
    "due": "due",
    "deadline": "deadline",
    "new_due": "new_due",
    "reason": "reason",
    "to": "to",
    "form": "form",
    "decision_ref": "decision_ref",
    "trigger": "triggers",
    "history": "history",
    "action_seq": "action_seq",
}


def cmd_record(args: argparse.Namespace) -> int:
    from escalate import journal  # lazy: the log and pydantic: 74 ms
    from escalate.entry_kinds import KINDS  # lazy: pydantic and the entry models: 53 ms

    spec = KINDS[args.kind]
    data: dict[str, Any] = {}
    given = []
    for option, field in FIELD_OPTIONS.items():
        value = getattr(args, option)
        if option == "direction" and args.kind != "contact":
            continue
        if value is None:
            continue
        if field not in spec:
            given.append("--" + option.replace("_", "-"))
            continue
        data[field] = value
    if args.with_:
        if "with" not in spec:
            given.append("--with")
        else:
            data["with"] = _person(args.with_)
    if args.agreed_by:
        if "agreed_by" not in spec:
            given.append("--agreed-by")
        else:
            data["agreed_by"] = _person(args.agreed_by)
    if args.decision_by:
        if "decision_by" not in spec:
            given.append("--decision-by")
        else:
            data["decision_by"] = _person(args.decision_by)
    if "action_seq" in data:
        if not data["action_seq"].strip().isdigit():
            raise UsageError(
                f"--action-seq {data['action_seq']!r} is not an entry number",
                hint="Give the number of the action-agreed entry, as `escalate show` lists it.",
            )
        data["action_seq"] = int(data["action_seq"])
    if given:
        raise UsageError(
            f"{args.kind} does not take {', '.join(given)}", hint=f"{args.kind} fields: " + ", ".join(spec)
        )
    if args.kind == "contact":
        data.setdefault("medium", "phone")
    settings = _settings()
    with journal.open_store(create=False) as store:
        challenge = store.resolve_id(args.challenge)
        stored = journal.record(store, settings, challenge, args.kind, data, args.at)
    plain(f"{stored.challenge} #{stored.cseq} {stored.kind} recorded")
    return ExitCode.OK


def cmd_step_up(args: argparse.Namespace) -> int:
    from escalate import journal  # lazy: the log and pydantic: 74 ms

    settings = _settings()
    catalogue = _catalogue(args)
    with journal.open_store(create=False) as store:
        challenge = store.resolve_id(args.challenge)
        stored = journal.step_up(store, settings, challenge, args.reason, args.at)
        view = journal.view(store, catalogue, challenge)
    stage = view.stage
    plain(f"{stored.challenge} stepped up to stage {stage.number}: {stage.title}")
    console = out()
    for n in view.notifications_required:
        console.print(f"Required: notify {escape(n.to)}" + (f" ({escape(n.how)})" if n.how else ""))
    for a in stage.actions:
        console.print(f"  - {escape(a)}")
    return ExitCode.OK


def cmd_resolve(args: argparse.Namespace) -> int:
    from escalate import journal  # lazy: the log and pydantic: 74 ms

    settings = _settings()
    with journal.open_store(create=False) as store:
        challenge = store.resolve_id(args.challenge)
        stored = journal.record(
            store,
            settings,
            challenge,
            "resolved",
            {"outcome": args.outcome, "rationale": args.rationale, "impact": args.impact, "lessons": args.lessons},
            args.at,
        )
    plain(f"{stored.challenge} #{stored.cseq} {args.outcome}")
    return ExitCode.OK


def cmd_amend(args: argparse.Namespace) -> int:
    from escalate import journal  # lazy: the log and pydantic: 74 ms

    try:
        target = int(args.seq)
    except ValueError:
        raise UsageError(f"entry number {args.seq!r} is not a whole number") from None
    settings = _settings()
    with journal.open_store(create=False) as store:
        challenge = store.resolve_id(args.challenge)
        stored = journal.amend(store, settings, challenge, target, args.field, args.value, args.reason)
    plain(f"{stored.challenge} #{stored.cseq} amendment of #{target} recorded")
    return ExitCode.OK


# --- reading -----------------------------------------------------------------------------


def _dumps(data: Any) -> str:
    """JSON for scripts: indented for a person at a terminal, compact (and much faster) in a pipe."""

    indent = 2 if sys.stdout.isatty() else None
    return json.dumps(data, indent=indent, ensure_ascii=False, default=str)


def _deadline_json(row: DeadlineRow) -> dict[str, Any]:

    return {
        "id": row.id,
        "stage": row.stage,
        "what": row.what,
        "owner": row.owner,
        "starts": row.starts,
        "timescale": describe_timescale(row.timescale),
        "start": clock.iso(row.start) if row.start else None,
        "due": clock.iso(row.due) if row.due else None,
        "met_at": clock.iso(row.met_at) if row.met_at else None,
        "status": row.status,
        "extended": row.extended,
    }


def _summary_json(view: ListView | ChallengeView) -> dict[str, Any]:
    state = view.state
    nd = view.next_deadline
    return {
        "id": state.challenge,
        "case_ref": view.case_ref,
        "status": state.status,
        "outcome": state.outcome,
        "procedure": state.procedure_id,
        "procedure_version": state.procedure_version,
        "procedure_fingerprint": state.fingerprint,
        "agency": state.agency,
        "triggers": list(state.triggers),
        "immediate_risk": state.immediate_risk,
        "stage": state.stage,
        "stage_title": view.stage_title,
        "stage_count": view.stage_count,
        "route": state.route,
        "overdue": view.overdue,
        "next_deadline": _deadline_json(nd) if nd else None,
        "entries": state.entries,
    }


def _next_first(view: ListView) -> tuple[bool, str]:
    """Soonest next deadline first; challenges without one last."""
    due = view.next_deadline.due if view.next_deadline is not None else None
    return (due is None, due.isoformat() if due is not None else "")


def _when(view: ListView, now: dt.datetime, tz: str) -> str:
    from escalate.briefing import next_due  # lazy: the log and pydantic: 72 ms

    due, words = next_due(view, now, tz)
    return "-" if due == "-" else f"{due} ({words})"


def cmd_list(args: argparse.Namespace) -> int:
    from escalate import journal  # lazy: the log and pydantic: 74 ms

    settings = _settings()
    now = clock.now()
    with journal.open_store() as store:
        # Each challenge is derived from the procedure snapshot it was opened under: no discovery needed.
        views = journal.summaries(store, now=now)
    if args.open:
        views = [v for v in views if v.state.status == "open"]
    if args.overdue:
        views = [v for v in views if v.overdue]
    if args.json:
        plain(_dumps([_summary_json(v) for v in views]))
        return ExitCode.OK
    if not views:
        out().print("No challenges" + (" match." if args.open or args.overdue else " yet: `escalate open --help`."))
        return ExitCode.OK
    from rich.table import Table  # lazy: 13 ms, where a table is printed

    table = Table(
        caption=f"{len(views)} challenge(s); {sum(1 for v in views if v.overdue)} with something overdue",
        caption_justify="left",
    )
    for col in ("id", "case", "agency", "stage", "status", "next deadline"):
        table.add_column(col, overflow="fold")
    for v in sorted(views, key=_next_first):
        state = v.state
        status = ("OVERDUE" if v.overdue else state.status) + (" · RISK" if state.immediate_risk else "")
        table.add_row(
            state.challenge,
            escape(v.case_ref),
            escape(state.agency),
            f"{v.stage_index}/{v.stage_count}",
            status,
            _when(v, now, settings.timezone),
        )
    out().print(table)
    return ExitCode.OK


def cmd_show(args: argparse.Namespace) -> int:
    from escalate import briefing, journal  # lazy: the log and pydantic: 72 ms

    settings = _settings()
    catalogue = _catalogue(args)
    tz = settings.timezone
    with journal.open_store(create=False) as store:
        challenge = store.resolve_id(args.challenge)
        view = journal.view(store, catalogue, challenge)
        rows = journal.chronology(store, challenge)
    if args.json:
        plain(_dumps(_show_json(view, rows, tz)))
        return ExitCode.OK
    console = out()
    b = briefing.brief(view, clock.now(), tz)
    console.print(f"[bold]{b.challenge}[/] · case {escape(b.case_ref)} · {escape(b.agency)} · {b.status}")
    console.print(f"Procedure: {escape(b.procedure)}")
    if b.newer_version:
        console.print(f"[yellow]{escape(briefing.NEWER_VERSION)}[/]")
    console.print(f"{escape(b.position)} · next deadline: {escape(b.next_due)}")
    for section in b.sections:
        console.print(f"\n[bold]{escape(section.heading)}[/]{escape(section.lead)}")
        for line in section.lines:
            console.print(f"  {escape(line)}")
    console.print("\n[bold]Chronology[/] (occurred · recorded · by)")
    for r in rows:
        late = " [LATE ENTRY]" if r.late else ""
        amended = f" [amended by #{', #'.join(map(str, r.amended_by))}]" if r.amended_by else ""
        author = r.author.get("name", "?")
        console.print(
            escape(
                f"#{r.cseq:<3} {clock.show(r.occurred_at, tz)} · recorded "
                f"{clock.show(r.recorded_at, tz)} · {author}{late}{amended}"
            )
        )
        console.print(f"     {escape(journal.describe(r))}")
    return ExitCode.OK


def _show_json(view: ChallengeView, rows: list[ChronologyItem], tz: str) -> dict[str, Any]:

    from escalate import journal  # lazy: the log and pydantic: 74 ms

    data = _summary_json(view)
    data["route_name"] = next((r.name for r in view.procedure.routes if r.id == view.state.route), "main ladder")
    data["immediate_risk"] = view.state.immediate_risk
    data["skip_rule"] = view.state.skip_rule or None
    data["corrected"] = list(view.state.corrected)  # the opening's fields an amendment corrected
    data["suspect"] = [{"seq": n, "why": why} for n, why in view.state.suspect]  # entries that cannot be true
    nxt = view.next_stage
    chronology: list[dict[str, Any]] = [
        {
            "seq": r.cseq,
            "kind": r.kind,
            "occurred_at": clock.iso(r.occurred_at) if r.occurred_at else None,
            "recorded_at": clock.iso(r.recorded_at) if r.recorded_at else None,
            "author": dict(r.author),
            "data": dict(r.data),
            "late": r.late,
            "amended_by": list(r.amended_by),
            "corrected": dict(r.corrected),
            "text": journal.describe(r),
        }
        for r in rows
    ]
    if chronology:  # (none where the store was changed to lose them)
        chronology[0]["data"].pop("procedure_text", None)  # the snapshot is long; `export` carries it
    data.update(
        {
            "deadlines": [_deadline_json(r) for r in view.deadlines],
            "missed": [_deadline_json(r) for r in view.missed],
            "missed_by": asdict(view.missed_by),
            "late_entries": list(view.late_entries),
            "newer_procedure_version": view.newer_version,
            "notifications": [
                {"to": n.to, "how": n.how, "form": n.form, "required": n.required, "sent": due.sent}
                for due in view.notifications
                for n in (due.notification,)
            ],
            "contacts": [
                dict(c.model_dump(mode="json"), review_overdue=c.review_overdue(clock.today(tz))) for c in view.contacts
            ],
            "next_stage": (
                {"number": nxt.number, "title": nxt.title, "raised_by": nxt.raised_by, "received_by": nxt.received_by}
                if nxt
                else None
            ),
            "chronology": chronology,
        }
    )
    return data


def cmd_verify(args: argparse.Namespace) -> int:
    from escalate import verify  # lazy: 13 ms, for the commands that verify

    expect = verify.parse_fingerprint(args.expect) if args.expect else None
    if args.file and args.store:
        raise UsageError("give a FILE or --store, not both")
    if args.file:
        from escalate.carried import verify_path  # lazy: reports and pydantic, for the commands that verify

        report = verify_path(args.file, expect)
    else:
        from escalate import journal  # lazy: the log and pydantic: 74 ms

        with journal.open_store(create=False, readonly=True) as store:
            report = verify.verify_store(store, expect)
            # the caches lists and screens read, against the log (once the log itself holds)
            problem = journal.store_problem(store) if report.ok and not args.chain_only else None
            if problem is not None:
                report = replace(report, ok=False, problem=problem)

    shown = report.warnings if args.all_warnings else report.warnings[:WARNINGS_SHOWN]
    for warning in shown:
        err().print(f"[yellow]warning:[/] {escape(warning)}", soft_wrap=True)
    if len(shown) < len(report.warnings):
        err().print(
            f"[yellow]warning:[/] ... and {len(report.warnings) - len(shown)} more "
            "(`escalate verify --all-warnings` prints them all)",
            soft_wrap=True,
        )
    if report.ok:
        withheld = f"; {report.withheld} personal field(s) withheld" if report.withheld else ""
        plain(f"OK {report.count} entries; head fingerprint {report.fingerprint}{withheld}")
        if report.made_again:
            plain(f"OK the {report.made_again} file says what the log it carries says, word for word")
        if args.signers:
            return _signed(args)
        return ExitCode.OK
    plain(f"FAILED at {report.problem}")
    return ExitCode.CHECK_FAILED


def _signed(args: argparse.Namespace) -> int:
    """verify --signers, once the chain holds: every checkpoint's signature and the head it signed."""
    from escalate import checkpoint  # lazy: cryptography, for the commands that check signatures

    signers = checkpoint.read_signers(Path(args.signers))
    if args.file:
        from escalate.carried import lines_of  # lazy: reports and pydantic, as verify_path above

        header, records = lines_of(args.file)
        signed = checkpoint.check_lines(records, signers, header)
    else:
        from escalate import journal  # lazy: the log and pydantic: 74 ms

        with journal.open_store(create=False, readonly=True) as store:
            signed = checkpoint.check_store(store, signers)
    if not signed.ok:
        plain(f"FAILED signatures: {signed.problem}")
        return ExitCode.CHECK_FAILED
    for c in signed.checked:
        plain(f"OK entries 1 to {c.count} signed by {c.principal} ({c.fingerprint}) at entry {c.seq}")
    if signed.unchecked:
        plain(f"note: {signed.unchecked} checkpoint(s) sign entries this file does not hold the hashes of")
    if signed.unsigned:
        plain(f"not yet signed: the {signed.unsigned} entr{'y' if signed.unsigned == 1 else 'ies'} after entry "
              f"{signed.signed_upto}")  # fmt: skip
    return ExitCode.OK


def cmd_export(args: argparse.Namespace) -> int:

    from escalate import journal  # lazy: the log and pydantic: 74 ms
    from escalate.export import export  # lazy: the log, reports and pydantic: 88 ms

    if args.schema:
        from escalate.export import schema_text  # lazy: the log, reports and pydantic: 88 ms

        plain(schema_text())
        return ExitCode.OK
    if not args.output:
        raise UsageError("no output file", hint="Add -o PATH (e.g. -o log.jsonl).")
    if args.all and args.challenges:
        raise UsageError("give challenge ids or --all, not both")
    if not args.all and not args.challenges:
        raise UsageError("nothing selected", hint="Give challenge ids, or --all.")
    if (args.open or args.resolved or args.since) and not args.all:
        raise UsageError("--open, --resolved and --since narrow --all", hint="Add --all, or give challenge ids only.")
    if args.open and args.resolved:
        raise UsageError("give --open or --resolved, not both")
    settings = _settings()
    since = None
    if args.since:
        since = clock.iso(clock.parse_time(args.since, settings.timezone, what="--since"))
    with journal.open_store(create=False) as store:
        if args.all and not (args.open or args.resolved or since):
            ids, scope = store.challenge_ids(), "all"  # no filter: no challenge's state is needed
        elif args.all:
            states = store.states()
            if args.open:
                states = [s for s in states if s.status == "open"]
            if args.resolved:
                states = [s for s in states if s.status != "open"]
            if since:  # whole challenges, so the file still verifies: active on or after the date
                states = [s for s in states if s.last_at >= since]
            ids = [s.challenge for s in states]
            filters = (
                (["open"] if args.open else [])
                + (["resolved"] if args.resolved else [])
                + ([f"since {args.since.strip()}"] if since else [])
            )
            scope = "+".join(filters) or "all"
        else:
            ids = [store.resolve_id(c) for c in args.challenges]
            scope = "selection"
        with _progress_bar("Exporting") as progress:
            sha, count = export(
                store,
                settings,
                lambda: _catalogue(args),
                ids,
                Path(args.output),
                fmt=args.format,
                redact=args.redact,
                force=args.force,
                scope=scope,
                progress=progress,
                withhold=args.withhold,
            )
    plain(f"exported {count} entries of {len(ids)} challenge(s) to {args.output} (sha256 {sha[:16]}...)")
    return ExitCode.OK


class _progress_bar:
    """A Rich progress bar on stderr when it is a terminal; a silent callback otherwise."""

    def __init__(self, label: str) -> None:

        self.label = label
        self.bar: Any = None
        if sys.stderr.isatty():
            from rich.progress import Progress  # lazy: 21 ms, where a bar is drawn

            self.bar = Progress(console=err(), transient=True)

    def __enter__(self) -> Any:
        if self.bar is None:
            return None
        self.bar.start()
        task = self.bar.add_task(self.label, total=None)
        return lambda done, total: self.bar.update(task, completed=done, total=total)

    def __exit__(self, *exc: object) -> None:
        if self.bar is not None:
            self.bar.stop()


def cmd_pack(args: argparse.Namespace) -> int:

    from escalate import journal  # lazy: the log and pydantic: 74 ms
    from escalate.export import pack  # lazy: the log, reports and pydantic: 88 ms

    settings = _settings()
    with journal.open_store(create=False) as store:
        challenge = store.resolve_id(args.challenge)
        output = Path(args.output or f"pack-{challenge}.{args.format}")
        sha = pack(store, settings, _catalogue(args), challenge, output, fmt=args.format, force=args.force)
    plain(f"dispute pack for {challenge} written to {output} (sha256 {sha[:16]}...)")
    return ExitCode.OK


def cmd_audit(args: argparse.Namespace) -> int | AppRequest:
    from escalate import audit_file  # lazy: 92 ms, for the audit only

    if not args.files and not args.store:
        raise UsageError("nothing to audit", hint="Give exported .jsonl files, or --store.")
    limited = bool(args.since or args.until or args.setting)
    if args.tui:
        if args.store or args.json or args.html or limited:
            raise UsageError(
                "--tui browses exported files only, on its own",
                hint="`escalate audit FILE... --tui`; without --store, --json, --html, --since, --until or "
                "--setting. Your own store opens in the app: run `escalate`.",
            )

        if not (sys.stdin.isatty() and sys.stdout.isatty()):
            raise UsageError("--tui needs a terminal", hint="Without --tui, audit prints its summary.")
        return AppRequest(audit_files=args.files)
    if args.html:  # refused before the inputs are read, not after
        from escalate.export import check_name, check_output  # lazy: the log, reports and pydantic: 88 ms

        target = Path(args.html)
        check_name(target, "html")
        check_output(target, args.force)
    scope = _audit_scope(args) if limited else None
    if args.store:
        from escalate import journal  # lazy: the log and pydantic: 74 ms

        with journal.open_store(create=False, readonly=True) as store:
            result = audit_file.summarise(args.files, store, scope=scope)
    else:
        result = audit_file.summarise(args.files, scope=scope)
    failed = [i for i in result.inputs if not i.ok]
    if args.html:
        from escalate import audit  # lazy: 91 ms, for the audit only
        from escalate.export import write_atomic  # lazy: the log, reports and pydantic: 88 ms

        check_output(target, args.force)  # again: the file may have appeared meanwhile
        write_atomic(target, audit.audit_html(result, _settings().timezone))
        err().print(f"audit report written to {escape(str(target))}", soft_wrap=True)
    if args.json:
        plain(_dumps(result.to_json()))
        return ExitCode.CHECK_FAILED if failed else ExitCode.OK
    from rich.table import Table  # lazy: 13 ms, where a table is printed

    console = out()
    inputs = Table(title="Inputs (each verified first)", title_justify="left")
    for col in ("input", "verified", "entries", "problem"):
        inputs.add_column(col, overflow="fold")
    for i in result.inputs:
        inputs.add_row(escape(i.label), "OK" if i.ok else "FAILED: left out", str(i.entries), escape(i.problem or ""))
    console.print(inputs)
    twice = f" ({copies_counted_once(result.duplicates)})" if result.duplicates else ""
    limits = f"; {result.out_of_scope} left out by the limits given" if limited else ""
    console.print(f"\n[bold]{result.challenges} challenge(s)[/] from verified inputs{twice}{limits}\n")

    def counts(title: str, data: dict[str, Any]) -> None:
        table = Table(title=title, title_justify="left")
        table.add_column(title.split(" by ")[-1] if " by " in title else "value", overflow="fold")
        table.add_column("challenges", justify="right")
        for key, n in data.items():
            table.add_row(escape(str(key)), str(n))
        console.print(table)

    counts("Challenges by trigger", result.by_trigger)
    counts("Challenges by agency", result.by_agency)
    counts("Challenges by procedure", result.by_procedure)
    counts("Challenges by highest stage reached", result.highest_stage)
    counts("Challenges by outcome", result.outcomes)
    w = result.working_days_to_resolution
    m = result.timescales_missed
    if w.resolved:
        console.print(f"Working days to resolution: {w.resolved} resolved; median {w.median}, 90th percentile {w.p90}")
    else:
        console.print("Working days to resolution: none resolved yet")
    console.print(f"Timescales missed: {missed_words(m)}")
    console.print(
        f"Open challenges past a deadline: {len(result.open_past_deadline)}"
        + (
            f" ({', '.join(result.open_past_deadline[:10])}{' ...' if len(result.open_past_deadline) > 10 else ''})"
            if result.open_past_deadline
            else ""
        )
    )
    console.print(f"Late entries (recorded over 24 hours after they happened): {result.late_entries}")
    console.print(f"Exports made: {result.exports}")
    suspect = result.suspect_entries
    console.print(f"Suspect entries (each says something that cannot be true): {len(suspect)}")
    for line in suspect[:10]:
        console.print(f"  [yellow]warning:[/] {escape(line)}", soft_wrap=True)
    if len(suspect) > 10:
        console.print(f"  ... and {len(suspect) - 10} more (`--json` lists them all)")
    if failed:
        err().print(f"[red]{len(failed)} input(s) failed verification and are not counted.[/]", soft_wrap=True)
        return ExitCode.CHECK_FAILED
    return ExitCode.OK


def _audit_scope(args: argparse.Namespace) -> Any:
    """The challenges an audit counts, from --since, --until (whole days, in your time zone, unless a
    time is given) and --setting."""
    from escalate.audit import Scope  # lazy: 91 ms, for the audit only

    tz = _settings().timezone
    since = clock.parse_time(args.since, tz, what="--since") if args.since else None
    until = None
    if args.until:
        until = clock.parse_time(args.until, tz, what="--until")
        if len(args.until.strip()) == 10:  # a date: to the end of that day
            until = clock.parse_time(
                (dt.date.fromisoformat(args.until.strip()) + dt.timedelta(days=1)).isoformat(), tz, what="--until"
            )
    if since is not None and until is not None and until <= since:
        raise UsageError(f"--until {args.until} is not after --since {args.since}", hint="Give the earlier date first.")
    settings_named = tuple(s.strip() for s in args.setting if s.strip())
    if args.setting and not settings_named:
        raise UsageError("--setting is empty", hint="Give the setting's name as its DSLs' settings give it.")
    return Scope(
        clock.iso(since) if since else None,
        clock.iso(until) if until else None,
        settings_named,
    )


def cmd_config_show(args: argparse.Namespace) -> int:

    current = settings.load()
    for key, value in current._asdict().items():
        plain(f"{key} = {value if value else '(not set)'}")
    plain(f"# file: {paths.locations().settings}")
    return ExitCode.OK


def cmd_config_set(args: argparse.Namespace) -> int:

    updated = settings.set_value(args.key, args.value)
    plain(f"{args.key} = {getattr(updated, args.key)}")
    return ExitCode.OK
