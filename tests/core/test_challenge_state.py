"""Derived state: deadlines on fixed dates across weekends, Christmas and the Scottish New Year,
with extensions and pauses; missed timescales by side; late entries; newer procedure versions."""

from __future__ import annotations

import datetime as dt
import shutil

import pytest
from helpers import DATA
from logtools import SETTINGS

from escalate import clock, journal
from escalate.catalogue import discover
from escalate.errors import ChallengeError, ConfigError, UsageError
from escalate.journal import store_at
from escalate.settings import Settings

UK = clock.zone("Europe/London")


@pytest.fixture
def store(tmp_path):
    s = store_at(tmp_path / "s.db")
    yield s
    s.close()


@pytest.fixture
def procs(tmp_path):
    """The minimal fictional procedure plus a Scottish copy."""
    folder = tmp_path / "procs"
    folder.mkdir()
    text = (DATA / "minimal.toml").read_text()
    (folder / "ew.toml").write_text(text)
    (folder / "sc.toml").write_text(
        text.replace('id = "fictional-test"', 'id = "fictional-scotland"').replace(
            'region = "england-and-wales"', 'region = "scotland"'
        )
    )
    return discover([str(folder)])


def local(instant):
    return instant.astimezone(UK).replace(tzinfo=None)


def open_in(store, catalogue, procedure, at):
    return journal.open_challenge(
        store,
        catalogue,
        SETTINGS,
        procedure_id=procedure,
        triggers=["disputed-referral"],
        case_ref="Child Z",
        agency="Fictional CSC",
        decision="NFA",
        concern="c",
        at=at,
    )


def at(text):
    return clock.parse_time(text)


def test_deadlines_over_christmas(store, procs, monkeypatch):
    monkeypatch.setattr(clock, "now", lambda: at("2026-12-18T12:00"))
    open_in(store, procs, "fictional-test", "2026-12-18T10:00")
    view = journal.view(store, procs, "C-0001", now=at("2026-12-18T12:00"))
    raise_, reply = view.deadlines
    assert local(raise_.due) == dt.datetime(2026, 12, 22, 17, 0)  # 2 working days from Friday
    assert raise_.status == "due"
    assert reply.status == "waiting"  # starts when we raise the concern
    journal.record(
        store,
        SETTINGS,
        "C-0001",
        "contact",
        {"direction": "made", "medium": "phone", "summary": "s"},
        "2026-12-18T11:00",
    )
    view = journal.view(store, procs, "C-0001", now=at("2026-12-18T12:00"))
    raise_, reply = view.deadlines
    assert raise_.status == "met"
    assert local(reply.due) == dt.datetime(2026, 12, 23, 17, 0)
    later = journal.view(store, procs, "C-0001", now=at("2026-12-29T09:00"))
    assert later.deadlines[1].status == "overdue" and later.overdue
    assert later.missed_by.them == 1


def test_a_deadline_chained_to_another_counts_from_the_day_that_one_falls_due(store, tmp_path, monkeypatch):
    folder = tmp_path / "chained"
    folder.mkdir()
    text = (DATA / "minimal.toml").read_text()
    text = text.replace(
        'starts = "concern-raised"\n  timescale = { kind = "working-days", amount = 3 }',
        'starts = "deadline:raise"\n  timescale = { kind = "working-days", amount = 1 }',
    )
    assert 'starts = "deadline:raise"' in text
    (folder / "p.toml").write_text(text)
    catalogue = discover([str(folder)])
    monkeypatch.setattr(clock, "now", lambda: at("2026-12-14T12:00"))
    open_in(store, catalogue, "fictional-test", "2026-12-14T10:00")  # a Monday
    raise_, further = journal.view(store, catalogue, "C-0001", now=at("2026-12-14T12:00")).deadlines
    assert local(raise_.due) == dt.datetime(2026, 12, 16, 17, 0)  # Wednesday
    assert local(further.due) == dt.datetime(2026, 12, 17, 17, 0)  # Thursday, not Friday


def test_a_deadline_extended_before_its_clock_starts_takes_the_agreed_date(store, procs, monkeypatch):
    """Their reply is waiting on our raising the concern; a date agreed for it meanwhile holds (it
    used to be recorded and then not shown), and it is met by their reply as before."""
    monkeypatch.setattr(clock, "now", lambda: at("2026-12-18T12:00"))
    open_in(store, procs, "fictional-test", "2026-12-18T10:00")
    reply_id = journal.view(store, procs, "C-0001", now=at("2026-12-18T12:00")).deadlines[1].id
    journal.record(
        store,
        SETTINGS,
        "C-0001",
        "deadline-extended",
        {"deadline": reply_id, "new_due": "2027-01-08T17:00", "reason": "agreed at the meeting"},
        "2026-12-18T11:00",
    )
    reply = journal.view(store, procs, "C-0001", now=at("2026-12-18T12:00")).deadlines[1]
    assert reply.status == "due" and reply.extended and local(reply.due) == dt.datetime(2027, 1, 8, 17, 0)
    assert journal.view(store, procs, "C-0001", now=at("2027-01-11T09:00")).deadlines[1].status == "overdue"
    monkeypatch.setattr(clock, "now", lambda: at("2027-01-04T12:00"))
    journal.record(
        store, SETTINGS, "C-0001", "response", {"decision": "Strategy discussion agreed"}, "2027-01-04T10:00"
    )
    assert journal.view(store, procs, "C-0001", now=at("2027-01-11T09:00")).deadlines[1].status == "met"


