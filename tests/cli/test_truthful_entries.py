"""Nothing impossible enters the log (issue 16, deliverable 1): each entry kind's values are checked
for what they mean before anything is written, and a refusal names the field and what is expected
(exit 2, nothing written). Each test here passed an impossible value into the log before."""

from __future__ import annotations

import datetime as dt

import pytest

from escalate import clock, journal

OPENING = ["open", "--procedure", "london-children", "--trigger", "disputed-referral", "--case-ref", "Child Q"]
OPENING += ["--agency", "Fictional CSC", "--decision", "NFA", "--concern", "c"]


@pytest.fixture
def cli(run_cli, isolated_home, backend):
    """The CLI with a name and role set, on either store (each test runs on both)."""
    assert run_cli("config", "set", "name", "Alex Example")[0] == 0
    assert run_cli("config", "set", "role", "DSL")[0] == 0
    return run_cli


@pytest.fixture
def opened(cli):
    """A challenge opened two days ago (its stage 1 deadline is 5 working days from then)."""
    at = (clock.now() - dt.timedelta(days=2)).strftime("%Y-%m-%dT%H:%M")
    assert cli(*OPENING, "--at", at)[0] == 0
    return cli


def entries(home) -> int:
    """Entries in the store in use (the file in ``home``, or the team store ESCALATE_STORE names)."""
    with journal.open_store() as s:
        return s.count()


def refused(run, home, *argv: str, says: str, count: int) -> str:
    code, out, err = run(*argv)
    assert code == 2, (out, err)
    assert says in err, err
    assert "Traceback" not in err
    assert entries(home) == count  # nothing written
    return err


def test_a_decision_received_in_the_future_is_refused(cli, isolated_home):
    refused(cli, isolated_home, *OPENING, "--decision-at", "2099-01-01", says="decision time", count=0)
    err = refused(cli, isolated_home, *OPENING, "--decision-at", "2099-01-01", says="in the future", count=0)
    assert "2099" in err


def test_a_decision_received_after_the_disagreement_with_it_is_refused(cli, isolated_home):
    argv = [*OPENING, "--decision-at", "2026-11-20T10:00", "--at", "2026-11-19T10:00"]
    refused(cli, isolated_home, *argv, says="after the disagreement with it arose", count=0)
    assert cli(*OPENING, "--decision-at", "2026-11-19T09:00", "--at", "2026-11-19T10:00")[0] == 0


def test_a_protective_timescale_already_passed_is_refused(cli, isolated_home):
    refused(cli, isolated_home, *OPENING, "--protective-by", "2026-01-05", says="protective timescale", count=0)


@pytest.mark.parametrize("field", ["--agency", "--case-ref", "--decision-ref"])
def test_a_one_line_field_is_limited_and_the_limit_is_said(cli, isolated_home, field):
    argv = list(OPENING)
    if field in argv:
        argv[argv.index(field) + 1] = "A" * 5000
    else:
        argv += [field, "A" * 5000]
    err = refused(cli, isolated_home, *argv, says="5,000 characters; at most 200", count=0)
    assert len(err) < 400  # the value itself is not echoed back


def test_a_one_line_field_holds_one_line(cli, isolated_home):
    argv = list(OPENING)
    argv[argv.index("Fictional CSC")] = "Fictional CSC\nduty team"
    refused(cli, isolated_home, *argv, says="agency must be one line", count=0)


def test_an_extension_to_an_earlier_date_is_refused(opened, isolated_home):
    soon = (clock.now() + dt.timedelta(days=1)).strftime("%Y-%m-%d")
    argv = ["record", "1", "deadline-extended", "--deadline", "resolve", "--reason", "agreed"]
    refused(opened, isolated_home, *argv, "--new-due", soon, says="not later than the deadline it extends", count=1)
    refused(opened, isolated_home, *argv, "--new-due", "2026-01-05", says="not later than the deadline", count=1)
    later = (clock.now() + dt.timedelta(days=30)).strftime("%Y-%m-%d")
    assert opened(*argv, "--new-due", later)[0] == 0
    code, out, _ = opened("show", "1")
    assert "OVERDUE" not in out


def test_an_agreed_date_before_its_agreement_is_refused(opened, isolated_home):
    refused(
        opened,
        isolated_home,
        *["record", "1", "action-agreed", "--action", "a strategy discussion", "--due", "2026-01-05"],
        says="before it was agreed",
        count=1,
    )


def test_an_entry_before_the_opening_needs_to_be_earlier_history_with_a_reason(opened, isolated_home):
    before = (clock.now() - dt.timedelta(days=4)).strftime("%Y-%m-%dT%H:%M")
    note = ["record", "1", "note", "--summary", "called the duty desk", "--at", before]
    refused(opened, isolated_home, *note, says="is before challenge C-0001 was opened", count=1)
    assert opened(*note, "--history", "the call that led to the challenge")[0] == 0
    assert entries(isolated_home) == 2
    now_note = ["record", "1", "note", "--summary", "today", "--history", "why"]
    refused(opened, isolated_home, *now_note, says="only for something that happened before", count=2)
    step = ["step-up", "1", "--reason", "no reply", "--at", before]
    refused(opened, isolated_home, *step, says="is before challenge C-0001 was opened", count=2)


@pytest.mark.parametrize(
    ("field", "value", "says"),
    [
        ("occurred_at", "banana", "is not a date or time"),
        ("occurred_at", "2099-01-01", "is in the future"),
        ("decision_at", "2099-01-01", "is in the future"),
        ("triggers", "made-up", "'made-up' is not one of the triggers"),
        ("immediate_risk", "maybe", "must be yes or no"),
        ("agency", "B" * 300, "300 characters; at most 200"),
        ("agency", "   ", "is empty"),
        ("procedure_id", "x", "cannot be corrected"),
        ("route", "x", "cannot be corrected"),
        ("decision_by", "Sam", "names a person: correct one part of it"),
        ("concern.part", "x", "has no parts"),
        ("made_up_field", "x", "has no field"),
    ],
)
def test_an_amendment_is_checked_as_the_field_it_corrects(opened, isolated_home, field, value, says):
    refused(
        opened,
        isolated_home,
        "amend",
        "1",
        "1",
        "--field",
        field,
        "--value",
        value,
        "--reason",
        "r",
        says=says,
        count=1,
    )


def test_a_correct_amendment_is_kept_in_the_form_its_field_is_stored(opened, isolated_home):
    from escalate import entry_kinds

    assert opened("amend", "1", "1", "--field", "immediate_risk", "--value", "Yes", "--reason", "r")[0] == 0
    assert opened("amend", "1", "1", "--field", "occurred_at", "--value", "2026-11-30 09:00", "--reason", "r")[0] == 0
    assert (
        opened(
            "amend", "1", "1", "--field", "triggers", "--value", "unrecognised-harm, non-cooperation", "--reason", "r"
        )[0]
        == 0
    )
    with journal.open_store() as s:
        values = [s.entry("C-0001", n).content().data for n in (2, 3, 4)]
    assert all(isinstance(v, entry_kinds.Amendment) for v in values)
    assert [v.new_value for v in values] == [  # type: ignore[union-attr]
        "true",
        clock.iso(clock.parse_time("2026-11-30 09:00", "Europe/London")),
        "unrecognised-harm, non-cooperation",
    ]
