"""Working together: the app on a team store says where it is and who is signed in, and a challenge a
colleague changes while it is open is read again rather than acted on as it was. Run on both stores."""

from __future__ import annotations

import pytest
from logtools import SETTINGS, open_fictional, open_first_challenge

from escalate import journal
from escalate import settings as settings_mod
from escalate.tui.app import EscalateApp
from tests.helpers import dashboard_loaded

pytestmark = pytest.mark.usefixtures("backend")


async def test_a_colleagues_entry_appears_on_the_open_challenge(backend):
    settings_mod.save(SETTINGS)
    with journal.store_at(backend) as s:
        open_fictional(s)
    app = EscalateApp()
    async with app.run_test(size=(100, 40)) as pilot:
        await open_first_challenge(app, pilot)
        screen = app.screen
        assert screen.view.state.cseq == 1
        with journal.store_at(backend) as colleague:  # another desk, another connection
            journal.record(colleague, SETTINGS, "C-0001", "note", {"summary": "spoke to the duty team"})
        screen.look_for_changes()  # (what the screen does every few seconds)
        await pilot.pause()
        assert screen.view.state.cseq == 2
        assert any("entry #2 was recorded elsewhere" in str(n.message) for n in app._notifications)


async def test_the_dashboard_reads_the_list_again_when_the_store_moves_on(backend):
    settings_mod.save(SETTINGS)
    with journal.store_at(backend) as s:
        open_fictional(s)
    app = EscalateApp()
    async with app.run_test(size=(100, 40)) as pilot:
        await dashboard_loaded(pilot, app)
        dashboard = app.screen
        # a colleague records before the dashboard first looks: the list was read before it, so it is
        # read again (the first look once only noted the head it found, and missed this entry)
        with journal.store_at(backend) as colleague:
            open_fictional(colleague, case_ref="Child R (fictional)")
        dashboard.look_for_changes()
        for _ in range(200):
            await pilot.pause()
            await app.workers.wait_for_complete()
            if len(dashboard.glances) == 2:
                break
        assert len(dashboard.glances) == 2


async def test_a_team_dashboard_says_who_recorded_last(backend):
    """On a team store the dashboard has a Last by column, the name revealed from the log's disclosure;
    a desk's store, recorded by one person, has no such column."""
    settings_mod.save(SETTINGS)
    colleague = SETTINGS._replace(name="Sam Colleague")
    with journal.store_at(backend) as s:
        open_fictional(s)
        journal.record(s, colleague, "C-0001", "note", {"summary": "spoke to the duty team"})
    app = EscalateApp()
    async with app.run_test(size=(120, 40)) as pilot:
        for _ in range(200):
            await pilot.pause()
            await app.workers.wait_for_complete()
            if app.screen.loaded and app.screen.query_one("DataTable").row_count:
                break
        table = app.screen.query_one("DataTable")
        keys = [str(c.key.value) for c in table.columns.values()]
        if backend.startswith("postgresql"):
            assert "by" in keys
            assert str(table.get_cell("C-0001", "by")) == "Sam Colleague"
        else:
            assert "by" not in keys