def test_scottish_new_year(store, procs, monkeypatch):
    monkeypatch.setattr(clock, "now", lambda: at("2026-12-31T12:00"))
    open_in(store, procs, "fictional-test", "2026-12-31T10:00")
    open_in(store, procs, "fictional-scotland", "2026-12-31T10:00")
    ew = journal.view(store, procs, "C-0001", now=at("2026-12-31T12:00")).deadlines[0].due
    sc = journal.view(store, procs, "C-0002", now=at("2026-12-31T12:00")).deadlines[0].due
    assert local(ew).date() == dt.date(2027, 1, 5)  # 1 Jan holiday; Mon 4, Tue 5
    assert local(sc).date() == dt.date(2027, 1, 6)  # 1 Jan, 4 Jan (2 Jan observed) holidays in Scotland


def test_extension_and_pause(store, procs, monkeypatch):
    monkeypatch.setattr(clock, "now", lambda: at("2026-11-30T12:00"))
    open_in(store, procs, "fictional-test", "2026-11-23T10:00")
    journal.record(
        store,
        SETTINGS,
        "C-0001",
        "deadline-extended",
        {
            "deadline": "raise",
            "new_due": "2026-12-04T17:00",
            "reason": "agreed by phone",
            "agreed_by": {"name": "Sam Fictional", "role": "Team manager"},
        },
        "2026-11-24T10:00",
    )
    d = journal.view(store, procs, "C-0001", now=at("2026-11-30T12:00")).deadlines[0]
    assert local(d.due) == dt.datetime(2026, 12, 4, 17, 0) and d.status == "due" and d.extended
    journal.record(
        store,
        SETTINGS,
        "C-0001",
        "deadline-paused",
        {"deadline": "raise", "reason": "family moved"},
        "2026-11-30T10:00",
    )
    d = journal.view(store, procs, "C-0001", now=at("2026-12-10T12:00")).deadlines[0]
    assert d.status == "paused"
    monkeypatch.setattr(clock, "now", lambda: at("2026-12-02T12:00"))
    journal.record(store, SETTINGS, "C-0001", "deadline-resumed", {"deadline": "raise"}, "2026-12-02T10:00")
    d = journal.view(store, procs, "C-0001", now=at("2026-12-02T12:00")).deadlines[0]
    assert local(d.due) == dt.datetime(2026, 12, 6, 17, 0)  # the two paused days added back
    with pytest.raises(ChallengeError, match="not paused"):
        journal.record(store, SETTINGS, "C-0001", "deadline-resumed", {"deadline": "raise"})


def test_protective_timescale_whichever_is_less(store, monkeypatch):
    monkeypatch.setattr(clock, "now", lambda: at("2026-11-23T12:00"))
    catalogue = discover()
    journal.open_challenge(
        store,
        catalogue,
        SETTINGS,
        procedure_id="london-children",
        triggers=["unrecognised-harm"],
        case_ref="Child P",
        agency="CSC",
        decision="No s47",
        concern="c",
        at="2026-11-23T09:00",
        protective_by="2026-11-25T12:00",
    )
    d = journal.view(store, catalogue, "C-0001", now=at("2026-11-23T12:00")).deadlines[0]
    assert local(d.due) == dt.datetime(2026, 11, 25, 12, 0)  # sooner than a working week


def test_an_agreed_protective_date_later_than_the_procedures_limit_is_refused(store, monkeypatch):
    monkeypatch.setattr(clock, "now", lambda: at("2026-11-23T12:00"))
    catalogue = discover()
    journal.open_challenge(
        store,
        catalogue,
        SETTINGS,
        procedure_id="london-children",
        triggers=["unrecognised-harm"],
        case_ref="Child P",
        agency="CSC",
        decision="No s47",
        concern="c",
        at="2026-11-23T09:00",
    )
    before = store.count()
    # the working week from Mon 23 Nov ends Mon 30 Nov 17:00; a protective date can only be sooner
    with pytest.raises(UsageError, match="later than the procedure's limit for 'resolve', Mon 30 Nov 2026 17:00"):
        journal.record(
            store, SETTINGS, "C-0001", "timescale-agreed", {"deadline": "resolve", "due": "2026-12-04T12:00"}
        )
    assert store.count() == before
    journal.record(store, SETTINGS, "C-0001", "timescale-agreed", {"deadline": "resolve", "due": "2026-11-26T12:00"})
    d = journal.view(store, catalogue, "C-0001", now=at("2026-11-23T12:00")).deadlines[0]
    assert local(d.due) == dt.datetime(2026, 11, 26, 12, 0)


