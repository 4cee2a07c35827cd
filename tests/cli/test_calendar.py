"""`escalate calendar`: an RFC 5545 file read back with icalendar, stable across imports."""

from __future__ import annotations

import datetime as dt

import pytest
from icalendar import Calendar

from escalate import clock

pytestmark = pytest.mark.usefixtures("backend")


@pytest.fixture
def run(run_cli, monkeypatch):
    monkeypatch.setattr(clock, "now", lambda: clock.parse_time("18/11/2026 12:00"))
    assert run_cli("config", "set", "name", "Alex Example")[0] == 0
    assert run_cli("config", "set", "role", "DSL")[0] == 0
    return run_cli


def opened(run, ref: str, *extra: str) -> str:
    code, out, err = run(
        "open", "--procedure", "london-children", "--trigger", "threshold-misapplied", "--decision", "NFA",
        "--case-ref", ref, "--agency", "Northtown CSC", "--concern", "Bruising", "--at", "16/11/2026 09:00", *extra,
    )  # fmt: skip
    assert code == 0, err
    return out.strip()


def events(path) -> list:
    cal = Calendar.from_ical(path.read_bytes())
    assert str(cal["version"]) == "2.0" and "escalate" in str(cal["prodid"])
    return list(cal.walk("VEVENT"))


def test_every_dated_item_is_an_event_with_a_reminder(run, tmp_path):
    cid = opened(run, "Child Q")
    run("record", cid, "action-agreed", "--action", "Send the minutes", "--due", "20/11/2026 15:00")
    out = tmp_path / "deadlines.ics"
    code, said, err = run("calendar", "-o", out)
    assert code == 0, err
    assert "wrote 2 deadline(s) of 1 challenge(s)" in said
    found = events(out)
    assert len(found) == 2
    by_summary = {str(e["summary"]): e for e in found}
    action = next(e for s, e in by_summary.items() if "Send the minutes" in s)
    assert action.decoded("dtend") == dt.datetime(2026, 11, 20, 15, 0, tzinfo=dt.timezone.utc)
    assert action.decoded("dtstart") == dt.datetime(2026, 11, 20, 14, 30, tzinfo=dt.timezone.utc)
    alarm = next(iter(action.walk("VALARM")))
    assert str(alarm["action"]) == "DISPLAY" and alarm.decoded("trigger") == -dt.timedelta(days=1)
    assert all("Child Q" not in str(e["summary"]) + str(e["description"]) for e in found)  # left out unless asked
    assert all("Northtown CSC" in str(e["description"]) for e in found)


def test_importing_again_updates_the_same_events(run, tmp_path):
    cid = opened(run, "Child Q")
    run("record", cid, "action-agreed", "--action", "Send the minutes", "--due", "20/11/2026 15:00")
    first, second = tmp_path / "a.ics", tmp_path / "b.ics"
    assert run("calendar", "-o", first)[0] == 0
    run("record", cid, "note", "--summary", "Chased by email")
    assert run("calendar", "-o", second)[0] == 0
    before = {str(e["uid"]): e for e in events(first)}
    after = {str(e["uid"]): e for e in events(second)}
    assert before.keys() == after.keys()  # the same events, not new ones
    for key in before:
        assert int(after[key]["sequence"]) > int(before[key]["sequence"])  # so a calendar takes the update
    assert len(set(before)) == 2


def test_case_reference_only_when_asked_and_redact_leaves_out_the_words(run, tmp_path):
    cid = opened(run, "Child Q")
    run("record", cid, "action-agreed", "--action", "Send the minutes", "--due", "20/11/2026 15:00")
    out = tmp_path / "c.ics"
    assert run("calendar", "-o", out, "--case-ref")[0] == 0
    assert all("Child Q" in str(e["summary"]) for e in events(out))
    assert run("calendar", "-o", out, "--redact", "--case-ref", "--force")[0] == 0
    text = out.read_text()
    for secret in ("Child Q", "Northtown", "Send the minutes"):
        assert secret not in text
    assert "Agreed action (entry 2)" in text


def test_one_challenge_only(run, tmp_path):
    first = opened(run, "Child Q")
    opened(run, "Child R")
    out = tmp_path / "one.ics"
    assert run("calendar", "-o", out, "--challenge", first)[0] == 0
    assert {str(e["summary"]).split(":")[1].strip().split()[0] for e in events(out)} == {first}


@pytest.mark.parametrize(
    ("argv", "says"),
    [
        (["-o", "{tmp}/exists.ics"], "already exists"),
        (["-o", "{tmp}/no-such-folder/d.ics"], "does not exist"),
        (["-o", "{tmp}"], "is a folder"),
        (["-o", "{tmp}/d.ics", "--challenge", "C-0099"], "no challenge"),
    ],
)
def test_what_cannot_be_written_is_refused_and_nothing_is_left(run, tmp_path, argv, says):
    opened(run, "Child Q")
    (tmp_path / "exists.ics").write_text("mine")
    code, _, err = run("calendar", *[a.format(tmp=tmp_path) for a in argv])
    assert code != 0 and says in err
    assert (tmp_path / "exists.ics").read_text() == "mine"
    assert not (tmp_path / "d.ics").exists()
