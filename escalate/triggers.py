"""The five escalation triggers, with the built-in guidance and checks every procedure gets.

A procedure file may add local wording, examples and extra checks per trigger
(``[triggers.<id>]``); it cannot remove the built-in checks, which come from
learning in case reviews and statutory guidance.
"""

from __future__ import annotations

from typing import NamedTuple


class Trigger(NamedTuple):
    id: str
    title: str
    plain: str
    guidance: tuple[str, ...]
    checks: tuple[str, ...]


TRIGGERS: dict[str, Trigger] = {
    t.id: t
    for t in (
        Trigger(
            id="unrecognised-harm",
            title="Harm not recognised",
            plain="Another agency does not recognise the signs of harm you have seen, or disagrees whether "
            "child protection procedures should be started.",
            guidance=(
                "State each sign of harm as evidence: what was seen or heard, when, by whom.",
                "Profession-specific indicators carry weight: unexplained absences, unexplained or patterned "
                "bruising, weight loss, disguised compliance.",
                "If the family is already known to social care, that should step concern up, never down.",
            ),
            checks=(
                "Have you written down each observed sign of harm with its date and who saw it?",
                "Have you said which indicators you rely on and why they matter for this child?",
                "Have you told the other agency that the family is known to services, if it is?",
            ),
        ),
        Trigger(
            id="disputed-referral",
            title="Referral not accepted",
            plain="Your referral was not accepted, was judged not to meet threshold, or you were told to "
            "gather more information first.",
            guidance=(
                "Ask for the decision and its reasons in writing, with the name and role of the decision maker.",
                "Being asked to 'seek more information first' is a decision you can challenge if the child "
                "is at risk meanwhile.",
            ),
            checks=(
                "Do you have the decision, its date and who made it?",
                "Have you asked for the reasons in writing?",
                "Is there new information since the referral that should be shared now?",
            ),
        ),
        Trigger(
            id="threshold-misapplied",
            title="Threshold misapplied",
            plain="The local thresholds of need were, in your view, applied wrongly to this child.",
            guidance=(
                "Quote the local threshold document: the level you believe applies and the descriptors the "
                "child meets.",
                "Differing views of threshold eligibility are a recognised reason to escalate.",
            ),
            checks=(
                "Have you named the threshold level you believe applies?",
                "Have you matched the evidence to that level's descriptors?",
            ),
        ),
        Trigger(
            id="no-information-sharing",
            title="Information not shared",
            plain="Information you need to keep the child safe is not shared, or you have had no feedback "
            "on a referral's outcome.",
            guidance=(
                "Data protection law is not a barrier to justified information sharing for safeguarding, "
                "even without consent.",
                "Make the request in writing and say why the information is needed to safeguard the child.",
            ),
            checks=(
                "Was the request made in writing, citing why the information is needed?",
                "Have you recorded the date of the request and who received it?",
                "Have you chased the outcome of your referral?",
            ),
        ),
        Trigger(
            id="non-cooperation",
            title="Planned actions not delivered",
            plain="An agency is not carrying out actions agreed in a plan, or not following agreed "
            "procedures, and the plan is drifting.",
            guidance=(
                "List each agreed action, its owner and its due date, and what has not happened.",
                "Drift in a plan is itself a risk to the child: record its effect.",
            ),
            checks=(
                "Have you listed the agreed actions that were not carried out, with their due dates?",
                "Have you recorded the effect of the delay on the child?",
            ),
        ),
    )
}

TRIGGER_IDS: tuple[str, ...] = tuple(TRIGGERS)

#: the words that make the built-in guidance read right under an adults procedure, longest first
_FOR_ADULTS = (
    ("child protection procedures", "adult safeguarding procedures"),
    ("this child", "this adult"),
    ("the child", "the adult"),
    ("a child", "an adult"),
    ("child", "adult"),
)


def worded(trigger: Trigger, applies_to: str) -> Trigger:
    """``trigger`` as a procedure for ``applies_to`` reads it: an adults procedure says "adult" where
    the built-in text says "child" (a procedure for both keeps "child", as its sources do)."""
    if applies_to != "adults":
        return trigger

    def adult(text: str) -> str:
        for before, after in _FOR_ADULTS:
            text = text.replace(before, after).replace(before.capitalize(), after.capitalize())
        return text

    return Trigger(
        trigger.id,
        adult(trigger.title),
        adult(trigger.plain),
        tuple(map(adult, trigger.guidance)),
        tuple(map(adult, trigger.checks)),
    )
