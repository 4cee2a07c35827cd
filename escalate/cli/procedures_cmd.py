"""CLI handlers: procedures list/show/validate/schema, locate, due."""

from __future__ import annotations

import argparse
import datetime as dt
import json
from pathlib import Path
from typing import TYPE_CHECKING

from escalate import clock, paths, settings, workcalendar
from escalate.catalogue import COVERS, discover, files_in, source_dirs
from escalate.cli.console import err, escape, out, plain, readable
from escalate.errors import EscalateError, ProcedureFileError, UsageError
from escalate.exit_codes import ExitCode
from escalate.procedure_file import load
from escalate.wording import (
    OWNER_WORDS,
    contact_line,
    describe_start,
    describe_timescale,
    not_covered,
    printable,
    stage_guidance,
    what_words,
)

if TYPE_CHECKING:  # each command imports what it uses when it runs
    from escalate.catalogue import Catalogue


def _catalogue(args: argparse.Namespace) -> Catalogue:

    return discover(getattr(args, "procedures", None))


def _setting(key: str, default: str) -> str:
    """One of the user's settings; a procedures command never fails on the settings file."""

    try:
        return str(getattr(settings.load(), key))
    except EscalateError:
        return default


def _timezone() -> str:
    """The user's time zone, for dates shown."""

    return _setting("timezone", clock.DEFAULT_TZ)


def _report_problems(catalogue: Catalogue) -> None:
    for problem in catalogue.problems:
        err().print(f"[yellow]warning:[/] {escape(readable(str(problem)))}", soft_wrap=True)
    for winner, loser in catalogue.overridden:
        err().print(
            f"[dim]note: {escape(winner.id)} from {escape(winner.path)} overrides {escape(loser.path)}[/]",
            soft_wrap=True,
        )


def cmd_list(args: argparse.Namespace) -> int:
    catalogue = _catalogue(args)
    own = settings.load().own_procedures
    if getattr(args, "json", False):
        rows = [
            {
                "id": lp.id,
                "name": lp.procedure.name,
                "partnership": lp.procedure.partnership,
                "applies_to": lp.procedure.applies_to,
                "yours": lp.id in own,
                "version": lp.procedure.version,
                "region": lp.procedure.region,
                "source": catalogue.origin[lp.id],
                "path": lp.path,
                "fingerprint": lp.fingerprint,
            }
            for lp in catalogue.in_order(own)
        ]
        plain(json.dumps(rows, indent=2, ensure_ascii=False))
    else:
        from rich.table import Table  # lazy: 13 ms, where a table is printed

        table = Table(
            title="Procedures",
            title_justify="left",
            caption="`escalate procedures show ID` for details",
            caption_justify="left",
        )
        table.add_column("procedure: id, partnership, name and version", ratio=1)
        table.add_column("covers", max_width=10)
        table.add_column("from", no_wrap=True)
        for lp in catalogue.in_order(own):
            p = lp.procedure
            table.add_row(
                f"[b]{lp.id}[/]" + (" (your partnership)" if lp.id in own else "") + f"\n{escape(p.partnership)}\n"
                f"[dim]{escape(p.name)}; version {escape(p.version)}[/]",
                COVERS.get(p.applies_to, p.applies_to),
                catalogue.origin[lp.id],
            )
        if not catalogue.procedures:
            out().print("No procedures loaded. `escalate locate` shows where to put procedure files.")
        else:
            out().print(table)
    _report_problems(catalogue)
    return ExitCode.OK


