"""Dialogs: one form dialog for every "record something" action, a confirmation, a progress
dialog for long work (exports), one chronology entry in full, and help.

The form dialog checks each field before anything is saved and shows what is wrong next to
the field. Saving calls the core; if the core refuses (a locked store, a full disk, a rule)
the message is shown in the dialog and everything typed is kept.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from rich.table import Table
from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, ProgressBar, Select, Static, TextArea

from escalate import clock
from escalate.errors import EscalateError, FieldError
from escalate.journal import ChronologyItem
from escalate.wording import printable

#: the entry field a refusal names -> the form field it was typed in, where the names differ
_FORM_NAMES = {"occurred_at": "at", "new_value": "value", "target_seq": "target"}


@dataclass
class Field:
    name: str
    label: str
    kind: str = "text"  # text | textarea | select | time
    required: bool = False
    options: list[tuple[str, str]] = field(default_factory=list)  # (label, value) for selects
    default: str = ""
    help: str = ""
    placeholder: str = ""
    #: required only for some values of the other fields (say so in ``help``)
    required_if: Callable[[dict[str, str]], bool] | None = None


class FormDialog(ModalScreen[Any]):
    """A titled form. ``save(values)`` does the work; it may raise EscalateError to refuse."""

    # The first field is focused by _focus_first: Textual's own would centre it in the form,
    # scrolling its label (and the intro) out of sight.
    AUTO_FOCUS = ""
    BINDINGS = [
        Binding("escape", "cancel", "Cancel", id="form_cancel", tooltip="Close without saving"),
        Binding("ctrl+s", "save", "Save", id="form_save", tooltip="Check the form and save it"),
    ]

    def __init__(
        self,
        title: str,
        fields: list[Field],
        save: Callable[[dict[str, str]], Any],
        *,
        intro: str = "",
        timezone: str = "Europe/London",
        changed: Callable[[str, dict[str, str]], dict[str, str]] | None = None,
    ) -> None:
        """``changed(name, values)``, if given, is called when a choice is changed and returns new
        values for other fields (the export dialog keeps the file's extension with its format)."""
        super().__init__()
        self.form_title = title
        self.fields = fields
        self.save_callback = save
        self.intro = intro
        self.timezone = timezone
        self.changed = changed

    def compose(self) -> ComposeResult:
        with Vertical(id="form", classes="dialog" + (" with-intro" if self.intro else "")):
            yield Label(self.form_title, classes="dialog-title")
            if self.intro:
                # In a box of its own, read from its start: at 80x24 a long intro (what the next stage
                # requires) pushed the first field down, and showing the field scrolled the intro's
                # beginning away. The box scrolls by keyboard (shift+tab reaches it) and mouse.
                with VerticalScroll(id="form-intro", classes="intro-box"):
                    yield Static(self.intro, classes="intro", markup=False)
            with VerticalScroll(id="form-body", can_focus=False):
                for f in self.fields:
                    yield Label(f.label + (" *" if f.required else ""), classes="field-label")
                    if f.kind == "textarea":
                        area = TextArea(f.default, id=f"f-{f.name}", classes="field")
                        area.show_line_numbers = False
                        yield area
                    elif f.kind == "select":
                        yield Select(
                            [(Text(label), value) for label, value in f.options],  # labels: the file's words
                            value=f.default if f.default else Select.NULL,
                            id=f"f-{f.name}",
                            allow_blank=not f.required,
                            classes="field",
                        )
                    else:
                        yield Input(
                            f.default,
                            placeholder=f.placeholder
                            or ("e.g. 14/01/2027 10:30, today 9am (blank = now)" if f.kind == "time" else ""),
                            id=f"f-{f.name}",
                            classes="field",
                        )
                    if f.help:
                        yield Static(f.help, classes="field-help", markup=False)
                    yield Static("", id=f"err-{f.name}", classes="field-error", markup=False)
            yield Static("", id="form-error", classes="form-error")
            with Horizontal(classes="buttons"):
                yield Button("Save (ctrl+s)", variant="primary", id="save")
                yield Button("Cancel (esc)", id="cancel")

    def on_mount(self) -> None:
        if self.fields:
            # Focused once the form is laid out, and scrolled only as far as the field needs to be
            # seen: focusing it at once scrolled it to the top of the form, hiding its label.
            self.call_after_refresh(self._focus_first)

    def _focus_first(self) -> None:
        body = self.query_one("#form-body", VerticalScroll)
        field = self.query_one(f"#f-{self.fields[0].name}")
        field.focus(scroll_visible=False)
        below = field.virtual_region_with_margin.bottom - body.scrollable_content_region.height
        body.scroll_to(y=max(0, below), animate=False, immediate=True)

    def values(self) -> dict[str, str]:
        out: dict[str, str] = {}
        for f in self.fields:
            widget = self.query_one(f"#f-{f.name}")
            if isinstance(widget, TextArea):
                out[f.name] = widget.text.strip()
            elif isinstance(widget, Select):
                out[f.name] = "" if widget.value in (Select.NULL, None) else str(widget.value)
            elif isinstance(widget, Input):
                out[f.name] = widget.value.strip()
        return out

    def check(self, values: dict[str, str]) -> dict[str, str]:

        errors: dict[str, str] = {}
        for f in self.fields:
            value = values[f.name]
            if not value and (f.required or (f.required_if is not None and f.required_if(values))):
                errors[f.name] = f"{f.label} is required" + ("." if f.required else " for this choice.")
            elif f.kind == "time" and value:
                try:
                    clock.parse_time(value, self.timezone, what=f.label)
                except EscalateError as exc:
                    errors[f.name] = exc.message + (f" {exc.hint}" if exc.hint else "")
        return errors

    def action_save(self) -> None:
        values = self.values()
        errors = self.check(values)
        for f in self.fields:
            self.query_one(f"#err-{f.name}", Static).update(errors.get(f.name, ""))
        if errors:
            first = next(f for f in self.fields if f.name in errors)
            self.query_one(f"#f-{first.name}").focus()
            self.query_one("#form-error", Static).update("Please correct the fields marked above.")
            return
        try:
            result = self.save_callback(values)
        except EscalateError as exc:
            # Keep everything typed; say what went wrong where the user is looking: next to the field
            # the core named, when this form has it.
            said = exc.message + (f"\n{exc.hint}" if exc.hint else "")
            name = _FORM_NAMES.get(exc.field, exc.field) if isinstance(exc, FieldError) else None
            if name is not None and any(f.name == name for f in self.fields):
                self.query_one(f"#err-{name}", Static).update(said)
                self.query_one(f"#f-{name}").focus()
                self.query_one("#form-error", Static).update("Not saved: please correct the field marked above.")
            else:
                self.query_one("#form-error", Static).update(f"Not saved: {said}")
            return
        self.dismiss(result if result is not None else True)

    def on_select_changed(self, event: Select.Changed) -> None:
        select_id = event.select.id or ""
        if self.changed is None or not select_id.startswith("f-"):
            return
        for name, value in self.changed(select_id[2:], self.values()).items():
            widget = self.query_one(f"#f-{name}")
            if isinstance(widget, Input) and widget.value != value:
                widget.value = value

    def has_unsaved(self) -> bool:
        """Whether anything was typed or chosen that closing would lose."""
        return any(value != f.default.strip() for f, value in zip(self.fields, self.values().values()))

    def action_cancel(self) -> None:
        if not self.has_unsaved():
            self.dismiss(None)
            return

        def answer(drop: bool | None) -> None:
            if drop:
                self.dismiss(None)

        self.app.push_screen(
            ConfirmDialog("Close this form and lose what you typed? Nothing has been saved.", "Close", "Keep editing"),
            answer,
        )

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "save":
            self.action_save()
        else:
            self.action_cancel()


class ProgressDialog(ModalScreen[Any]):
    """Runs ``job(progress)`` on a worker thread with a progress bar; ``progress(done, total)`` may be
    called from the job. Dismisses with the job's result, or with the EscalateError it raised. There
    is nothing to cancel: an export either completes and is recorded, or leaves no file."""

    def __init__(self, title: str, job: Callable[[Callable[[int, int], None]], Any]) -> None:
        super().__init__()
        self.job_title, self.job = title, job

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Label(self.job_title, classes="dialog-title")
            yield ProgressBar(total=None, show_eta=False, id="progress")
            yield Static("Working... the file is written first, then recorded in the log.", classes="field-help")

    def on_mount(self) -> None:
        self.run()

    @work(thread=True, exclusive=True)
    def run(self) -> None:
        bar = self.query_one(ProgressBar)

        def progress(done: int, total: int) -> None:
            self.app.call_from_thread(bar.update, total=total, progress=done)

        try:
            result: Any = self.job(progress)
        except EscalateError as exc:
            result = exc
        self.app.call_from_thread(self.dismiss, result)


class ConfirmDialog(ModalScreen[bool]):
    BINDINGS = [
        Binding("y", "answer(True)", "Yes", id="confirm_yes"),
        Binding("n,escape", "answer(False)", "No", id="confirm_no"),
    ]

    def __init__(self, question: str, yes: str = "Yes", no: str = "No") -> None:
        super().__init__()
        self.question, self.yes, self.no = question, yes, no

    # the safe answer has the focus: Enter on a dialog that asks before losing work keeps it
    AUTO_FOCUS = "#no"

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog confirm"):
            yield Static(self.question, markup=False)
            with Horizontal(classes="buttons"):
                yield Button(f"{self.yes} (y)", variant="error", id="yes")
                yield Button(f"{self.no} (n)", id="no")

    def action_answer(self, value: bool) -> None:
        self.dismiss(value)

    def on_button_pressed(self, event: Button.Pressed) -> None:
        self.dismiss(event.button.id == "yes")


class HelpScreen(ModalScreen[None]):
    """Help for the screen it was opened from: what it is for, and every key."""

    BINDINGS = [Binding("escape,q,f1,question_mark", "close", "Close", id="help_close")]

    def __init__(self, title: str, text: str, bindings: list[tuple[str, str, str]]) -> None:
        super().__init__()
        self.help_title, self.text, self.keys = title, text, bindings

    def compose(self) -> ComposeResult:

        table = Table(box=None, show_header=True, header_style="bold")
        table.add_column("key")
        table.add_column("does")
        table.add_column("id", style="dim")
        for key, description, binding_id in self.keys:
            table.add_row(key, description, binding_id)
        with VerticalScroll(classes="dialog help"):
            yield Label(f"Help: {self.help_title}", classes="dialog-title")
            yield Static(self.text, markup=False)
            yield Static(table)
            yield Static("Ctrl+P opens the command palette. Esc closes this help.", classes="field-help")

    def action_close(self) -> None:
        self.dismiss(None)


class EntryDialog(ModalScreen[None]):
    """One chronology entry in full, every field wrapped to the width (the chronology shows a line)."""

    BINDINGS = [Binding("escape,enter,q", "close", "Close", id="entry_close")]

    def __init__(self, item: ChronologyItem, timezone: str) -> None:
        super().__init__()
        self.item, self.timezone = item, timezone

    def compose(self) -> ComposeResult:

        from escalate import journal  # lazy: the log and pydantic: 74 ms

        table = Table(box=None, show_header=False, expand=True)
        table.add_column("field", style="bold", no_wrap=True)
        table.add_column("value", overflow="fold")

        verify = "Run escalate verify, which names the first damaged entry."
        if self.item.unreadable:  # the chronology found its bytes changed outside escalate
            rows, summary = [], f"{self.item.unreadable}. {verify}"
        else:
            rows, summary = journal.details(self.item, self.timezone), journal.describe(self.item)
        for label, value in rows:
            table.add_row(Text(label), Text(printable(value)))  # (a rich Table reads a str cell as markup)
        with VerticalScroll(classes="dialog help", id="entry-detail"):
            yield Label(f"Entry #{self.item.cseq}: {self.item.kind}", classes="dialog-title")
            yield Static(printable(summary), markup=False)
            yield Static(table)
            yield Static("Esc or Enter closes.", classes="field-help")

    def action_close(self) -> None:
        self.dismiss(None)