def test_step_up_shows_next_stage_and_refuses_past_the_last(store, procs, monkeypatch):
    monkeypatch.setattr(clock, "now", lambda: at("2026-11-30T12:00"))
    open_in(store, procs, "fictional-test", "2026-11-23T10:00")
    journal.step_up(store, SETTINGS, "C-0001", "no reply", "2026-11-27T10:00")
    view = journal.view(store, procs, "C-0001", now=at("2026-11-30T12:00"))
    assert view.state.stage == 2 and view.next_stage is None
    assert {r.id for r in view.missed} == {"raise"}  # stage 1's raise was never met
    with pytest.raises(ChallengeError, match="last stage"):
        journal.step_up(store, SETTINGS, "C-0001", "again")


def test_resolved_challenge_refuses_entries_until_reopened(store, procs, monkeypatch):
    open_in(store, procs, "fictional-test", "2026-11-23T10:00")
    journal.record(store, SETTINGS, "C-0001", "resolved", {"outcome": "resolved", "rationale": "agreed plan"})
    with pytest.raises(ChallengeError, match="reopen it"):
        journal.record(store, SETTINGS, "C-0001", "contact", {"direction": "made", "medium": "phone", "summary": "x"})
    journal.record(store, SETTINGS, "C-0001", "reopened", {"reason": "new bruising"})
    journal.record(store, SETTINGS, "C-0001", "contact", {"direction": "made", "medium": "phone", "summary": "x"})
    assert store.state("C-0001").status == "open"


def test_amendment_keeps_the_original_and_marks_the_correction(store, procs):
    open_in(store, procs, "fictional-test", "2026-11-23T10:00")
    journal.record(
        store,
        SETTINGS,
        "C-0001",
        "contact",
        {"direction": "made", "medium": "phone", "summary": "Spoke to SW", "with": {"name": "Sam Fictonal"}},
        "2026-11-23T11:00",
    )
    journal.amend(store, SETTINGS, "C-0001", 2, "summary", "Spoke to the duty social worker", "wrong person")
    journal.amend(store, SETTINGS, "C-0001", 2, "with.name", "Sam Fictional", "misspelt")
    rows = journal.chronology(store, "C-0001")
    assert rows[1].data["summary"] == "Spoke to SW"  # the original stays
    assert rows[1].amended_by == (3, 4)
    assert "Spoke to the duty social worker [corrected; was: Spoke to SW]" in journal.describe(rows[1])
    body = b"".join(bytes(e.body) for e in store.entries("C-0001"))
    assert b"Sam Fictional" not in body  # a corrected name is concealed too
    with pytest.raises(UsageError, match="no field"):
        journal.amend(store, SETTINGS, "C-0001", 2, "colour", "x", "y")


def test_late_entries_and_future_times(store, procs, monkeypatch):
    monkeypatch.setattr(clock, "now", lambda: at("2026-11-30T12:00"))
    open_in(store, procs, "fictional-test", "2026-11-23T10:00")
    assert store.state("C-0001").late == (1,)
    with pytest.raises(UsageError, match="in the future"):
        journal.record(store, SETTINGS, "C-0001", "note", {"summary": "x"}, "2026-12-01T10:00")


def test_newer_procedure_version_is_flagged_and_snapshot_kept(store, tmp_path, monkeypatch):
    folder = tmp_path / "p"
    folder.mkdir()
    shutil.copy(DATA / "minimal.toml", folder / "m.toml")
    catalogue = discover([str(folder)])
    open_in(store, catalogue, "fictional-test", "2026-11-23T10:00")
    (folder / "m.toml").write_text((DATA / "minimal.toml").read_text().replace("amount = 2", "amount = 9"))
    newer = discover([str(folder)])
    view = journal.view(store, newer, "C-0001", now=at("2026-11-23T12:00"))
    assert view.newer_version
    assert view.deadlines[0].timescale.amount == 2  # the snapshot, not the edited file


def test_immediate_risk_uses_the_skip_rule(store, tmp_path):
    folder = tmp_path / "p"
    folder.mkdir()
    text = (DATA / "minimal.toml").read_text() + (
        '\n[[skip_rules]]\nid = "now"\nwhen = "Immediate risk"\ninstruction = "Call 999"\nstart_stage = 2\n'
    )
    (folder / "m.toml").write_text(text)
    catalogue = discover([str(folder)])
    journal.open_challenge(
        store,
        catalogue,
        SETTINGS,
        procedure_id="fictional-test",
        triggers=["unrecognised-harm"],
        case_ref="Child R",
        agency="CSC",
        decision="d",
        concern="c",
        immediate_risk=True,
    )
    state = store.state("C-0001")
    assert state.stage == 2 and state.skip_rule == "now"


