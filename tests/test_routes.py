"""Parallel routes and skip rules as a DSL meets them: a procedure with a conference-dispute route can
be opened on that route in the app (the CLI had --route; the app had no way), and everything the
procedure file says about a route or a skip rule is shown. The procedure is the fictional template."""

from __future__ import annotations

import pytest

from conftest import ROOT
from escalate import settings as settings_mod
from escalate.store import Store
from logtools import SETTINGS


@pytest.fixture
def routes_home(tmp_path, monkeypatch, isolated_home):
    folder = tmp_path / "my-procedures"
    folder.mkdir()
    text = (ROOT / "procedures" / "TEMPLATE.toml").read_text(encoding="utf-8")
    text = text.replace('id = "my-partnership"', 'id = "fictional-routes"', 1)
    text = text.replace('start_stage = 2 ', 'contact_directly = ["Duty social work manager"]\nstart_stage = 2 ', 1)
    assert "fictional-routes" in text and "contact_directly" in text
    (folder / "fictional-routes.toml").write_text(text, encoding="utf-8")
    monkeypatch.setenv("ESCALATE_PROCEDURES", str(folder))
    settings_mod.save(SETTINGS)
    return isolated_home


def test_procedures_show_says_all_a_route_and_a_skip_rule_say(routes_home, run_cli):
    code, out, err = run_cli("procedures", "show", "fictional-routes")
    assert code == 0, err
    text = " ".join(out.split())
    assert ("id conference (`escalate open --route conference`); started by: Conference chair; it ends in: The "
            "local authority's complaints procedure") in text
    assert "Contact directly: Duty social work manager. Start at stage 2." in text


async def test_the_wizard_opens_a_challenge_on_a_parallel_route(routes_home):
    from textual.widgets import Select

    from escalate.tui.app import EscalateApp

    app = EscalateApp()
    async with app.run_test(size=(100, 40)) as pilot:
        await pilot.pause()
        await app.workers.wait_for_complete()
        await pilot.press("n")
        await pilot.pause()
        route = app.screen.query_one("#w-route", Select)
        app.screen.query_one("#w-procedure", Select).value = "london-children"  # no routes: not asked
        await pilot.pause()
        assert not route.display and route.value == "main"
        app.screen.query_one("#w-procedure", Select).value = "fictional-routes"
        await pilot.pause()
        assert route.display and route.value == "main"
        route.value = "conference"  # (a value that is not an option is refused by the Select)
        app.screen.query_one("#w-case-ref").focus()
        await pilot.press(*"Child R (fictional)", "ctrl+n")
        await pilot.pause()
        await pilot.press(*"Northtown CSC", "tab", *"Conference decision: no plan", "ctrl+n")
        await pilot.pause()
        await pilot.press("down", "space", "ctrl+n", "ctrl+n")  # a trigger; its checks
        await pilot.pause()
        await pilot.press("down", "space")  # immediate risk: yes
        await pilot.pause()
        risk = " ".join(str(app.screen.query_one("#skip-rule").render()).split())
        assert "Contact directly: Duty social work manager" in risk
        assert "will start at" not in risk  # a skip rule's start stage is on the main ladder only
        await pilot.press("ctrl+n")
        await pilot.pause()
        await pilot.press(*"The plan leaves the child unsafe", "ctrl+n")
        await pilot.pause()
        review = " ".join(str(app.screen.query_one("#review-text").render()).split())
        assert "Route: Child protection conference disputes" in review
        assert "Started by: Conference chair It ends in: The local authority's complaints procedure" in review
        assert "You start at Stage 1: Raise with the conference chair" in review
        await pilot.press("ctrl+n")
        await pilot.pause()
        await app.workers.wait_for_complete()
    with Store.open(routes_home / "escalate.sqlite3") as s:
        state = s.state("C-0001")
    assert state["route"] == "conference" and state["stage"] == 1 and state["immediate_risk"] is True
