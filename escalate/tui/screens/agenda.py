"""The full agenda: every item due across the challenges, soonest first; Enter opens its challenge."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Header, Static

from escalate import clock
from escalate.tui.context import dsl_app
from escalate.wording import printable

if TYPE_CHECKING:
    from escalate.agenda import Agenda

#: an item's place, as its row says it (words, never colour alone)
WHEN_WORDS = {"overdue": "OVERDUE", "today": "today", "week": "this week", "later": "later", "waiting": "look"}


def when_words(when: str) -> str:
    return WHEN_WORDS.get(when, when)


class AgendaScreen(Screen[str | None]):
    """Dismissed with the challenge to open, or None."""

    HELP_TITLE = "Agenda"
    HELP = (
        "Everything due across your challenges, overdue first: deadlines, actions agreed (record one done "
        "with d on its challenge), follow-ups after a resolution, challenges with no deadline running, and "
        "immediate-risk steps not yet recorded. Enter opens the challenge; Esc goes back. `escalate agenda` "
        "prints the same list, and `escalate calendar` puts it in your calendar."
    )
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,backspace", "back", "Back", id="agenda_back", tooltip="Dashboard"),
    ]
    AUTO_FOCUS = "#agenda-items"

    def __init__(self, book: Agenda) -> None:
        super().__init__()
        self.book = book

    def compose(self) -> ComposeResult:
        yield Header()
        with Vertical():
            yield Static("", id="agenda-summary")
            yield DataTable(id="agenda-items", cursor_type="row", zebra_stripes=True)
            yield Static("", id="agenda-detail", markup=False)
        yield Footer()

    def on_mount(self) -> None:
        tz = dsl_app(self.app).settings.timezone
        book = self.book
        self.query_one("#agenda-summary", Static).update(summary(book))
        table = self.query_one(DataTable)
        for label in ("When", "Due", "Case", "What"):
            table.add_column(label, key=label.lower())
        for n, item in enumerate(book.items):
            table.add_row(
                when_words(item.when),
                short_due(item.due, tz) if item.due else "-",
                Text(f"{item.challenge} {printable(item.case_ref)}"),
                Text(printable(item.what)),
                key=f"{n}:{item.challenge}",
            )
        table.display = bool(book.items)
        self.show_detail(0)

    def show_detail(self, row: int) -> None:
        """The chosen item in full under the table (its row is cut at the screen's edge)."""
        detail = self.query_one("#agenda-detail", Static)
        if not 0 <= row < len(self.book.items):
            detail.update("")
            return
        item = self.book.items[row]
        tz = dsl_app(self.app).settings.timezone
        due = f"Due {clock.show(item.due, tz)}" if item.due else "No date"
        owner = f" · {item.owner}" if item.owner else ""
        detail.update(
            printable(f"{item.challenge} · {item.case_ref} · {item.agency}\n{item.what}\n{due}{owner}")
            + "\nEnter opens the challenge."
        )

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        self.show_detail(event.cursor_row)

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        self.dismiss(str(event.row_key.value).split(":", 1)[1])

    def action_back(self) -> None:
        self.dismiss(None)


def short_due(due: dt.datetime, tz: str) -> str:
    """'Tue 17 Nov 17:00': a row's due time without the year and offset (the detail has them)."""
    shown = clock.show(due, tz)
    return f"{shown[:10]} {shown[16:21]}"


def summary(book: Agenda) -> str:
    """One line: how much is due, by when (plain text)."""
    if not book.items:
        return "Nothing is due: no deadline, agreed action or follow-up is waiting."
    counts = [
        (len(book.under("overdue")), "overdue"),
        (len(book.under("today")), "due today"),
        (len(book.under("week")), "due within a week"),
        (len(book.under("later")), "later"),
        (len(book.under("waiting")), "to look at"),
    ]
    return "Agenda: " + " · ".join(f"{n} {words}" for n, words in counts if n)