def test_settings_required_before_recording(store, procs):
    with pytest.raises(ConfigError, match="name and role"):
        journal.open_challenge(
            store,
            procs,
            Settings(),
            procedure_id="fictional-test",
            triggers=["non-cooperation"],
            case_ref="x",
            agency="a",
            decision="d",
            concern="c",
        )
    assert store.count() == 0


@pytest.mark.parametrize(
    "kw,words",
    [
        ({"triggers": ["bad-vibes"]}, "unknown trigger"),
        ({"triggers": []}, "at least one trigger"),
        ({"procedure_id": "nowhere"}, "no procedure"),
        ({"case_ref": ""}, "needs case ref"),
        ({"at": "not a time"}, "not a date or time"),
        ({"route": "side-door"}, "no route"),
    ],
)
def test_open_bad_input(store, procs, kw, words):
    fields = dict(
        procedure_id="fictional-test",
        triggers=["disputed-referral"],
        case_ref="Child",
        agency="CSC",
        decision="d",
        concern="c",
    )
    fields.update(kw)
    with pytest.raises(Exception, match=words):
        journal.open_challenge(store, procs, SETTINGS, **fields)
    assert store.count() == 0


def test_due_soon_never_reaches_past_the_span_that_skips_the_calendar():
    """judge() skips the calendar for deadlines SOON_SPAN or more away, calling them "due": that is only
    right if no date that far ahead is ever within one working day, in any region, across holidays."""
    import datetime as dt

    from escalate import challenge, workcalendar

    start = dt.datetime(2026, 1, 1, 12, tzinfo=dt.timezone.utc)
    for region in workcalendar.REGION_SUBDIVISIONS:
        for day in range(365 * 4):
            now = start + dt.timedelta(days=day)
            assert workcalendar.working_days_between(now, now + challenge.SOON_SPAN, region) > 1, (region, now)


LIMITED = """format = 1
id = "fictional-limited"
name = "Fictional procedure with an overall limit"
partnership = "Fictional Safeguarding Partnership"
applies_to = "children"
version = "1"
region = "england-and-wales"

[source]
title = "Fictional source for tests"

[[stages]]
number = 1
title = "Practitioners"
  [[stages.deadlines]]
  id = "talk"
  what = "Talk it through"
  owner = "both"
  timescale = { kind = "working-days", amount = 20 }

[[stages]]
number = 2
title = "Managers"
  [[stages.deadlines]]
  id = "talk"
  what = "Managers talk it through"
  owner = "both"
  timescale = { kind = "working-days", amount = 20 }

[[stages]]
number = 3
title = "Senior managers"

[[limits]]
id = "first-two"
what = "Stages 1 and 2 completed"
from_stage = 1
to_stage = 2
timescale = { kind = "working-days", amount = 3 }
"""


@pytest.fixture
def limited(tmp_path):
    folder = tmp_path / "limited"
    folder.mkdir()
    (folder / "limited.toml").write_text(LIMITED)
    return discover([str(folder)])


def test_a_limit_over_several_stages_is_kept_once_across_them(store, limited, monkeypatch):
    """'Stages 1 and 2 within 3 working days' starts when stage 1 is entered, goes with the challenge
    into stage 2, is overdue there once past, counts as missed once, and is met when the challenge
    leaves the range upwards (late, here)."""
    monkeypatch.setattr(clock, "now", lambda: at("2026-11-25T12:00"))
    open_in(store, limited, "fictional-limited", "2026-11-23T10:00")  # Monday
    view = journal.view(store, limited, "C-0001", now=at("2026-11-24T12:00"))
    talk, limit = view.deadlines
    assert limit.id == "limit:first-two" and limit.owner == "both"
    assert "Stage 1 to Stage 2, overall" in limit.what
    assert local(limit.due) == dt.datetime(2026, 11, 26, 17, 0) and limit.status == "due"
    assert view.next_deadline.id == "limit:first-two"
    journal.step_up(store, SETTINGS, "C-0001", "no agreement", "2026-11-25T10:00")
    view = journal.view(store, limited, "C-0001", now=at("2026-11-30T12:00"))
    assert [r.id for r in view.history[0].deadlines] == ["talk"]  # once: with the last stage in range
    assert [r.id for r in view.deadlines] == ["talk", "limit:first-two"]
    assert view.deadlines[1].status == "overdue" and view.overdue
    assert view.missed_by.both == 1 and [r.id for r in view.missed] == ["limit:first-two"]
    listed = {row.state.challenge: row for row in journal.summaries(store, limited, now=at("2026-11-30T12:00"))}
    assert listed["C-0001"].overdue and listed["C-0001"].next_deadline.id == "limit:first-two"
    monkeypatch.setattr(clock, "now", lambda: at("2026-12-01T12:00"))
    journal.step_up(store, SETTINGS, "C-0001", "still no agreement", "2026-12-01T10:00")
    view = journal.view(store, limited, "C-0001", now=at("2026-12-01T12:00"))
    assert [r.id for r in view.deadlines] == []  # stage 3 states none; the limit stays with stage 2
    limit = view.history[1].deadlines[1]
    assert limit.status == "met late" and local(limit.met_at) == dt.datetime(2026, 12, 1, 10, 0)
    assert [r.id for r in view.missed] == ["limit:first-two"]


