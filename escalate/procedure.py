"""The procedure model: one partnership's escalation procedure, validated and frozen.

A procedure file is TOML (see ``procedures/TEMPLATE.toml`` and docs/procedure-format.md, the format
reference). These pydantic models are the single definition of the format: the JSON
Schema shipped at ``procedures/schema.json`` is generated from them, and the loader in
:mod:`escalate.procedure_file` reports their validation errors with file and line.

Published procedures are often vague, so every role, medium and timescale may be
"not stated" without failing validation: the record then says so, honestly.
"""

# No ``from __future__ import annotations`` here: pydantic would then evaluate every field's
# annotation from a string (a compile per field, about 5 ms at every start).
import datetime as dt
import os
import re
import sys
import types
from typing import Annotated, Literal


def _without_pydantic_plugins() -> None:
    """Turn pydantic's third-party plugins off before any model is built.

    A pydantic plugin (an observability tool, say) is handed every value pydantic validates;
    procedure files are not secret, but the same switch will guard anything personal we ever
    validate, so escalate never loads one. ``PYDANTIC_DISABLE_PLUGINS`` is pydantic's own
    switch, but pydantic reads it only after its plugin loader has imported
    ``importlib.metadata`` (25-45 ms at every start here, a third of what a command may add
    to its dependencies), so the loader's one function is provided up front instead.
    Tested in ``tests/test_layers.py``: plugins stay off and validation works.
    """
    os.environ["PYDANTIC_DISABLE_PLUGINS"] = "__all__"
    if "pydantic.plugin._loader" not in sys.modules:
        loader = types.ModuleType("pydantic.plugin._loader", "escalate: pydantic plugins are turned off")
        loader.get_plugins = lambda: ()  # type: ignore[attr-defined]
        sys.modules["pydantic.plugin._loader"] = loader


_without_pydantic_plugins()

from pydantic import BaseModel, ConfigDict, Field, field_validator  # noqa: E402

from escalate.triggers import TRIGGER_IDS  # noqa: E402

#: the newest format; format 1 files load as they are (format 2 only adds constructs to it)
FORMAT_VERSION = 2

#: Bank-holiday calendars we have; the value is the ``holidays`` package subdivision.
REGIONS: dict[str, str] = {
    "england-and-wales": "ENG",
    "scotland": "SCT",
    "northern-ireland": "NIR",
}

Slug = Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9-]*$", min_length=1, max_length=64)]
Text = Annotated[str, Field(min_length=1, max_length=4000)]

#: What starts a deadline's clock. ``deadline:<id>`` names an earlier deadline of the same stage.
CLOCK_STARTS = (
    "disagreement",  # the challenge was opened: when the disagreement arose
    "decision-received",  # when the decision being challenged was received
    "stage-entered",  # when this stage was entered (opening, or stepping up)
    "concern-raised",  # the first contact we made in this stage
    "reply-received",  # the first response received in this stage
    # format 2: events recorded in the stage, and a start the source does not give
    "contact-in-writing",  # the first contact we made in writing (email, letter or form)
    "contact-by-phone",  # the first contact we made by phone
    "second-contact",  # the second contact we made (e.g. "if there is no reply, contact them again")
    "meeting-held",  # the first meeting (a contact by meeting, video or in person, either way)
    "agreement-reached",  # the first action agreed
    "resolved",  # the challenge resolved (a follow-up deadline: "the outcome letter within 2 days")
    "not-stated",  # the source does not say when the clock starts: never guessed, never computed
)
Medium = Literal[
    "verbal",
    "phone",
    "email",
    "written",
    "letter",
    "meeting",
    "form",
    "not-stated",
    # format 2
    "discussion",
    "negotiation",
    "consultation",
    "professionals-meeting",
    "line-management",
    "video",
    "in-person",
]
#: a medium the common words do not cover, in the source's words (format 2): "other: by secure video link"
OtherMedium = Annotated[str, Field(pattern=r"^other: \S.*$", max_length=120)]
#: "not-stated" (format 2): the source does not say whose action it is
Owner = Literal["us", "them", "both", "not-stated"]


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", str_strip_whitespace=True, defer_build=True)


# --- timescales ---------------------------------------------------------------------------


class WorkingDays(_Model):
    """N working days: weekends and the region's bank holidays do not count."""

    kind: Literal["working-days"]
    amount: int = Field(ge=0, le=365)
    wording: str | None = Field(default=None, description="The procedure's own words, e.g. 'a working week'.")