def cmd_show(args: argparse.Namespace) -> int:
    """Everything the procedure file says, in reading order; every text from the file printed literally."""

    catalogue = _catalogue(args)
    lp = catalogue.get(args.id)
    p = lp.procedure
    console = out()

    from rich.text import Text  # lazy: with rich.console, which out() has loaded

    def line(text: str, indent: int = 0, style: str = "") -> None:
        console.print(Text(printable(" " * indent + text), style=style))  # a Text is never read as markup

    def heading(title: str) -> None:
        console.print()
        line(title, style="bold underline")

    line(f"{p.name} ({p.id})", style="bold")
    line(f"{p.partnership} · version {p.version} · {p.applies_to} · region {p.region}")
    if p.area:
        line(f"Area served: {p.area}")
    line(f"Working day ends {p.cutoff:%H:%M} · the procedure calls a stage: {p.stage_label}")
    line(f"File: {lp.path}")
    line(f"Fingerprint: {lp.fingerprint}")
    src = p.source
    line(
        f"Source: {src.title}"
        + (f" <{src.url}>" if src.url else "")
        + (f" (retrieved {src.retrieved})" if src.retrieved else "")
    )
    for url in src.other_urls:
        line(f"Also: <{url}>")
    if src.coverage:
        line(f"Coverage: {src.coverage}")
    line(p.check_note, style="italic")
    routes = [("main", "Main ladder", None)] + [(r.id, f"Route: {r.name}", r) for r in p.routes]
    for route_id, title, route in routes:
        heading(title)
        if route is not None:
            line(f"when: {route.when}", 2)
            line(f"id {route.id} (`escalate open --route {route.id}`)", 2)
            if route.started_by:
                line(f"started by: {route.started_by}", 2)
            if route.exit:
                line(f"it ends in: {route.exit}", 2)
        for stage in p.ladder(route_id):
            line(
                f"{p.name_of(stage, route_id)}: {stage.title}" + (f" [{stage.group}]" if stage.group else ""),
                style="bold",
            )
            if stage.before_disagreement:
                line("before any disagreement: following up a referral (`escalate open --referral` starts here)", 2)
            line(f"raised by: {'; '.join(stage.raised_by) or 'not stated'}", 2)
            line(f"received by: {'; '.join(stage.received_by) or 'not stated'}", 2)
            line(f"how: {', '.join(stage.medium) or 'not stated'}", 2)
            for action in stage.actions:
                line(f"do: {action}", 2)
            for d in stage.deadlines:
                line(
                    f"deadline {d.id} ({OWNER_WORDS[d.owner]}): {what_words(d.what)} — "
                    f"{describe_timescale(d.timescale)}{'; ' if d.starts == 'not-stated' else ' '}"
                    f"{describe_start(d.starts, d.starts_wording)}",
                    2,
                )
                if d.also_read_as is not None:
                    line(f"the source also says: {describe_timescale(d.also_read_as)} (shown, not computed)", 4)
                if d.met_by:
                    line(f"met by: {', '.join(d.met_by)}", 4)
            for n in stage.notify:
                line(
                    f"notify ({'required' if n.required else 'optional'}): {n.to}"
                    + (f" ({n.how})" if n.how else "")
                    + (f" · form: {n.form}" if n.form else ""),
                    2,
                )
                if n.condition:
                    line(f"only if: {n.condition} (asked, and recorded as answered)", 4)
                if n.timescale is not None:
                    line(f"how soon: {describe_timescale(n.timescale)} {describe_start(n.starts, n.starts_wording)}", 4)
            for text in stage_guidance(stage, p):
                line(text[0].lower() + text[1:], 2)
    for limit in p.limits:
        console.print()
        line(
            f"Overall limit {limit.id}: {limit.what} — {describe_timescale(limit.timescale)} across "
            f"{p.name_of(limit.from_stage)} to {p.name_of(limit.to_stage)}, from entering the first",
            style="bold",
        )
    for rule in p.skip_rules:
        console.print()
        offered = " (offered for immediate risk)" if rule.immediate_risk else ""
        line(f"Skip rule {rule.id}{offered}", style="bold red")
        line(f"when: {rule.when}", 2)
        line(rule.instruction, 2)
        if rule.timescale is not None:
            line(f"how soon: {describe_timescale(rule.timescale)}", 2)
        if rule.contact_directly:
            line(f"contact directly: {'; '.join(rule.contact_directly)}", 2)
        on = "" if rule.route == "main" else f" of route {rule.route}"
        starts = [p.name_of(n, rule.route) for n in rule.starts()]
        if len(starts) == 1:
            line(f"start at {starts[0]}{on}", 2)
        elif starts:
            line(f"may start at {' or '.join(starts)}{on} (`escalate open --start-stage NUMBER`)", 2)

    def section(title: str, lines: list[str]) -> None:
        if lines:
            heading(title)
            for text in lines:
                line(text, 2)

    for item in p.disagreements:
        heading(f"Disagreement {item.id}: {item.title}")
        line(f"counted as: {', '.join(item.triggers)}", 2)
        for text in item.wording:
            line(f"wording: {text}", 2)
        for text in item.examples:
            line(f"example: {text}", 2)
        for text in item.checks:
            line(f"check: {text}", 2)
    for trigger, local in p.triggers.items():
        heading(f"Trigger {trigger}: this procedure's words")
        for text in local.wording:
            line(f"wording: {text}", 2)
        for text in local.examples:
            line(f"example: {text}", 2)
        for text in local.checks:
            line(f"check: {text}", 2)
    section("Not covered by this procedure", not_covered(p))
    for form in p.forms:
        users = [p.name_of(s) for s in p.stages if form.name in s.forms] + [
            f"{r.name}, {p.name_of(s, r.id)}" for r in p.routes for s in r.stages if form.name in s.forms
        ]
        heading(f"Form: {form.name}")
        if form.url:
            line(f"where: {form.url}", 2)
        if form.when:
            line(f"when: {form.when}", 2)
        line(f"used at: {'; '.join(users) or 'no stage names it'}", 2)
        for field in form.fields:
            line(f"heading: {field}", 2)
    if not p.outcomes_captured:
        heading("Outcomes it names")
        line("not captured from the source (which may name some)", 2)
    section("Outcomes it names", p.outcomes)
    if p.complaints_route:
        heading("If still dissatisfied")
        line(p.complaints_route, 2)
    section("Notes", p.notes)
    today = clock.today(_timezone()) if p.contacts else None
    section("Named contacts", [contact_line(contact, today) for contact in p.contacts])
    return ExitCode.OK


