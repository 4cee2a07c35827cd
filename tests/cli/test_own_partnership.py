"""Your own partnership first: lists name the partnership, whom it covers and the version, the DSL's
own first; `open` and the app's wizard default to it. And the settings letters are signed with."""

from __future__ import annotations

import json

import pytest

from escalate import settings as settings_mod
from escalate.settings import Settings
from escalate.tui.app import EscalateApp


def listed(run_cli) -> list[dict]:
    code, out, err = run_cli("procedures", "list", "--json")
    assert code == 0, err
    return json.loads(out)


def test_children_first_by_partnership_then_your_own_before_all(run_cli):
    rows = listed(run_cli)
    covers = [r["applies_to"] for r in rows]
    assert covers == sorted(covers, key=["children", "both", "adults"].index)  # a school is not offered adults' first
    children = [r["partnership"].lower() for r in rows if r["applies_to"] == "children"]
    assert children == sorted(children)
    assert run_cli("config", "set", "partnerships", "sunderland-adults, london-children")[0] == 0
    rows = listed(run_cli)
    assert [r["id"] for r in rows[:2]] == ["sunderland-adults", "london-children"]
    assert [r["yours"] for r in rows[:3]] == [True, True, False]
    code, out, _ = run_cli("procedures", "list")
    assert "sunderland-adults (your partnership)" in out and "version" in out and "adults" in out


def test_open_defaults_to_your_partnership(run_cli):
    run_cli("config", "set", "name", "Alex Example")
    run_cli("config", "set", "role", "DSL")
    opening = ["open", "--trigger", "threshold-misapplied", "--decision", "NFA", "--case-ref", "Child Q",
               "--agency", "Northtown CSC", "--concern", "Bruising"]  # fmt: skip
    code, _, err = run_cli(*opening)
    assert code == 2 and "give --procedure ID" in err and "partnerships" in err
    run_cli("config", "set", "partnerships", "london-children")
    code, out, err = run_cli(*opening)
    assert code == 0, err
    code, out, _ = run_cli("show", out.strip(), "--json")
    assert json.loads(out)["procedure"] == "london-children"


@pytest.mark.parametrize(
    ("key", "value", "says"),
    [
        ("partnerships", "london-children, Not An Id", "is not a procedure id"),
        ("email", "dsl at school", "is not an email address"),
        ("phone", "call me", "is not a phone number"),
        ("waiting_days", "100", "from 1 to 60"),
    ],
)
def test_settings_refuse_what_they_cannot_be(run_cli, key, value, says):
    code, _, err = run_cli("config", "set", key, value)
    assert code == 2 and says in err
    code, out, _ = run_cli("config", "show")
    assert f"{key} = {value}" not in out


def test_a_settings_file_with_a_bad_value_is_named(run_cli, isolated_home):
    isolated_home.mkdir(parents=True, exist_ok=True)
    (isolated_home / "settings.toml").write_text('email = "not an address"\n')
    code, _, err = run_cli("agenda")
    assert code == 2 and "settings file" in err and "email" in err


async def test_the_wizard_offers_your_partnership_first_by_its_name(isolated_home):
    from textual.widgets import Select

    settings_mod.save(Settings(name="Alex Example", role="DSL", partnerships="rotherham-children"))
    app = EscalateApp()
    async with app.run_test(size=(80, 24)) as pilot:
        for _ in range(100):
            await pilot.pause()
            if app.catalogue is not None:
                break
        await pilot.press("n")
        for _ in range(50):
            await pilot.pause()
            if app.screen.query("#w-procedure"):
                break
        select = app.screen.query_one("#w-procedure", Select)
        assert select.value == "rotherham-children"
        first = str(select._options[0][0])
        assert first.startswith("your partnership · Rotherham Safeguarding Children Partnership (RSCP) · children")