class Hours(_Model):
    """N elapsed clock hours, weekends included ('48 hours')."""

    kind: Literal["hours"]
    amount: int = Field(ge=0, le=24 * 365)
    wording: str | None = None


class CalendarDays(_Model):
    """N calendar days, weekends and holidays included."""

    kind: Literal["calendar-days"]
    amount: int = Field(ge=0, le=3650)
    wording: str | None = None


class SameWorkingDay(_Model):
    """By the end (cut-off) of the working day on which the clock starts."""

    kind: Literal["same-working-day"]
    wording: str | None = None


class NoTolerance(_Model):
    """An 'immediately' that allows no time at all: due at the very moment the clock starts."""

    kind: Literal["none"]


class Immediately(_Model):
    """'Immediately': due when the clock starts, allowing ``tolerance`` (by default the rest of that
    working day), so a call made five minutes later is met, not met late."""

    kind: Literal["immediately"]
    tolerance: Annotated[SameWorkingDay | Hours | NoTolerance, Field(discriminator="kind")] = Field(
        default_factory=lambda: SameWorkingDay(kind="same-working-day"),
        description="How long 'immediately' allows: the same working day (default), N hours, or none.",
    )
    wording: str | None = None


class AsSoonAsPossible(_Model):
    """'As soon as possible' / 'without delay' with no time stated: always due, never overdue on its
    own and never counted as a missed timescale; escalate keeps prompting until it is met."""

    kind: Literal["as-soon-as-possible"]
    wording: str | None = None


class Agreed(_Model):
    """'A timescale acceptable to both': the user records the agreed date for the case."""

    kind: Literal["agreed"]
    wording: str | None = None


class NotStated(_Model):
    """The published procedure gives no timescale (or the source was cut off)."""

    kind: Literal["not-stated"]
    wording: str | None = None


FixedTimescale = Annotated[WorkingDays | Hours | CalendarDays, Field(discriminator="kind")]


class LesserOfProtective(_Model):
    """A fixed limit or a protective timescale the user sets for the case, whichever is sooner."""

    kind: Literal["lesser-of-protective"]
    fixed: FixedTimescale
    wording: str | None = None


Timescale = Annotated[
    WorkingDays
    | Hours
    | CalendarDays
    | Immediately
    | AsSoonAsPossible
    | SameWorkingDay
    | Agreed
    | NotStated
    | LesserOfProtective,
    Field(discriminator="kind"),
]


# --- stages -------------------------------------------------------------------------------


class Deadline(_Model):
    id: Slug = Field(description="Unique within the stage; other deadlines may start from it.")
    what: Text = Field(
        description="What must happen by the deadline; 'not-stated' (format 2) where the source gives a time only."
    )
    owner: Owner = Field(
        description="Whose action it is: us (the challenger), them (the agency challenged), both, or not-stated."
    )
    starts: str = Field(
        default="stage-entered",
        description="Clock start: " + ", ".join(CLOCK_STARTS) + ", or deadline:<id> of this stage.",
    )
    starts_wording: str | None = Field(
        default=None,
        description="Format 2: the source's own words for the clock start, e.g. 'a report made by telephone'.",
    )
    timescale: Timescale
    also_read_as: FixedTimescale | None = Field(
        default=None,
        description="Format 2: a second reading the source states beside the binding one ('48 hours (two "
        "working days)': timescale = 2 working days, also_read_as = 48 hours); shown, never computed as due.",
    )
    met_by: list[str] = Field(
        default_factory=list,
        description="Entry kinds that meet this deadline; default: contact (us), response (them), either (both).",
    )

    @field_validator("starts")
    @classmethod
    def _check_start(cls, value: str) -> str:
        if value in CLOCK_STARTS or re.fullmatch(r"deadline:[a-z0-9][a-z0-9-]*", value):
            return value
        raise ValueError(f"expected one of {', '.join(CLOCK_STARTS)} or deadline:<id>, got {value!r}")

    @field_validator("met_by")
    @classmethod
    def _check_met_by(cls, value: list[str]) -> list[str]:
        allowed = ("contact", "response", "notification-sent", "stepped-up", "action-agreed", "resolved")
        for kind in value:
            if kind not in allowed:
                raise ValueError(f"expected entry kinds from {', '.join(allowed)}, got {kind!r}")
        return value

    def meeting_kinds(self) -> tuple[str, ...]:
        if self.met_by:
            return tuple(self.met_by)
        if self.owner == "us":
            return ("contact",)
        if self.owner == "them":
            return ("response",)
        return ("contact", "response")  # both, or whose is not stated