def test_a_limit_is_met_by_leaving_its_range_in_time_or_resolving_inside_it(store, limited, monkeypatch):
    monkeypatch.setattr(clock, "now", lambda: at("2026-11-25T12:00"))
    open_in(store, limited, "fictional-limited", "2026-11-23T10:00")
    journal.step_up(store, SETTINGS, "C-0001", "no agreement", "2026-11-24T10:00")
    journal.step_up(store, SETTINGS, "C-0001", "no agreement", "2026-11-25T10:00")
    open_in(store, limited, "fictional-limited", "2026-11-23T10:00")
    journal.record(
        store, SETTINGS, "C-0002", "resolved", {"outcome": "resolved", "rationale": "agreed"}, "2026-11-24T15:00"
    )
    later = at("2026-12-10T12:00")
    stepped = journal.view(store, limited, "C-0001", now=later)
    assert stepped.history[1].deadlines[1].status == "met" and not stepped.missed
    resolved = journal.view(store, limited, "C-0002", now=later)
    assert resolved.deadlines[1].status == "met" and not resolved.missed


def test_a_limit_can_be_extended_while_the_challenge_is_in_its_range(store, limited, monkeypatch):
    """An extension agreed in stage 2 moves the limit that began in stage 1; once the challenge is
    past the range, the limit is no longer the current stage's to extend, and it never takes an
    agreed timescale (the procedure sets it)."""
    monkeypatch.setattr(clock, "now", lambda: at("2026-12-01T12:00"))
    open_in(store, limited, "fictional-limited", "2026-11-23T10:00")
    journal.step_up(store, SETTINGS, "C-0001", "no agreement", "2026-11-24T10:00")
    journal.record(
        store,
        SETTINGS,
        "C-0001",
        "deadline-extended",
        {
            "deadline": "limit:first-two",
            "new_due": "2026-12-10T17:00",
            "reason": "strategy meeting set",
            "agreed_by": {"name": "Robin Madeup", "role": "Partnership manager"},
        },
        "2026-11-25T11:00",
    )
    view = journal.view(store, limited, "C-0001", now=at("2026-12-01T12:00"))
    limit = view.deadlines[-1]
    assert limit.id == "limit:first-two" and limit.extended and limit.status == "due"
    assert local(limit.due) == dt.datetime(2026, 12, 10, 17, 0) and not view.overdue
    with pytest.raises(UsageError, match="limit set by the procedure"):
        journal.record(
            store,
            SETTINGS,
            "C-0001",
            "timescale-agreed",
            {"deadline": "limit:first-two", "due": "2026-12-11T17:00", "reason": "r"},
        )
    journal.step_up(store, SETTINGS, "C-0001", "still no agreement", "2026-11-26T10:00")
    assert (
        journal.view(store, limited, "C-0001", now=at("2026-12-01T12:00")).history[1].deadlines[-1].status == "met"
    )  # left the range before the extended date
    with pytest.raises(UsageError, match="no deadline 'limit:first-two'"):
        journal.record(
            store,
            SETTINGS,
            "C-0001",
            "deadline-extended",
            {"deadline": "limit:first-two", "new_due": "2026-12-20T17:00", "reason": "r"},
        )


