"""One challenge: where it stands, the ladder, the chronology, and every action a DSL takes."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.screen import Screen
from textual.widgets import Footer, Header, Static

from escalate import journal
from escalate.challenge import LIMIT_PREFIX, ChallengeView
from escalate.entry import FREE_TEXT, HISTORY_KINDS, MEDIA, OUTCOMES, parse_person
from escalate.errors import EscalateError, StoreError, UsageError
from escalate.formats import EXPORT_FORMATS
from escalate.journal import ChronologyItem
from escalate.store import DAMAGE_HINT
from escalate.tui.context import dsl_app
from escalate.tui.dialogs import Field, FormDialog, ProgressDialog
from escalate.tui.widgets import Chronology, PagedTabs, briefing_text, challenge_tabs, header_text, ladder_text
from escalate.wording import describe_timescale

ACTIONS: list[tuple[str, str, str, str]] = [  # key, action, description, id
    ("c", "contact", "Contact", "record_contact"),
    ("r", "response", "Response", "record_response"),
    ("a", "action_agreed", "Agree action", "agree_action"),
    ("d", "action_done", "Action done", "action_done"),
    ("e", "extend", "Extend deadline", "extend_deadline"),
    ("p", "pause", "Pause/resume", "pause_deadline"),
    ("t", "timescale", "Set timescale", "set_timescale"),
    ("n", "notification", "Notification", "send_notification"),
    ("v", "advice", "Advice sought", "seek_advice"),
    ("u", "step_up", "Step up", "step_up"),
    ("x", "no_further", "No further escalation", "no_further"),
    ("m", "note", "Note", "add_note"),
    ("f", "amend", "Amend entry", "amend_entry"),
    ("s", "resolve", "Resolve", "resolve"),
    ("o", "reopen", "Reopen", "reopen"),
    ("w", "export", "Export / pack", "export_challenge"),
    ("l", "letter", "Letter / form", "write_letter"),
]


#: the form field's answer for a letter
NO_FORM = "-"

#: the actions the footer shows (F1 lists every key)
IN_FOOTER = ("c", "r", "u", "s")

#: seconds between looks at whether the challenge changed (a team store shares it; a look is one query)
LOOK_EVERY = 5.0


class ChallengeScreen(PagedTabs, Screen[None]):
    HELP_TITLE = "Challenge"
    HELP = (
        "Where this challenge stands: the current stage, each deadline with its due time and whose action "
        "it is, the procedure's ladder, and the chronology of everything recorded (when it happened and when "
        "it was recorded; up and down choose an entry, Enter reads it in full). PageUp and PageDown scroll a "
        "tab longer than the screen. Every action opens a short "
        "form; nothing is saved until you press ctrl+s, and a refused save keeps what you typed. Corrections "
        "are amendments: the original entry always stays."
    )
    BINDINGS: ClassVar[list[BindingType]] = [
        # the footer shows the four a DSL uses most and F1 (every key) and F2; the palette has them all too
        *(
            Binding(key, action, description, id=bid, tooltip=description, show=key in IN_FOOTER)
            for key, action, description, bid in ACTIONS
        ),
        Binding("escape,backspace", "back", "Back", id="challenge_back", tooltip="Dashboard", show=False),
        *PagedTabs.PAGE_BINDINGS,
    ]

    def __init__(self, challenge: str) -> None:
        super().__init__()
        self.challenge = challenge
        self.view: ChallengeView | None = None
        self.warned = False  # about an entry that cannot be read (said once, shown in its place)

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static("", id="challenge-header")
        yield from challenge_tabs(self.chronology_page, dsl_app(self.app).settings.timezone)
        yield Footer()

    def on_mount(self) -> None:
        self.refresh_data()
        # a colleague (or this DSL in another window) may record meanwhile: look, and show it
        self.set_interval(LOOK_EVERY, self.look_for_changes)

    def look_for_changes(self) -> None:
        """Read the challenge again if an entry was added since it was shown, and say so: nothing is
        acted on as it was (every action is checked against the challenge as it is when recorded)."""
        if self.view is None:
            return
        try:
            last = dsl_app(self.app).store.last_cseq(self.challenge)
        except EscalateError:
            return  # (the next action says what is wrong with the store)
        if last is not None and last != self.view.state.cseq:
            self.refresh_data()
            self.notify(f"{self.challenge} changed: entry #{last} was recorded elsewhere. The screen is up to date.")

    def on_chronology_opened(self, event: Chronology.Opened) -> None:
        from escalate.tui.dialogs import EntryDialog  # lazy: 185 ms with the form widgets: after the first frame

        self.app.push_screen(EntryDialog(event.item, dsl_app(self.app).settings.timezone))

    def chronology_page(self, after: int, limit: int) -> list[ChronologyItem]:
        try:
            items = journal.chronology(dsl_app(self.app).store, self.challenge, after=after, limit=limit, tolerant=True)
        except EscalateError as exc:  # the store itself cannot be read: say so, show the page blank
            dsl_app(self.app).show_error(exc)
            return []
        damaged = next((i for i in items if i.unreadable), None)
        if damaged is not None and damaged.unreadable and not self.warned:  # changed outside escalate: in its place
            self.warned = True
            dsl_app(self.app).show_error(StoreError(damaged.unreadable, hint=DAMAGE_HINT))
        return items

    def refresh_data(self) -> None:
        app = dsl_app(self.app)
        try:
            self.view = journal.view(app.store, app.catalogue, self.challenge, app.now())
        except EscalateError as exc:
            app.show_error(exc)
            return
        v, tz, now = self.view, app.settings.timezone, app.now()
        self.query_one("#challenge-header", Static).update(header_text(v, now, tz))
        self.query_one("#deadlines", Static).update(briefing_text(v, now, tz))
        self.query_one("#ladder", Static).update(ladder_text(v, tz))
        self.query_one(Chronology).reload(v.state.cseq)

    # --- forms ---------------------------------------------------------------------------

    def form(
        self,
        title: str,
        fields: list[Field],
        kind: str | Callable[[dict[str, str]], str],
        build: Callable[[dict[str, str]], dict[str, Any]],
        intro: str = "",
        at_field: bool = True,
        history: bool | None = None,
    ) -> None:
        """A form recording one entry of ``kind`` (or of the kind ``kind(values)`` chooses). A kind that
        may tell of something before the challenge was opened gets a field for the reason it is recorded
        as earlier history (the core refuses such an entry without one, and one with it otherwise)."""
        if history is None:  # (a form choosing its kind says whether one of them may be earlier history)
            history = at_field and isinstance(kind, str) and kind in HISTORY_KINDS
        if at_field:
            fields = fields + [Field("at", "When it happened", kind="time")]
        if history:
            fields = fields + [Field("history", "If it happened before the challenge was opened: why record it now")]

        def save(values: dict[str, str]) -> Any:
            chosen = kind(values) if callable(kind) else kind
            data = build(values)
            if values.get("history") and chosen in HISTORY_KINDS:
                data = {**data, "history": values["history"]}
            return journal.record(
                dsl_app(self.app).store,
                dsl_app(self.app).settings,
                self.challenge,
                chosen,
                data,
                values.get("at") or None,
            )

        self.app.push_screen(
            FormDialog(title, fields, save, intro=intro, timezone=dsl_app(self.app).settings.timezone), self._saved
        )

    def _saved(self, result: Any) -> None:
        if result:
            self.app.notify(f"Saved: #{result.cseq} {result.kind}.")
            self.refresh_data()

    def deadline_options(self, limits: bool = True) -> list[tuple[str, str]]:
        # a limit over several stages may be extended or paused, but has no timescale to agree
        return [
            (f"{r.id}: {r.what}", r.id)
            for r in (self.view.deadlines if self.view is not None else ())
            if limits or not r.id.startswith(LIMIT_PREFIX)
        ]

    def action_contact(self) -> None:
        self.form(
            "Record a contact",
            [
                Field(
                    "direction",
                    "Made or received",
                    kind="select",
                    options=[("made", "made"), ("received", "received")],
                    default="made",
                    required=True,
                ),
                Field("medium", "How", kind="select", options=[(m, m) for m in MEDIA], default="phone", required=True),
                Field(
                    "with", "With (Name, Role, Agency)", placeholder="e.g. Sam Fictional, Social worker, Northtown CSC"
                ),
                Field("summary", "What was said or asked", kind="textarea", required=True),
            ],
            "contact",
            lambda v: {
                "direction": v["direction"],
                "medium": v["medium"],
                "summary": v["summary"],
                "with": _person(v["with"]),
            },
        )

    def action_response(self) -> None:
        state = self.view.state if self.view is not None else None
        if state is not None and state.referral and not state.decision:  # the referral's outcome, when it comes
            self.form(
                "Record the decision on the referral",
                [
                    Field("decision", "Their decision", required=True),
                    Field("decision_by", "Who made it (Name, Role, Agency)"),
                    Field("decision_ref", "Their reference for it"),
                ],
                "decision-received",
                lambda v: {
                    "decision": v["decision"],
                    "decision_by": _person(v["decision_by"]),
                    "decision_ref": v["decision_ref"],
                },
                intro="Then step up (u) if you disagree with it, or resolve (s) as no-disagreement if you accept it.",
            )
            return
        self.form(
            "Record their response",
            [
                Field("with", "From (Name, Role, Agency)"),
                Field("decision", "Their decision", required=True),
                Field("rationale", "Their reasons", kind="textarea"),
            ],
            "response",
            lambda v: {"decision": v["decision"], "rationale": v["rationale"], "with": _person(v["with"])},
        )

    def action_action_agreed(self) -> None:
        self.form(
            "Agree an action",
            [
                Field("action", "Action", required=True),
                Field("owner", "Who does it"),
                Field("due", "Due", kind="time", required=True),
            ],
            "action-agreed",
            lambda v: {"action": v["action"], "owner": v["owner"], "due": v["due"]},
        )

    def action_action_done(self) -> None:
        open_actions = [a for a in (self.view.state.actions if self.view is not None else ()) if a.done_at is None]
        if not open_actions:
            self.notify("No action agreed is waiting to be done. Agree one with a.", title="Action done")
            return
        self.form(
            "Record an agreed action as done",
            [
                Field(
                    "action_seq",
                    "Action",
                    kind="select",
                    options=[(f"#{a.cseq} {a.action}", str(a.cseq)) for a in open_actions],
                    required=True,
                ),
                Field("summary", "What was done", kind="textarea"),
            ],
            "action-done",
            lambda v: {"action_seq": int(v["action_seq"]), "summary": v["summary"]},
        )

    def action_extend(self) -> None:
        self.form(
            "Extend a deadline",
            [
                Field("deadline", "Deadline", kind="select", options=self.deadline_options(), required=True),
                Field("new_due", "New due time", kind="time", required=True),
                Field("reason", "Reason", required=True, help="A reason is required: auditors read it."),
                Field("agreed_by", "Agreed by (Name, Role, Agency)"),
            ],
            "deadline-extended",
            lambda v: {
                "deadline": v["deadline"],
                "new_due": v["new_due"],
                "reason": v["reason"],
                "agreed_by": _person(v["agreed_by"]),
            },
        )

    def action_pause(self) -> None:
        # One dialog for both: resume a paused deadline, or pause another while one is paused.
        paused = self.view.state.stages[-1].paused if self.view is not None else {}
        options = [(f"Resume {d}", f"resume {d}") for d in paused] + [
            (f"Pause {label}", f"pause {d}") for label, d in self.deadline_options() if d not in paused
        ]

        def pausing(values: dict[str, str]) -> bool:
            return values["deadline"].startswith("pause ")

        self.form(
            "Pause or resume a deadline",
            [
                Field(
                    "deadline",
                    "Deadline",
                    kind="select",
                    options=options,
                    required=True,
                    default=options[0][1] if len(options) == 1 else "",
                ),
                Field("reason", "Reason", required_if=pausing, help="Required to pause: auditors read it."),
            ],
            lambda v: "deadline-paused" if pausing(v) else "deadline-resumed",
            lambda v: {"deadline": v["deadline"].split(" ", 1)[1], "reason": v["reason"]},
        )

    def action_timescale(self) -> None:
        self.form(
            "Set an agreed or protective timescale",
            [
                Field(
                    "deadline", "Deadline", kind="select", options=self.deadline_options(limits=False), required=True
                ),
                Field("due", "Due", kind="time", required=True),
                Field("reason", "Reason"),
            ],
            "timescale-agreed",
            lambda v: {"deadline": v["deadline"], "due": v["due"], "reason": v["reason"]},
            intro="For timescales 'agreed with the other agency' or 'a timescale that protects the child'.",
        )

    def action_notification(self) -> None:
        notify = self.view.notifications_required if self.view is not None else ()
        required = ", ".join(n.to for n in notify) or "none at this stage"
        conditional = [
            n.notification for n in (self.view.notifications if self.view else ()) if n.notification.condition
        ]
        asked = "".join(f"\nAsk: does this apply: {n.condition}? (notify {n.to})" for n in conditional)

        def kind(v: dict[str, str]) -> str:
            return "notification-sent" if v["done"] != "not needed" else "notification-not-needed"

        def build(v: dict[str, str]) -> dict[str, Any]:
            if kind(v) == "notification-not-needed":
                return {"to": v["to"], "reason": v["reason"]}
            return {"to": v["to"], "medium": v["medium"], "form": v["form"], "summary": v["summary"]}

        self.form(
            "Record a notification",
            [
                Field(
                    "done",
                    "What happened",
                    kind="select",
                    options=[("sent", "sent"), ("not needed: its condition does not apply", "not needed")],
                    default="sent",
                    required=True,
                ),
                Field(
                    "to",
                    "To",
                    required=True,
                    default=notify[0].to if notify else "",
                ),
                Field("medium", "How", kind="select", options=[(m, m) for m in MEDIA], default="email"),
                Field("form", "Form sent"),
                Field("summary", "Summary"),
                Field("reason", "Why it is not needed (when not needed)"),
            ],
            kind,
            build,
            intro=f"Required here: {required}{asked}",
            history=True,  # a notification sent may be earlier history; "not needed" never is
        )

    def action_advice(self) -> None:
        self.form(
            "Record advice sought",
            [
                Field("with", "From (Name, Role, Agency)", required=True),
                Field("summary", "Advice sought and given", kind="textarea", required=True),
            ],
            "advice-sought",
            lambda v: {"with": _person(v["with"]), "summary": v["summary"]},
        )

    def action_step_up(self) -> None:
        v = self.view
        if v is None:  # (not loaded: the store could not be read, and the screen said so)
            return
        nxt = v.next_stage
        if nxt is None:
            self.app.notify(
                "This is the last stage: record the outcome, or a decision not to escalate further.", severity="warning"
            )
            return
        p = v.procedure
        intro = [
            f"Step up to {p.name_of(nxt, v.state.route)}: {nxt.title}",
            "Raised by: " + ("; ".join(nxt.raised_by) or "not stated"),
            "Contact: " + ("; ".join(nxt.received_by) or "not stated"),
        ]
        intro += [f"- {a}" for a in nxt.actions]
        intro += [f"Required: notify {n.to}" + (f" ({n.how})" if n.how else "") for n in nxt.notify]
        intro += [f"Deadline: {d.what} ({describe_timescale(d.timescale)})" for d in nxt.deadlines]

        def save(values: dict[str, str]) -> Any:
            return journal.step_up(
                dsl_app(self.app).store,
                dsl_app(self.app).settings,
                self.challenge,
                values["reason"],
                values.get("at") or None,
                seen_stage=v.state.stage,  # (a colleague's step up meanwhile is told, not stepped past)
            )

        self.app.push_screen(
            FormDialog(
                "Step up",
                [
                    Field("reason", "Why you are stepping up", kind="textarea", required=True),
                    Field("at", "When", kind="time"),
                ],
                save,
                intro="\n".join(intro),
                timezone=dsl_app(self.app).settings.timezone,
            ),
            self._saved,
        )

    def action_no_further(self) -> None:
        self.form(
            "Decide not to escalate further",
            [Field("reason", "Reasons", kind="textarea", required=True)],
            "no-further-escalation",
            lambda v: {"reason": v["reason"]},
            intro="A decision not to escalate needs its reasons recorded.",
        )

    def action_note(self) -> None:
        self.form(
            "Add a note",
            [Field("summary", "Note", kind="textarea", required=True)],
            "note",
            lambda v: {"summary": v["summary"]},
        )

    def action_amend(self) -> None:
        def save(values: dict[str, str]) -> Any:
            try:
                target = int(values["target"])
            except ValueError:
                raise EscalateError(f"entry number {values['target']!r} is not a whole number") from None
            return journal.amend(
                dsl_app(self.app).store,
                dsl_app(self.app).settings,
                self.challenge,
                target,
                values["field"],
                values["value"],
                values["reason"],
            )

        self.app.push_screen(
            FormDialog(
                "Amend an entry",
                [
                    Field("target", "Entry number (#)", required=True),
                    Field("field", "Field to correct", required=True, placeholder="e.g. summary, decision, with.name"),
                    Field("value", "Corrected value", required=True),
                    Field("reason", "Why", required=True),
                ],
                save,
                intro="The original entry stays; views show the corrected value, marked.",
                timezone=dsl_app(self.app).settings.timezone,
            ),
            self._saved,
        )

    def action_resolve(self) -> None:
        procedure = self.view.procedure if self.view is not None else None
        referral = self.view is not None and self.view.state.referral
        intro = []
        if procedure is not None and procedure.outcomes:
            intro.append("The procedure names these outcomes: " + "; ".join(procedure.outcomes) + ".")
        elif procedure is not None and not procedure.outcomes_captured:
            intro.append("The outcomes the procedure names were not captured from its source.")
        if procedure is not None and procedure.complaints_route:
            intro.append(f"If still dissatisfied: {procedure.complaints_route}")
        for form in procedure.forms if procedure is not None else ():
            if form.when and "resolv" in form.when.lower():  # the format's own example: "when resolved"
                intro.append(f"Form for a resolved challenge: {form.name}" + (f" ({form.url})" if form.url else ""))
        self.form(
            "Resolve",
            [
                Field(
                    "outcome",
                    "Outcome",
                    kind="select",
                    # "no-disagreement" closes a referral whose outcome is accepted: offered for those only
                    options=[(o, o) for o in OUTCOMES if o != "no-disagreement" or referral],
                    required=True,
                ),
                Field("rationale", "Rationale", kind="textarea", required=True),
                Field("impact", "Impact on the child"),
                Field("lessons", "Lessons"),
            ],
            "resolved",
            lambda v: {
                "outcome": v["outcome"],
                "rationale": v["rationale"],
                "impact": v["impact"],
                "lessons": v["lessons"],
            },
            intro="\n".join(intro),
        )

    def action_reopen(self) -> None:
        self.form("Reopen", [Field("reason", "Reason", required=True)], "reopened", lambda v: {"reason": v["reason"]})

    def action_export(self) -> None:

        # lazy: the log, reports and pydantic: 88 ms
        from escalate.export import FORMATS, PACK_FORMATS, check_name, check_output, check_withhold, export, pack

        def check(values: dict[str, str]) -> Any:
            # what can be refused at once is refused in the form, keeping what was typed
            if values["what"] == "pack" and values["format"] not in PACK_FORMATS:
                raise UsageError(
                    f"a dispute pack is not written as {values['format']}",
                    hint="Choose " + ", ".join(PACK_FORMATS) + " for a pack.",
                )
            # the folder the app was started in, named in full: the user is told where the file went
            output = Path(values["path"]).expanduser().absolute()
            check_name(output, values["format"])
            check_output(output, values["force"] == "yes")
            withhold = (
                check_withhold(values["withhold"].replace(",", " ").split(), values["format"])
                if values["what"] == "export"
                else []
            )
            return {**values, "output": output, "withhold": withhold}

        def same_extension(name: str, values: dict[str, str]) -> dict[str, str]:
            # a file still named after a format follows the format chosen; a name of the user's own stays
            path = Path(values["path"])
            suffix = path.suffix.lower().lstrip(".")
            if name == "format" and values["format"] and suffix in FORMATS and suffix != values["format"]:
                return {"path": str(path.with_suffix("." + values["format"]))}
            return {}

        def run(values: dict[str, Any], progress: Callable[[int, int], None]) -> Any:
            output, force = values["output"], values["force"] == "yes"
            if values["what"] == "pack":
                pack(
                    dsl_app(self.app).store,
                    dsl_app(self.app).settings,
                    dsl_app(self.app).catalogue,
                    self.challenge,
                    output,
                    fmt=values["format"],
                    force=force,
                )
            else:
                export(
                    dsl_app(self.app).store,
                    dsl_app(self.app).settings,
                    dsl_app(self.app).catalogue,
                    [self.challenge],
                    output,
                    fmt=values["format"],
                    redact=values["redact"] == "yes",
                    force=force,
                    progress=progress,
                    withhold=values["withhold"],
                )
            return output

        def finished(result: Any) -> None:
            if isinstance(result, EscalateError):
                dsl_app(self.app).show_error(result)
            elif result:
                self.app.notify(f"Written to {result}; the export is recorded in the log.")
            self.refresh_data()

        def checked(values: Any) -> None:
            if values:
                self.app.push_screen(
                    ProgressDialog(f"Writing {values['output'].name}", lambda progress: run(values, progress)), finished
                )

        formats = [(name, name) for name in EXPORT_FORMATS]
        yes_no = [("no", "no"), ("yes", "yes")]
        self.app.push_screen(
            FormDialog(
                "Export this challenge",
                [
                    Field(
                        "what",
                        "What",
                        kind="select",
                        required=True,
                        default="export",
                        options=[("export for an auditor", "export"), ("dispute pack for a meeting", "pack")],
                    ),
                    Field("format", "Format", kind="select", options=formats, default="html", required=True),
                    Field(
                        "redact",
                        "Redact personal details (export only)",
                        kind="select",
                        options=yes_no,
                        default="no",
                        required=True,
                        help="Case reference and names become 'Child A', 'Social worker 1'.",
                    ),
                    Field(
                        "withhold",
                        "Also withhold these free-text fields (csv, md, html, pdf)",
                        placeholder="e.g. concern, summary",
                        help="Shown as '(withheld)'. Any of: " + ", ".join(FREE_TEXT),
                    ),
                    Field(
                        "path",
                        "Save to",
                        required=True,
                        default=f"{self.challenge}.html",
                        help="The extension follows the format. A name without a folder is saved in the folder "
                        "escalate was started in. An existing file is kept unless you choose to replace it.",
                    ),
                    Field(
                        "force", "Replace an existing file", kind="select", options=yes_no, default="no", required=True
                    ),
                ],
                check,
                timezone=dsl_app(self.app).settings.timezone,
                changed=same_extension,
            ),
            checked,
        )

    def action_letter(self) -> None:
        from escalate import letter  # lazy: reports and python-docx's neighbours: when a letter is made

        view = self.view
        if view is None:
            return
        procedure, route = view.procedure, view.state.route
        stages = [(f"{procedure.name_of(s, route)}: {s.title}", str(s.number)) for s in procedure.ladder(route)]
        forms = [("no: a letter", NO_FORM)] + [(f"the form: {f.name}", f.name) for f in procedure.forms]
        app = dsl_app(self.app)

        def save(values: dict[str, str]) -> Any:
            output = Path(values["path"]).expanduser().absolute()
            return letter.make(
                app.store,
                app.settings,
                app.catalogue,
                self.challenge,
                output,
                fmt=values["format"],
                stage=None if values.get("form", NO_FORM) != NO_FORM else values["stage"],
                form=None if values.get("form", NO_FORM) == NO_FORM else values["form"],
                redact=values["redact"] == "yes",
                force=values["force"] == "yes",
            ), output

        def same_extension(name: str, values: dict[str, str]) -> dict[str, str]:
            path = Path(values["path"])
            suffix = path.suffix.lower().lstrip(".")
            if name == "format" and values["format"] and suffix in letter.FORMATS and suffix != values["format"]:
                return {"path": str(path.with_suffix("." + values["format"]))}
            return {}

        def done(result: Any) -> None:
            if result:
                made, output = result
                self.app.notify(f"Wrote the {made} to {output}; it is recorded in the log.")
                self.refresh_data()

        yes_no = [("no", "no"), ("yes", "yes")]
        self.app.push_screen(
            FormDialog(
                "Letter to the other agency, or the partnership's form",
                [
                    Field(
                        "stage",
                        "Letter for",
                        kind="select",
                        options=stages,
                        default=str(view.state.stage),
                        required=True,
                        help="To the stage's receiving role (its named contact, where the procedure file has one), "
                        "asking for what the stage asks of them by its due date.",
                    ),
                    *(
                        [Field("form", "Or fill the procedure's form", kind="select", options=forms, default=NO_FORM)]
                        if procedure.forms
                        else []
                    ),
                    Field(
                        "format",
                        "Format",
                        kind="select",
                        options=[("Word (docx)", "docx"), ("plain text, for an email", "txt"), ("Markdown", "md")],
                        default="docx",
                        required=True,
                    ),
                    Field(
                        "redact",
                        "Case reference and others' names as stand-ins",
                        kind="select",
                        options=yes_no,
                        default="no",
                        required=True,
                    ),
                    Field(
                        "path",
                        "Save to",
                        required=True,
                        default=f"{self.challenge}-letter.docx",
                        help="A name without a folder is saved in the folder escalate was started in.",
                    ),
                    Field(
                        "force", "Replace an existing file", kind="select", options=yes_no, default="no", required=True
                    ),
                ],
                save,
                timezone=app.settings.timezone,
                changed=same_extension,
            ),
            done,
        )

    def action_back(self) -> None:
        self.dismiss(None)

    def commands(self) -> list[tuple[str, str, Any]]:
        return [
            (f"Challenge: {description.lower()}", f"key {key}", getattr(self, f"action_{action}"))
            for key, action, description, _ in ACTIONS
        ]


def _person(text: str) -> dict[str, str] | None:

    return parse_person(text) if text.strip() else None
