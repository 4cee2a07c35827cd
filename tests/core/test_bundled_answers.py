"""Known answers from the bundled procedures' sources, worked by hand on fixed dates: what each
source says falls due, and when (issue 15's list)."""

from __future__ import annotations

import datetime as dt

import pytest
from logtools import SETTINGS

from escalate import briefing, clock, journal
from escalate.catalogue import discover
from escalate.journal import store_at

UK = clock.zone("Europe/London")


@pytest.fixture
def store(tmp_path):
    s = store_at(tmp_path / "s.db")
    yield s
    s.close()


def at(text):
    return clock.parse_time(text)


def local(instant):
    return instant.astimezone(UK).replace(tzinfo=None)


def opened(store, procedure, when, monkeypatch, **kw):
    monkeypatch.setattr(clock, "now", lambda: at("2026-12-31T12:00"))
    fields = dict(
        procedure_id=procedure,
        triggers=["disputed-referral"],
        case_ref="Child W (fictional)",
        agency="Fictional social services",
        decision="No further action",
        concern="c",
        at=when,
    )
    fields.update(kw)
    return journal.open_challenge(store, discover(), SETTINGS, **fields).challenge


def contact(store, cid, medium, when, direction="made"):
    data = {"direction": direction, "medium": medium, "summary": f"{medium} contact"}
    journal.record(store, SETTINGS, cid, "contact", data, when)


def rows(store, cid, now):
    return {r.id: r for r in journal.view(store, discover(), cid, now=at(now)).deadlines}


def test_wales_a_written_report_not_acknowledged_in_7_working_days_is_chased(store, monkeypatch):
    cid = opened(store, "wales-children", "2025-12-19T09:30", monkeypatch, referral=True, decision="", triggers=[])
    contact(store, cid, "phone", "2025-12-19T10:00")  # the report by telephone, Fri 19 Dec 2025
    before = rows(store, cid, "2025-12-19T12:00")
    assert local(before["confirm-in-writing"].due) == dt.datetime(2025, 12, 20, 10, 0)  # 24 hours
    assert before["chase"].status == "waiting"  # its clock starts at the written report
    contact(store, cid, "email", "2025-12-19T15:00")  # the written report, the same day
    after = rows(store, cid, "2025-12-22T12:00")
    assert after["confirm-in-writing"].status == "met"
    # 7 working days from Fri 19 Dec: 22, 23, 24, 29, 30, 31 Dec and Fri 2 Jan (25, 26 Dec, 1 Jan holidays)
    assert local(after["chase"].due) == dt.datetime(2026, 1, 2, 17, 0)
    view = journal.view(store, discover(), cid, now=at("2025-12-22T12:00"))
    assert briefing.position(view) == "Step 0 (1 of 4): Follow-up of the report (before any disagreement)"
    assert [view.procedure.name_of(s) for s in view.procedure.ladder()] == ["Step 0", "Step 1", "Step 2", "Step 3"]


def test_sefton_the_outcome_letter_after_resolution_is_tracked_and_met_once_resolved(store, monkeypatch):
    from escalate.errors import ChallengeError

    cid = opened(store, "sefton-children", "2026-12-07T10:00", monkeypatch)
    journal.record(store, SETTINGS, cid, "resolved", {"outcome": "resolved", "rationale": "agreed"}, "2026-12-09T11:00")
    letter = rows(store, cid, "2026-12-10T09:00")["outcome-letter"]
    assert local(letter.due) == dt.datetime(2026, 12, 11, 17, 0)  # 2 working days from Wed 9 Dec
    assert letter.status == "due soon"
    with pytest.raises(ChallengeError, match="reopen it before recording a contact"):
        contact(store, cid, "phone", "2026-12-10T09:30")  # a resolved challenge takes only what meets it
    letter_entry = {"decision": "Outcome letter: resolved at Stage 1"}
    journal.record(store, SETTINGS, cid, "response", letter_entry, "2026-12-10T10:00")
    assert rows(store, cid, "2026-12-14T09:00")["outcome-letter"].status == "met"
    with pytest.raises(ChallengeError, match="reopen it before recording a response"):
        journal.record(store, SETTINGS, cid, "response", letter_entry, "2026-12-10T11:00")


