"""The auditor's read-only view of exported files: inputs, figures, challenges, one chronology.

Nothing here can record anything: there is no store, and no key or command appends.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Header, Input, Static

from escalate import clock, journal
from escalate.audit import Audited, Figures
from escalate.briefing import position
from escalate.challenge import ChallengeView
from escalate.tui.context import shared_app
from escalate.tui.widgets import Chronology, PagedTabs, SearchableTable, briefing_text, challenge_tabs, esc, ladder_text
from escalate.wording import copies_counted_once, missed_words

PAGE = 500  # rows drawn at once; search narrows the rest


@dataclass(frozen=True)
class Row:
    """A challenge in the auditor's table: where it came from, and its view (its case reference as the
    file discloses it, or "(withheld)")."""

    audited: Audited
    view: ChallengeView


class AuditScreen(SearchableTable, Screen[None]):
    HELP_TITLE = "Audit (read-only)"
    HELP = (
        "The exported logs you opened. Each file was verified before anything was read from it: a file that "
        "failed is listed with the reason and left out of the figures and the table. The table lists every "
        "challenge of the files that passed; Enter opens one (its deadlines, ladder and chronology). "
        "'/' searches case reference, agency, trigger, procedure and file. Nothing can be recorded here."
    )
    BINDINGS = [
        Binding("slash", "search", "Search", id="audit_search", tooltip="Search the challenges"),
        Binding("q", "app.quit", "Quit", id="audit_quit"),
        Binding("escape", "clear_search", "Clear search", id="audit_clear", show=False),
    ]

    def __init__(self, files: list[str]) -> None:
        super().__init__()
        self.files = files
        self.items: list[Row] = []
        self.shown: list[Row] = []
        self.loaded = False

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static(f"Verifying {len(self.files)} file(s)...", id="audit-inputs")
        yield Static("", id="audit-figures")
        yield Input(placeholder="/ search case reference, agency, trigger, procedure, file", id="search")
        yield DataTable(id="challenges", cursor_type="row", zebra_stripes=True)
        yield Footer()

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        for label in ("file", "challenge", "case", "status", "stage", "agency", "procedure", "entries"):
            table.add_column(label, key=label)
        self.load()

    @work(thread=True, exclusive=True)
    def load(self) -> None:
        from escalate import audit  # lazy: 91 ms, for the audit only
        from escalate.challenge import derive  # lazy: pydantic: 67 ms, after the first frame

        now = shared_app(self.app).now()
        inputs, challenges = audit.load(self.files, now=now)
        figures = audit.figures(inputs, challenges, now)
        items = []
        for c in challenges:
            view = c.view if c.view_at == now and c.view is not None else derive(c.state, c.procedure, now)
            items.append(Row(c, replace(view, case_ref=c.value(c.state.case_ref_sd))))
        self.app.call_from_thread(self._loaded, inputs, figures, items)

    def _loaded(self, inputs: list[Any], figures: Figures, items: list[Row]) -> None:
        self.items, self.loaded = items, True
        lines = []
        for i in inputs:
            if i.ok:
                withheld = f", {i.withheld} personal field(s) withheld" if i.withheld else ""
                lines.append(f"[b]VERIFIED[/] {esc(i.label)}: {i.entries} entries{withheld}")
            else:
                lines.append(f"[b]FAILED[/] {esc(i.label)}: {esc(i.problem or '')} [b](left out)[/]")
        self.query_one("#audit-inputs", Static).update("\n".join(lines))
        self.query_one("#audit-figures", Static).update(_figures_text(figures))
        self.render_table()
        self.query_one(DataTable).focus()

    def matching(self) -> list[Row]:
        query = self.query_one("#search", Input).value.strip().lower()
        if not query:
            return self.items
        out = []
        for item in self.items:
            state, c = item.view.state, item.audited
            text = " ".join([item.view.case_ref, state.agency, state.procedure_id, c.key, *state.triggers]).lower()
            if query in text:
                out.append(item)
        return out

    def render_table(self) -> None:
        table = self.query_one(DataTable)
        table.clear()
        rows = self.matching()
        for n, item in enumerate(rows[:PAGE]):
            v, c = item.view, item.audited
            state = v.state
            status = state.outcome or ("OVERDUE" if v.overdue else state.status)
            source = Path(c.source).name + (f" +{len(c.also_in)}" if c.also_in else "")
            table.add_row(  # a str cell is read as markup: the file's words go in as Text
                Text(source),
                state.challenge,
                Text(v.case_ref),
                Text(status),
                f"{v.stage_index} of {v.stage_count}",
                Text(state.agency),
                state.procedure_id,
                str(state.entries),
                key=str(n),
            )
        self.shown = rows[:PAGE]
        more = f" · showing {PAGE} of {len(rows)}: search to narrow" if len(rows) > PAGE else ""
        self.query_one(
            "#search", Input
        ).placeholder = f"/ search {len(rows)} challenge(s): case reference, agency, trigger, procedure, file{more}"

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        item = self.shown[int(event.row_key.value or 0)]
        self.app.push_screen(AuditChallengeScreen(item))

    def commands(self) -> list[tuple[str, str, Any]]:
        return [("Audit: search", "Search the challenges", self.action_search)]


class AuditChallengeScreen(PagedTabs, Screen[None]):
    HELP_TITLE = "Challenge (read-only)"
    HELP = (
        "One challenge from a verified export: its deadlines as the procedure snapshot it was opened under "
        "says, the ladder, and the chronology (when each thing happened and when it was recorded; late "
        "entries and amendments are marked; up and down choose an entry, Enter reads it in full). Personal "
        "fields the export withheld read '(withheld)'. Esc goes back. Nothing can be recorded here."
    )
    BINDINGS = [
        Binding("escape,backspace", "back", "Back", id="audit_back", tooltip="The list of challenges"),
        *PagedTabs.PAGE_BINDINGS,
    ]

    def __init__(self, item: Row) -> None:
        super().__init__()
        self.view, self.audited = item.view, item.audited
        corrections = [e for e in self.audited.rows if e.kind == "amendment"]
        self.chronology = journal.annotate(self.audited.rows, corrections, self.audited.values())

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static("", id="challenge-header")
        yield from challenge_tabs(
            lambda after, limit: self.chronology[after : after + limit], shared_app(self.app).settings.timezone
        )
        yield Footer()

    def on_mount(self) -> None:
        v, tz = self.view, shared_app(self.app).settings.timezone
        state, p = v.state, v.procedure
        status = state.status.upper() + (f" ({state.outcome})" if state.outcome else "")
        opened = clock.show(clock.from_iso(state.opened_at), tz)
        self.query_one("#challenge-header", Static).update(
            f"[b]{esc(v.case_ref)}[/] · {state.challenge} · {esc(state.agency)} · {status} · "
            f"opened {opened}\n{esc(p.name)} ({p.id}, {esc(p.version)}) · {esc(position(v))}"
            f"\nFrom {esc(self.audited.source)}"
            + (f" (also in {esc(', '.join(self.audited.also_in))})" if self.audited.also_in else "")
            + " (verified; read-only)"
        )
        self.query_one("#deadlines", Static).update(briefing_text(v, shared_app(self.app).now(), tz, hints=False))
        self.query_one("#ladder", Static).update(ladder_text(v, tz))
        self.query_one(Chronology).reload(len(self.chronology))

    def on_chronology_opened(self, event: Chronology.Opened) -> None:
        from escalate.tui.dialogs import EntryDialog  # lazy: 185 ms with the form widgets: after the first frame

        self.app.push_screen(EntryDialog(event.item, shared_app(self.app).settings.timezone))

    def action_back(self) -> None:
        self.app.pop_screen()


def _figures_text(f: Figures) -> str:
    def top(data: dict[str, int], n: int = 4) -> str:
        items = list(data.items())
        text = ", ".join(f"{esc(k)} {v}" for k, v in items[:n])
        return text + (f", +{len(items) - n} more" if len(items) > n else "") if items else "none"

    days = f.working_days_to_resolution
    resolution = (
        f"median {days.median}, 90th percentile {days.p90} working days ({days.resolved} resolved)"
        if days.resolved
        else "none resolved yet"
    )
    missed = f.timescales_missed
    duplicates = f" ({copies_counted_once(f.duplicates)})" if f.duplicates else ""
    return (
        f"[b]{f.challenges} challenge(s)[/]{duplicates} · outcomes: {top(f.outcomes)} · "
        f"open past a deadline: {len(f.open_past_deadline)}\n"
        f"Triggers: {top(f.by_trigger)}\nAgencies: {top(f.by_agency)}\n"
        f"Resolution: {resolution} · timescales missed: {missed_words(missed)} · "
        f"late entries {f.late_entries} · exports {f.exports}"
        + (
            f"\n[b]Suspect entries: {len(f.suspect_entries)}[/] (each says something that cannot be true): "
            + "; ".join(esc(s) for s in f.suspect_entries[:3])
            + (
                f"; +{len(f.suspect_entries) - 3} more (`escalate audit --json` lists them)"
                if len(f.suspect_entries) > 3
                else ""
            )
            if f.suspect_entries
            else ""
        )
    )
