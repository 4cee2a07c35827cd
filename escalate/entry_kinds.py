"""What each kind of entry holds: one typed model per kind, defined once.

Each model is the entry's ``data`` as it is stored and hashed. Two readings come from it:

* :data:`KINDS`, the input table (field -> (input type, required)) that :func:`escalate.entry.check_data`
  checks what a person gives against, with messages naming the field;
* :func:`parse`, which reads stored data into the kind's model, so the fold and the views work with
  typed values and never guess. Stored data that does not fit its kind raises
  :class:`escalate.entry.DamagedEntry` there, and nowhere else.

A personal field (``case_ref``, ``subject_name``, a person's ``name``) is given as text but stored as a
digest, ``{"_sd": "<sha256 hex>"}`` (:class:`Sealed`): see :mod:`escalate.entry`.
"""

from __future__ import annotations

from typing import Annotated, Literal, get_args, get_origin

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StrictBool, StrictInt, StrictStr, ValidationError

from escalate import clock

# The input type each field is given as (escalate.entry checks it); the annotation says how it is stored.
_TEXT, _LINE, _INSTANT, _INT, _BOOL, _LIST, _PERSON = "str", "line", "instant", "int", "bool", "list", "person"


class _Frozen(BaseModel):
    # defer_build: each model's validator is built when it is first used, not when escalate is imported
    # (seventeen of them cost every command, and the app's first frame, 60 ms)
    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True, defer_build=True)


class Sealed(_Frozen):
    """A personal value as stored: the sha256 of its disclosure, which is kept beside the entry."""

    digest: str = Field(alias="_sd", pattern=r"^[0-9a-f]{64}$")


class Person(_Frozen):
    """Someone an entry names: name (sealed when stored), role and agency, each optional."""

    name: Sealed | StrictStr | None = None
    role: StrictStr | None = None
    agency: StrictStr | None = None


class Author(_Frozen):
    """Who recorded an entry: from their settings, and the operating-system user."""

    name: Sealed | StrictStr
    role: StrictStr
    setting: StrictStr | None = None
    os_user: Sealed | StrictStr | None = None


Text = Annotated[StrictStr, _TEXT]
#: one line of text (a name, an agency, a reference): refused longer than escalate.entry.MAX_LINE when given
Line = Annotated[StrictStr, _LINE]


def _stored_time(text: str) -> str:
    if not clock.is_iso(text):
        raise ValueError(f"expected a time as escalate stores it (2026-12-18T10:00:00.000000Z), got {text[:40]!r}")
    return text


Instant = Annotated[StrictStr, AfterValidator(_stored_time), _INSTANT]
Number = Annotated[StrictInt, _INT]
Flag = Annotated[StrictBool, _BOOL]
Texts = Annotated[tuple[StrictStr, ...], _LIST]
Personal = Annotated[Sealed | StrictStr, _LINE]
Someone = Annotated[Person, _PERSON]
#: "no-disagreement": a challenge opened at a referral whose outcome came and was accepted
Outcome = Annotated[Literal["resolved", "partly-resolved", "unresolved", "withdrawn", "no-disagreement"], _TEXT]
Medium = Annotated[Literal["phone", "email", "meeting", "letter", "form", "verbal", "video", "in-person"], _TEXT]


class _History(_Frozen):
    """An entry that may tell of something before its challenge was opened (a call made the day before),
    given with the reason it is recorded as earlier history."""

    history: Text | None = None


class Opened(_Frozen):
    procedure_id: Line
    procedure_version: Line
    procedure_fingerprint: Line
    procedure_text: Text
    procedure_path: Annotated[Sealed | StrictStr, _TEXT] | None = None
    case_ref: Personal
    subject_name: Personal | None = None
    setting: Line | None = None
    agency: Line
    team: Line | None = None
    #: absent for a challenge opened at the referral, before any decision (``referral``)
    decision: Text | None = None
    decision_at: Instant | None = None
    decision_by: Someone | None = None
    decision_ref: Line | None = None
    triggers: Texts = ()  # none yet for a referral followed up before any decision
    #: opened at the referral itself, to follow it up before any decision (format 2 procedures)
    referral: Flag | None = None
    #: the procedure's own disagreements chosen (format 2), each mapped to ``triggers``
    disagreements: Texts = ()
    checks: Texts = ()
    concern: Text
    evidence: Texts = ()
    outcome_sought: Text | None = None
    immediate_risk: Flag
    skip_rule: Line | None = None
    route: Line
    start_stage: Number
    protective_by: Instant | None = None


class DecisionReceived(_Frozen):
    """The decision on a referral followed up from the start (a challenge opened with ``referral``)."""

    decision: Text
    decision_by: Someone | None = None
    decision_ref: Line | None = None
    #: what the disagreement is, where the DSL disagrees with the decision
    triggers: Texts = ()


class NotificationNotNeeded(_Frozen):
    """A conditional notification answered: its condition does not apply to this challenge."""

    to: Line
    reason: Text


class Contact(_History):
    direction: Annotated[Literal["made", "received"], _TEXT]
    medium: Medium
    with_: Someone | None = Field(default=None, alias="with")
    summary: Text


class Response(_History):
    with_: Someone | None = Field(default=None, alias="with")
    decision: Text
    rationale: Text | None = None
    summary: Text | None = None


