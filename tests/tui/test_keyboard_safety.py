"""What is typed is not lost to a key: Esc and Ctrl+Q ask first, and the safe answer has the focus;
a refused field is focused and its message in view; a long page scrolls by keyboard (80x24)."""

from __future__ import annotations

import pytest
from helpers import the_store
from logtools import SETTINGS, open_fictional
from textual.widgets import Button

from escalate import settings as settings_mod
from escalate.tui.app import EscalateApp
from escalate.tui.dialogs import ConfirmDialog, FormDialog
from escalate.tui.screens.challenge import ChallengeScreen
from escalate.tui.screens.wizard import NewChallengeScreen

pytestmark = pytest.mark.usefixtures("backend")  # on a desk's file and on a team store


async def until(pilot, condition, tries: int = 200) -> None:
    for _ in range(tries):
        if condition():
            return
        await pilot.pause()
        await pilot.app.workers.wait_for_complete()
    raise AssertionError("the app never reached the state the test waits for")


async def challenge_open(pilot, home) -> None:
    with the_store() as s:
        open_fictional(s)
    pilot.app.screen.refresh_data()
    await until(
        pilot, lambda: pilot.app.screen.query("DataTable") and pilot.app.screen.query_one("DataTable").row_count
    )
    pilot.app.screen.query_one("DataTable").focus()
    await pilot.press("enter")
    await until(pilot, lambda: isinstance(pilot.app.screen, ChallengeScreen) and pilot.app.screen.view is not None)


async def test_escape_on_a_typed_note_asks_and_enter_keeps_it(isolated_home):
    settings_mod.save(SETTINGS)
    app = EscalateApp()
    async with app.run_test(size=(80, 24)) as pilot:
        await challenge_open(pilot, isolated_home)
        await pilot.press("m")
        await pilot.pause()
        app.screen.query_one("#f-summary").text = "Spoke to the duty manager"
        await pilot.press("escape")
        await pilot.pause()
        assert isinstance(app.screen, ConfirmDialog)
        assert isinstance(app.focused, Button) and app.focused.id == "no"  # the safe answer
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, FormDialog)
        assert app.screen.query_one("#f-summary").text == "Spoke to the duty manager"
        await pilot.press("escape", "y")
        await pilot.pause()
        assert isinstance(app.screen, ChallengeScreen)


async def test_escape_on_an_untouched_form_just_closes(isolated_home):
    settings_mod.save(SETTINGS)
    app = EscalateApp()
    async with app.run_test(size=(80, 24)) as pilot:
        await challenge_open(pilot, isolated_home)
        await pilot.press("m")
        await pilot.pause()
        await pilot.press("escape")
        await pilot.pause()
        assert isinstance(app.screen, ChallengeScreen)


async def test_ctrl_q_asks_before_dropping_a_half_written_note(isolated_home):
    settings_mod.save(SETTINGS)
    app = EscalateApp()
    async with app.run_test(size=(80, 24)) as pilot:
        await challenge_open(pilot, isolated_home)
        await pilot.press("m")
        await pilot.pause()
        app.screen.query_one("#f-summary").text = "Half a note"
        await pilot.press("ctrl+q")
        await pilot.pause()
        assert isinstance(app.screen, ConfirmDialog) and app.is_running
        await pilot.press("n")
        await pilot.pause()
        assert isinstance(app.screen, FormDialog) and app.screen.query_one("#f-summary").text == "Half a note"
        await pilot.press("ctrl+q")
        await pilot.pause()
        await pilot.press("y")
        await pilot.pause()
    assert not app.is_running
    with the_store() as s:
        assert s.count() == 1  # nothing was saved on the way out


async def test_ctrl_q_with_nothing_typed_quits_at_once(isolated_home):
    settings_mod.save(SETTINGS)
    app = EscalateApp()
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        await pilot.press("ctrl+q")
        await pilot.pause()
    assert not app.is_running