class Notification(_Model):
    to: Text = Field(description="Who must be told, e.g. 'Partnership business manager'.")
    how: str | None = Field(default=None, description="e.g. 'email marked Formal escalation'.")
    form: str | None = Field(default=None, description="Name of a form to send, if any.")
    required: bool = True
    condition: str | None = Field(
        default=None,
        description="Format 2: when it applies, asked as a question and recorded as answered ('only where the "
        "dispute concerns an individual adult at risk').",
    )
    timescale: Timescale | None = Field(
        default=None, description="Format 2: how soon it must be sent ('within 48 hours of the meeting')."
    )
    starts: str = Field(default="stage-entered", description="Format 2: when its timescale starts (a clock start).")
    starts_wording: str | None = None

    @field_validator("starts")
    @classmethod
    def _check_start(cls, value: str) -> str:
        if value in CLOCK_STARTS:
            return value
        raise ValueError(f"expected one of {', '.join(CLOCK_STARTS)}, got {value!r}")


class Form(_Model):
    name: Text
    url: str | None = None
    when: str | None = Field(default=None, description="e.g. 'at stage 3' or 'when resolved'.")
    fields: list[str] = Field(default_factory=list, description="Headings of the form, used to pre-fill drafts.")


class Stage(_Model):
    number: int = Field(
        ge=-9,
        le=40,
        description="Orders the ladder and names the stage to skip rules and limits; pre-stages may be 0 or below.",
    )
    label: str | None = Field(
        default=None,
        min_length=1,
        max_length=40,
        description="Format 2: the procedure's own name for the stage ('Step 0', 'Pre-stage 1a', '4 a)'); "
        "default: stage_label and number.",
    )
    title: Text
    before_disagreement: bool = Field(
        default=False,
        description="Format 2: a follow-up of a referral before any decision or disagreement (Wales's Step 0): "
        "where `escalate open --referral` starts. Only the first stages of the main ladder may be.",
    )
    group: str | None = Field(default=None, description="e.g. 'informal' or 'formal'.")
    raised_by: list[str] = Field(default_factory=list, description="Roles who raise the concern; empty = not stated.")
    received_by: list[str] = Field(default_factory=list, description="Roles who receive it; empty = not stated.")
    medium: list[Medium | OtherMedium] = Field(
        default_factory=list, description="How it is raised: the common words, or 'other: TEXT' (format 2)."
    )
    actions: list[str] = Field(default_factory=list)
    record: list[str] = Field(default_factory=list, description="What must be recorded at this stage.")
    notify: list[Notification] = Field(default_factory=list)
    forms: list[str] = Field(default_factory=list, description="Names of forms (see [[forms]]) used at this stage.")
    deadlines: list[Deadline] = Field(default_factory=list)
    note: str | None = None


class Route(_Model):
    """A parallel route, e.g. disputes about a child protection conference decision."""

    id: Slug
    name: Text
    when: Text = Field(description="When this route applies instead of the main ladder.")
    started_by: str | None = None
    stages: list[Stage] = Field(min_length=1)
    exit: str | None = Field(default=None, description="Where the route ends, e.g. the complaints procedure.")


class SkipRule(_Model):
    id: Slug
    when: Text = Field(description="e.g. 'The child is at risk of immediate harm'.")
    instruction: Text = Field(description="What to do now, e.g. 'Call 999 or refer to children's social care now'.")
    immediate_risk: bool = Field(
        default=True,
        description="Offered when the user says the child is at immediate risk; false: offered as a choice "
        "whenever a challenge is opened on its route.",
    )
    start_stage: int | None = Field(default=None, description="Stage to start at instead of the first.")
    start_stages: list[int] = Field(
        default_factory=list,
        description="Format 2: a choice of stages to start at ('may go straight to Stage 2 or Stage 3'); "
        "the first is the default.",
    )
    route: str = Field(default="main", description="Format 2: the route whose stages start_stage(s) name.")
    timescale: Timescale | None = Field(
        default=None, description='Format 2: how soon to act on it, e.g. { kind = "same-working-day" }.'
    )
    contact_directly: list[str] = Field(default_factory=list)

    def starts(self) -> list[int]:
        """The stages this rule lets a challenge start at, the default first."""
        return ([self.start_stage] if self.start_stage is not None else []) + [
            n for n in self.start_stages if n != self.start_stage
        ]


