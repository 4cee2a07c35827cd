"""New challenge: a walk-through from the disagreement to the first stage. Nothing is saved until Confirm."""

from __future__ import annotations

from typing import Any

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import Screen
from textual.widgets import (
    Button,
    Checkbox,
    ContentSwitcher,
    Footer,
    Header,
    Input,
    Label,
    RadioSet,
    Select,
    SelectionList,
    Static,
    TextArea,
)

from escalate import clock
from escalate.catalogue import label
from escalate.challenge import opening_deadlines, start_choices, starting_stage
from escalate.entry import parse_person
from escalate.errors import EscalateError, FieldError
from escalate.triggers import TRIGGERS, worded
from escalate.tui.context import dsl_app
from escalate.tui.widgets import RadioChoice, TickBox, TickList, esc
from escalate.wording import immediate_risk_instruction, not_covered, printable

STEPS = ("procedure", "decision", "triggers", "checks", "risk", "concern", "review")
#: the page each field of an opening is typed on (a refusal naming it is shown there)
_PAGE_OF = {
    "case_ref": "procedure",
    "subject_name": "procedure",
    "agency": "decision",
    "decision": "decision",
    "decision_at": "decision",
    "decision_by": "decision",
    "decision_ref": "decision",
    "triggers": "triggers",
    "concern": "concern",
    "outcome_sought": "concern",
    "occurred_at": "concern",
    "protective_by": "risk",
}
STEP_TITLES = {
    "procedure": "Procedure and case",
    "decision": "The decision you challenge",
    "triggers": "Why escalate",
    "checks": "Checks for your triggers",
    "risk": "Immediate risk",
    "concern": "Your concern and evidence",
    "review": "Review and confirm",
}


#: the wizard's field for a field the core names in a refusal (FieldError.field)
_FIELD_OF = {
    "case_ref": "#w-case-ref",
    "subject_name": "#w-subject",
    "agency": "#w-agency",
    "decision": "#w-decision",
    "decision_at": "#w-decision-at",
    "decision_by": "#w-decision-by",
    "decision_ref": "#w-decision-ref",
    "concern": "#w-concern",
    "outcome_sought": "#w-outcome",
    "protective_by": "#w-protective",
    "occurred_at": "#w-at",
}