class ActionAgreed(_History):
    action: Text
    owner: Line | None = None
    due: Instant
    with_: Someone | None = Field(default=None, alias="with")
    summary: Text | None = None


class ActionDone(_Frozen):
    """An action agreed earlier recorded as done: it meets that action's due date."""

    action_seq: Number  # the action-agreed entry's number within the challenge
    summary: Text | None = None


class DeadlineExtended(_Frozen):
    deadline: Line
    new_due: Instant
    reason: Text
    agreed_by: Someone | None = None


class DeadlinePaused(_Frozen):
    deadline: Line
    reason: Text
    agreed_by: Someone | None = None


class DeadlineResumed(_Frozen):
    deadline: Line
    reason: Text | None = None


class TimescaleAgreed(_Frozen):
    deadline: Line
    due: Instant
    reason: Text | None = None
    agreed_by: Someone | None = None


class NotificationSent(_History):
    to: Line
    medium: Medium | None = None
    form: Line | None = None
    summary: Text | None = None


class AdviceSought(_History):
    with_: Someone = Field(alias="with")
    summary: Text


class SteppedUp(_Frozen):
    from_stage: Number
    to_stage: Number
    reason: Text


class NoFurtherEscalation(_Frozen):
    reason: Text


class Note(_History):
    summary: Text


class Amendment(_Frozen):
    target_seq: Number
    field: Line
    new_value: Text
    reason: Text
    corrected_case_ref: Personal | None = None
    corrected_subject_name: Personal | None = None
    corrected_name: Personal | None = None


class Resolved(_Frozen):
    outcome: Outcome
    rationale: Text
    impact: Text | None = None
    lessons: Text | None = None


class Reopened(_Frozen):
    reason: Text


class Checkpoint(_Frozen):
    """The log's head signed by its author (escalate.checkpoint): the first ``count`` entries, the last
    of them hashing to ``head``, in the store ``store_id``, with an SSH signature (namespace escalate)
    over the text escalate.checkpoint.signed_text makes of them."""

    count: Number
    head: Annotated[StrictStr, Field(pattern=r"^[0-9a-f]{64}$"), _LINE]
    store_id: Line
    principal: Line
    public_key: Line
    signature: Text


class Exported(_Frozen):
    scope: Line
    format: Line
    redacted: Flag
    sha256: Line
    entries: Number


EntryData = (
    Opened
    | DecisionReceived
    | Contact
    | Response
    | ActionAgreed
    | ActionDone
    | DeadlineExtended
    | DeadlinePaused
    | DeadlineResumed
    | TimescaleAgreed
    | NotificationSent
    | NotificationNotNeeded
    | AdviceSought
    | SteppedUp
    | NoFurtherEscalation
    | Note
    | Amendment
    | Resolved
    | Reopened
    | Exported
    | Checkpoint
)

#: kind (as in an entry's header) -> its model
MODELS: dict[str, type[EntryData]] = {
    "opened": Opened,
    "decision-received": DecisionReceived,
    "contact": Contact,
    "response": Response,
    "action-agreed": ActionAgreed,
    "action-done": ActionDone,
    "deadline-extended": DeadlineExtended,
    "deadline-paused": DeadlinePaused,
    "deadline-resumed": DeadlineResumed,
    "timescale-agreed": TimescaleAgreed,
    "notification-sent": NotificationSent,
    "notification-not-needed": NotificationNotNeeded,
    "advice-sought": AdviceSought,
    "stepped-up": SteppedUp,
    "no-further-escalation": NoFurtherEscalation,
    "note": Note,
    "amendment": Amendment,
    "resolved": Resolved,
    "reopened": Reopened,
    "exported": Exported,
    "checkpoint": Checkpoint,
}


_TAGS = (_TEXT, _LINE, _INSTANT, _INT, _BOOL, _LIST, _PERSON)


def _input_type(metadata: list[object], annotation: object) -> str:
    """The input type a field is tagged with: pydantic moves a top-level ``Annotated`` tag into the
    field's metadata, and keeps one inside ``X | None`` in the annotation."""
    for item in metadata:
        if item in _TAGS:
            return str(item)
    if get_origin(annotation) is Annotated:
        return _input_type(list(get_args(annotation)[1:]), get_args(annotation)[0])
    for arg in get_args(annotation):  # an optional field: X | None
        if arg is not type(None):
            return _input_type([], arg)
    raise TypeError(f"an entry field without an input type: {annotation!r}")  # pragma: no cover - fixed models


def _table(model: type[EntryData]) -> dict[str, tuple[str, bool]]:
    return {
        field.alias or name: (_input_type(list(field.metadata), field.annotation), field.is_required())
        for name, field in model.model_fields.items()
    }


#: kind -> {field: (input type, required)}; input types: str, line, int, bool, list, person, instant
KINDS: dict[str, dict[str, tuple[str, bool]]] = {kind: _table(model) for kind, model in MODELS.items()}


class UnfitData(ValueError):
    """Stored data that does not fit its kind (escalate.entry raises it as DamagedEntry)."""


def parse(kind: str, data: object) -> EntryData:
    """A stored entry's data as its kind's model."""
    model = MODELS.get(kind)
    if model is None:
        raise UnfitData(f"an entry of unknown kind {kind!r}")
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise UnfitData(f"a {kind} entry's data does not fit its kind: {exc.errors()[0]['msg']}") from None