def cmd_validate(args: argparse.Namespace) -> int:

    problems = 0
    checked = 0
    today = clock.today(_timezone())
    for raw in args.paths:
        path = Path(raw)
        as_folder = path.is_dir() and path.suffix != ".toml"
        targets = files_in(path, include_template=True) if as_folder else [path]
        if as_folder and not targets:
            err().print(f"[red]{escape(raw)}: folder has no .toml procedure files[/]", soft_wrap=True)
            problems += 1
        for target in targets:
            checked += 1
            try:
                loaded = load(target)
            except ProcedureFileError as exc:
                for problem in exc.problems:
                    problems += 1
                    err().print(f"[red]error[/] {escape(readable(str(problem)))}", soft_wrap=True)
                continue
            out().print(f"[green]ok[/] {escape(str(target))}: {escape(loaded.id)} ({loaded.fingerprint[:16]})")
            for contact in loaded.procedure.contacts:  # valid, but worth a look: not a problem
                if contact.review_overdue(today):
                    out().print(
                        f"  [yellow]note[/] contact {escape(contact.name)} ({escape(contact.role)}) is past its "
                        f"review date, {contact.review_by:%d %b %Y}: check it is still right",
                        soft_wrap=True,
                    )
    if problems:
        err().print(f"{problems} problem{'s' if problems != 1 else ''} found in {checked} file(s).", soft_wrap=True)
        return ExitCode.BAD_INPUT
    out().print(f"All {checked} file(s) valid.")
    return ExitCode.OK


def cmd_schema(args: argparse.Namespace) -> int:
    from escalate.schema import procedure_schema  # lazy: the procedure models: 55 ms

    plain(json.dumps(procedure_schema(), indent=2, ensure_ascii=False))
    return ExitCode.OK


