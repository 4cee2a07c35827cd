"""The agenda (`escalate agenda`): what is due across every challenge, and agreed actions as
deadlines met by recording them done. Each test runs on both stores."""

from __future__ import annotations

import json

import pytest
from helpers import DATA

from escalate import clock

pytestmark = pytest.mark.usefixtures("backend")


class Clock:
    """The time escalate reads as now, moved on by the test."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch, text: str) -> None:
        self.now = clock.parse_time(text)
        monkeypatch.setattr(clock, "now", lambda: self.now)

    def set(self, text: str) -> None:
        self.now = clock.parse_time(text)


@pytest.fixture
def run(run_cli, monkeypatch):
    assert run_cli("config", "set", "name", "Alex Example")[0] == 0
    assert run_cli("config", "set", "role", "DSL")[0] == 0
    return run_cli


def opened(run, *extra: str, procedure: str = "london-children", at: str = "16/11/2026 09:00") -> str:
    code, out, err = run(
        "open",
        "--procedure",
        procedure,
        "--case-ref",
        "Child Q",
        "--agency",
        "Northtown CSC",
        "--concern",
        "Bruising seen twice",
        "--at",
        at,
        *extra,
    )
    assert code == 0, err
    return out.strip()


def agenda(run) -> dict:
    code, out, err = run("agenda", "--json")
    assert code == 0, err
    return json.loads(out)


def test_an_empty_store_has_nothing_due(run):
    code, out, _ = run("agenda")
    assert code == 0
    assert "Nothing is due" in out and "0 challenge(s) open" in out


def test_a_deadline_moves_from_the_week_to_today_to_overdue(run, monkeypatch):
    now = Clock(monkeypatch, "18/11/2026 12:00")
    cid = opened(run, "--trigger", "threshold-misapplied", "--decision", "NFA")
    items = agenda(run)["items"]
    deadlines = [i for i in items if i["kind"] == "deadline"]
    assert len(deadlines) == 1 and deadlines[0]["challenge"] == cid and deadlines[0]["when"] == "week"
    due = clock.from_iso(deadlines[0]["due"])
    now.set(clock.show(due.replace(hour=9)))
    assert [i["when"] for i in agenda(run)["items"] if i["kind"] == "deadline"] == ["today"]
    now.set("24/11/2026 09:00")
    assert [i["when"] for i in agenda(run)["items"] if i["kind"] == "deadline"] == ["overdue"]
    code, out, _ = run("agenda")
    assert code == 0  # something overdue is not a failure of the command
    assert out.index("Overdue (1)") < out.index("Child Q") and "Resolve the difference" in out


def test_an_agreed_action_is_due_until_recorded_done(run, monkeypatch):
    now = Clock(monkeypatch, "17/11/2026 12:00")
    cid = opened(run, "--trigger", "threshold-misapplied", "--decision", "NFA")
    assert run("record", cid, "action-agreed", "--action", "Send the minutes", "--due", "19/11/2026 17:00")[0] == 0
    assert run("record", cid, "action-agreed", "--action", "Book a meeting", "--due", "today 16:00")[0] == 0
    actions = {i["what"].split(" (")[0]: i for i in agenda(run)["items"] if i["kind"] == "action"}
    assert actions["Agreed action: Send the minutes"]["when"] == "week"
    assert actions["Agreed action: Book a meeting"]["when"] == "today"
    now.set("20/11/2026 09:00")
    overdue = [i for i in agenda(run)["items"] if i["when"] == "overdue" and i["kind"] == "action"]
    assert [i["action_seq"] for i in overdue] == [3, 2]  # the sooner due first
    code, out, _ = run("list", "--overdue", "--json")
    assert [c["id"] for c in json.loads(out)] == [cid]
    assert run("record", cid, "action-done", "--action-seq", "2", "--summary", "Minutes sent")[0] == 0
    assert [i["action_seq"] for i in agenda(run)["items"] if i["kind"] == "action"] == [3]
    assert run("record", cid, "action-done", "--action-seq", "3")[0] == 0
    assert not [i for i in agenda(run)["items"] if i["kind"] == "action"]
    code, out, _ = run("show", cid)
    assert "Action agreed at entry 2 done: Minutes sent" in out and "OVERDUE ACTION" not in out


@pytest.mark.parametrize(
    ("argv", "says", "exit_code"),
    [
        (["--action-seq", "9"], "has no action agreed at entry 9", 2),
        (["--action-seq", "1"], "has no action agreed at entry 1", 2),  # the opening is not an action
        (["--action-seq", "x"], "is not an entry number", 2),
        ([], "action_seq", 2),
        (["--action-seq", "2", "--due", "today"], "action-done does not take --due", 2),
    ],
)
def test_action_done_refuses_what_is_not_an_open_action(run, monkeypatch, argv, says, exit_code):
    Clock(monkeypatch, "17/11/2026 12:00")
    cid = opened(run, "--trigger", "threshold-misapplied", "--decision", "NFA")
    assert run("record", cid, "action-agreed", "--action", "Send the minutes", "--due", "19/11/2026")[0] == 0
    before = run("show", cid, "--json")[1]
    code, out, err = run("record", cid, "action-done", *argv)
    assert code == exit_code and says in err
    assert run("show", cid, "--json")[1] == before  # nothing recorded


def test_an_action_is_done_once(run, monkeypatch):
    Clock(monkeypatch, "17/11/2026 12:00")
    cid = opened(run, "--trigger", "threshold-misapplied", "--decision", "NFA")
    run("record", cid, "action-agreed", "--action", "Send the minutes", "--due", "19/11/2026")
    assert run("record", cid, "action-done", "--action-seq", "2")[0] == 0
    code, _, err = run("record", cid, "action-done", "--action-seq", "2")
    assert code != 0 and "was recorded done at entry 3" in err


def test_a_clock_that_never_started_is_asked_about_after_the_days_set(run, monkeypatch):
    now = Clock(monkeypatch, "17/11/2026 12:00")
    # Wales: the follow-up of a report is timed from the phone call, which nobody has recorded
    cid = opened(run, "--referral", procedure="wales-children")
    assert not [i for i in agenda(run)["items"] if i["kind"] == "no-clock"]
    now.set("24/11/2026 12:00")  # six working days later
    waiting = [i for i in agenda(run)["items"] if i["kind"] == "no-clock"]
    assert len(waiting) == 1 and waiting[0]["challenge"] == cid and waiting[0]["when"] == "waiting"
    assert "No deadline running for 6 working days" in waiting[0]["what"]
    assert run("config", "set", "waiting_days", "10")[0] == 0
    assert not [i for i in agenda(run)["items"] if i["kind"] == "no-clock"]
    assert run("config", "set", "waiting_days", "5")[0] == 0
    run("record", cid, "contact", "--medium", "phone", "--summary", "Reported by phone", "--at", "24/11/2026 11:00")
    assert not [i for i in agenda(run)["items"] if i["kind"] == "no-clock"]


@pytest.mark.parametrize("value", ["0", "61", "five", "-1", ""])
def test_waiting_days_must_be_a_number_of_working_days(run, value):
    code, _, err = run("config", "set", "waiting_days", value)
    assert code == 2 and "waiting_days" in err


def test_immediate_risk_stays_first_until_a_contact_is_recorded(run, monkeypatch):
    Clock(monkeypatch, "17/11/2026 12:00")
    opened(run, "--trigger", "threshold-misapplied", "--decision", "NFA", at="17/11/2026 08:00")
    risky = opened(
        run, "--trigger", "threshold-misapplied", "--decision", "NFA", "--immediate-risk", at="17/11/2026 10:00"
    )
    items = agenda(run)["items"]
    assert items[0]["kind"] == "immediate-risk" and items[0]["challenge"] == risky
    run("record", risky, "contact", "--medium", "phone", "--summary", "Called the police", "--at", "17/11/2026 11:00")
    assert not [i for i in agenda(run)["items"] if i["kind"] == "immediate-risk"]


def test_a_follow_up_after_resolution_stays_until_met(run, monkeypatch, tmp_path):
    folder = tmp_path / "procedures"
    folder.mkdir()
    text = (DATA / "minimal.toml").read_text().replace("format = 1", "format = 2")
    notify = (
        '\n  [[stages.notify]]\n  to = "Partnership business manager"\n'
        '  timescale = { kind = "working-days", amount = 1, wording = "at resolution" }\n  starts = "resolved"\n'
    )
    (folder / "p.toml").write_text(text.replace('title = "Practitioners"\n', 'title = "Practitioners"\n' + notify))
    now = Clock(monkeypatch, "08/12/2026 12:00")
    code, out, err = run(
        "--procedures",
        folder,
        "open",
        "--procedure",
        "fictional-test",
        "--trigger",
        "disputed-referral",
        "--case-ref",
        "Child Z",
        "--agency",
        "Fictional CSC",
        "--decision",
        "NFA",
        "--concern",
        "c",
        "--at",
        "07/12/2026 09:00",
    )
    cid = out.strip()
    assert run("resolve", cid, "--outcome", "resolved", "--rationale", "agreed", "--at", "08/12/2026 10:00")[0] == 0
    items = agenda(run)["items"]
    assert [(i["kind"], i["when"]) for i in items] == [("follow-up", "week")]
    assert "Partnership business manager" in items[0]["what"]
    now.set("10/12/2026 09:00")
    assert [i["when"] for i in agenda(run)["items"]] == ["overdue"]
    run("record", cid, "notification-sent", "--to", "Partnership business manager", "--medium", "email")
    assert agenda(run)["items"] == []
