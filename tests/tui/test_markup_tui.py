"""Text from a procedure file or from a person shows literally in the app: the dashboard's rows, the
challenge's header, Now and Ladder tabs, the chronology and an entry's details."""

from __future__ import annotations

import pytest
from helpers import the_store
from markup_fixture import marked, procedure_toml
from textual.widgets import DataTable
from textual.widgets._data_table import default_cell_formatter

from escalate import journal
from escalate import settings as settings_mod
from escalate.catalogue import discover
from escalate.settings import Settings
from escalate.tui.app import EscalateApp

pytestmark = pytest.mark.usefixtures("backend")  # on a desk's file and on a team store


@pytest.fixture
def marked_store(isolated_home, tmp_path, monkeypatch):
    folder = tmp_path / "procs"
    folder.mkdir()
    (folder / "marked-up.toml").write_text(procedure_toml(), encoding="utf-8")
    monkeypatch.setenv("ESCALATE_PROCEDURES", str(folder))
    settings = Settings(name="Alex Example", role="DSL", setting="Fictional School")
    settings_mod.save(settings)
    with the_store() as s:
        journal.open_challenge(
            s,
            discover(),
            settings,
            procedure_id="marked-up",
            triggers=["disputed-referral"],
            case_ref=marked("case_ref"),
            agency=marked("agency"),
            decision=marked("decision"),
            concern=marked("concern"),
            at="2026-11-16T09:00",
        )
        journal.record(
            s,
            settings,
            "C-0001",
            "contact",
            {
                "direction": "made",
                "medium": "email",
                "summary": marked("summary"),
                "with": {"name": marked("with"), "role": "Social worker"},
            },
            "2026-11-16T10:00",
        )
    return isolated_home


async def wizard_on_marked_up(app, pilot) -> None:
    """The new-challenge wizard, on the marked-up procedure."""
    from textual.widgets import Select

    await pilot.pause()
    await app.workers.wait_for_complete()
    await pilot.press("n")
    await pilot.pause()
    app.screen.query_one("#w-procedure", Select).value = "marked-up"
    await pilot.pause()


def shown(app, selector: str) -> str:
    return " ".join(str(app.screen.query_one(selector).render()).split())


async def test_the_users_and_the_files_words_show_literally(marked_store):
    app = EscalateApp()
    async with app.run_test(size=(200, 60)) as pilot:
        await pilot.pause()
        await app.workers.wait_for_complete()
        await pilot.pause()
        table = app.screen.query_one(DataTable)
        row = " ".join(default_cell_formatter(cell).plain for cell in table.get_row_at(0))
        assert marked("case_ref") in row and marked("agency") in row
        table.focus()
        await pilot.press("enter")
        await pilot.pause()
        await app.workers.wait_for_complete()
        await pilot.pause()
        header = shown(app, "#challenge-header")
        assert marked("case_ref") in header and marked("agency") in header and marked("name") in header
        now = shown(app, "#deadlines")
        assert marked("deadline.what") in now and marked("stage2.title") in now
        assert marked("stage.title") in header and marked("stage.label") in header
        assert marked("stage_label") in now  # stage 2 has no label of its own
        # what the procedure asks of this stage, whom to notify, and its named people
        now_fields = ["stage.raised_by", "stage.received_by", "stage.action", "stage.record", "stage.note"]
        now_fields += ["notify.to", "notify.how", "form.name", "form.url", "contact.name", "contact.role"]
        now_fields += ["timescale.wording"]
        assert [f for f in now_fields if marked(f) not in now] == []
        ladder = shown(app, "#ladder")
        assert marked("stage.title") in ladder and marked("stage2.title") in ladder
        app.screen.query_one("TabbedContent").active = "tab-chronology"
        await pilot.pause()
        from escalate.tui.widgets import LINES_PER_ENTRY, Chronology

        chron = app.screen.query_one(Chronology)
        lines = ["".join(seg.text for seg in chron.render_line(y)) for y in range(2 * LINES_PER_ENTRY)]
        assert any(marked("summary") in line for line in lines), lines
        chron.focus()
        await pilot.press("end")
        await pilot.press("enter")
        await pilot.pause()
        detail = " ".join(
            " ".join(str(w.render()).split()) for w in app.screen.query("Static") if w.render() is not None
        )
        assert marked("summary") in detail


