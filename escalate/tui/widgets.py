"""Widgets: the stage ladder, and a chronology that reads only the entries on screen.

A DataTable measures every cell of every row; a challenge with 10,000 entries would stall.
:class:`Chronology` uses Textual's line API instead: it knows how many entries there are,
and fetches a page of them (from the store, or an exported file) when a line of that page
is first drawn.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, ClassVar

from rich.segment import Segment
from rich.style import Style
from textual import events
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.content import Content
from textual.geometry import Size
from textual.message import Message
from textual.scroll_view import ScrollView
from textual.strip import Strip
from textual.widgets import Checkbox, DataTable, Input, RadioButton, SelectionList, Static, TabbedContent, TabPane
from textual.widgets.option_list import OptionDoesNotExist

from escalate import clock
from escalate.wording import printable

if TYPE_CHECKING:  # the log's modules load after the first frame (see Chronology.render_line)
    from escalate.challenge import ChallengeView
    from escalate.journal import ChronologyItem

PAGE = 100
LINES_PER_ENTRY = 3  # header, what happened, blank


class Chronology(ScrollView, can_focus=True):
    """Every entry of one challenge: occurred and recorded times, author, text, amendments, late marks.
    One entry is selected (shown reversed while the chronology has focus); Enter reads it in full."""

    BINDINGS = [
        Binding("up,k", "move(-1)", "Previous entry", show=False, id="chron_up"),
        Binding("down,j", "move(1)", "Next entry", show=False, id="chron_down"),
        Binding("pageup", "page(-1)", "Page up", show=False, id="chron_page_up"),
        Binding("pagedown", "page(1)", "Page down", show=False, id="chron_page_down"),
        Binding("home", "move_to(0)", "First", show=False, id="chron_home"),
        Binding("end", "move_to(-1)", "Last", show=False, id="chron_end"),
        Binding("enter", "open", "Read entry", id="chron_open", show=False),  # (F1 lists it; the footer keeps F2)
    ]

    class Opened(Message):
        """Enter (or a double click) on an entry: the screen shows it in full."""

        def __init__(self, item: ChronologyItem) -> None:
            super().__init__()
            self.item = item

    def __init__(self, fetch: Callable[[int, int], list[ChronologyItem]], timezone: str, **kw: Any) -> None:
        """``fetch(after, limit)``: chronology items (see journal.annotate) after entry ``after``."""
        super().__init__(**kw)
        self.fetch, self.timezone = fetch, timezone
        self.total = 0
        self.cursor = 0
        self.pages: dict[int, list[ChronologyItem]] = {}

    def reload(self, total: int) -> None:
        self.total = total
        self.cursor = min(self.cursor, max(total - 1, 0))
        self.pages.clear()
        self.virtual_size = Size(self.size.width, total * LINES_PER_ENTRY)
        self.refresh()

    def action_move(self, step: int) -> None:
        self.action_move_to(min(max(self.cursor + step, 0), max(self.total - 1, 0)))

    def action_page(self, direction: int) -> None:
        self.action_move(direction * max(self.size.height // LINES_PER_ENTRY, 1))

    def action_move_to(self, index: int) -> None:
        self.cursor = max(self.total - 1, 0) if index < 0 else index
        top = self.cursor * LINES_PER_ENTRY
        if top < self.scroll_offset.y:
            self.scroll_to(y=top, animate=False)
        elif top + LINES_PER_ENTRY - 1 > self.scroll_offset.y + self.size.height:
            self.scroll_to(y=top + LINES_PER_ENTRY - 1 - self.size.height, animate=False)
        self.refresh()

    def action_open(self) -> None:
        item = self.item(self.cursor) if self.total else None
        if item is not None:  # (none where a page could not be read: the store's message is already shown)
            self.post_message(self.Opened(item))

    def on_click(self, event: events.Click) -> None:
        index = (self.scroll_offset.y + event.y) // LINES_PER_ENTRY
        if 0 <= index < self.total:
            self.cursor = index
            self.refresh()
            if event.chain >= 2:
                self.action_open()

    def on_focus(self) -> None:
        self.refresh()

    def on_blur(self) -> None:
        self.refresh()

    def item(self, index: int) -> ChronologyItem | None:
        page = index // PAGE
        if page not in self.pages:
            self.pages[page] = self.fetch(page * PAGE, PAGE)
        rows = self.pages[page]
        return rows[index % PAGE] if index % PAGE < len(rows) else None

    def render_line(self, y: int) -> Strip:

        width = self.size.width
        line = self.scroll_offset.y + y
        index, part = divmod(line, LINES_PER_ENTRY)
        if index >= self.total or part == 2:
            return Strip.blank(width, self.rich_style)
        item = self.item(index)
        if item is None:
            return Strip.blank(width, self.rich_style)
        if item.unreadable:  # changed outside escalate: its place, and what to do
            text = (
                f"#{item.cseq} {item.kind}: this entry cannot be read"
                if part == 0
                else "   it was changed outside escalate: run escalate verify, which names the first damaged entry"
            )
            style = self.rich_style + Style(bold=part == 0)
        elif part == 0:
            marks = ""
            if item.late:
                marks += " [LATE ENTRY]"
            if item.amended_by:
                marks += " [amended by #" + ", #".join(map(str, item.amended_by)) + "]"
            author = item.author.get("name", "?")
            text = (
                f"#{item.cseq} {clock.show(item.occurred_at, self.timezone)} · recorded "
                f"{clock.show(item.recorded_at, self.timezone)} · {author}{marks}"
            )
            style = self.rich_style + Style(bold=True)
        else:
            from escalate import journal  # (loaded by the time there is an entry to show)

            text = "   " + journal.describe(item)
            style = self.rich_style
        if index == self.cursor and self.has_focus:
            style += Style(reverse=True)
        text = printable(text)[self.scroll_offset.x : self.scroll_offset.x + width]  # (segments go out raw)
        return Strip([Segment(text.ljust(width), style)], width)

    def on_resize(self) -> None:
        self.virtual_size = Size(self.size.width, self.total * LINES_PER_ENTRY)


def challenge_tabs(fetch: Callable[[int, int], list[ChronologyItem]], timezone: str) -> ComposeResult:
    """The tabs of a challenge (Now, Ladder, Chronology), for the DSL's view and the auditor's."""
    with TabbedContent(initial="tab-now"):
        with TabPane("Now", id="tab-now"):
            with VerticalScroll():
                yield Static("", id="deadlines")
        with TabPane("Ladder", id="tab-ladder"):
            with VerticalScroll():
                yield Static("", id="ladder", markup=False)
        with TabPane("Chronology", id="tab-chronology"):
            yield Chronology(fetch, timezone, id="chronology")


class PagedTabs:
    """Screen mixin: PageUp and PageDown scroll the tab on show (Now and Ladder are longer than 24 rows,
    and the tabs, which hold the focus, do not scroll them)."""

    PAGE_BINDINGS: ClassVar[list[BindingType]] = [
        Binding("pagedown", "page(1)", "Scroll down", id="page_down", show=False),
        Binding("pageup", "page(-1)", "Scroll up", id="page_up", show=False),
    ]

    def action_page(self, direction: int) -> None:
        tabs = self.query_one(TabbedContent)  # type: ignore[attr-defined]
        pane = tabs.get_pane(tabs.active)
        target = next(iter(pane.query(VerticalScroll)), None) or next(iter(pane.query(Chronology)), None)
        if target is None:
            return
        if direction > 0:
            target.scroll_page_down(animate=False)
        else:
            target.scroll_page_up(animate=False)


class SearchableTable:
    """Screen mixin: a ``#search`` Input narrowing a DataTable. The screen provides ``loaded`` and
    ``render_table()``; Enter in the search box goes back to the table, Esc clears the search."""

    loaded: bool

    def on_input_changed(self, event: Input.Changed) -> None:
        if self.loaded:
            self.render_table()  # type: ignore[attr-defined]

    def on_input_submitted(self, event: Input.Submitted) -> None:
        self.query_one(DataTable).focus()  # type: ignore[attr-defined]

    def action_search(self) -> None:
        self.query_one("#search", Input).focus()  # type: ignore[attr-defined]

    def action_clear_search(self) -> None:
        self.query_one("#search", Input).value = ""  # type: ignore[attr-defined]
        self.query_one(DataTable).focus()  # type: ignore[attr-defined]


def esc(text: str) -> str:
    """Text shown inside Textual markup, with its square brackets kept literal (and no control
    character that would reach the terminal raw)."""
    return printable(str(text)).replace("[", "\\[")


def briefing_text(view: ChallengeView, now: dt.datetime, tz: str, *, hints: bool = True) -> str:
    """The Now tab: the challenge's briefing (:mod:`escalate.briefing`, which `escalate show` prints too),
    headings in bold. ``hints`` names the key that steps up (not in read-only views)."""
    from escalate import briefing  # (loaded by the time there is a view: see the module's imports)

    lines: list[str] = []
    for section in briefing.brief(view, now, tz).sections:
        hint = " (u steps up)" if hints and section.heading == "If not resolved, next" else ""
        lines.append(("\n" if lines else "") + f"[b]{esc(section.heading)}[/]{esc(section.lead)}{hint}")
        lines += [f"  {esc(line)}" for line in section.lines]
    return "\n".join(lines)


def header_text(view: ChallengeView, now: dt.datetime, tz: str) -> str:
    """A challenge's screen header: who and where it stands, and its next deadline."""
    from escalate import briefing  # (as above)

    b = briefing.brief(view, now, tz)
    newer = f"\n[b]{esc(briefing.NEWER_VERSION)}[/]" if b.newer_version else ""
    return (
        f"[b]{esc(b.case_ref)}[/] · {b.challenge} · {esc(b.agency)} · {esc(b.status)}\n"
        f"{esc(b.procedure)} · {esc(b.position)}\nNext deadline: {esc(b.next_due)}{newer}"
    )