def test_a_paused_limit_stops_its_clock_until_resumed_or_the_next_step_up(store, limited, monkeypatch):
    """Paused for a day and a half in stage 1 and resumed: due 36 hours later. Paused again, and the
    challenge stepped up while paused (twice): each pause ends with the stage it was agreed in."""
    monkeypatch.setattr(clock, "now", lambda: at("2026-12-04T12:00"))
    open_in(store, limited, "fictional-limited", "2026-11-23T10:00")  # due Thu 26 Nov 17:00
    journal.record(
        store,
        SETTINGS,
        "C-0001",
        "deadline-paused",
        {"deadline": "limit:first-two", "reason": "awaiting the strategy meeting"},
        "2026-11-24T09:00",
    )
    paused = journal.view(store, limited, "C-0001", now=at("2026-11-27T12:00")).deadlines[-1]
    assert paused.status == "paused" and paused.paused
    with pytest.raises(ChallengeError, match="already paused"):
        journal.record(
            store,
            SETTINGS,
            "C-0001",
            "deadline-paused",
            {"deadline": "limit:first-two", "reason": "again"},
            "2026-11-24T10:00",
        )
    journal.record(
        store,
        SETTINGS,
        "C-0001",
        "deadline-resumed",
        {"deadline": "limit:first-two", "reason": "meeting held"},
        "2026-11-25T21:00",
    )
    resumed = journal.view(store, limited, "C-0001", now=at("2026-11-25T22:00")).deadlines[-1]
    assert local(resumed.due) == dt.datetime(2026, 11, 28, 5, 0) and resumed.status == "due"
    journal.record(
        store,
        SETTINGS,
        "C-0001",
        "deadline-paused",
        {"deadline": "limit:first-two", "reason": "awaiting the manager"},
        "2026-11-26T08:00",
    )
    journal.step_up(store, SETTINGS, "C-0001", "no agreement", "2026-11-26T10:00")  # paused 2 hours, then ended
    with pytest.raises(ChallengeError, match="its pause ended when the challenge stepped up to Stage 2"):
        journal.record(
            store,
            SETTINGS,
            "C-0001",
            "deadline-resumed",
            {"deadline": "limit:first-two", "reason": "manager back"},
            "2026-11-26T10:30",
        )
    journal.record(
        store,
        SETTINGS,
        "C-0001",
        "deadline-paused",
        {"deadline": "limit:first-two", "reason": "awaiting legal advice"},
        "2026-11-26T11:00",
    )
    journal.step_up(store, SETTINGS, "C-0001", "still no agreement", "2026-11-27T11:00")  # paused for 24 hours
    limit = journal.view(store, limited, "C-0001", now=at("2026-12-04T12:00")).history[1].deadlines[-1]
    assert local(limit.due) == dt.datetime(2026, 11, 29, 7, 0) and limit.status == "met"
    with pytest.raises(UsageError, match="no deadline 'limit:first-two'"):  # stage 3 is past its range
        journal.record(
            store,
            SETTINGS,
            "C-0001",
            "deadline-resumed",
            {"deadline": "limit:first-two", "reason": "r"},
            "2026-11-27T12:00",
        )


def test_a_limit_with_a_protective_timescale_takes_the_sooner_date_and_one_with_none_says_so(
    tmp_path, store, monkeypatch
):
    """The limit above with its timescale changed: "10 working days or a protective date, whichever is
    sooner" takes the case's protective date; "agreed" has no date a limit could take, and says so."""
    folder = tmp_path / "limited2"
    folder.mkdir()
    (folder / "protective.toml").write_text(
        LIMITED.replace(
            'timescale = { kind = "working-days", amount = 3 }',
            'timescale = { kind = "lesser-of-protective", fixed = { kind = "working-days", amount = 10 } }',
        )
    )
    (folder / "open.toml").write_text(
        LIMITED.replace('id = "fictional-limited"', 'id = "fictional-open-limit"').replace(
            'timescale = { kind = "working-days", amount = 3 }', 'timescale = { kind = "agreed" }'
        )
    )
    catalogue = discover([str(folder)])
    monkeypatch.setattr(clock, "now", lambda: at("2026-11-24T12:00"))
    journal.open_challenge(
        store,
        catalogue,
        SETTINGS,
        procedure_id="fictional-limited",
        triggers=["disputed-referral"],
        case_ref="Child Z",
        agency="Fictional CSC",
        decision="NFA",
        concern="c",
        at="2026-11-23T10:00",
        protective_by="2026-11-25T12:00",
    )
    open_in(store, catalogue, "fictional-open-limit", "2026-11-23T10:00")
    limit = journal.view(store, catalogue, "C-0001", now=at("2026-11-24T12:00")).deadlines[-1]
    assert limit.id == "limit:first-two" and local(limit.due) == dt.datetime(2026, 11, 25, 12, 0)
    limit = journal.view(store, catalogue, "C-0002", now=at("2026-11-24T12:00")).deadlines[-1]
    assert limit.due is None and limit.status == "no timescale"


@pytest.mark.parametrize("procedure_id", ["london-children", "fictional-test"])
def test_the_wizards_preview_is_what_the_log_works_out_once_saved(store, procs, monkeypatch, procedure_id):
    """The wizard shows the first stage's deadlines before anything is saved; they come from the same
    derivation as the saved challenge's (a preview that computed its own dates once disagreed)."""
    from escalate.challenge import opening_deadlines, starting_stage

    catalogue = procs if procedure_id == "fictional-test" else discover([])  # (the bundled procedures)
    procedure = catalogue.get(procedure_id).procedure
    opened = at("2026-12-18T10:00")
    monkeypatch.setattr(clock, "now", lambda: opened)
    stage, _ = starting_stage(procedure, "main", False)
    preview = opening_deadlines(procedure, route="main", stage=stage, at=opened)
    open_in(store, catalogue, procedure_id, "2026-12-18T10:00")
    assert preview == journal.view(store, catalogue, "C-0001", now=opened).deadlines
    assert any(r.due is not None for r in preview)  # a preview with dates in it, not only "waiting"