def test_sefton_a_further_5_working_days_count_from_the_failure_not_a_day_later(store, monkeypatch):
    cid = opened(store, "sefton-children", "2026-12-07T10:00", monkeypatch)
    journal.step_up(store, SETTINGS, cid, "not resolved at stage 1", "2026-12-14T10:00")
    stage2 = rows(store, cid, "2026-12-14T12:00")
    assert local(stage2["discuss"].due) == dt.datetime(2026, 12, 16, 17, 0)  # Wednesday
    assert local(stage2["meeting"].due) == dt.datetime(2026, 12, 23, 17, 0)  # 17, 18, 21, 22, 23 Dec


def test_dumfries_and_galloway_stage_one_as_soon_as_possible_is_never_overdue_or_missed(store, monkeypatch):
    cid = opened(store, "dumfries-galloway-adults", "2026-12-01T10:00", monkeypatch)
    view = journal.view(store, discover(), cid, now=at("2026-12-31T12:00"))
    resolve = view.deadlines[0]
    assert (resolve.status, resolve.due) == ("as soon as possible", None)
    assert not view.overdue and view.missed_by.total == 0
    assert view.region == "scotland"  # Scottish bank holidays (2 January, St Andrew's Day) apply
    journal.step_up(store, SETTINGS, cid, "not resolved", "2026-12-02T10:00")
    view = journal.view(store, discover(), cid, now=at("2026-12-31T12:00"))
    assert view.history[0].deadlines[0].status == "met" and view.missed_by.total == 0  # escalating ends it
    assert briefing.position(view) == "Stage two (2 of 2): Escalation through line management"


def test_west_yorkshire_step_6_has_14_working_days_but_no_stated_start(store, monkeypatch):
    cid = opened(store, "west-yorkshire-children", "2026-12-01T10:00", monkeypatch)
    for n in range(5):
        journal.step_up(store, SETTINGS, cid, "not resolved", f"2026-12-0{2 + n}T10:00")
    view = journal.view(store, discover(), cid, now=at("2026-12-31T12:00"))
    step6 = view.deadlines[0]
    assert (step6.status, step6.due) == ("not computable", None) and not view.overdue
    assert "not computable: the source does not say when its clock starts" in briefing.deadline_line(step6, "UTC")


def test_rotherham_pre_stages_in_their_own_labels(store, monkeypatch):
    cid = opened(store, "rotherham-children", "2026-12-01T10:00", monkeypatch)
    view = journal.view(store, discover(), cid, now=at("2026-12-01T12:00"))
    assert briefing.position(view).startswith("Pre-stage 1a (1 of 3): Identification or recognition")
    assert [line.split(":")[0] for line in briefing.ladder(view, "UTC") if not line.startswith("     ")] == [
        ">> Pre-stage 1a",
        "   Pre-stage 1b",
        "   Stage 1",
    ]


def test_rotherham_the_conference_chair_may_start_at_stage_2_or_stage_3(store, monkeypatch):
    from escalate.errors import UsageError

    for chosen in (2, 3):
        cid = opened(
            store, "rotherham-children", "2026-12-01T10:00", monkeypatch, route="conference", start_stage=chosen
        )
        state = store.state(cid)
        assert (state.route, state.stage, state.skip_rule) == ("conference", chosen, "chair-goes-higher")
    cid = opened(store, "rotherham-children", "2026-12-01T10:00", monkeypatch, route="conference")
    assert (store.state(cid).stage, store.state(cid).skip_rule) == (1, None)  # by default, its first stage
    before = store.count()
    with pytest.raises(UsageError, match="does not let a challenge start at stage 4") as refused:
        opened(store, "rotherham-children", "2026-12-01T10:00", monkeypatch, route="conference", start_stage=4)
    assert refused.value.hint == "Stages it may start at: 1 (Stage 1), 2 (Stage 2), 3 (Stage 3)"
    with pytest.raises(UsageError, match="does not let a challenge start at stage 2"):
        opened(store, "rotherham-children", "2026-12-01T10:00", monkeypatch, start_stage=2)  # main ladder
    assert store.count() == before