async def test_the_wizard_asks_before_quitting_and_scrolls_its_review_by_keyboard(isolated_home):
    settings_mod.save(SETTINGS)
    app = EscalateApp()
    async with app.run_test(size=(80, 24)) as pilot:
        await until(pilot, lambda: app.catalogue is not None)
        await pilot.press("n")
        await until(pilot, lambda: isinstance(app.screen, NewChallengeScreen))
        wizard = app.screen
        wizard.query_one("#w-case-ref").value = "REF-9"
        await pilot.press("ctrl+q")
        await pilot.pause()
        assert isinstance(app.screen, ConfirmDialog)
        await pilot.press("n")
        await pilot.pause()
        # on to the review page, which is longer than 24 lines
        await pilot.press("ctrl+n")
        await pilot.pause()
        wizard.query_one("#w-agency").value = "Northtown CSC"
        wizard.query_one("#w-decision").value = "Referral closed"
        await pilot.press("ctrl+n")
        await pilot.pause()
        await pilot.press("space", "ctrl+n")
        await pilot.pause()
        await pilot.press("ctrl+n")  # checks
        await pilot.pause()
        wizard.query_one("#risk-no").value = True
        await pilot.press("ctrl+n")
        await pilot.pause()
        wizard.query_one("#w-concern").text = "Bruising seen twice"
        await pilot.press("ctrl+n")
        await pilot.pause()
        page = wizard.query_one("#review")
        assert page.max_scroll_y > 0
        await pilot.press("pagedown")
        await pilot.pause()
        assert page.scroll_y > 0
        await pilot.press("pageup")
        await pilot.pause()
        assert page.scroll_y == 0


async def test_a_refused_date_is_focused_with_its_message_in_view(isolated_home):
    settings_mod.save(SETTINGS)
    app = EscalateApp()
    async with app.run_test(size=(80, 24)) as pilot:
        await until(pilot, lambda: app.catalogue is not None)
        await pilot.press("n")
        await until(pilot, lambda: isinstance(app.screen, NewChallengeScreen))
        wizard = app.screen
        wizard.query_one("#w-case-ref").value = "REF-9"
        await pilot.press("ctrl+n")
        await pilot.pause()
        wizard.query_one("#w-agency").value = "Northtown CSC"
        wizard.query_one("#w-decision").value = "Referral closed"
        wizard.query_one("#w-decision-at").value = "12/31/2027"  # month first: refused, not guessed
        await pilot.press("ctrl+n")
        await pilot.pause()
        await pilot.pause()
        assert app.focused is wizard.query_one("#w-decision-at")
        message = wizard.query_one("#e-decision")
        assert "is not a real date" in str(message.render())
        assert message.region.height > 0 and message.region.bottom <= 24  # on screen, not below the fold


async def test_the_now_tab_scrolls_by_keyboard_at_80x24(isolated_home):
    settings_mod.save(SETTINGS)
    app = EscalateApp()
    async with app.run_test(size=(80, 24)) as pilot:
        await challenge_open(pilot, isolated_home)
        page = app.screen.query_one("#tab-now").query_one("VerticalScroll")
        assert page.max_scroll_y > 0  # longer than the screen
        await pilot.press("pagedown")
        await pilot.pause()
        assert page.scroll_y > 0
        await pilot.press("pageup")
        await pilot.pause()
        assert page.scroll_y == 0


async def test_the_app_signs_the_head_when_it_closes_and_when_idle(isolated_home, run_cli, backend):
    """A desk signs when idle and on closing; on a team store only on closing (colleagues' apps would
    each sign every entry)."""
    settings_mod.save(SETTINGS)
    assert run_cli("keys", "new")[0] == 0
    team = backend.startswith("postgresql")
    app = EscalateApp()
    async with app.run_test(size=(80, 24)) as pilot:
        await challenge_open(pilot, isolated_home)  # (recorded behind the app's back, unsigned)
        app.sign_idle()  # what the minute's timer does
        await pilot.pause()
        with the_store() as s:
            assert [e.kind for e in s.entries()] == (["opened"] if team else ["opened", "checkpoint"])
        await pilot.press("m")
        await pilot.pause()
        app.screen.query_one("#f-summary").text = "Spoke to the duty manager"
        await pilot.press("ctrl+s")
        await app.workers.wait_for_complete()
        await pilot.pause()
    with the_store() as s:  # signed on closing
        assert [e.kind for e in s.entries()] == ["opened", *([] if team else ["checkpoint"]), "note", "checkpoint"]