def test_folding_entry_by_entry_equals_folding_the_whole_challenge(store, procs, monkeypatch):
    """The store folds one entry at a time onto its cached state; a fresh fold takes the whole log.
    Both must give the same state, past the eight earliest times an event keeps, through pauses,
    a step up, a resolution and a reopening."""
    monkeypatch.setattr(clock, "now", lambda: at("2026-12-18T12:00"))
    open_in(store, procs, "fictional-test", "2026-11-02T09:00")
    for day in range(3, 15):  # twelve contacts: more than an event keeps the earliest of
        journal.record(
            store,
            SETTINGS,
            "C-0001",
            "contact",
            {"direction": "made", "medium": "phone", "summary": "call"},
            f"2026-11-{day:02d}T10:00",
        )
    journal.record(
        store,
        SETTINGS,
        "C-0001",
        "contact",
        {"direction": "made", "medium": "email", "summary": "again"},
        "2026-11-04T10:00",
    )
    journal.record(
        store, SETTINGS, "C-0001", "deadline-paused", {"deadline": "reply", "reason": "on leave"}, "2026-11-15T10:00"
    )
    journal.record(store, SETTINGS, "C-0001", "deadline-resumed", {"deadline": "reply"}, "2026-11-17T10:00")
    journal.step_up(store, SETTINGS, "C-0001", "no reply", "2026-11-18T10:00")
    journal.record(
        store, SETTINGS, "C-0001", "resolved", {"outcome": "resolved", "rationale": "agreed"}, "2026-11-19T10:00"
    )
    journal.record(store, SETTINGS, "C-0001", "reopened", {"reason": "it happened again"}, "2026-11-20T10:00")
    stepwise, whole = store.state("C-0001"), store.state("C-0001", fresh=True)
    assert stepwise == whole
    contacts = whole.stages[0].events["contact"]
    assert len(contacts.first) == 8 and contacts.first[0][0].startswith("2026-11-03")
    assert contacts.latest[0].startswith("2026-11-14")  # the latest time, not the last recorded
    assert whole.stages[0].pause_total == {"reply": 2 * 24 * 3600} and whole.status == "open"


@pytest.fixture
def prompt_procs(tmp_path):
    """The minimal procedure with stage 1's deadlines timed "as soon as possible" and "immediately"
    (once with the default tolerance, once with none)."""
    folder = tmp_path / "prompt"
    folder.mkdir()
    text = (DATA / "minimal.toml").read_text()
    text = text.replace(
        'timescale = { kind = "working-days", amount = 2 }',
        'timescale = { kind = "as-soon-as-possible", wording = "as soon as possible" }',
        1,
    )
    text = text.replace(
        'starts = "concern-raised"\n  timescale = { kind = "working-days", amount = 3 }',
        'starts = "concern-raised"\n  timescale = { kind = "immediately" }',
    )
    assert "as-soon-as-possible" in text and '{ kind = "immediately" }' in text
    (folder / "p.toml").write_text(text)
    strict = text.replace('id = "fictional-test"', 'id = "fictional-strict"').replace(
        '{ kind = "immediately" }', '{ kind = "immediately", tolerance = { kind = "none" } }'
    )
    (folder / "strict.toml").write_text(strict)
    return discover([str(folder)])


def test_as_soon_as_possible_is_never_overdue_or_missed_and_keeps_prompting(store, prompt_procs, monkeypatch):
    monkeypatch.setattr(clock, "now", lambda: at("2026-12-14T12:00"))
    open_in(store, prompt_procs, "fictional-test", "2026-12-14T10:00")
    a_month_on = at("2027-01-14T12:00")
    view = journal.view(store, prompt_procs, "C-0001", now=a_month_on)
    raise_ = view.deadlines[0]
    assert (raise_.status, raise_.due) == ("as soon as possible", None)
    assert not view.overdue and view.missed_by.total == 0
    from escalate import briefing

    assert briefing.next_due(view, a_month_on, "Europe/London") == ("-", "as soon as possible")
    monkeypatch.setattr(clock, "now", lambda: a_month_on)
    journal.step_up(store, SETTINGS, "C-0001", "no reply", "2026-12-21T10:00")
    view = journal.view(store, prompt_procs, "C-0001", now=a_month_on)
    assert view.history[0].deadlines[0].status == "not met"
    assert [(r.stage, r.id) for r in view.missed] == [(2, "reply")]  # stage 2's own 5 days, not the asap


