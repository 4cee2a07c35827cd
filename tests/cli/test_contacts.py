"""What a procedure file names for the DSL beyond its rules. Named contacts: the people, kept apart
from the roles because they change, shown where a DSL looks for whom to contact, from the file loaded
now (not the snapshot a challenge keeps); one past its review-by date says to check it. And the form
kept for a resolved challenge, named where it is resolved. All of them fictional."""

from __future__ import annotations

import json

import pytest
from helpers import ROOT, the_store
from logtools import SETTINGS, open_first_challenge

from escalate import journal
from escalate import settings as settings_mod
from escalate.catalogue import discover

pytestmark = pytest.mark.usefixtures("backend")  # on a desk's file and on a team store

CONTACTS = """
[[contacts]]
name = "Pat Example"
role = "Partnership business manager"
phone = "01632 960000"
review_by = 2026-01-31

[[contacts]]
name = "Jo Madeup"
role = "Designated officer (LADO)"
email = "lado@example.org"
review_by = 2099-01-31

[[contacts]]
name = "Sam Fictional"
role = "Duty team manager"
"""


@pytest.fixture
def procedures(tmp_path, monkeypatch):
    """A copy of a bundled procedure with named contacts, loaded as the user's own."""
    folder = tmp_path / "my-procedures"
    folder.mkdir()
    text = (ROOT / "procedures" / "london-children.toml").read_text(encoding="utf-8")
    (folder / "london-children.toml").write_text(text + CONTACTS, encoding="utf-8")
    monkeypatch.setenv("ESCALATE_PROCEDURES", str(folder))
    return folder / "london-children.toml"


def open_one(home):
    """One challenge under london-children (whichever file of that id is loaded)."""
    settings_mod.save(SETTINGS)
    with the_store() as s:
        journal.open_challenge(
            s,
            discover(),
            SETTINGS,
            procedure_id="london-children",
            triggers=["disputed-referral"],
            case_ref="Child Q (fictional)",
            agency="Northtown CSC",
            decision="No further action",
            concern="Bruising seen twice",
            at="2026-11-16T09:00",
        )


def test_procedures_show_and_validate_name_the_contacts(procedures, run_cli):
    code, out, err = run_cli("procedures", "show", "london-children")
    assert code == 0, err
    text = " ".join(out.split())
    assert "Named contacts" in text
    assert (
        "Pat Example (Partnership business manager) · 01632 960000 · PAST ITS REVIEW DATE (31 Jan 2026): "
        "check it is still right"
    ) in text
    assert "Jo Madeup (Designated officer (LADO)) · lado@example.org · review by 31 Jan 2099" in text
    assert "Sam Fictional (Duty team manager)" in text
    code, out, err = run_cli("procedures", "validate", procedures)
    assert code == 0, err  # a contact due for a check is worth a note, not a failure
    assert "contact Pat Example (Partnership business manager) is past its review date, 31 Jan 2026" in " ".join(
        out.split()
    )
    assert "Jo Madeup" not in out


def test_a_broken_settings_file_does_not_stop_the_procedures_commands(procedures, run_cli, isolated_home):
    isolated_home.mkdir(parents=True, exist_ok=True)
    (isolated_home / "settings.toml").write_text("timezone = [", encoding="utf-8")
    assert run_cli("procedures", "show", "london-children")[0] == 0
    assert run_cli("procedures", "validate", procedures)[0] == 0


def test_a_challenge_shows_the_contacts_of_the_file_loaded_now(procedures, run_cli, isolated_home):
    """The challenge keeps the rules it was opened under; the people are read from the file as it is
    today, since a contact corrected in the file must not stay wrong in every open challenge."""
    open_one(isolated_home)
    code, out, err = run_cli("show", "1")
    assert code == 0, err
    assert "Named contacts" in out and "Pat Example" in out and "PAST ITS REVIEW DATE" in out
    procedures.write_text(
        procedures.read_text(encoding="utf-8").replace("Pat Example", "Robin Newname"), encoding="utf-8"
    )
    code, out, err = run_cli("show", "1", "--json")
    assert code == 0, err
    data = json.loads(out)
    assert data["newer_procedure_version"] is True
    assert [(c["name"], c["review_overdue"]) for c in data["contacts"]] == [
        ("Robin Newname", True),
        ("Jo Madeup", False),
        ("Sam Fictional", False),
    ]
    assert data["contacts"][0]["review_by"] == "2026-01-31" and data["contacts"][0]["phone"] == "01632 960000"


def test_without_contacts_nothing_is_said(run_cli, isolated_home):
    open_one(isolated_home)
    code, out, _ = run_cli("show", "1")
    assert code == 0 and "Named contacts" not in out
    assert json.loads(run_cli("show", "1", "--json")[1])["contacts"] == []
    assert "Named contacts" not in run_cli("procedures", "show", "london-children")[1]


async def test_the_app_shows_the_contacts_under_this_stage(procedures, isolated_home):
    from escalate.tui.app import EscalateApp

    open_one(isolated_home)
    app = EscalateApp()
    async with app.run_test(size=(120, 40)) as pilot:
        await open_first_challenge(app, pilot)
        now_tab = str(app.screen.query_one("#deadlines").render())
    assert "Named contacts" in now_tab
    assert "Pat Example (Partnership business manager) · 01632 960000 · PAST ITS REVIEW DATE" in now_tab
    assert now_tab.index("This stage") < now_tab.index("Named contacts")


async def test_the_resolve_form_names_the_procedures_form_for_a_resolved_challenge(procedures, isolated_home):
    """A form the procedure keeps for the end of a challenge is named where the DSL resolves it."""
    from escalate.tui.app import EscalateApp

    procedures.write_text(
        procedures.read_text(encoding="utf-8") + '\n[[forms]]\nname = "Resolution record"\n'
        'url = "https://example.org/forms/resolution"\nwhen = "when resolved"\n',
        encoding="utf-8",
    )
    open_one(isolated_home)
    app = EscalateApp()
    async with app.run_test(size=(120, 40)) as pilot:
        await open_first_challenge(app, pilot)
        await pilot.press("s")
        await pilot.pause()
        intro = " ".join(str(app.screen.query_one(".intro").render()).split())
    assert "Form for a resolved challenge: Resolution record (https://example.org/forms/resolution)" in intro