def test_open_offers_the_chairs_choice_on_the_command_line(run_cli, isolated_home):
    assert run_cli("config", "set", "name", "Alex Example")[0] == 0
    assert run_cli("config", "set", "role", "DSL")[0] == 0
    opening = ["open", "--procedure", "rotherham-children", "--trigger", "non-cooperation", "--case-ref", "Child R"]
    opening += ["--agency", "Fictional CSC", "--decision", "No plan", "--concern", "c", "--route", "conference"]
    code, out, err = run_cli(*opening, "--start-stage", "3")
    assert code == 0, err
    code, out, _ = run_cli("show", out.strip())
    text = " ".join(out.split())
    assert "Stage 3 (3 of 3): Stage 3 (content not captured)" in text
    assert "Skip rule applied: chair-goes-higher" in text
    code, _, err = run_cli(*opening, "--start-stage", "7")
    assert code == 2 and "Stages it may start at: 1 (Stage 1), 2 (Stage 2), 3 (Stage 3)" in " ".join(err.split())
    code, out, _ = run_cli("procedures", "show", "rotherham-children")
    assert "may start at Stage 2 or Stage 3 of route conference" in " ".join(out.split())


def test_lincolnshire_48_hours_two_working_days_computes_one_reading_and_shows_the_other(store, monkeypatch):
    cid = opened(store, "lincolnshire-joint", "2026-12-11T10:00", monkeypatch)
    contact(store, cid, "phone", "2026-12-11T10:30")  # the initial discussion, Friday 10:30
    resolve = rows(store, cid, "2026-12-11T12:00")["resolve"]
    assert local(resolve.due) == dt.datetime(2026, 12, 15, 17, 0)  # two working days: Tuesday 17:00
    assert local(resolve.other_due) == dt.datetime(2026, 12, 13, 10, 30)  # 48 hours: Sunday 10:30
    line = briefing.deadline_line(resolve, "Europe/London")
    assert "due Tue 15 Dec 2026 17:00" in line
    assert "the source also says 48 hours: Sun 13 Dec 2026 10:30 +00:00 (not the one computed)" in line


def test_a_procedures_own_disagreement_is_recorded_and_counted_under_its_triggers(run_cli, isolated_home):
    import json

    assert run_cli("config", "set", "name", "Alex Example")[0] == 0
    assert run_cli("config", "set", "role", "DSL")[0] == 0
    opening = ["open", "--procedure", "west-yorkshire-children", "--case-ref", "Child Y", "--agency", "Fictional CSC"]
    opening += ["--decision", "No service", "--concern", "c", "--at", "2026-12-01T10:00"]
    code, out, err = run_cli(*opening, "--trigger", "service-provision")
    assert code == 0, err
    cid = out.strip()
    with store_at(isolated_home / "escalate.sqlite3") as s:
        state = s.state(cid)
    assert state.disagreements == ("service-provision",)
    assert state.triggers == ("threshold-misapplied", "non-cooperation")
    code, out, _ = run_cli("show", cid)
    assert (
        "Disagreement: Service provision (the procedure's own; counted as threshold-misapplied, non-cooperation)"
        in " ".join(out.split())
    )
    code, out, _ = run_cli("audit", "--store", "--json")
    assert json.loads(out)["by_trigger"] == {"threshold-misapplied": 1, "non-cooperation": 1}
    code, _, err = run_cli(*opening, "--trigger", "bad-vibes")
    assert code == 2 and "criteria-for-referrals" in err and "unrecognised-harm" in err
    code, out, _ = run_cli("procedures", "show", "west-yorkshire-children")
    assert "Disagreement service-provision: Service provision" in out


@pytest.fixture
def cli(run_cli, isolated_home):
    assert run_cli("config", "set", "name", "Alex Example")[0] == 0
    assert run_cli("config", "set", "role", "DSL")[0] == 0
    return run_cli


REFERRAL = ["open", "--procedure", "wales-children", "--referral", "--case-ref", "Child W", "--agency", "Fictional"]
REFERRAL += ["--concern", "Bruising reported by phone", "--at", "2025-12-19T09:30"]