def test_immediately_allows_the_rest_of_the_working_day_unless_the_file_says_none(store, prompt_procs, monkeypatch):
    monkeypatch.setattr(clock, "now", lambda: at("2026-12-14T18:00"))
    for procedure in ("fictional-test", "fictional-strict"):
        cid = open_in(store, prompt_procs, procedure, "2026-12-14T10:00").challenge
        contact = {"direction": "made", "medium": "phone", "summary": "raised it"}
        journal.record(store, SETTINGS, cid, "contact", contact, "2026-12-14T10:00")
        reply = journal.view(store, prompt_procs, cid, now=at("2026-12-14T10:02")).deadlines[1]
        if procedure == "fictional-test":
            assert local(reply.due) == dt.datetime(2026, 12, 14, 17, 0) and reply.status == "due soon"
        else:
            assert local(reply.due) == dt.datetime(2026, 12, 14, 10, 0) and reply.status == "overdue"
        journal.record(store, SETTINGS, cid, "response", {"decision": "agreed to review"}, "2026-12-14T10:05")
        reply = journal.view(store, prompt_procs, cid, now=at("2026-12-14T18:00")).deadlines[1]
        assert reply.status == ("met" if procedure == "fictional-test" else "met late")


def test_stages_are_named_in_the_procedures_own_labels_not_by_position(store, tmp_path, monkeypatch):
    folder = tmp_path / "labels"
    folder.mkdir()
    text = (DATA / "minimal.toml").read_text().replace("format = 1", "format = 2")
    text = text.replace('number = 1\ntitle = "Practitioners"', 'number = 0\nlabel = "Step 0"\ntitle = "Practitioners"')
    text = text.replace('number = 2\ntitle = "Managers"', 'number = 1\nlabel = "Step 1"\ntitle = "Managers"')
    assert text.count("label = ") == 2
    (folder / "p.toml").write_text(text)
    catalogue = discover([str(folder)])
    monkeypatch.setattr(clock, "now", lambda: at("2026-12-14T12:00"))
    open_in(store, catalogue, "fictional-test", "2026-12-14T10:00")
    from escalate import briefing

    view = journal.view(store, catalogue, "C-0001", now=at("2026-12-14T12:00"))
    b = briefing.brief(view, at("2026-12-14T12:00"), "Europe/London")
    assert b.position == "Step 0 (1 of 2): Practitioners"
    assert any(s.lead == ": Step 1: Managers" for s in b.sections)
    assert briefing.ladder(view, "Europe/London")[0].startswith(">> Step 0: Practitioners")


def test_a_skip_rule_with_a_timescale_is_kept_as_a_deadline_and_every_immediate_rule_is_said(
    store, tmp_path, monkeypatch
):
    from escalate.wording import immediate_risk_instruction

    folder = tmp_path / "skip"
    folder.mkdir()
    text = (DATA / "minimal.toml").read_text().replace("format = 1", "format = 2")
    text += """
[[skip_rules]]
id = "same-day"
when = "The child is at risk of immediate harm"
instruction = "Escalate to the team manager"
timescale = { kind = "same-working-day", wording = "the same working day" }
start_stage = 2
contact_directly = ["Duty team manager"]

[[skip_rules]]
id = "police"
when = "A crime may have been committed"
instruction = "Call the police on 999"
"""
    (folder / "p.toml").write_text(text)
    catalogue = discover([str(folder)])
    words = immediate_risk_instruction(catalogue.get("fictional-test").procedure)
    assert "Escalate to the team manager (the same working day" in words and "Call the police on 999" in words
    assert "Contact directly: Duty team manager" in words
    monkeypatch.setattr(clock, "now", lambda: at("2026-12-14T12:00"))
    journal.open_challenge(
        store,
        catalogue,
        SETTINGS,
        procedure_id="fictional-test",
        triggers=["unrecognised-harm"],
        case_ref="Child Z",
        agency="Fictional CSC",
        decision="NFA",
        concern="c",
        immediate_risk=True,
        at="2026-12-14T10:00",
    )
    rows = {r.id: r for r in journal.view(store, catalogue, "C-0001", now=at("2026-12-14T12:00")).deadlines}
    same_day = rows["skip-rule:same-day"]
    assert local(same_day.due) == dt.datetime(2026, 12, 14, 17, 0) and same_day.status == "due soon"
    journal.record(
        store,
        SETTINGS,
        "C-0001",
        "contact",
        {"direction": "made", "medium": "phone", "summary": "s"},
        "2026-12-14T11:00",
    )
    rows = {r.id: r for r in journal.view(store, catalogue, "C-0001", now=at("2026-12-14T12:00")).deadlines}
    assert rows["skip-rule:same-day"].status == "met"
