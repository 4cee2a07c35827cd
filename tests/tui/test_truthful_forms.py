"""In the app, a value the core refuses for what it means is explained next to the field it was typed
in (issue 16, deliverable 1), everything typed is kept, and nothing is written."""

from __future__ import annotations

import pytest
from helpers import entries_in, the_store
from logtools import open_fictional, open_first_challenge

from escalate import settings as settings_mod
from escalate.settings import Settings
from escalate.tui.app import EscalateApp

pytestmark = pytest.mark.usefixtures("backend")  # on a desk's file and on a team store


def entries(home) -> int:
    return entries_in(home)


async def new_challenge(app, pilot) -> None:
    """The wizard, opened once the procedures are read (however long a busy machine takes)."""
    for _ in range(100):
        await pilot.pause()
        await app.workers.wait_for_complete()
        if app.catalogue is not None:
            break
    await pilot.press("n")
    await pilot.pause()


def text_of(app, selector) -> str:
    return str(app.screen.query_one(selector).render())


async def test_an_amendment_the_core_refuses_is_explained_next_to_the_value(isolated_home):
    settings_mod.save(Settings(name="Alex Example", role="DSL", setting="Fictional School"))
    with the_store() as s:
        open_fictional(s)
    app = EscalateApp()
    async with app.run_test(size=(100, 40)) as pilot:
        await open_first_challenge(app, pilot)
        await pilot.press("f")
        await pilot.pause()
        for name, value in {"target": "1", "field": "occurred_at", "value": "banana", "reason": "typo"}.items():
            app.screen.query_one(f"#f-{name}").value = value
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert "not a date or time" in text_of(app, "#err-value")
        assert "correct the field marked above" in text_of(app, "#form-error")
        assert app.screen.query_one("#f-value").value == "banana"  # kept as typed
        app.screen.query_one("#f-field").value = "procedure_id"
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert "cannot be corrected" in text_of(app, "#err-field")
        assert text_of(app, "#err-value") == ""  # the earlier complaint is gone
    assert entries(isolated_home) == 1


async def test_the_wizard_takes_the_user_back_to_the_page_of_a_refused_field(isolated_home):
    settings_mod.save(Settings(name="Alex Example", role="DSL", setting="Fictional School"))
    app = EscalateApp()
    async with app.run_test(size=(100, 40)) as pilot:
        await new_challenge(app, pilot)
        await pilot.press(*"Child Q", "ctrl+n")
        await pilot.pause()
        app.screen.query_one("#w-agency").value = "N" * 300
        app.screen.query_one("#w-decision").value = "Referral closed NFA"
        await pilot.press("ctrl+n")
        await pilot.pause()
        await pilot.press("down", "space", "ctrl+n")  # a trigger
        await pilot.pause()
        await pilot.press("ctrl+n")  # checks
        await pilot.pause()
        await pilot.press("space", "ctrl+n")  # no immediate risk
        await pilot.pause()
        await pilot.press(*"Bruising seen twice", "ctrl+n")
        await pilot.pause()
        await pilot.press("ctrl+n")  # confirm: refused by the core
        await pilot.pause()
        assert "300 characters; at most 200" in text_of(app, "#e-decision")
        assert "step 2 of" in text_of(app, "#wizard-progress")
        assert app.screen.query_one("#w-agency").value == "N" * 300
    assert entries(isolated_home) == 0


async def test_the_wizard_asks_for_the_protective_timescale_at_immediate_risk(isolated_home):
    """London's stage 1: "a working week or a timescale that protects the child, whichever is less".
    At immediate risk the wizard asks for that date (and only then), and it is recorded."""
    settings_mod.save(Settings(name="Alex Example", role="DSL", setting="Fictional School"))
    app = EscalateApp()
    async with app.run_test(size=(100, 40)) as pilot:
        await new_challenge(app, pilot)
        app.screen.query_one("#w-procedure").value = "london-children"
        await pilot.pause()
        await pilot.press(*"Child Q", "ctrl+n")
        await pilot.pause()
        app.screen.query_one("#w-agency").value = "Fictional CSC"
        app.screen.query_one("#w-decision").value = "Referral closed NFA"
        await pilot.press("ctrl+n")
        await pilot.pause()
        await pilot.press("down", "space", "ctrl+n")  # a trigger
        await pilot.pause()
        await pilot.press("ctrl+n")  # checks
        await pilot.pause()
        assert not app.screen.query_one("#w-protective").display  # not asked before the answer
        await pilot.press("space")  # No
        await pilot.pause()
        assert not app.screen.query_one("#w-protective").display
        await pilot.press("down", "space")  # Yes
        await pilot.pause()
        assert app.screen.query_one("#w-protective").display
        app.screen.query_one("#w-protective").value = "next friday"
        await pilot.press("ctrl+n")
        await pilot.pause()
        assert "not a date or time" in text_of(app, "#e-risk")
        app.screen.query_one("#w-protective").value = "2099-01-01"
        await pilot.press("ctrl+n")
        await pilot.pause()
        await pilot.press(*"Bruising seen twice", "ctrl+n")
        await pilot.pause()
        await pilot.press("ctrl+n")  # confirm
        for _ in range(50):
            await pilot.pause()
            if entries(isolated_home):
                break
    with the_store() as s:
        state = s.state("C-0001")
    assert state.immediate_risk and state.protective_by == "2099-01-01T00:00:00.000000Z"


async def test_earlier_history_is_recorded_from_the_app_with_its_reason(isolated_home):
    """A note dated before the challenge was opened is refused next to its time, with the way to record
    it as earlier history; given the reason, it is recorded with it."""
    settings_mod.save(Settings(name="Alex Example", role="DSL", setting="Fictional School"))
    with the_store() as s:
        open_fictional(s, at="2026-11-16T09:00")
    app = EscalateApp()
    async with app.run_test(size=(100, 40)) as pilot:
        await open_first_challenge(app, pilot)
        await pilot.press("m")
        await pilot.pause()
        app.screen.query_one("#f-summary").text = "Called the duty desk about the bruising"
        app.screen.query_one("#f-at").value = "2026-11-13 15:00"
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert "is before challenge C-0001 was opened" in text_of(app, "#err-at")
        assert entries(isolated_home) == 1
        app.screen.query_one("#f-history").value = "The call that led to the challenge"
        await pilot.press("ctrl+s")
        for _ in range(50):
            await pilot.pause()
            if entries(isolated_home) == 2:
                break
    with the_store() as s:
        note = s.entry("C-0001", 2).content().data
    assert note.history == "The call that led to the challenge"  # type: ignore[union-attr]