async def test_the_wizard_shows_the_files_words_literally(marked_store):
    from textual.widgets import SelectionList

    app = EscalateApp()
    async with app.run_test(size=(200, 60)) as pilot:
        await wizard_on_marked_up(app, pilot)
        assert marked("exclusion.matter") in shown(app, "#not-covered")
        assert marked("exclusion.go_to") in shown(app, "#not-covered")
        choices = app.screen.query_one("#w-triggers", SelectionList)
        assert str(choices.get_option_at_index(0).prompt) == marked("disagreement.title")
        app.screen.query_one("#w-case-ref").focus()
        await pilot.press(*"Child M", "ctrl+n")
        await pilot.pause()
        await pilot.press(*"Fictional CSC", "tab", *"NFA", "ctrl+n")
        await pilot.pause()
        explained = shown(app, "#trigger-explain")
        assert marked("disagreement.title") in explained and marked("disagreement.wording") in explained
        assert marked("disagreement.example") in explained and marked("trigger.wording") in explained
        await pilot.press("space", "ctrl+n")
        await pilot.pause()
        checks = " ".join(" ".join(str(c.label).split()) for c in app.screen.query(".check"))
        assert marked("disagreement.check") in checks and marked("trigger.check") in checks
        assert f"no: {marked('trigger.check')}" in app.screen.checks()  # recorded as the file words it
        await pilot.press("ctrl+n")
        await pilot.pause()
        await pilot.press("down", "space")  # immediate risk: yes
        await pilot.pause()
        risk = shown(app, "#skip-rule")
        assert marked("skip.when") in risk and marked("skip.instruction") in risk and marked("skip.contact") in risk


async def test_the_wizard_never_puts_a_files_control_characters_on_the_terminal(isolated_home, tmp_path, monkeypatch):
    """A procedure file's text holding an escape sequence (every field here) is shown as its escape in
    the wizard's panels, options and checks, never raw (issue 16, hostile input)."""
    from textual.widgets import SelectionList

    folder = tmp_path / "procs"
    folder.mkdir()
    text = procedure_toml().replace("[bold]b[/]", "\\u001b[31mred")
    (folder / "marked-up.toml").write_text(text, encoding="utf-8")
    monkeypatch.setenv("ESCALATE_PROCEDURES", str(folder))
    settings_mod.save(Settings(name="Alex Example", role="DSL", setting="Fictional School"))
    app = EscalateApp()
    async with app.run_test(size=(200, 60)) as pilot:
        await wizard_on_marked_up(app, pilot)
        choices = app.screen.query_one("#w-triggers", SelectionList)
        seen = [shown(app, "#not-covered"), str(choices.get_option_at_index(0).prompt)]
        app.screen.query_one("#w-case-ref").focus()
        await pilot.press(*"Child M", "ctrl+n")
        await pilot.pause()
        await pilot.press(*"Fictional CSC", "tab", *"NFA", "ctrl+n")
        await pilot.pause()
        seen.append(shown(app, "#trigger-explain"))
        await pilot.press("space", "ctrl+n")
        await pilot.pause()
        checks = [str(c.label) for c in app.screen.query(".check")]  # (the built-in ones hold none)
        await pilot.press("ctrl+n")
        await pilot.pause()
        await pilot.press("down", "space")  # immediate risk: yes
        await pilot.pause()
        seen.append(shown(app, "#skip-rule"))
    assert all("\\x1b[31mred" in s for s in seen), seen
    assert any("\\x1b[31mred" in c for c in checks), checks
    assert not any("\x1b" in s for s in seen + checks)
