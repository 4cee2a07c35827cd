"""A store changed outside escalate (a disk error, an editor, a careless script): every command either
works from what can still be read, or says the store is damaged and points to `escalate verify`.
Never a traceback. Random damage found many such tracebacks once; these keep them found."""

from __future__ import annotations

import random
import shutil
import sqlite3

import pytest
from logtools import SETTINGS, open_fictional

from escalate import journal
from escalate import settings as settings_mod
from escalate.journal import store_at

COMMANDS = [
    ["verify"],
    ["list"],
    ["list", "--overdue", "--json"],
    ["show", "1"],
    ["show", "2", "--json"],
    ["record", "1", "contact", "--direction", "made", "--summary", "x"],
    ["audit", "--store", "--json"],
]


@pytest.fixture
def store_path(isolated_home, run_cli):
    settings_mod.save(SETTINGS)
    path = isolated_home / "escalate.sqlite3"
    with store_at(path) as s:
        open_fictional(s, at="2026-11-02T09:00")
        open_fictional(s, procedure="london-children", at="2026-11-03T09:00")
        for i in range(3):
            journal.record(
                s,
                SETTINGS,
                "C-0001",
                "contact",
                {"direction": "made", "medium": "phone", "summary": f"call {i}", "with": {"name": f"Sam {i}"}},
                f"2026-11-04T1{i}:00",
            )
    assert run_cli("list")[0] == 0  # list rows cached too
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()
    return path


def _sql(path, *statements):
    conn = sqlite3.connect(path)
    for (name,) in conn.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'").fetchall():
        conn.execute(f"DROP TRIGGER {name}")
    for statement in statements:
        conn.execute(statement)
    conn.commit()
    conn.close()


def test_a_damaged_cache_is_worked_out_again_from_the_log(store_path, run_cli):
    code, before, _ = run_cli("show", "1", "--json")
    _sql(
        store_path,
        "UPDATE state_cache SET state = '{\"challenge\": \"C-0001\"}', listing = 'not json' WHERE challenge = 'C-0001'",
        "UPDATE state_cache SET state = 'not json', listing = '{\"format\": \"L1\"}' WHERE challenge = 'C-0002'",
    )
    code, after, err = run_cli("show", "1", "--json")
    assert code == 0 and after == before, err
    code, out, err = run_cli("list")
    assert code == 0 and "C-0001" in out and "C-0002" in out, err
    assert run_cli("record", "2", "contact", "--direction", "made", "--summary", "again")[0] == 0
    assert run_cli("verify")[0] == 0  # the cache is not the log: nothing recorded was touched


def test_changed_entry_bytes_are_a_message_and_verify_names_the_entry(store_path, run_cli):
    _sql(store_path, "UPDATE entries SET body = CAST(x'45312033ff' AS BLOB) WHERE seq = 3")
    code, _, err = run_cli("show", "1")
    assert code == 3 and "entry 3 (challenge C-0001) cannot be read" in err and "Traceback" not in err
    code, out, _ = run_cli("verify")
    assert code == 1 and "FAILED at entry 3" in out
    # the DSL can go on recording (the chain continues from its intact head); the damage stays found
    assert run_cli("record", "1", "contact", "--direction", "made", "--summary", "x")[0] == 0
    code, out, _ = run_cli("verify")
    assert code == 1 and "FAILED at entry 3" in out


def test_an_emptied_hash_or_a_body_turned_to_text_is_named_by_verify(store_path, run_cli):
    _sql(store_path, "UPDATE entries SET hash = '' WHERE seq = 5")
    code, out, err = run_cli("verify")
    assert code == 1 and "FAILED at entry 5" in out, out + err
    _sql(store_path, "UPDATE entries SET body = 'some text' WHERE seq = 4")
    code, out, err = run_cli("verify")
    assert code == 1 and "FAILED at entry 4" in out and "not bytes" in out, out + err


@pytest.mark.parametrize("seed", [1, 2])
def test_random_damage_to_the_file_never_gives_a_traceback(store_path, run_cli, seed):
    """Bytes of the database file overwritten at random: whatever each command says, it says it."""
    rnd = random.Random(seed)
    pristine = store_path.read_bytes()
    keep = store_path.with_suffix(".pristine")
    shutil.copyfile(store_path, keep)
    for _ in range(12):
        damaged = bytearray(pristine)
        for _ in range(rnd.randrange(1, 20)):
            damaged[rnd.randrange(len(damaged))] = rnd.randrange(256)
        for extra in store_path.parent.glob("escalate.sqlite3-*"):
            extra.unlink()
        store_path.write_bytes(bytes(damaged))
        for argv in COMMANDS:
            code, _, err = run_cli(*argv)  # an exception here fails the test
            assert code in (0, 1, 2, 3) and "Traceback" not in err, (argv, code, err)


