"""Follow-through in the app: the agenda above the dashboard, the full agenda on g, search by the
child's name, and an agreed action recorded done from its challenge (d)."""

from __future__ import annotations

import datetime as dt

import pytest
from helpers import the_store
from logtools import SETTINGS, open_fictional

from escalate import clock, journal
from escalate import settings as settings_mod
from escalate.tui.app import EscalateApp
from escalate.tui.screens.agenda import AgendaScreen
from escalate.tui.screens.challenge import ChallengeScreen

pytestmark = pytest.mark.usefixtures("backend")  # on a desk's file and on a team store

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
    with the_store() as store:
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
    with the_store() as s:
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
    with the_store() as store:
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


async def open_screen_of(pilot, app, challenge: str) -> None:
    app.screen.open_challenge(challenge)
    for _ in range(100):
        await pilot.pause()
        if isinstance(app.screen, ChallengeScreen) and app.screen.view is not None:
            return


async def test_l_writes_the_letter_and_records_it(isolated_home, monkeypatch, tmp_path):
    import docx

    two_challenges(isolated_home, monkeypatch)
    app = EscalateApp(now=lambda: NOW)
    async with app.run_test(size=(80, 24)) as pilot:
        await loaded(pilot, app)
        await open_screen_of(pilot, app, "C-0001")
        await pilot.press("l")
        await pilot.pause()
        app.screen.query_one("#f-path").value = str(tmp_path / "letter.docx")
        await pilot.press("ctrl+s")
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert isinstance(app.screen, ChallengeScreen)
    text = "\n".join(p.text for p in docx.Document(str(tmp_path / "letter.docx")).paragraphs)
    assert "Northtown CSC" in text and "Alex Example" in text and "Dear" in text
    with the_store() as s:
        last = s.entries("C-0001")[-1]
        assert last.kind == "exported" and b'"scope":"letter: ' in last.body


async def test_a_letter_that_cannot_be_written_is_refused_in_the_form(isolated_home, monkeypatch, tmp_path):
    two_challenges(isolated_home, monkeypatch)
    app = EscalateApp(now=lambda: NOW)
    async with app.run_test(size=(80, 24)) as pilot:
        await loaded(pilot, app)
        await open_screen_of(pilot, app, "C-0001")
        before = len(app.screen.view.state.actions), app.screen.view.state.entries
        await pilot.press("l")
        await pilot.pause()
        app.screen.query_one("#f-path").value = str(tmp_path / "no-such-folder" / "letter.docx")
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert "does not exist" in text_of(app, "#form-error")
        await pilot.press("escape", "y")  # (it asks first: a path was typed)
        await pilot.pause()
        assert (len(app.screen.view.state.actions), app.screen.view.state.entries) == before


async def test_every_footer_shows_f1_and_f2_whole_at_80_columns(isolated_home, monkeypatch):
    from textual.widgets._footer import FooterKey

    two_challenges(isolated_home, monkeypatch)
    app = EscalateApp(now=lambda: NOW)

    def whole() -> bool:
        keys = {k.key: k for k in app.screen.query(FooterKey)}
        return all(name in keys and 0 < keys[name].region.right <= 80 for name in ("f1", "f2"))

    async with app.run_test(size=(80, 24)) as pilot:
        await loaded(pilot, app)
        assert whole()
        await pilot.press("g")
        await pilot.pause()
        assert isinstance(app.screen, AgendaScreen) and whole()
        await pilot.press("escape")
        await pilot.pause()
        await open_screen_of(pilot, app, "C-0001")
        await pilot.pause()
        assert whole()
        app.screen.query_one("TabbedContent").active = "tab-chronology"
        await pilot.pause()
        app.screen.query_one("#chronology").focus()
        await pilot.pause()
        assert whole()  # the chronology's own key (Enter reads an entry) did not push F2 off
