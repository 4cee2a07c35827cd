"""The dashboard: open challenges by next deadline, overdue count always in view, filters and search."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Header, Input, Static
from textual.worker import get_current_worker

from escalate import clock, paths, workcalendar
from escalate.errors import EscalateError
from escalate.tui.context import dsl_app
from escalate.tui.widgets import SearchableTable
from escalate.wording import printable

if TYPE_CHECKING:  # the core's challenge and log modules load after the first frame (see render_table)
    from escalate.agenda import Agenda
    from escalate.challenge import Glance

#: agenda items the dashboard shows above the table (the rest: g, the full agenda)
AGENDA_SHOWN = 4

FILTERS = ("open", "overdue", "due this week", "resolved", "all")
#: seconds between looks at the store's head (one query)
LOOK_EVERY = 10.0
PAGE = 100  # DataTable measures every cell: show a bounded page (a screen shows 20), refine with search


class DashboardScreen(SearchableTable, Screen[None]):
    HELP_TITLE = "Dashboard"
    HELP = (
        "Your challenges, soonest deadline first. Each row shows the case reference, the agency challenged, "
        "the trigger(s), the current stage, the next deadline and whose action it is. 'f' changes the filter "
        "(open, overdue, due this week, resolved, all); '/' searches the child's name, case reference, agency, "
        "trigger and every word recorded (each word typed must begin a word recorded). "
        "Enter opens a challenge; 'n' starts a new one."
    )
    BINDINGS = [
        Binding("n", "new", "New", id="new_challenge", tooltip="Walk through opening a challenge"),
        Binding("g", "agenda", "Agenda", id="agenda", tooltip="Everything due, across your challenges"),
        Binding(
            "f", "cycle_filter", "Filter", id="cycle_filter", tooltip="open / overdue / due this week / resolved / all"
        ),
        Binding("slash", "search", "Search", id="search", tooltip="Search names, references, agency, words recorded"),
        # (in the help and the palette; the footer keeps room for F1 and F2 at 80 columns)
        Binding("r", "refresh", "Refresh", id="refresh", tooltip="Re-read the store", show=False),
        Binding("escape", "clear_search", "Clear search", id="clear_search", show=False),
        Binding("q", "app.quit", "Quit", id="dashboard_quit"),
    ]

    AUTO_FOCUS = "#challenges"  # letters are commands here; the search box takes focus only on "/"

    def __init__(self) -> None:
        super().__init__()
        self.glances: list[Glance] = []  # every challenge
        self.refs: dict[str, str] | None = None  # their case references, once someone searches
        self.filter = "open"
        self.loaded = False
        self.book: Agenda | None = None
        self.team = False

    def compose(self) -> ComposeResult:
        yield Header()
        with Vertical(id="dashboard"):
            yield Static("", id="status-line")
            yield Static("", id="agenda-panel", markup=False)
            yield Static("", id="problems", markup=False)
            yield Static("", id="intro", markup=False)
            yield Input(placeholder="/ search: child's name, case reference, agency or any words recorded", id="search")
            yield DataTable(id="challenges", cursor_type="row", zebra_stripes=True)
        yield Footer()

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        # a team store's challenges are recorded by several people: who recorded last is shown too
        # (known from the settings and --store alone: the store itself opens after the first frame)
        self.team = bool(paths.locations().store_url or dsl_app(self.app).settings.store)
        # Most important first, so an 80-column terminal shows what is due, when and whose it is.
        for label, key in (
            ("Case", "case"),
            ("When", "when"),
            ("Due", "due"),
            ("Whose", "whose"),
            *((("Last by", "by"),) if self.team else ()),
            ("Stage", "stage"),
            ("Agency", "agency"),
            ("Trigger", "trigger"),
        ):
            table.add_column(label, key=key)
        self.query_one("#problems", Static).display = False
        self.query_one("#status-line", Static).update("Loading procedures and challenges...")
        self.query_one("#search", Input).display = False
        self.refresh_data()
        self.seen_head: tuple[int, str] | None = None
        self.set_interval(LOOK_EVERY, self.look_for_changes)

    def look_for_changes(self) -> None:
        """Read the list again when the store moved on (a colleague recorded, on a team store)."""
        if not self.loaded or not self.is_current:
            return
        try:
            head = dsl_app(self.app).store.head()
        except EscalateError:
            return
        if head != self.seen_head:  # (the head the list shown was read at: see refresh_data)
            self.seen_head = head  # (one reading for it, however long it takes)
            self.refresh_data()

    def _agenda_loaded(self, book: Agenda) -> None:
        self.book = book
        self.show_agenda()

    def show_agenda(self) -> None:
        """The agenda's most pressing items above the table: what the app opens on."""
        from escalate.tui.screens.agenda import summary, when_words

        panel = self.query_one("#agenda-panel", Static)
        book = self.book
        if book is None or not self.glances:
            panel.display = False
            return
        tz = dsl_app(self.app).settings.timezone
        more = len(book.items) - AGENDA_SHOWN
        lines = [summary(book) + (" · g: the full agenda" if book.items else "")]
        for item in book.items[:AGENDA_SHOWN]:
            due = f"{clock.show(item.due, tz)[:10]}: " if item.due else ""
            lines.append(f"{when_words(item.when)} {item.challenge} {item.case_ref} · {due}{item.what}")
        if more > 0:
            lines.append(f"and {more} more: g shows them all")
        # one line per item, cut at the edge: the full agenda (g) has room for each in full
        panel.update(Text(printable("\n".join(lines)), no_wrap=True, overflow="ellipsis"))
        panel.display = True

    def show_problems(self) -> None:
        problems = dsl_app(self.app).ensure_catalogue().problems
        panel = self.query_one("#problems", Static)
        if problems:
            lines = [f"{len(problems)} problem(s) in procedure files (valid procedures are still usable):"]
            lines += [f"  {p}" for p in problems]
            panel.update("\n".join(lines))
            panel.display = True
        else:
            panel.display = False

    @work(thread=True, exclusive=True)
    def refresh_data(self) -> None:
        from escalate import agenda, journal  # lazy: the log and pydantic: 74 ms

        app = dsl_app(self.app)
        worker = get_current_worker()
        with app.store_lock:  # (a reading started while another runs waits for it, then reads afresh)
            if worker.is_cancelled:
                return
            try:
                catalogue = app.ensure_catalogue()
                head = app.store.head()  # (before the list: an entry recorded meanwhile is read again)
                glances = journal.glances(app.store)
            except EscalateError as exc:
                self.app.call_from_thread(app.show_error, exc)
                if not worker.is_cancelled:
                    self.app.call_from_thread(self._loaded, [], None)
                return
            if worker.is_cancelled:  # a later reading replaced this one: its rows are newer
                return
            # the list first (a glance each), then the agenda, which reads every open challenge in full
            self.app.call_from_thread(self._loaded, glances, head)
            try:
                book = agenda.of_store(app.store, catalogue, app.settings, app.now())
                app.store.prepare_search()
            except EscalateError as exc:
                self.app.call_from_thread(app.show_error, exc)
                return
            if not worker.is_cancelled:
                self.app.call_from_thread(self._agenda_loaded, book)

    def _loaded(self, glances: list[Glance], head: tuple[int, str] | None) -> None:
        self.glances, self.refs, self.seen_head = glances, None, head
        self.loaded = True
        self.show_agenda()
        self.show_problems()
        self.render_table()

    def matching(self) -> list[Glance]:
        """The challenges the filter and the search keep, overdue first, then soonest deadline first:
        from the glances alone (only the page shown is read in full)."""
        now = dsl_app(self.app).now()
        query = self.query_one("#search", Input).value.strip().lower()
        if query and self.refs is None:
            from escalate import journal  # (loaded by refresh_data by now)

            try:
                self.refs = journal.case_refs(dsl_app(self.app).store, self.glances)
            except EscalateError as exc:
                dsl_app(self.app).show_error(exc)
                self.refs = {}
        recorded = self.recorded_matches(query) if query else set()
        # a search looks through every challenge: a child's name is typed to find a closed one too
        kept = "all" if query else self.filter
        out = []
        for g in self.glances:
            if kept == "open" and not g.is_open:
                continue
            if kept == "overdue" and not g.overdue(now):
                continue
            if kept == "resolved" and g.is_open:
                continue
            if kept == "due this week" and (
                g.next_due is None or workcalendar.working_days_between(now, g.next_due, g.region) > 5
            ):
                continue
            listed = " ".join([(self.refs or {}).get(g.challenge, ""), g.agency, *g.triggers]).lower()
            if query and query not in listed and g.challenge not in recorded:
                continue
            out.append(g)
        far = clock.from_iso("2099-12-31T00:00:00.000000Z")
        out.sort(key=lambda g: (not g.overdue(now), g.next_due or far))
        return out

    def recorded_matches(self, query: str) -> set[str]:
        """The challenges whose entries hold every word of ``query`` (the child's name, any words
        recorded): escalate.search, over the store's index."""
        from escalate import search  # (loaded by refresh_data by now)
        from escalate.errors import UsageError

        try:
            with dsl_app(self.app).store_lock:
                return {c for c, _, _ in dsl_app(self.app).store.search(search.words(query), search.HITS_READ)}
        except UsageError:  # punctuation alone: no words to look for
            return set()
        except EscalateError as exc:
            dsl_app(self.app).show_error(exc)
            return set()

    def render_table(self) -> None:
        # imported here: with the log and its pydantic models it is 90 ms the first frame would wait for
        from escalate.briefing import next_due

        now, tz = dsl_app(self.app).now(), dsl_app(self.app).settings.timezone
        from escalate import journal  # (loaded by refresh_data by now)

        table = self.query_one(DataTable)
        table.clear()
        rows = self.matching()
        try:
            page = journal.list_views(dsl_app(self.app).store, [g.challenge for g in rows[:PAGE]], now)
        except EscalateError as exc:
            dsl_app(self.app).show_error(exc)
            page = []
        names = self.last_by_names(page) if self.team else {}
        for v in page:
            state = v.state
            due, rel = next_due(v, now, tz)
            nd = v.next_deadline
            whose = {"us": "ours", "them": "theirs", "both": "both"}.get(nd.owner, "") if nd else ""
            triggers = ", ".join(state.triggers)
            by = (Text(printable(names.get(state.last_by or "", state.last_by or "-"))),) if self.team else ()
            table.add_row(  # a str cell is read as markup: the user's words go in as Text
                Text(("RISK " if state.immediate_risk else "") + printable(v.case_ref)),
                ("! " if v.overdue else "") + rel,
                due,
                whose,
                *by,
                f"{v.stage_index} of {v.stage_count}",
                Text(printable(state.agency)),
                triggers,
                key=state.challenge,
            )
        open_n = sum(1 for g in self.glances if g.is_open)
        overdue = sum(1 for g in self.glances if g.overdue(now))
        shown = f"showing {min(len(rows), PAGE)} of {len(rows)}" + (" (search to narrow)" if len(rows) > PAGE else "")
        self.query_one("#status-line", Static).update(
            f"[b]{open_n}[/] open · [b]{overdue}[/] OVERDUE · "
            + (
                "searching [b]all[/] challenges"
                if self.query_one("#search", Input).value.strip()
                else f"filter: [b]{self.filter}[/]"
            )
            + f" · {shown}"
        )
        team = self.team_words()
        if team:  # in the header, where the app's own line is: always in view, never cut by the table
            self.sub_title = team
        self.query_one("#intro", Static).update(self.intro_text())
        self.query_one("#intro", Static).display = not self.glances
        table.display = bool(self.glances)
        self.query_one("#search", Input).display = bool(self.glances)
        if self.glances and self.focused is None:
            table.focus()

    def last_by_names(self, page: list[Any]) -> dict[str, str]:
        """The names of who recorded each shown challenge's last entry (sealed in the log: the store
        discloses them to whoever may see the challenge)."""
        digests = sorted({v.state.last_by for v in page if v.state.last_by and len(v.state.last_by) == 64})
        try:
            return dsl_app(self.app).store.disclosure_values(digests) if digests else {}
        except EscalateError as exc:
            dsl_app(self.app).show_error(exc)
            return {}

    def team_words(self) -> str:
        """On a team store: who is signed in, and which store (a DSL sees their setting, a lead all)."""
        store = dsl_app(self.app).store
        if store.local:
            return ""
        try:
            me = store.person()
        except EscalateError:
            me = None
        who = f"{me['name']}, {me['role']}, {me['setting']}" if me else "an administrator"
        return f"{who} · {store.path}"

    def intro_text(self) -> str:
        from escalate import journal  # (loaded by refresh_data by now)

        app = dsl_app(self.app)
        cat = app.catalogue
        where = paths.locations()
        lines = ["No challenges yet. Press n to start one; F1 explains every key.", ""]
        try:
            s = journal.recording_as(app.settings, app.store)  # (a team store knows who is signed in)
        except EscalateError:
            s = app.settings
        if not s.name or not s.role:
            lines += ["Your name and role are not set: press F2 (Settings) first. Every entry records who made it.", ""]
        lines.append("Procedures loaded:")
        if cat is None:  # still being read after the first frame (a key pressed at once lands here)
            lines.append("  (loading...)")
        else:
            lines += [f"  {lp.id} ({cat.origin[lp.id]})" for lp in cat.procedures.values()] or ["  none"]
        lines += [
            "",
            f"Your own partnership's procedure: copy TEMPLATE.toml from {where.bundled_procedures} "
            f"into {where.user_procedures} and fill it in.",
        ]
        return "\n".join(lines)

    # --- actions -----------------------------------------------------------------------

    def action_cycle_filter(self) -> None:
        self.filter = FILTERS[(FILTERS.index(self.filter) + 1) % len(FILTERS)]
        self.render_table()

    def action_agenda(self) -> None:
        from escalate.tui.screens.agenda import AgendaScreen

        if self.book is None:
            self.app.notify("Still reading the challenges; try again in a moment.")
            return

        def opened(challenge: str | None) -> None:
            if challenge:
                self.open_challenge(challenge)

        self.app.push_screen(AgendaScreen(self.book), opened)

    def action_refresh(self) -> None:
        self.refresh_data()

    def action_new(self) -> None:
        from escalate.tui.screens.wizard import NewChallengeScreen  # lazy: 184 ms: when the wizard opens

        catalogue = dsl_app(self.app).catalogue
        if catalogue is None:
            self.app.notify("Still loading the procedures; try again in a moment.")
            return
        if not catalogue.procedures:
            self.app.notify("No valid procedure is loaded: see the problems listed.", severity="error")
            return
        self.app.push_screen(NewChallengeScreen(), self._opened)

    def _opened(self, challenge: str | None) -> None:
        self.refresh_data()
        if challenge:
            self.open_challenge(challenge)

    def open_challenge(self, challenge: str) -> None:
        from escalate.tui.screens.challenge import ChallengeScreen  # lazy: 192 ms: when a challenge opens

        def refresh(_: object) -> None:
            self.refresh_data()

        self.app.push_screen(ChallengeScreen(challenge), refresh)

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        self.open_challenge(str(event.row_key.value))

    def commands(self) -> list[tuple[str, str, Any]]:
        return [
            ("Challenge: new", "Open a new challenge", self.action_new),
            ("Dashboard: agenda", "Everything due, across your challenges", self.action_agenda),
            ("Dashboard: filter", "Cycle the filter", self.action_cycle_filter),
            ("Dashboard: search", "Search challenges", self.action_search),
            ("Dashboard: refresh", "Re-read the store", self.action_refresh),
        ]