def test_a_referral_is_followed_up_then_its_outcome_accepted_and_counted_apart(cli, isolated_home):
    import json

    code, out, err = cli(*REFERRAL)
    assert code == 0, err
    cid = out.strip()
    code, out, _ = cli("show", cid)
    text = " ".join(out.split())
    assert "Step 0 (1 of 4): Follow-up of the report" in text
    assert "Opened at the referral, before any decision: (awaiting the outcome of the referral)" in text
    assert cli("record", cid, "contact", "--medium", "phone", "--summary", "report", "--at", "2025-12-19T10:00")[0] == 0
    assert (
        cli("record", cid, "contact", "--medium", "email", "--summary", "written", "--at", "2025-12-19T15:00")[0] == 0
    )
    code, out, err = cli(
        "record", cid, "decision-received", "--decision", "Strategy discussion held", "--at", "2025-12-22T11:00"
    )
    assert code == 0, err
    code, out, _ = cli("show", cid, "--json")
    data = json.loads(out)
    assert data["chronology"][-1]["kind"] == "decision-received"
    code, out, _ = cli("show", cid)
    assert "Opened at the referral; the decision received: Strategy discussion held" in " ".join(out.split())
    code, _, err = cli("record", cid, "decision-received", "--decision", "again")
    assert code != 0 and "already recorded" in err
    code, _, err = cli("resolve", cid, "--outcome", "no-disagreement", "--rationale", "Outcome accepted")
    assert code == 0, err
    code, out, _ = cli("audit", "--store", "--json")
    figures = json.loads(out)
    assert figures["outcomes"] == {"no-disagreement": 1} and figures["by_trigger"] == {}


def test_referral_refusals_name_the_reason_and_record_nothing(cli, isolated_home):
    code, out, err = cli(*REFERRAL)
    cid = out.strip()
    # the outcome 'no disagreement' belongs to referrals; a referral needs a step for it, and no decision yet
    opening = ["open", "--procedure", "london-children", "--trigger", "disputed-referral", "--case-ref", "Child Q"]
    opening += ["--agency", "Fictional CSC", "--decision", "NFA", "--concern", "c"]
    assert cli(*opening)[0] == 0
    code, _, err = cli("resolve", "2", "--outcome", "no-disagreement", "--rationale", "x")
    assert code != 0 and "opened at a referral" in err
    code, _, err = cli("record", "2", "decision-received", "--decision", "NFA")
    assert code != 0 and "opened with the decision it challenges" in err
    code, _, err = cli(
        "open", "--procedure", "london-children", "--referral", "--case-ref", "x", "--agency", "y", "--concern", "c"
    )
    assert code == 2 and "no step for following up a referral" in err
    code, _, err = cli(*REFERRAL, "--decision", "NFA")
    assert code == 2 and "leave the decision out" in err
    code, _, err = cli(*opening[:-4], "--concern", "c")  # no decision, no --referral
    assert code == 2 and "give the decision you challenge" in err
    code, _, err = cli("record", cid, "decision-received", "--decision", "NFA", "--trigger", "bad-vibes")
    assert code == 2 and "unknown trigger 'bad-vibes'" in err
    with store_at(isolated_home / "escalate.sqlite3") as s:
        assert [e.kind for e in s.entries(cid)] == ["opened"] and s.state(cid).decision == ""


def test_a_conditional_notification_is_asked_and_recorded_as_answered(store, monkeypatch):
    cid = opened(store, "pan-lancashire-cumbria-adults", "2026-12-01T10:00", monkeypatch)
    journal.step_up(store, SETTINGS, cid, "not resolved", "2026-12-02T10:00")
    journal.step_up(store, SETTINGS, cid, "not resolved", "2026-12-03T10:00")
    now = at("2026-12-03T12:00")
    lines = briefing.brief(journal.view(store, discover(), cid, now=now), now, "UTC").sections[0].lines
    asked = [line for line in lines if "LSAB Team" in line]
    assert asked == [
        "[ASK] does this apply: senior officers are involved and the dispute concerns the safeguarding needs of an "
        "individual adult at risk? If so, notify LSAB Team (Made aware (to monitor interagency safeguarding "
        "activity and identify issues for LSAB scrutiny))"
    ]
    answer = {"to": "LSAB Team", "reason": "The dispute is about a service, not an individual adult"}
    journal.record(store, SETTINGS, cid, "notification-not-needed", answer, "2026-12-03T11:00")
    lines = briefing.brief(journal.view(store, discover(), cid, now=now), now, "UTC").sections[0].lines
    assert any(line.startswith("[NOT NEEDED] notify LSAB Team") for line in lines)


