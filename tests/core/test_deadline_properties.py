"""A property of every working-day deadline the log works out, for random valid procedures and
random sequences of entries: it falls due at the procedure's cut-off on a working day of its
region, never before its start; one chained to another counts from the end of the working day the
other falls due on, while an event at or after the cut-off counts from the next working day."""

from __future__ import annotations

import datetime as dt

import tomlkit
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from logtools import SETTINGS

from escalate import clock, journal, workcalendar
from escalate.catalogue import Catalogue
from escalate.journal import store_at
from escalate.procedure_file import parse

UK = clock.zone("Europe/London")
STARTS = ["disagreement", "stage-entered", "concern-raised", "reply-received", "contact-in-writing", "second-contact"]


@st.composite
def procedures(draw):
    """A valid format 2 procedure: 1-3 stages of 1-3 working-day deadlines, some chained."""
    stages = []
    for number in range(1, draw(st.integers(1, 3)) + 1):
        deadlines = []
        for i in range(draw(st.integers(1, 3))):
            start = draw(st.sampled_from(STARTS + ([f"deadline:d{i - 1}"] if i else [])))
            deadlines.append(
                {
                    "id": f"d{i}",
                    "what": f"deadline {i}",
                    "owner": draw(st.sampled_from(["us", "them", "both"])),
                    "starts": start,
                    "timescale": {"kind": "working-days", "amount": draw(st.integers(0, 12))},
                }
            )
        stages.append({"number": number, "title": f"Stage {number}", "deadlines": deadlines})
    cutoff = draw(st.sampled_from(["16:00", "17:00", "17:30", "18:00"]))
    return {
        "format": 2,
        "id": "random-procedure",
        "name": "Random fictional procedure",
        "partnership": "Fictional partnership",
        "applies_to": draw(st.sampled_from(["children", "adults"])),
        "version": "1",
        "region": draw(st.sampled_from(["england-and-wales", "scotland", "northern-ireland"])),
        "cutoff": cutoff,
        "source": {"title": "Generated for a property test"},
        "stages": stages,
    }


#: what may happen after the opening: a contact (by some medium), a reply, a step up
EVENTS = st.lists(
    st.tuples(
        st.integers(0, 60 * 24 * 9),  # minutes after the entry before
        st.sampled_from(["contact:phone", "contact:email", "response", "step-up"]),
    ),
    max_size=6,
)


def catalogue_of(document):
    text = tomlkit.dumps(document)
    loaded = parse(text.encode("utf-8"), "random-procedure.toml")
    catalogue = Catalogue([])
    catalogue.procedures[loaded.id] = loaded
    catalogue.origin[loaded.id] = "test"
    return catalogue, loaded.procedure


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(document=procedures(), opened=st.datetimes(dt.datetime(2026, 1, 1), dt.datetime(2027, 6, 30)), events=EVENTS)
def test_every_working_day_deadline_falls_at_the_cut_off_of_a_working_day(
    tmp_path_factory, monkeypatch, document, opened, events
):
    catalogue, procedure = catalogue_of(document)
    region, cutoff = procedure.region, procedure.cutoff
    opened = opened.replace(second=0, microsecond=0, tzinfo=UK)
    monkeypatch.setattr(clock, "now", lambda: dt.datetime(2028, 1, 1, tzinfo=UK))
    with store_at(tmp_path_factory.mktemp("p") / "s.db") as store:
        cid = journal.open_challenge(
            store,
            catalogue,
            SETTINGS,
            procedure_id=procedure.id,
            triggers=["disputed-referral"],
            case_ref="Child P (fictional)",
            agency="Fictional CSC",
            decision="NFA",
            concern="c",
            at=opened.isoformat(),
        ).challenge
        when = opened
        for minutes, event in events:
            when += dt.timedelta(minutes=minutes)
            at = when.isoformat()
            if event.startswith("contact"):
                data = {"direction": "made", "medium": event.split(":")[1], "summary": "s"}
                journal.record(store, SETTINGS, cid, "contact", data, at)
            elif event == "response":
                journal.record(store, SETTINGS, cid, "response", {"decision": "d"}, at)
            elif procedure.next_stage(store.state(cid).stage) is not None:
                journal.step_up(store, SETTINGS, cid, "not resolved", at)
        view = journal.view(store, catalogue, cid, now=dt.datetime(2028, 1, 1, tzinfo=UK))
    for history in view.history:
        stage = procedure.stage(history.stage)
        rows = {r.id: r for r in history.deadlines}
        for d in stage.deadlines:
            row = rows[d.id]
            if row.due is None:
                assert row.start is None, row  # only a deadline whose clock has not started has no date
                continue
            due = row.due.astimezone(UK)
            assert due.time() == cutoff and workcalendar.is_working_day(due.date(), region), row
            assert row.start is not None and row.due >= row.start, row
            if d.starts.startswith("deadline:"):
                earlier = rows[d.starts.split(":", 1)[1]].due.astimezone(UK)
                # the earlier one falls due at the cut-off of a working day: counted from that day
                day = earlier.date()
                for _ in range(d.timescale.amount):
                    day = workcalendar.next_working_day(day, region)
                assert due.date() == day, (row, earlier)
            else:
                # an event at or after the cut-off (or on a day off) counts from the next working day
                start = row.start.astimezone(UK)
                day = start.date()
                if not workcalendar.is_working_day(day, region) or start.time() >= cutoff:
                    day = workcalendar.next_working_day(day, region)
                for _ in range(d.timescale.amount):
                    day = workcalendar.next_working_day(day, region)
                assert due.date() == day, row