def cmd_upgrade(args: argparse.Namespace) -> int:
    from escalate.procedure_upgrade import AlreadyCurrent, upgrade  # lazy: tomlkit, only here

    path = Path(args.path)
    output = Path(args.output) if args.output else None
    try:
        loaded = upgrade(path, output)
    except AlreadyCurrent:
        out().print(escape(f"{path} is already format 2: nothing to upgrade."), soft_wrap=True)
        return ExitCode.OK
    except ProcedureFileError as exc:
        for problem in exc.problems:
            err().print(f"[red]error[/] {escape(readable(str(problem)))}", soft_wrap=True)
        err().print(escape(readable(f"{path} was not upgraded: nothing was written.")), soft_wrap=True)
        return ExitCode.BAD_INPUT
    written = f", written to {output}" if output else ""
    out().print(escape(f"upgraded {path} to format 2 ({loaded.id}), comments kept{written}"), soft_wrap=True)
    return ExitCode.OK


def cmd_locate(args: argparse.Namespace) -> int:

    where = paths.locations()
    console = out()
    rows = [
        ("data folder", where.data_dir),
        ("store", where.store),
        ("config folder", where.config_dir),
        ("settings", where.settings),
        ("user procedures", where.user_procedures),
        ("cache folder", where.cache_dir),
        ("bundled procedures", where.bundled_procedures),
    ]
    for label, path in rows:
        try:
            state = "" if path.exists() else "  (not created yet)"
        except OSError as exc:  # locate is where a user looks when a folder is wrong: say why, keep listing
            state = f"  (cannot be used: {exc.strerror or exc})"
        console.print(escape(f"{label + ':':<20} {path}{state}"), soft_wrap=True)
    console.print("procedure search order (nearest first; a nearer file with the same id wins):")
    for source in source_dirs(getattr(args, "procedures", None)):
        console.print(escape(f"  {source.label + ':':<21} {source.path}"), soft_wrap=True)
    return ExitCode.OK


def cmd_due(args: argparse.Namespace) -> int:

    try:
        amount = int(args.amount)
    except ValueError:
        raise UsageError(
            f"amount {args.amount!r} is not a whole number", hint="e.g. escalate due 5 working-days"
        ) from None
    if amount < 0:
        raise UsageError(f"amount {amount} is negative: expected 0 or more")
    unit = args.unit.strip().lower().replace("_", "-")
    aliases = {"working-day": "working-days", "hour": "hours", "calendar-day": "calendar-days", "days": "calendar-days"}
    unit = aliases.get(unit, unit)
    if unit not in workcalendar.UNITS:
        raise UsageError(f"unit {args.unit!r} is not known", hint="Expected working-days, hours or calendar-days.")
    if args.region is None:  # the user's own region (`config set region`), as the settings say
        args.region = _setting("region", "england-and-wales")
    if args.region not in workcalendar.REGION_SUBDIVISIONS:
        raise UsageError(
            f"region {args.region!r} has no calendar",
            hint="Expected " + ", ".join(workcalendar.REGION_SUBDIVISIONS) + ".",
        )
    try:
        cutoff = dt.time.fromisoformat(args.cutoff)
    except ValueError:
        raise UsageError(f"cutoff {args.cutoff!r} is not a time", hint="Expected HH:MM, e.g. 17:00.") from None
    start = clock.parse_time(args.start, what="--from") if args.start else clock.now()
    due = workcalendar.add(start, amount, unit, args.region, cutoff)
    console = out()
    console.print(f"From: {clock.show(start)}")
    if unit != "hours":
        counted = workcalendar.effective_day(start, args.region, cutoff) if unit == "working-days" else None
        if counted and counted != start.astimezone(workcalendar.UK).date():
            console.print(f"Counts from: {counted:%a %d %b %Y} (after the {cutoff:%H:%M} cut-off or not a working day)")
    console.print(f"Due:  {clock.show(due)}  ({amount} {unit}, {args.region})")
    return ExitCode.OK