def opened_under_stage_1_notifications(store, tmp_path, monkeypatch, notify: str):
    """A challenge opened Mon 7 Dec 2026 under the minimal fictional procedure, its stage 1 given the
    [[stages.notify]] tables in ``notify``: (the catalogue, the challenge id)."""
    from helpers import DATA

    folder = tmp_path / "notify"
    folder.mkdir()
    text = (DATA / "minimal.toml").read_text().replace("format = 1", "format = 2")
    text = text.replace('title = "Practitioners"\n', 'title = "Practitioners"\n' + notify)
    (folder / "p.toml").write_text(text)
    catalogue = discover([str(folder)])
    monkeypatch.setattr(clock, "now", lambda: at("2026-12-31T12:00"))
    cid = journal.open_challenge(
        store,
        catalogue,
        SETTINGS,
        procedure_id="fictional-test",
        triggers=["disputed-referral"],
        case_ref="Child Z",
        agency="Fictional CSC",
        decision="NFA",
        concern="c",
        at="2026-12-07T09:00",
    ).challenge
    return catalogue, cid


def test_a_notification_with_its_own_timescale_is_kept_as_a_deadline(store, tmp_path, monkeypatch):

    catalogue, cid = opened_under_stage_1_notifications(
        store,
        tmp_path,
        monkeypatch,
        '\n  [[stages.notify]]\n  to = "Partnership business manager"\n'
        '  timescale = { kind = "hours", amount = 48, wording = "within 48 hours of the meeting" }\n'
        '  starts = "meeting-held"\n\n  [[stages.notify]]\n  to = "Named GP for safeguarding"\n'
        '  timescale = { kind = "hours", amount = 48 }\n  starts = "meeting-held"\n',
    )
    rows = {r.id: r for r in journal.view(store, catalogue, cid, now=at("2026-12-07T12:00")).deadlines}
    assert rows["notify-1"].status == "waiting"  # until the meeting is held
    meeting = {"direction": "made", "medium": "meeting", "summary": "professionals' meeting"}
    journal.record(store, SETTINGS, cid, "contact", meeting, "2026-12-07T10:00")
    rows = {r.id: r for r in journal.view(store, catalogue, cid, now=at("2026-12-07T12:00")).deadlines}
    assert local(rows["notify-1"].due) == dt.datetime(2026, 12, 9, 10, 0)
    sent = {"to": "Partnership business manager", "medium": "email"}
    journal.record(store, SETTINGS, cid, "notification-sent", sent, "2026-12-08T09:00")
    rows = {r.id: r for r in journal.view(store, catalogue, cid, now=at("2026-12-10T12:00")).deadlines}
    assert rows["notify-1"].status == "met"
    assert rows["notify-2"].status == "overdue"  # a notification to someone else does not meet it


def test_a_notification_due_at_resolution_is_tracked_and_accepted_once_resolved(store, tmp_path, monkeypatch):

    from escalate.errors import ChallengeError

    catalogue, cid = opened_under_stage_1_notifications(
        store,
        tmp_path,
        monkeypatch,
        '\n  [[stages.notify]]\n  to = "Partnership business manager"\n'
        '  timescale = { kind = "working-days", amount = 1, wording = "at resolution" }\n  starts = "resolved"\n',
    )
    journal.record(store, SETTINGS, cid, "resolved", {"outcome": "resolved", "rationale": "agreed"}, "2026-12-08T10:00")
    row = {r.id: r for r in journal.view(store, catalogue, cid, now=at("2026-12-08T12:00")).deadlines}["notify-1"]
    assert local(row.due) == dt.datetime(2026, 12, 9, 17, 0) and row.status == "due soon"
    with pytest.raises(ChallengeError, match="reopen it before recording a contact"):
        contact(store, cid, "phone", "2026-12-08T11:00")
    sent = {"to": "Partnership business manager", "medium": "email"}
    journal.record(store, SETTINGS, cid, "notification-sent", sent, "2026-12-08T15:00")
    row = {r.id: r for r in journal.view(store, catalogue, cid, now=at("2026-12-10T12:00")).deadlines}["notify-1"]
    assert row.status == "met"