class Exclusion(_Model):
    matter: Text = Field(description="What this procedure does not cover, e.g. 'Allegations against staff'.")
    go_to: str | None = Field(
        default=None,
        min_length=1,
        max_length=4000,
        description="Where to go instead, e.g. 'The LADO'; format 2: may be left out where the source does not say.",
    )


class TriggerLocal(_Model):
    wording: list[str] = Field(default_factory=list, description="The procedure's own words for this trigger.")
    examples: list[str] = Field(default_factory=list)
    checks: list[str] = Field(default_factory=list, description="Checks added to the built-in ones.")


class Disagreement(_Model):
    """One of the procedure's own kinds of disagreement ("outcome of an assessment", "care
    arrangements or discharge"), in its words, mapped to the built-in triggers it is counted under."""

    id: Slug = Field(description="Unique; what `escalate open --trigger` takes. Not one of the five built-in ids.")
    title: Text = Field(description="The procedure's own name for it.")
    triggers: list[str] = Field(
        min_length=1, description="The built-in triggers it counts as (for the walk-through and the statistics)."
    )
    wording: list[str] = Field(default_factory=list, description="The procedure's own words for it.")
    examples: list[str] = Field(default_factory=list)
    checks: list[str] = Field(default_factory=list, description="Checks added to its triggers' built-in ones.")


class Contact(_Model):
    name: Text
    role: Text
    phone: str | None = None
    email: str | None = None
    review_by: dt.date | None = Field(default=None, description="Date by which this contact must be re-checked.")

    def review_overdue(self, today: dt.date) -> bool:
        """Past its review-by date: the person may have moved on, so check before relying on it."""
        return self.review_by is not None and self.review_by < today


class Limit(_Model):
    """An aggregate timescale over a range of stages ('steps 1 to 5 within 5 working days')."""

    id: Slug
    what: Text
    from_stage: int
    to_stage: int
    timescale: Timescale


class Source(_Model):
    title: Text
    url: str | None = None
    other_urls: list[str] = Field(
        default_factory=list, description="Format 2: further pages of the same procedure (sections, flowcharts)."
    )
    retrieved: str | None = None
    coverage: str | None = Field(default=None, description="What of the source this file covers, if partial.")


