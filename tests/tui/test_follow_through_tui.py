"""Follow-through in the app: the agenda above the dashboard, the full agenda on g, search by the
child's name, and an agreed action recorded done from its challenge (d)."""

from __future__ import annotations

import datetime as dt

from logtools import SETTINGS, open_fictional

from escalate import clock, journal
from escalate import settings as settings_mod
from escalate.journal import store_at
from escalate.tui.app import EscalateApp
from escalate.tui.screens.agenda import AgendaScreen
from escalate.tui.screens.challenge import ChallengeScreen

NOW = dt.datetime(2026, 11, 20, 12, 0, tzinfo=dt.timezone.utc)


def text_of(app, selector) -> str:
    return str(app.screen.query_one(selector).render())


async def loaded(pilot, app) -> None:
    for _ in range(200):
        await pilot.pause()
        await app.workers.wait_for_complete()
        if getattr(app.screen, "book", None) is not None:
            return


def two_challenges(home, monkeypatch) -> None:
    settings_mod.save(SETTINGS)
    monkeypatch.setattr(clock, "now", lambda: NOW)
    with store_at(home / "escalate.sqlite3") as store:
        first = open_fictional(store, case_ref="Child Q (fictional)").challenge
        journal.record(
            store,
            SETTINGS,
            first,
            "action-agreed",
            {"action": "Send the minutes", "due": "19/11/2026"},
            "2026-11-17T10:00",
        )
        open_fictional(store, case_ref="Child R (fictional)", at="2026-11-20T09:00")


async def test_the_dashboard_opens_on_the_agenda_and_g_shows_it_all(isolated_home, monkeypatch):
    two_challenges(isolated_home, monkeypatch)
    app = EscalateApp(now=lambda: NOW)
    async with app.run_test(size=(80, 24)) as pilot:
        await loaded(pilot, app)
        panel = text_of(app, "#agenda-panel")
        assert panel.startswith("Agenda: 1 overdue")
        first_item = panel.splitlines()[1]
        assert first_item.startswith("OVERDUE C-0001 Child Q (fictional)")
        await pilot.press("g")
        await pilot.pause()
        assert isinstance(app.screen, AgendaScreen)
        table = app.screen.query_one("DataTable")
        rows = [" ".join(str(cell) for cell in table.get_row_at(r)) for r in range(table.row_count)]
        assert rows[0].startswith("OVERDUE") and "Send the minutes" in " ".join(rows)
        assert text_of(app, "#agenda-detail").startswith("C-0001 · Child Q (fictional) · Northtown CSC")
        await pilot.press("enter")
        for _ in range(100):
            await pilot.pause()
            if isinstance(app.screen, ChallengeScreen) and app.screen.view is not None:
                break
        assert isinstance(app.screen, ChallengeScreen) and app.screen.challenge == "C-0001"


async def test_an_action_recorded_done_leaves_the_agenda(isolated_home, monkeypatch):
    two_challenges(isolated_home, monkeypatch)
    app = EscalateApp(now=lambda: NOW)
    async with app.run_test(size=(80, 24)) as pilot:
        await loaded(pilot, app)
        assert "Send the minutes" in text_of(app, "#agenda-panel")
        app.screen.open_challenge("C-0001")
        for _ in range(100):
            await pilot.pause()
            if isinstance(app.screen, ChallengeScreen) and app.screen.view is not None:
                break
        await pilot.press("d")
        await pilot.pause()
        app.screen.query_one("#f-action_seq").value = "2"
        app.screen.query_one("#f-summary").text = "Minutes emailed"
        await pilot.press("ctrl+s")
        await app.workers.wait_for_complete()
        await pilot.pause()
        await pilot.press("escape")
        await loaded(pilot, app)
        for _ in range(50):
            await pilot.pause()
            await app.workers.wait_for_complete()
            if "Send the minutes" not in text_of(app, "#agenda-panel"):
                break
        assert "Send the minutes" not in text_of(app, "#agenda-panel")
    with store_at(isolated_home / "escalate.sqlite3") as s:
        kinds = [e.kind for e in s.entries("C-0001")]
        assert kinds[-1] == "action-done"


async def test_d_with_no_action_agreed_says_so_and_opens_nothing(isolated_home, monkeypatch):
    two_challenges(isolated_home, monkeypatch)
    app = EscalateApp(now=lambda: NOW)
    notes = []
    app.notify = lambda message, **kw: notes.append(message)  # type: ignore[method-assign]
    async with app.run_test(size=(80, 24)) as pilot:
        await loaded(pilot, app)
        app.screen.open_challenge("C-0002")
        for _ in range(100):
            await pilot.pause()
            if isinstance(app.screen, ChallengeScreen) and app.screen.view is not None:
                break
        await pilot.press("d")
        await pilot.pause()
        assert isinstance(app.screen, ChallengeScreen)
        assert any("No action agreed is waiting" in n for n in notes)


async def test_the_search_box_finds_a_closed_challenge_by_the_childs_name(isolated_home, monkeypatch):
    settings_mod.save(SETTINGS)
    monkeypatch.setattr(clock, "now", lambda: NOW)
    with store_at(isolated_home / "escalate.sqlite3") as store:
        named = open_fictional(store, case_ref="REF-1", subject_name="Jamie Fictional").challenge
        journal.record(store, SETTINGS, named, "resolved", {"outcome": "resolved", "rationale": "Agreed"})
        open_fictional(store, case_ref="REF-2", subject_name="Robin Example")
    app = EscalateApp(now=lambda: NOW)
    async with app.run_test(size=(80, 24)) as pilot:
        await loaded(pilot, app)
        table = app.screen.query_one("DataTable")
        assert table.row_count == 1  # the open one: the resolved one is not on the open filter
        await pilot.press("slash", *"jamie")
        await pilot.pause()
        assert [str(k.value) for k in table.rows] == [named]  # found though resolved
        assert "searching all challenges" in text_of(app, "#status-line")
        await pilot.press("ctrl+u", *"!!")
        await pilot.pause()
        assert table.row_count == 0  # punctuation alone finds nothing, and says nothing is wrong