@pytest.mark.parametrize(
    "change",
    [
        "json_remove(state, '$.late')",  # a field missing
        "json_set(state, '$.stage', 'two')",  # a field of the wrong type
        "json_set(state, '$.stages', json('[]'))",  # no stage visited: a fold always has one
        "json_set(state, '$.stages[0].events.contact.first', json('[[1, 2]]'))",  # a time that is not text
        '\'{"not": "a state"}\'',
        # text where a time is (found by the random damage above: derive read it as a time and failed)
        "json_set(state, '$.stages[0].entered_at', '2026-11-<3T09:00:00.000000Z')",
        "json_set(state, '$.opened_at', '2026-02-30T09:00:00.000000Z')",
    ],
)
def test_a_cached_fold_that_is_not_a_whole_state_is_folded_again(store_path, change):
    """A cached fold is used only if it reads back as a whole ChallengeState (every field there, each
    of its type); anything else is folded again from the log, which the cache never outranks."""
    with store_at(store_path) as s:
        fresh = s.state("C-0001", fresh=True)
    _sql(store_path, f"UPDATE state_cache SET state = {change} WHERE challenge = 'C-0001'")
    with store_at(store_path) as s:
        assert s.state("C-0001") == fresh


async def test_the_app_shows_an_entry_that_cannot_be_read_in_its_place(store_path):
    """The chronology of a challenge with a damaged entry once took the whole app down; then the page
    holding it was shown blank. Now every other entry is shown as it is, the damaged one says so in
    its place (and in full on Enter), and the app says it once."""
    from textual.widgets import TabbedContent

    from escalate.tui.app import EscalateApp
    from escalate.tui.dialogs import EntryDialog
    from escalate.tui.widgets import LINES_PER_ENTRY, Chronology

    _sql(store_path, "UPDATE entries SET body = CAST(x'45312033ff' AS BLOB) WHERE seq = 3")  # C-0001 #2
    app = EscalateApp()
    notes = []
    app.notify = lambda message, **kw: notes.append(message)  # type: ignore[method-assign]
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        await app.workers.wait_for_complete()
        app.screen.query_one("DataTable").focus()
        for _ in range(2):  # the damaged challenge is the older one: soonest deadline first is C-0002
            await pilot.press("end" if _ else "home")
        await pilot.press("enter")
        await pilot.pause()
        app.screen.query_one(TabbedContent).active = "tab-chronology"
        await pilot.pause()
        chronology = app.screen.query_one(Chronology)
        chronology.focus()
        await pilot.pause()
        shown = ["".join(seg.text for seg in chronology.render_line(y)) for y in range(4 * LINES_PER_ENTRY)]
        text = "\n".join(shown)
        assert "#2 contact: this entry cannot be read" in text and "run escalate verify" in text, text
        assert "call 1" in text and "call 2" in text, text  # the entries around it, as they are
        await pilot.press("down", "enter")  # the damaged entry, in full: what it is and what to do
        await pilot.pause()
        assert isinstance(app.screen, EntryDialog)
        detail = " ".join(str(w.render()) for w in app.screen.query("#entry-detail Static"))
        assert "entry 3 (challenge C-0001) cannot be read" in detail and "escalate verify" in detail
        await pilot.press("escape")
        await pilot.press("up", "enter")  # a readable entry of the same page opens as ever
        await pilot.pause()
        assert isinstance(app.screen, EntryDialog) and "opened" in str(app.screen.query_one("Label").render())
    assert app.return_code in (0, None)
    assert sum("entry 3 (challenge C-0001) cannot be read" in n for n in notes) == 1, notes


def test_the_chronology_is_strict_except_where_asked(store_path):
    """show, exports and packs refuse a damaged challenge (what leaves the system must be whole);
    only the app's chronology asks to see the rest of it."""
    from escalate.errors import StoreError

    _sql(store_path, "UPDATE entries SET body = CAST(x'45312033ff' AS BLOB) WHERE seq = 3")
    with store_at(store_path) as s:
        with pytest.raises(StoreError, match="entry 3 .* cannot be read"):
            journal.chronology(s, "C-0001")
        items = journal.chronology(s, "C-0001", tolerant=True)
    assert [i.cseq for i in items] == [1, 2, 3, 4]
    assert [i.unreadable is not None for i in items] == [False, True, False, False]
    assert items[2].data["summary"] == "call 1"


def test_a_cached_list_row_whose_times_are_not_times_is_made_again(store_path, run_cli):
    """A list row read as it was cached: its times (an agreed action's due date) are read when it is
    judged, so one that is not a time sends the row back to be made from the log."""
    assert run_cli("record", "1", "action-agreed", "--action", "Send the minutes", "--due", "2099-01-01")[0] == 0
    code, before, err = run_cli("list", "--json")
    assert code == 0, err
    _sql(
        store_path,
        "UPDATE state_cache SET listing = json_set(listing, '$.action_dues[0]', '2099-0<-01T00:00:00.000000Z') "
        "WHERE challenge = 'C-0001'",
    )
    code, after, err = run_cli("list", "--json")
    assert code == 0 and "Traceback" not in err, err
    assert after == before