class Procedure(_Model):
    """One escalation (resolving professional differences) procedure."""

    format: Literal[1, 2] = Field(
        description="Format version of this file: 2 (the constructs docs/procedure-format.md marks 'format 2'), or 1."
    )
    id: Slug
    name: Text
    partnership: Text
    applies_to: Literal["children", "adults", "both"]
    version: Text = Field(description="Version or date of the published procedure.")
    region: str = Field(description="Bank-holiday calendar: " + ", ".join(REGIONS) + ".")
    area: str | None = Field(
        default=None, description="Format 2: the area the procedure serves, e.g. 'All of Wales' or 'Sefton'."
    )
    cutoff: dt.time = Field(
        default=dt.time(17, 0),
        description="End of the working day: later events count from the next working day.",
    )
    stage_label: str = Field(default="Stage", description="What the procedure calls a stage: Stage, Level, Step, Tier.")
    check_note: str = Field(
        default="Example transcription: check it against your partnership's current published procedure.",
    )
    source: Source
    stages: list[Stage] = Field(min_length=1)
    routes: list[Route] = Field(default_factory=list)
    limits: list[Limit] = Field(default_factory=list)
    skip_rules: list[SkipRule] = Field(default_factory=list)
    exclusions: list[Exclusion] = Field(default_factory=list)
    triggers: dict[str, TriggerLocal] = Field(default_factory=dict)
    disagreements: list[Disagreement] = Field(
        default_factory=list,
        description="Format 2: the procedure's own list of disagreements, offered instead of the five built-in "
        "triggers, each mapped to one or more of them.",
    )
    forms: list[Form] = Field(default_factory=list)
    contacts: list[Contact] = Field(default_factory=list)
    outcomes: list[str] = Field(default_factory=list)
    outcomes_captured: bool = Field(
        default=True,
        description="Format 2: false where the source's outcomes were not captured (as distinct from naming none).",
    )
    complaints_route: str | None = Field(default=None, description="Where to go if still dissatisfied.")
    notes: list[str] = Field(default_factory=list)

    @field_validator("region")
    @classmethod
    def _known_region(cls, value: str) -> str:
        if value not in REGIONS:
            raise ValueError(f"no bank-holiday calendar for region {value!r}; expected one of {', '.join(REGIONS)}")
        return value

    def problems(self) -> list[tuple[tuple[object, ...], str]]:
        """Cross-references the field types cannot check, each with the key path it concerns.

        Kept out of pydantic validators so that every problem is reported at once,
        with its own key and line, instead of one error at the document root.
        """
        found: list[tuple[tuple[object, ...], str]] = []
        for key in self.triggers:
            if key not in TRIGGER_IDS:
                found.append((("triggers", key), f"unknown trigger {key!r}; expected one of {', '.join(TRIGGER_IDS)}"))
        seen: set[str] = set()
        for i, item in enumerate(self.disagreements):
            if item.id in TRIGGER_IDS or item.id in seen:
                found.append(
                    (("disagreements", i, "id"), f"disagreement id {item.id!r} is a built-in trigger's or used twice")
                )
            seen.add(item.id)
            for j, trigger in enumerate(item.triggers):
                if trigger not in TRIGGER_IDS:
                    found.append(
                        (
                            ("disagreements", i, "triggers", j),
                            f"unknown trigger {trigger!r}; expected one of {', '.join(TRIGGER_IDS)}",
                        )
                    )
        found += _ladder_problems(self.stages, ("stages",))
        numbers = sorted({s.number for s in self.stages})
        listed = ", ".join(map(str, numbers))
        routes = {"main": self.stages} | {r.id: r.stages for r in self.routes}
        for i, rule in enumerate(self.skip_rules):
            if rule.route not in routes:
                message = f"skip rule {rule.id!r} names route {rule.route!r}, which does not exist"
                found.append((("skip_rules", i, "route"), message))
                continue
            on = sorted({s.number for s in routes[rule.route]})
            where = f"stages{'' if rule.route == 'main' else ' of route ' + rule.route}: {', '.join(map(str, on))}"
            if rule.start_stage is not None and rule.start_stage not in on:
                found.append(
                    (
                        (("skip_rules", i, "start_stage")),
                        f"skip rule {rule.id!r} starts at stage {rule.start_stage}, which does not exist ({where})",
                    )
                )
            for j, n in enumerate(rule.start_stages):
                if n not in on:
                    found.append(
                        (
                            ("skip_rules", i, "start_stages", j),
                            f"skip rule {rule.id!r} offers stage {n}, which does not exist ({where})",
                        )
                    )
        for i, limit in enumerate(self.limits):
            for field in ("from_stage", "to_stage"):
                n = getattr(limit, field)
                if n not in numbers:
                    found.append(
                        (
                            ("limits", i, field),
                            f"limit {limit.id!r} names stage {n}, which does not exist (stages: {listed})",
                        )
                    )
            if limit.to_stage < limit.from_stage:
                found.append(
                    (("limits", i, "to_stage"), f"to_stage {limit.to_stage} is before from_stage {limit.from_stage}")
                )
        found += self._form_problems()
        ladder = sorted(self.stages, key=lambda s: s.number)
        after = [s.number for s in ladder if not s.before_disagreement]
        for i, stage in enumerate(self.stages):
            if stage.before_disagreement and after and stage.number > after[0]:
                message = f"stage {stage.number} is before_disagreement but comes after stage {after[0]}, which is not"
                found.append((("stages", i, "before_disagreement"), message))
        for i, route in enumerate(self.routes):
            for j, stage in enumerate(route.stages):
                if stage.before_disagreement:
                    message = "only the main ladder may have a stage before any disagreement"
                    found.append((("routes", i, "stages", j, "before_disagreement"), message))
        seen_routes: set[str] = set()
        for i, route in enumerate(self.routes):
            if route.id == "main" or route.id in seen_routes:
                found.append((("routes", i, "id"), f"route id {route.id!r} is reserved or used twice"))
            seen_routes.add(route.id)
            found += _ladder_problems(route.stages, ("routes", i, "stages"))
        return found

    def _form_problems(self) -> list[tuple[tuple[object, ...], str]]:
        """A form a stage or a notification names must be one of [[forms]] (a typo would send a DSL
        looking for a form the procedure does not have)."""
        names = {f.name for f in self.forms}
        listed = ", ".join(sorted(names)) or "none: add a [[forms]] table"
        found: list[tuple[tuple[object, ...], str]] = []
        ladders: list[tuple[tuple[object, ...], list[Stage]]] = [(("stages",), self.stages)]
        ladders += [(("routes", i, "stages"), r.stages) for i, r in enumerate(self.routes)]
        for at, stages in ladders:
            for i, stage in enumerate(stages):
                for j, form in enumerate(stage.forms):
                    if form not in names:
                        found.append((at + (i, "forms", j), f"form {form!r} is not one of [[forms]] ({listed})"))
                for j, n in enumerate(stage.notify):
                    if n.form is not None and n.form not in names:
                        found.append(
                            (at + (i, "notify", j, "form"), f"form {n.form!r} is not one of [[forms]] ({listed})")
                        )
        return found

    # --- helpers used by the challenge state and the faces ---

    def ladder(self, route: str = "main") -> list[Stage]:
        # Sorted once per procedure and route: deriving 10,000 challenges asks thousands of times.
        holder = _LADDERS.setdefault(id(self), (self, {}))
        ladders = holder[1]
        if route in ladders:
            return ladders[route]
        if route == "main":
            stages = self.stages
        else:
            found = [r for r in self.routes if r.id == route]
            if not found:
                raise KeyError(route)
            stages = found[0].stages
        ladders[route] = sorted(stages, key=lambda s: s.number)
        return ladders[route]

    def stage(self, number: int, route: str = "main") -> Stage:
        for s in self.ladder(route):
            if s.number == number:
                return s
        raise KeyError(number)

    def next_stage(self, number: int, route: str = "main") -> Stage | None:
        later = [s for s in self.ladder(route) if s.number > number]
        return later[0] if later else None

    def first_stage(self, route: str = "main", *, referral: bool = False) -> Stage:
        """Where a challenge starts on ``route``: at a disagreement, the first stage that is not a
        follow-up before any disagreement; at a referral (``referral``), the very first."""
        ladder = self.ladder(route)
        if referral:
            return ladder[0]
        return next((s for s in ladder if not s.before_disagreement), ladder[-1])

    def follows_up_referrals(self) -> bool:
        """Whether the procedure has a stage for following up a referral before any decision."""
        return self.ladder()[0].before_disagreement

    def name_of(self, stage: "Stage | int", route: str = "main") -> str:
        """A stage as the procedure names it: its own label ('Step 0', 'Pre-stage 1a'), or the
        procedure's word for a stage and its number ('Level 2'). Shown everywhere a stage is named."""
        if isinstance(stage, int):
            found = next((s for s in self.ladder(route) if s.number == stage), None)
            if found is None:
                return f"{self.stage_label} {stage}"
            stage = found
        return stage.label or f"{self.stage_label} {stage.number}"