def ladder_text(view: ChallengeView, tz: str) -> str:
    """All stages of the route, the current one marked, with time spent and each stage's timescales."""
    from escalate import briefing  # (as above)

    return printable("\n".join(briefing.ladder(view, tz)))


# --- choices that read without colour ------------------------------------------------------------
# Textual draws a ticked and an unticked box alike ("X"), told apart by colour alone: under NO_COLOR,
# or to a colour-blind DSL, they look the same. These say it in characters.


class TickBox(Checkbox):
    """A check box drawn [x] or [ ]."""

    @property
    def _button(self) -> Content:
        return Content.styled("[x]" if self.value else "[ ]", self.get_visual_style("toggle--button"))


class RadioChoice(RadioButton):
    """A radio button drawn (*) or ( )."""

    @property
    def _button(self) -> Content:
        return Content.styled("(*)" if self.value else "( )", self.get_visual_style("toggle--button"))


class TickList(SelectionList[str]):
    """A selection list whose options are drawn [x] or [ ]."""

    def render_line(self, y: int) -> Strip:
        strip = super().render_line(y)
        segments = list(strip)
        _, scroll_y = self.scroll_offset
        try:
            option = self.get_option_at_index(scroll_y + y)
        except OptionDoesNotExist:
            return strip
        if len(segments) < 4:  # (not a line that starts with a box)
            return strip
        mark = "[x]" if option.value in self.selected else "[ ]"
        return Strip([Segment(mark, segments[1].style), *segments[3:]], strip.cell_length)
