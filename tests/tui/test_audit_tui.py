"""The auditor's read-only terminal view of exported files (`escalate audit FILE... --tui`)."""

from __future__ import annotations

import hashlib

import pytest
from logtools import SETTINGS, open_fictional

from escalate import clock, journal
from escalate import settings as settings_mod
from escalate.journal import store_at
from escalate.tui.audit_app import AuditApp
from escalate.tui.screens.audit import AuditChallengeScreen, AuditScreen
from escalate.tui.widgets import Chronology

NOW = clock.from_iso("2026-11-23T12:00:00.000000Z")


@pytest.fixture
def exports(isolated_home, run_cli, tmp_path):
    """A full export, a redacted export and a tampered copy, made from a fictional store."""
    settings_mod.save(SETTINGS)
    with store_at(isolated_home / "escalate.sqlite3") as s:
        open_fictional(s, at="2026-11-02T09:00")
        journal.record(
            s,
            SETTINGS,
            "C-0001",
            "contact",
            {
                "direction": "made",
                "medium": "phone",
                "with": {"name": "Sam Fictional", "role": "Social worker"},
                "summary": "Asked for the strategy discussion",
            },
            "2026-11-02T10:00",
        )
        journal.amend(s, SETTINGS, "C-0001", 2, "summary", "Asked for a strategy discussion", "typo")
        open_fictional(
            s, procedure="london-children", at="2026-10-05T09:00", agency="Southby MASH", case_ref="Child R (fictional)"
        )
    full, redacted = tmp_path / "full.jsonl", tmp_path / "redacted.jsonl"
    assert run_cli("export", "--all", "-o", full)[0] == 0
    assert run_cli("export", "--all", "--redact", "-o", redacted)[0] == 0
    tampered = tmp_path / "tampered.jsonl"
    tampered.write_bytes(full.read_bytes().replace(b"strategy discussion", b"strategy meeting", 1))
    store = isolated_home / "escalate.sqlite3"
    (isolated_home / "moved-away.sqlite3").write_bytes(b"")  # the app must not need or create a store
    store.rename(isolated_home / "moved-away.sqlite3")
    for suffix in ("-wal", "-shm"):
        (isolated_home / f"escalate.sqlite3{suffix}").unlink(missing_ok=True)
    return full, redacted, tampered


def digests(paths):
    return {p: hashlib.sha256(p.read_bytes()).hexdigest() for p in paths}


async def settle(pilot):
    await pilot.pause()
    await pilot.app.workers.wait_for_complete()
    await pilot.pause()


async def test_auditor_browses_verified_files_and_failed_ones_are_left_out(exports, isolated_home):
    full, redacted, tampered = exports
    app = AuditApp([str(full), str(redacted), str(tampered), str(isolated_home / "missing.jsonl")], now=lambda: NOW)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, AuditScreen)
        inputs = str(screen.query_one("#audit-inputs").render())
        assert "VERIFIED" in inputs and "full.jsonl" in inputs
        assert "personal field(s) withheld" in inputs  # the redacted file says so
        assert "FAILED" in inputs and "tampered.jsonl" in inputs and "(left out)" in inputs
        assert "missing.jsonl" in inputs and "not found" in inputs
        figures = str(screen.query_one("#audit-figures").render())
        # both good files hold both challenges: counted once, and what the full file discloses is shown
        assert "2 challenge(s) (2 more copies in other files, each challenge counted once)" in figures
        table = screen.query_one("DataTable")
        assert table.row_count == 2
        assert sorted(str(table.get_row_at(i)[2]) for i in range(2)) == ["Child Q (fictional)", "Child R (fictional)"]
        # each row names the file kept (the one with more entries) and how many others hold it too
        assert {str(table.get_row_at(i)[0]) for i in range(2)} == {"redacted.jsonl +1"}
        # search narrows the rows
        await pilot.press("slash", *"southby")
        await pilot.pause()
        assert table.row_count == 1
        await pilot.press("escape")
        await pilot.pause()
        assert table.row_count == 2


@pytest.mark.parametrize("which", ["full", "redacted"])
async def test_challenge_view_shows_the_chronology_with_amendments_and_withheld_names(exports, isolated_home, which):
    full, redacted, _ = exports
    source = full if which == "full" else redacted
    app = AuditApp([str(source)], now=lambda: NOW)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        table = app.screen.query_one("DataTable")
        index = next(i for i in range(table.row_count) if str(table.get_row_at(i)[1]) == "C-0001")
        table.move_cursor(row=index)
        await pilot.press("enter")
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, AuditChallengeScreen)
        header = str(screen.query_one("#challenge-header").render())
        assert "read-only" in header and "Northtown CSC" in header
        assert ("Child Q (fictional)" in header) is (which == "full")
        chronology = screen.query_one(Chronology)
        # opened, contact, amendment; the later (redacted) file also holds the record of the first export
        assert chronology.total == (3 if which == "full" else 4)
        contact = chronology.item(1)
        assert contact.amended_by == (3,)
        assert contact.corrected == {"summary": "Asked for a strategy discussion"}
        assert contact.data["with"]["name"] == ("Sam Fictional" if which == "full" else "(withheld)")
        await pilot.press("escape")
        await pilot.pause()
        assert isinstance(app.screen, AuditScreen)


async def test_nothing_can_be_recorded_and_nothing_is_written(exports, isolated_home):
    full, redacted, tampered = exports
    before = digests([full, redacted, tampered])
    app = AuditApp([str(full), str(redacted), str(tampered)], now=lambda: NOW)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("enter")
        await pilot.pause()
        # every key that records something in the DSL's challenge view
        for key in "craeptnvuxmfsow":
            await pilot.press(key)
            await pilot.pause()
            assert isinstance(app.screen, AuditChallengeScreen), key
        await pilot.press("f1")
        await pilot.pause()
        help_text = " ".join(str(w.render()) for w in app.screen.query("Static"))
        assert "Nothing can be recorded here" in help_text
    assert digests([full, redacted, tampered]) == before
    assert not (isolated_home / "escalate.sqlite3").exists()


def test_cli_refuses_tui_with_the_store_or_without_a_terminal(exports, run_cli):
    full, _, _ = exports
    code, _, err = run_cli("audit", "--store", "--tui")
    assert code == 2 and "--tui browses exported files only" in err
    code, _, err = run_cli("audit", full, "--tui", "--json")
    assert code == 2 and "--tui browses exported files only" in err
    code, _, err = run_cli("audit", full, "--tui")  # pytest's stdin is not a terminal
    assert code == 2 and "--tui needs a terminal" in err


async def test_the_auditor_reads_an_entry_in_full_and_withheld_names_stay_withheld(exports, isolated_home):
    from escalate.tui.dialogs import EntryDialog

    _, redacted, _ = exports
    app = AuditApp([str(redacted)], now=lambda: NOW)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        table = app.screen.query_one("DataTable")
        table.move_cursor(row=next(i for i in range(table.row_count) if str(table.get_row_at(i)[1]) == "C-0001"))
        await pilot.press("enter")
        await pilot.pause()
        app.screen.query_one("TabbedContent").active = "tab-chronology"
        chronology = app.screen.query_one(Chronology)
        chronology.focus()
        await pilot.press("down", "enter")
        await pilot.pause()
        assert isinstance(app.screen, EntryDialog)
        shown = " ".join(str(w.render()) for w in app.screen.query("Static"))
        assert "(withheld)" in shown and "Sam Fictional" not in shown
        assert "Asked for a strategy discussion [corrected" in shown