#: id(procedure) -> (procedure, {route: sorted stages}); holding the procedure keeps its id from being reused.
_LADDERS: dict[int, tuple[Procedure, dict[str, list[Stage]]]] = {}


def _ladder_problems(stages: list[Stage], at: tuple[object, ...]) -> list[tuple[tuple[object, ...], str]]:
    found: list[tuple[tuple[object, ...], str]] = []
    seen_numbers: dict[int, int] = {}
    for i, stage in enumerate(stages):
        if stage.number in seen_numbers:
            found.append(
                (
                    at + (i, "number"),
                    f"stage number {stage.number} is used twice "
                    f"(also by entry {seen_numbers[stage.number] + 1} of this list)",
                )
            )
        seen_numbers.setdefault(stage.number, i)
        ids: list[str] = []
        for j, d in enumerate(stage.deadlines):
            if d.id in ids:
                found.append(
                    (at + (i, "deadlines", j, "id"), f"deadline id {d.id!r} is used twice in stage {stage.number}")
                )
            ids.append(d.id)
        starts = {d.id: d.starts.split(":", 1)[1] for d in stage.deadlines if d.starts.startswith("deadline:")}
        for j, d in enumerate(stage.deadlines):
            target = starts.get(d.id)
            if target is None:
                continue
            if target not in ids:
                found.append(
                    (
                        at + (i, "deadlines", j, "starts"),
                        f"deadline {d.id!r} starts from deadline {target!r}, which stage {stage.number} does not "
                        f"have (its deadlines: {', '.join(ids)})",
                    )
                )
                continue
            walk, node = {d.id}, target
            while node in starts:
                if node in walk:
                    found.append(
                        (
                            at + (i, "deadlines", j, "starts"),
                            f"deadline {d.id!r}: deadlines of stage {stage.number} start from each other in a loop",
                        )
                    )
                    break
                walk.add(node)
                node = starts[node]
    return found