class NewChallengeScreen(Screen[Any]):
    HELP_TITLE = "New challenge"
    HELP = (
        "Seven short steps. Next (ctrl+n) checks the page before moving on; Back (ctrl+b) keeps what you "
        "typed. Nothing is saved until you confirm on the last page; Esc asks before discarding."
    )
    BINDINGS = [
        Binding("ctrl+n", "next", "Next", id="wizard_next", tooltip="Check this page and go on"),
        Binding("ctrl+b", "back", "Back", id="wizard_back", tooltip="Previous page; nothing is lost"),
        Binding("escape", "discard", "Discard", id="wizard_discard", tooltip="Leave without saving (asks first)"),
        # a page longer than the screen (the review at 80x24) scrolls by keyboard as well as by mouse
        Binding("pagedown", "scroll_page(1)", "Scroll down", id="wizard_page_down", show=False),
        Binding("pageup", "scroll_page(-1)", "Scroll up", id="wizard_page_up", show=False),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.step = 0

    def compose(self) -> ComposeResult:
        cat = dsl_app(self.app).ensure_catalogue()
        yield Header()
        with Vertical(id="wizard"):
            yield Static("", id="wizard-progress")
            with ContentSwitcher(initial="procedure", id="steps"):
                with VerticalScroll(id="procedure", can_focus=False):
                    own = dsl_app(self.app).settings.own_procedures
                    options = [(label(lp, own), lp.id) for lp in cat.in_order(own)]
                    # With one procedure there is nothing to choose: it is named, not asked.
                    single = len(options) == 1
                    yield Label(f"Procedure: {esc(options[0][0])}" if single else "Procedure *")
                    select = Select(
                        [(Text(printable(label)), value) for label, value in options],  # a str prompt is markup
                        value=options[0][1],
                        allow_blank=False,
                        id="w-procedure",
                    )
                    select.display = not single
                    yield select
                    yield Static("", id="not-covered", markup=False, classes="field-help")
                    # offered where the procedure has a step for following up a referral (Wales's Step 0)
                    yield TickBox("Following up a referral: no decision yet", id="w-referral")
                    # a parallel route (a conference dispute, say): asked only of a procedure that has one
                    yield Label("Route *", id="route-label")
                    yield Select([("Main ladder", "main")], value="main", allow_blank=False, id="w-route")
                    yield Label("Case reference *")
                    yield Input(id="w-case-ref", placeholder="e.g. your setting's pupil reference")
                    yield Static(
                        "A pseudonymous reference is preferred: the log is shared with auditors.", classes="field-help"
                    )
                    yield Label("Child's name (optional)", id="subject-label")
                    yield Input(id="w-subject")
                    yield Static("", id="e-procedure", classes="field-error", markup=False)
                with VerticalScroll(id="decision", can_focus=False):
                    yield Label("Agency and team challenged *")
                    yield Input(id="w-agency", placeholder="e.g. Northtown children's social care, duty team")
                    yield Label("The decision you challenge *")
                    yield Input(id="w-decision", placeholder="e.g. Referral closed with no further action")
                    yield Label("When you received the decision")
                    yield Input(id="w-decision-at", placeholder="e.g. 14/01/2027 10:30 (optional)")
                    yield Label("Who made it (Name, Role)")
                    yield Input(id="w-decision-by", placeholder="optional")
                    yield Label("Their reference for it")
                    yield Input(id="w-decision-ref", placeholder="optional, e.g. the referral number")
                    yield Static("", id="e-decision", classes="field-error", markup=False)
                with VerticalScroll(id="triggers", can_focus=False):
                    yield Static(
                        "Choose one or more (space to tick). The text below explains the highlighted one.",
                        classes="field-help",
                    )
                    yield TickList(id="w-triggers")  # filled for the procedure chosen
                    yield Static("", id="trigger-explain", markup=False)
                    yield Static("", id="e-triggers", classes="field-error", markup=False)
                with VerticalScroll(id="checks", can_focus=False):
                    yield Static("", id="checks-guidance", markup=False)
                    yield Vertical(id="checks-list")
                with VerticalScroll(id="risk", can_focus=False):
                    yield Label("Is the child at risk of immediate harm? *", id="risk-label")
                    with RadioSet(id="w-risk"):
                        yield RadioChoice("No", id="risk-no")
                        yield RadioChoice("Yes", id="risk-yes")
                    yield Static("", id="skip-rule", markup=False)
                    # asked at immediate risk where the procedure's timescale is "or a protective one, if sooner"
                    yield Label(
                        "By when must the child be protected? (the protective timescale)", id="protective-label"
                    )
                    yield Input(
                        id="w-protective", placeholder="e.g. 14/01/2027 17:00 (optional: record it later if not agreed)"
                    )
                    yield Static("", id="e-risk", classes="field-error", markup=False)
                with VerticalScroll(id="concern", can_focus=False):
                    yield Label("Your concern, with evidence-based reasons *")
                    yield TextArea(id="w-concern")
                    yield Label("Outcome you seek")
                    yield Input(id="w-outcome", placeholder="e.g. a strategy discussion and section 47 enquiry")
                    yield Label("When did the disagreement arise?")
                    yield Input(id="w-at", placeholder="e.g. 14/01/2027 10:30, today 9am (blank = now)")
                    yield Static("", id="e-concern", classes="field-error", markup=False)
                with VerticalScroll(id="review", can_focus=False):
                    # asked only where a skip rule offers a choice ("the chair may go straight to Stage 2 or 3")
                    yield Label("Start at *", id="start-label")
                    yield Select([], allow_blank=True, id="w-start")
                    yield Static("", id="review-text", markup=False)
                    yield Static("", id="e-review", classes="field-error", markup=False)
            with Horizontal(classes="buttons"):
                yield Button("Back (ctrl+b)", id="back")
                yield Button("Next (ctrl+n)", variant="primary", id="next")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#protective-label", Label).display = False  # (asked only at immediate risk)
        self.query_one("#w-protective", Input).display = False
        self.show_procedure()
        self.show_step()

    def on_select_changed(self, event: Select.Changed) -> None:
        if event.select.id == "w-procedure":
            self.show_procedure()
        elif event.select.id == "w-start" and STEPS[self.step] == "review":
            self.build_review()

    def start_stage(self) -> int | None:
        """The stage chosen to start at, where the procedure offers a choice (None: its default)."""
        value = self.query_one("#w-start", Select).value
        return int(value) if isinstance(value, str) and value.lstrip("-").isdigit() else None

    def show_procedure(self) -> None:
        """Before anything is typed: what this procedure does not cover, and where to go instead;
        and its parallel routes, if it has any, to choose from."""
        p = self.procedure().procedure
        lines = not_covered(p)
        self.query_one("#not-covered", Static).update(
            printable("Not covered by this procedure:\n" + "\n".join(f"  - {line}" for line in lines) if lines else "")
        )
        # the procedure's own disagreements where it lists them, else the five built-in triggers
        choices = self.query_one("#w-triggers", SelectionList)
        choices.clear_options()
        if p.disagreements:
            choices.add_options([(Text(printable(d.title)), d.id) for d in p.disagreements])
        else:
            worded_triggers = [worded(t, p.applies_to) for t in TRIGGERS.values()]
            choices.add_options([(Text(printable(f"{t.title}: {t.plain}")), t.id) for t in worded_triggers])
        choices.highlighted = 0  # the first explained before a key is pressed
        self.query_one("#risk-label", Label).update(f"Is {self.subject()} at risk of immediate harm? *")
        self.query_one("#subject-label", Label).update(f"{self.subject()[4:].capitalize()}'s name (optional)")
        self.query_one("#w-case-ref", Input).placeholder = (
            "e.g. your service's reference for the adult"
            if p.applies_to == "adults"
            else "e.g. your setting's pupil reference"
        )
        referral = self.query_one("#w-referral", Checkbox)
        referral.display = p.follows_up_referrals()
        if not referral.display:
            referral.value = False
        routes = self.query_one("#w-route", Select)
        routes.set_options([("Main ladder", "main")] + [(Text(f"{r.name} (when {r.when})"), r.id) for r in p.routes])
        routes.display = self.query_one("#route-label").display = bool(p.routes)

    def route(self) -> str:
        value = self.query_one("#w-route", Select).value
        return str(value) if isinstance(value, str) else "main"

    def show_step(self) -> None:
        name = STEPS[self.step]
        self.query_one(ContentSwitcher).current = name
        self.query_one("#wizard-progress", Static).update(
            f"New challenge · step {self.step + 1} of {len(STEPS)}: [b]{STEP_TITLES[name]}[/]"
        )
        self.query_one("#next", Button).label = "Confirm and save" if name == "review" else "Next (ctrl+n)"
        self.query_one("#back", Button).disabled = self.step == 0
        if name == "checks":
            self.build_checks()
        if name == "review":
            self.build_review()
        focus = {
            "procedure": "#w-case-ref",
            "decision": "#w-agency",
            "triggers": "#w-triggers",
            "risk": "#w-risk",
            "concern": "#w-concern",
        }.get(name)
        if focus:
            self.query_one(focus).focus()

    # --- values ---------------------------------------------------------------------------

    def val(self, selector: str) -> str:
        return self.query_one(selector, Input).value.strip()

    def procedure(self) -> Any:
        return dsl_app(self.app).ensure_catalogue().get(str(self.query_one("#w-procedure", Select).value))

    def triggers(self) -> list[str]:
        return list(self.query_one("#w-triggers", SelectionList).selected)

    def subject(self) -> str:
        """Whom the procedure protects, as its questions say it."""
        return "the adult" if self.procedure().procedure.applies_to == "adults" else "the child"

    def built_in(self, choice: str) -> list[Any]:
        """The built-in triggers a choice counts as (a procedure's own disagreement: those it maps to),
        worded for the procedure."""
        p = self.procedure().procedure
        own = next((d for d in p.disagreements if d.id == choice), None)
        ids = own.triggers if own is not None else [choice]
        return [worded(TRIGGERS[t], p.applies_to) for t in ids if t in TRIGGERS]

    def title_of(self, choice: str) -> str:
        p = self.procedure().procedure
        own = next((d for d in p.disagreements if d.id == choice), None)
        return own.title if own is not None else worded(TRIGGERS[choice], p.applies_to).title

    def referral(self) -> bool:
        """Following up a referral before any decision: the decision and triggers may wait."""
        return bool(self.query_one("#w-referral", Checkbox).value)

    def immediate_risk(self) -> bool | None:
        pressed = self.query_one("#w-risk", RadioSet).pressed_button
        return None if pressed is None else pressed.id == "risk-yes"

    def skip_rule(self) -> Any:
        return starting_stage(self.procedure().procedure, self.route(), True)[1]

    # --- validation per step --------------------------------------------------------------

    def check_step(self) -> tuple[str, str | None]:
        """What is wrong with this page, if anything, and the field to put right (its selector)."""
        name = STEPS[self.step]
        tz = dsl_app(self.app).settings.timezone

        def time_of(selector: str, what: str) -> tuple[str, str | None]:
            try:
                clock.parse_time(self.val(selector), tz, what=what)
            except EscalateError as exc:
                return exc.message + (f" {exc.hint}" if exc.hint else ""), selector
            return "", None

        if name == "procedure" and not self.val("#w-case-ref"):
            return "Give a case reference.", "#w-case-ref"
        if name == "decision":
            if not self.val("#w-agency"):
                return "Name the agency and team you are challenging.", "#w-agency"
            if not self.val("#w-decision") and not self.referral():
                return "Say what decision you are challenging.", "#w-decision"
            if self.val("#w-decision") and self.referral():
                return "Following up a referral: leave the decision out and record it when it comes.", "#w-decision"
            if self.val("#w-decision-at"):
                return time_of("#w-decision-at", "decision time")
        if name == "triggers" and not self.triggers() and not self.referral():
            return "Choose at least one trigger (space ticks the highlighted one).", "#w-triggers"
        if name == "risk" and self.immediate_risk() is None:
            return f"Answer yes or no: is {self.subject()} at risk of immediate harm?", "#w-risk"
        if name == "risk" and self.asks_protective() and self.val("#w-protective"):
            return time_of("#w-protective", "protective timescale")
        if name == "concern":
            if not self.query_one("#w-concern", TextArea).text.strip():
                return "Write the concern, with the evidence for it.", "#w-concern"
            if self.val("#w-at"):
                return time_of("#w-at", "time the disagreement arose")
        return "", None

    def refuse(self, error: str, field: str | None) -> None:
        """Say what is wrong next to the page's fields, and put the cursor in the field to correct, both
        in view: at 80x24 the message sat below the fold and the page seemed to ignore Next."""
        target = self.query(f"#e-{STEPS[self.step]}")
        message = target.first(Static) if target else None
        if message is not None:
            message.update(error)
        if not error:
            return
        if field is not None:
            self.query_one(field).focus()
        if message is not None:
            self.call_after_refresh(message.scroll_visible, animate=False)

    def action_scroll_page(self, direction: int) -> None:
        page = self.query_one(f"#{STEPS[self.step]}", VerticalScroll)
        if direction > 0:
            page.scroll_page_down(animate=False)
        else:
            page.scroll_page_up(animate=False)

    def has_unsaved(self) -> bool:
        """Whether anything has been typed or chosen that leaving would lose (asked before quitting)."""
        typed = any(i.value.strip() for i in self.query(Input))
        return typed or bool(self.query_one("#w-concern", TextArea).text.strip()) or bool(self.triggers())

    def action_next(self) -> None:
        name = STEPS[self.step]
        error, field = self.check_step()
        self.refuse(error, field)
        if error:
            return
        if name == "review":
            self.save()
            return
        self.step += 1
        self.show_step()

    def action_back(self) -> None:
        if self.step > 0:
            self.step -= 1
            self.show_step()

    def action_discard(self) -> None:
        from escalate.tui.dialogs import ConfirmDialog  # lazy: 185 ms with the form widgets: after the first frame

        def answer(yes: bool | None) -> None:
            if yes:
                self.dismiss(None)

        self.app.push_screen(
            ConfirmDialog("Discard this new challenge? Nothing has been saved.", "Discard", "Keep editing"), answer
        )

    def on_button_pressed(self, event: Button.Pressed) -> None:
        self.action_next() if event.button.id == "next" else self.action_back()

    def on_selection_list_selection_highlighted(self, event: SelectionList.SelectionHighlighted) -> None:
        choice = str(event.selection.value)
        p = self.procedure().procedure
        own = next((d for d in p.disagreements if d.id == choice), None)
        lines: list[str] = []
        if own is not None:
            lines += [own.title] + [f'  "{w}"' for w in own.wording + own.examples]
            lines += ["", "Counted as: " + ", ".join(t.title for t in self.built_in(choice)), ""]
        for trigger in self.built_in(choice):
            lines += [trigger.title, trigger.plain, ""] + [f"- {g}" for g in trigger.guidance]
            local = p.triggers.get(trigger.id)
            if local and (local.wording or local.examples):
                lines += ["", "This procedure's wording:"] + [f'  "{w}"' for w in local.wording + local.examples]
        self.query_one("#trigger-explain", Static).update(printable("\n".join(lines)))

    def asks_protective(self) -> bool:
        """Whether to ask for a protective timescale: at immediate risk, under a procedure with a
        timescale of "so many days, or a protective timescale if sooner" (London's)."""
        if not self.immediate_risk():
            return False
        p = self.procedure().procedure
        timescales = [d.timescale for s in p.stages for d in s.deadlines] + [x.timescale for x in p.limits]
        return any(t.kind == "lesser-of-protective" for t in timescales)

    def on_radio_set_changed(self, event: RadioSet.Changed) -> None:
        asked = self.asks_protective()
        self.query_one("#protective-label", Label).display = asked
        self.query_one("#w-protective", Input).display = asked
        self.query_one("#protective-label", Label).update(
            f"By when must {self.subject()} be protected? (the procedure's protective timescale)"
        )
        text = ""
        if self.immediate_risk():
            rule = self.skip_rule()
            text = "!! " + immediate_risk_instruction(self.procedure().procedure)
            if rule and rule.start_stage and self.route() == "main":
                text += f"\nThe challenge will start at {self.procedure().procedure.name_of(rule.start_stage)}."
        self.query_one("#skip-rule", Static).update(printable(text))

    def build_checks(self) -> None:
        box = self.query_one("#checks-list", Vertical)
        box.remove_children()
        procedure = self.procedure().procedure
        guidance = []
        widgets = []
        own = {d.id: d for d in procedure.disagreements}
        asked: set[str] = set()
        for choice in self.triggers():
            questions: list[str] = list(own[choice].checks) if choice in own else []
            for t in self.built_in(choice):
                guidance += [f"{t.title}:"] + [f"  - {g}" for g in t.guidance]
                local = procedure.triggers.get(t.id)
                questions += list(t.checks) + (list(local.checks) if local else [])
            for i, question in enumerate(q for q in questions if q not in asked):
                asked.add(question)
                # a str label is markup: the file's words go in as Text (and are recorded as they read)
                widgets.append(TickBox(Text(printable(question)), id=f"check-{choice}-{i}", classes="check"))
        self.query_one("#checks-guidance", Static).update(
            printable("\n".join(guidance) + "\n\nTick each check you have done. Your answers are recorded.")
        )
        box.mount_all(widgets)

    def checks(self) -> list[str]:
        return [f"{'yes' if c.value else 'no'}: {c.label}" for c in self.query(".check").results(Checkbox)]

    def build_review(self) -> None:
        from escalate.briefing import deadline_line  # lazy: the log and pydantic: 72 ms

        lp = self.procedure()
        p = lp.procedure
        risk = bool(self.immediate_risk())
        route = self.route()
        referral = self.referral()
        choices = [(p.first_stage(referral=True), None)] if referral else start_choices(p, route, risk)
        select = self.query_one("#w-start", Select)
        options = [(Text(f"{p.name_of(s, route)}: {s.title}"), str(s.number)) for s, _ in choices]
        if [value for _, value in options] != [value for _, value in getattr(self, "_start_options", [])]:
            self._start_options = options
            select.set_options(options)
            select.value = options[0][1]
        select.display = self.query_one("#start-label").display = len(choices) > 1
        # as the log will decide it
        start = choices[0][0] if referral else starting_stage(p, route, risk, self.start_stage())[0]
        tz = dsl_app(self.app).settings.timezone
        at = clock.parse_time(self.val("#w-at"), tz) if self.val("#w-at") else dsl_app(self.app).now()
        decided = self.val("#w-decision-at")
        deadlines = opening_deadlines(
            p, route=route, stage=start, at=at, decision_at=clock.parse_time(decided, tz) if decided else None
        )
        lines = [
            f"Procedure: {p.name} ({p.id}, version {p.version})",
            f"  {p.check_note}",
            f"Case: {self.val('#w-case-ref')}",
            f"Agency: {self.val('#w-agency')}",
            f"Decision: {self.val('#w-decision')}",
            "Triggers: " + ", ".join(self.title_of(t) for t in self.triggers()),
            f"Immediate risk: {'YES' if risk else 'no'}",
            "",
        ]
        for r in p.routes:
            if r.id == route:
                lines += (
                    [f"Route: {r.name} (when {r.when})"]
                    + ([f"  Started by: {r.started_by}"] if r.started_by else [])
                    + ([f"  It ends in: {r.exit}"] if r.exit else [])
                )
        lines += [
            f"You start at {p.name_of(start, self.route())}: {start.title}",
            "  Raised by: " + ("; ".join(start.raised_by) or "not stated"),
            "  Contact: " + ("; ".join(start.received_by) or "not stated"),
            "  How: " + (", ".join(start.medium) or "not stated"),
        ]
        lines += [f"  {deadline_line(r, tz)}" for r in deadlines]
        for a in start.actions:
            lines.append(f"  - {a}")
        if p.exclusions:
            lines += ["", "Not covered by this procedure:"] + [f"  - {line}" for line in not_covered(p)]
        lines += ["", "Confirm saves the challenge to the log (ctrl+n or the button)."]
        self.query_one("#review-text", Static).update(printable("\n".join(lines)))

    def save(self) -> None:
        from escalate import journal  # lazy: the log and pydantic: 74 ms

        try:
            by = self.val("#w-decision-by")
            stored = journal.open_challenge(
                dsl_app(self.app).store,
                dsl_app(self.app).catalogue,
                dsl_app(self.app).settings,
                procedure_id=self.procedure().id,
                triggers=self.triggers(),
                case_ref=self.val("#w-case-ref"),
                subject_name=self.val("#w-subject"),
                agency=self.val("#w-agency"),
                decision=self.val("#w-decision"),
                decision_at=self.val("#w-decision-at") or None,
                decision_by=parse_person(by) if by else None,
                decision_ref=self.val("#w-decision-ref"),
                concern=self.query_one("#w-concern", TextArea).text.strip(),
                outcome_sought=self.val("#w-outcome"),
                immediate_risk=bool(self.immediate_risk()),
                protective_by=(self.val("#w-protective") or None) if self.asks_protective() else None,
                checks=self.checks(),
                at=self.val("#w-at") or None,
                route=self.route(),
                start_stage=None if self.referral() else self.start_stage(),
                referral=self.referral(),
            )
        except EscalateError as exc:
            # Keep every page as typed; say why it was not saved, on the page of the field the core
            # named (an agency too long, a decision dated later than the disagreement).
            said = f"Not saved: {exc.message}" + (f" {exc.hint}" if exc.hint else "")
            page = _PAGE_OF.get(exc.field, "review") if isinstance(exc, FieldError) else "review"
            if page != "review":
                self.step = STEPS.index(page)
                self.show_step()
            self.refuse(printable(said), _FIELD_OF.get(exc.field) if isinstance(exc, FieldError) else None)
            return
        self.app.notify(f"Challenge {stored.challenge} opened.")
        self.dismiss(stored.challenge)
