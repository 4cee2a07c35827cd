"""TUI journeys with Textual's Pilot: what the screen shows, and what the store holds afterwards."""

from __future__ import annotations

import shutil

import pytest
from helpers import DATA, stored_json
from logtools import open_fictional
from textual.widgets.select import InvalidSelectValueError

from escalate import journal
from escalate import settings as settings_mod
from escalate.settings import Settings
from escalate.tui.app import EscalateApp
from escalate.tui.dialogs import FormDialog, HelpScreen
from escalate.tui.screens.challenge import ChallengeScreen

SIZES = [(80, 24), (120, 40)]


@pytest.fixture
def dsl(isolated_home, backend):
    """A DSL's desk: its settings, and the store the app uses (the desk's file, or a team store)."""
    settings_mod.save(Settings(name="Alex Example", role="DSL", setting="Fictional School"))
    return isolated_home


def the_store():
    """The store the app opens (the desk's file, or the team store ESCALATE_STORE names)."""
    return journal.open_store()


def count(home) -> int:
    if journal.store_url() is None and not (home / "escalate.sqlite3").exists():
        return 0
    with the_store() as s:
        return s.count()


def text_of(app, selector) -> str:
    return str(app.screen.query_one(selector).render())


async def submit_dialog(pilot, app, key, **fields) -> None:
    """Open a dialog of the challenge view by its key, fill the given fields (#f-<name>), and save (ctrl+s)."""
    await pilot.press(key)
    await pilot.pause()
    for name, value in fields.items():
        app.screen.query_one(f"#f-{name}").value = value
    await pilot.press("ctrl+s")
    await pilot.pause()


async def submit_export_dialog(pilot, app, **fields) -> None:
    """The export dialog (w), filled and saved."""
    await submit_dialog(pilot, app, "w", **fields)


async def settle(pilot):
    await pilot.pause()
    await pilot.app.workers.wait_for_complete()
    await pilot.pause()


async def test_keys_pressed_before_the_procedures_are_read_do_not_crash(isolated_home, monkeypatch):
    """The procedures are read after the first frame. Pressing f (the filter) in that moment took the app
    down (found by random keys); now the first-run text says they are loading, and n says to wait."""
    import threading

    release = threading.Event()
    real = EscalateApp.ensure_catalogue

    def slow(self):
        release.wait(10)
        return real(self)

    monkeypatch.setattr(EscalateApp, "ensure_catalogue", slow)
    app = EscalateApp()
    notes = []
    app.notify = lambda message, **kw: notes.append(message)  # type: ignore[method-assign]
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        assert app.catalogue is None
        await pilot.press("f", "n")
        await pilot.pause()
        assert "(loading...)" in text_of(app, "#intro")
        assert any("Still loading the procedures" in n for n in notes)
        release.set()
        await settle(pilot)
        assert "london-children" in text_of(app, "#intro")
    assert app.return_code in (0, None)


@pytest.mark.parametrize("size", SIZES)
async def test_first_run_explains_itself(isolated_home, size):
    app = EscalateApp()
    async with app.run_test(size=size) as pilot:
        await settle(pilot)
        intro = text_of(app, "#intro")
        assert "No challenges yet" in intro and "Press n" in intro
        assert "london-children" in intro and "TEMPLATE.toml" in intro
        assert "name and role are not set" in intro
        assert "0 OVERDUE" in text_of(app, "#status-line")


async def test_invalid_procedure_panel_lists_problems_and_valid_ones_still_load(isolated_home, tmp_path):
    folder = tmp_path / "p"
    folder.mkdir()
    shutil.copy(DATA / "bad_procedures" / "unknown_region.toml", folder / "bad.toml")
    app = EscalateApp(procedures=[str(folder)])
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        panel = text_of(app, "#problems")
        assert "bad.toml:7" in panel and "region" in panel
        assert "london-children" in text_of(app, "#intro")


async def test_settings_form_validates_and_saves(isolated_home):
    app = EscalateApp()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("f2")
        await pilot.pause()
        assert isinstance(app.screen, FormDialog)
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert "Your name is required." in text_of(app, "#err-name")
        await pilot.press(*"Alex", "tab", *"DSL", "ctrl+s")
        await pilot.pause()
        assert not isinstance(app.screen, FormDialog)
    assert settings_mod.load().name == "Alex" and settings_mod.load().role == "DSL"


async def test_wizard_opens_a_challenge(dsl):
    app = EscalateApp()
    async with app.run_test(size=(100, 40)) as pilot:
        await settle(pilot)
        await pilot.press("n")
        await pilot.pause()
        await pilot.press("ctrl+n")  # no case reference yet
        await pilot.pause()
        assert "case reference" in text_of(app, "#e-procedure")
        await pilot.press(*"Child Q", "ctrl+n")
        await pilot.pause()
        await pilot.press(*"Northtown CSC", "tab", *"Referral closed NFA")
        app.screen.query_one("#w-decision-ref").value = "REF-0042"
        await pilot.press("ctrl+n")
        await pilot.pause()
        await pilot.press("ctrl+n")
        await pilot.pause()
        assert "at least one trigger" in text_of(app, "#e-triggers")
        await pilot.press("down", "space", "ctrl+n")  # disputed-referral
        await pilot.pause()
        assert "Referral not accepted" in text_of(app, "#checks-guidance")
        await pilot.press("ctrl+n")  # checks may be left unticked: the answers are recorded either way
        await pilot.pause()
        await pilot.press("ctrl+n")
        await pilot.pause()
        assert "yes or no" in text_of(app, "#e-risk")
        await pilot.press("down", "space")  # Yes: immediate risk
        await pilot.pause()
        assert "Call the police" in text_of(app, "#skip-rule") or "999" in text_of(app, "#skip-rule")
        await pilot.press("ctrl+n")
        await pilot.pause()
        await pilot.press(*"Bruising seen twice", "ctrl+n")
        await pilot.pause()
        review = text_of(app, "#review-text")
        assert "You start at" in review and "Child Q" in review
        assert count(dsl) == 0  # nothing saved before confirming
        await pilot.press("ctrl+n")
        await settle(pilot)
        assert count(dsl) == 1
        assert "Child Q" in text_of(app, "#challenge-header")
    with the_store() as s:
        data = stored_json(s.entries("C-0001")[0])["data"]
        assert data["triggers"] == ["disputed-referral"] and data["immediate_risk"] is True
        assert data["decision_ref"] == "REF-0042"
        assert any(c.startswith("no: ") for c in data["checks"])


async def test_wizard_says_what_the_procedure_does_not_cover_before_anything_is_typed(dsl):
    """An allegation against a member of staff goes to the LADO, not up the ladder: the procedure's
    exclusions are shown as soon as it is chosen, follow the choice, and are repeated on review."""
    from textual.widgets import Select

    app = EscalateApp()
    async with app.run_test(size=(100, 40)) as pilot:
        await settle(pilot)
        await pilot.press("n")
        await pilot.pause()
        app.screen.query_one("#w-procedure", Select).value = "lincolnshire-joint"
        await pilot.pause()
        shown = " ".join(text_of(app, "#not-covered").split())
        assert shown.startswith("Not covered by this procedure:")
        assert (
            "Complaints about a specific professional: go to The agency's complaints or allegations procedure" in shown
            and "the LADO" in shown
        )
        app.screen.query_one("#w-procedure", Select).value = "london-children"  # one that states none
        await pilot.pause()
        assert app.catalogue.get("london-children").procedure.exclusions == []
        assert text_of(app, "#not-covered").strip() == ""
        app.screen.query_one("#w-procedure", Select).value = "lincolnshire-joint"
        await pilot.press(*"Child Q", "ctrl+n")
        await pilot.pause()
        await pilot.press(*"Northtown CSC", "tab", *"Referral closed NFA", "ctrl+n")
        await pilot.pause()
        await pilot.press("down", "space", "ctrl+n", "ctrl+n", "space", "ctrl+n")  # a trigger; checks; risk: no
        await pilot.pause()
        await pilot.press(*"Bruising seen twice", "ctrl+n")
        await pilot.pause()
        review = " ".join(text_of(app, "#review-text").split())
        assert "Not covered by this procedure: - Disagreements within a single agency: go to" in review
        # how far to rely on the file: the bundled procedures are example transcriptions
        assert "Example transcription of a partial source: check it against Lincolnshire" in review
        assert count(dsl) == 0


async def test_wizard_escape_asks_and_saves_nothing(dsl):
    app = EscalateApp()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("n")
        await pilot.pause()
        await pilot.press(*"Child Q", "escape")
        await pilot.pause()
        await pilot.press("n")  # "keep editing"
        await pilot.pause()
        assert app.screen.__class__.__name__ == "NewChallengeScreen"
        await pilot.press("escape", "y")
        await pilot.pause()
        assert app.screen.__class__.__name__ == "DashboardScreen"
    assert count(dsl) == 0


async def open_view(pilot, dsl):
    with the_store() as s:
        open_fictional(s)
    pilot.app.screen.refresh_data()
    await open_first(pilot)


@pytest.mark.parametrize("size", SIZES)
async def test_record_contact_then_cancel_and_required_fields(dsl, size):
    app = EscalateApp()
    async with app.run_test(size=size) as pilot:
        await open_view(pilot, dsl)
        assert "Step 1 (1 of 4)" in text_of(app, "#challenge-header")
        await pilot.press("c")
        await pilot.pause()
        await pilot.press("ctrl+s")  # summary missing
        await pilot.pause()
        assert "required" in text_of(app, "#err-summary")
        assert count(dsl) == 1
        await pilot.press("escape")
        await pilot.pause()
        assert count(dsl) == 1  # cancel appends nothing
        await pilot.press("c")
        await pilot.pause()
        app.screen.query_one("#f-with").value = "Sam Fictional, Social worker, Northtown CSC"
        app.screen.query_one("#f-summary").text = "Raised the disagreement"
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert count(dsl) == 2
        deadlines = text_of(app, "#deadlines")
        # acknowledgement is due "immediately" the concern is raised, which allows the rest of that
        # working day (recorded just now, so due by today's or the next working day's cut-off)
        assert "[DUE SOON] The other professional acknowledges" in deadlines
        assert "immediately (allowing the rest of that working day)" in deadlines
        assert "[DUE] Resolve" in deadlines or "[DUE SOON] Resolve" in deadlines


async def test_step_up_and_resolve(dsl):
    app = EscalateApp()
    async with app.run_test(size=(120, 40)) as pilot:
        await open_view(pilot, dsl)
        await pilot.press("u")
        await pilot.pause()
        assert "Direct manager to manager" in str(app.screen.query_one(".intro").render())
        app.screen.query_one("#f-reason").text = "No agreement at step 1"
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert "Step 2 (2 of 4)" in text_of(app, "#challenge-header")
        await pilot.press("s")
        await pilot.pause()
        intro = " ".join(str(app.screen.query_one(".intro").render()).split())  # the procedure's own outcomes
        assert "The procedure names these outcomes: Agreed action plan at step 1;" in intro
        app.screen.query_one("#f-outcome").value = "resolved"
        app.screen.query_one("#f-rationale").text = "Strategy discussion agreed"
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert "RESOLVED" in text_of(app, "#challenge-header")
    with the_store() as s:
        assert [e.kind for e in s.entries("C-0001")] == ["opened", "stepped-up", "resolved"]


async def test_failed_save_keeps_the_input(dsl, monkeypatch):
    from escalate import journal
    from escalate.errors import StoreError

    app = EscalateApp()
    async with app.run_test(size=(100, 30)) as pilot:
        await open_view(pilot, dsl)
        await pilot.press("m")
        await pilot.pause()
        app.screen.query_one("#f-summary").text = "Important note"

        def locked(*a, **k):
            raise StoreError("the store is locked by another program", hint="Nothing was saved.")

        monkeypatch.setattr(journal, "record", locked)
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert isinstance(app.screen, FormDialog)
        assert "locked" in text_of(app, "#form-error")
        assert app.screen.query_one("#f-summary").text == "Important note"
    assert count(dsl) == 1


async def test_help_lists_bindings_with_ids(dsl):
    app = EscalateApp()
    async with app.run_test(size=(100, 40)) as pilot:
        await open_view(pilot, dsl)
        await pilot.press("f1")
        await pilot.pause()
        assert isinstance(app.screen, HelpScreen)
        ids = {k[2] for k in app.screen.keys}
        assert {"record_contact", "step_up", "resolve", "help", "settings"} <= ids
        await pilot.press("escape")


async def test_help_opens_over_every_dialog_and_not_twice(dsl):
    """Help asked for over a screen without its own help text (a form), or over the help itself
    (from the palette), once crashed the app: Textual gives every screen a HELP of None, which was
    shown as the text. Found by pressing random keys."""
    app = EscalateApp()
    async with app.run_test(size=(80, 24)) as pilot:
        await open_view(pilot, dsl)
        await pilot.press("c")  # a contact form
        await pilot.pause()
        form = app.screen
        assert isinstance(form, FormDialog)
        app.action_help()  # as the palette's "App: help" does
        await pilot.pause()
        assert isinstance(app.screen, HelpScreen) and app.screen.text == "Keyboard first; the mouse works too."
        help_screen = app.screen
        app.action_help()
        await pilot.pause()
        assert app.screen is help_screen and sum(isinstance(s, HelpScreen) for s in app.screen_stack) == 1
        await pilot.press("escape")
        await pilot.pause()
        assert app.screen is form


def test_every_binding_has_an_id_and_description():
    from escalate.tui.screens.challenge import ChallengeScreen
    from escalate.tui.screens.dashboard import DashboardScreen
    from escalate.tui.screens.wizard import NewChallengeScreen

    for holder in (EscalateApp, DashboardScreen, ChallengeScreen, NewChallengeScreen, FormDialog, HelpScreen):
        for b in holder.BINDINGS:
            assert b.id and b.description, (holder.__name__, b.key)


async def test_high_contrast_theme_from_settings(isolated_home):
    settings_mod.save(Settings(name="A", role="B", theme="high-contrast"))
    app = EscalateApp()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        assert app.theme == "escalate-high-contrast"


def add_notes(store, n, at):
    from logtools import SETTINGS

    from escalate import journal

    for i in range(n):
        journal.record(store, SETTINGS, "C-0001", "note", {"summary": f"note {i}"}, at)


async def open_first(pilot):
    """Start the app and open the first challenge of the dashboard (waiting, on a busy machine, for
    the dashboard's rows and then for the challenge's screen, rather than for a fixed time)."""
    await until(
        pilot, lambda: pilot.app.screen.query("DataTable") and pilot.app.screen.query_one("DataTable").row_count
    )
    pilot.app.screen.query_one("DataTable").focus()
    await pilot.press("enter")
    await until(pilot, lambda: isinstance(pilot.app.screen, ChallengeScreen) and pilot.app.screen.view is not None)
    await settle(pilot)


async def until(pilot, condition, tries: int = 200):
    """Pause until ``condition()`` holds (or fail after ``tries`` pauses: a test that cannot go on)."""
    for _ in range(tries):
        if condition():
            return
        await settle(pilot)
    raise AssertionError("the app never reached the state the test waits for")


async def test_chronology_with_many_entries_reads_pages(dsl):
    with the_store() as s:
        open_fictional(s)
        add_notes(s, 450, "2026-11-17T10:00")
    app = EscalateApp()
    async with app.run_test(size=(100, 30)) as pilot:
        await open_first(pilot)
        from escalate.tui.widgets import Chronology

        chron = app.screen.query_one(Chronology)
        assert chron.total == 451
        assert len(chron.pages) <= 1  # only what was drawn has been read
        chron.scroll_end(animate=False)
        await pilot.pause()
        chron.render_line(0)
        assert chron.item(450).data["summary"] == "note 449"


async def test_chronology_renders_under_no_color(dsl, monkeypatch):
    """NO_COLOR turns on Textual's monochrome filter, which needs a style on every segment."""
    monkeypatch.setenv("NO_COLOR", "1")
    app = EscalateApp()
    async with app.run_test(size=(100, 30)) as pilot:
        await open_view(pilot, dsl)
        app.screen.query_one("TabbedContent").active = "tab-chronology"
        await settle(pilot)
        from escalate.tui.widgets import Chronology

        chron = app.screen.query_one(Chronology)
        assert "Opened under" in "".join(seg.text for seg in chron.render_line(1))


async def test_dashboard_filters_search_and_counts(dsl):
    from logtools import SETTINGS

    from escalate import journal

    with the_store() as s:
        open_fictional(
            s,
            procedure="london-children",
            at="2026-10-05T09:00",
            case_ref="Child Old",
            agency="Southby MASH",
            triggers=["no-information-sharing"],
        )
        open_fictional(s, case_ref="Child New", agency="Northtown CSC")
        open_fictional(s, case_ref="Child Done", agency="Eastham CSC")
        journal.record(s, SETTINGS, "C-0003", "resolved", {"outcome": "resolved", "rationale": "agreed"})
    app = EscalateApp()
    async with app.run_test(size=(120, 30)) as pilot:
        await settle(pilot)
        table = app.screen.query_one("DataTable")
        status = text_of(app, "#status-line")
        assert "2 open" in status and "1 OVERDUE" in status
        assert table.row_count == 2  # filter "open"
        assert str(table.get_cell_at((0, 0))) == "Child Old"  # overdue first
        assert "OVERDUE" in str(table.get_cell_at((0, 1)))  # in words, not only colour
        await pilot.press("f")  # overdue
        await pilot.pause()
        assert table.row_count == 1
        await pilot.press("f", "f")  # resolved
        await pilot.pause()
        assert [str(table.get_cell_at((0, 0)))] == ["Child Done"]
        await pilot.press("f")  # all
        await pilot.pause()
        assert table.row_count == 3
        await pilot.press("slash", *"information")  # search by trigger
        await pilot.pause()
        assert table.row_count == 1 and str(table.get_cell_at((0, 0))) == "Child Old"
        await pilot.press("escape")
        await pilot.pause()
        assert table.row_count == 3


async def test_palette_offers_context_commands(dsl):
    app = EscalateApp()
    async with app.run_test(size=(100, 30)) as pilot:
        await open_view(pilot, dsl)
        titles = [c.title for c in app.get_system_commands(app.screen)]
        assert "Challenge: step up" in titles and "Challenge: contact" in titles and "App: settings" in titles
        await pilot.press("escape")
        await settle(pilot)
        titles = [c.title for c in app.get_system_commands(app.screen)]
        assert "Challenge: new" in titles and "Challenge: step up" not in titles


async def test_extend_pause_and_amend_from_the_challenge_view(dsl):
    app = EscalateApp()
    async with app.run_test(size=(120, 40)) as pilot:
        await open_view(pilot, dsl)
        await pilot.press("e")
        await pilot.pause()
        app.screen.query_one("#f-deadline").value = "resolve"
        app.screen.query_one("#f-new_due").value = "next tuesday"
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert "not a date or time" in text_of(app, "#err-new_due")  # explained next to the field
        assert "required" in text_of(app, "#err-reason")
        app.screen.query_one("#f-new_due").value = "2026-12-04 17:00"
        app.screen.query_one("#f-reason").value = "Agreed by phone with the team manager"
        await pilot.press("ctrl+s")
        await settle(pilot)
        # pause one deadline (a reason is required to pause), pause a second meanwhile, resume the first
        await submit_dialog(pilot, app, "p", deadline="pause resolve")
        assert "required for this choice" in text_of(app, "#err-reason")
        app.screen.query_one("#f-reason").value = "Awaiting the strategy meeting"
        await pilot.press("ctrl+s")
        await settle(pilot)
        await pilot.press("p")
        await pilot.pause()
        choice = app.screen.query_one("#f-deadline")
        with pytest.raises(InvalidSelectValueError):  # not offered: it is paused already
            choice.value = "pause resolve"
        choice.value = "resume resolve"  # offered, as is pausing the other
        choice.value = "pause acknowledge"
        app.screen.query_one("#f-reason").value = "Their manager is away until Monday"
        await pilot.press("ctrl+s")
        await settle(pilot)
        await submit_dialog(pilot, app, "p", deadline="resume resolve")  # no reason needed to resume
        await settle(pilot)
        await pilot.press("f")
        await pilot.pause()
        app.screen.query_one("#f-target").value = "1"
        app.screen.query_one("#f-field").value = "agency"
        app.screen.query_one("#f-value").value = "Northtown CSC duty team"
        app.screen.query_one("#f-reason").value = "Team name was incomplete"
        await pilot.press("ctrl+s")
        await settle(pilot)
    with the_store() as s:
        assert [e.kind for e in s.entries("C-0001")] == [
            "opened",
            "deadline-extended",
            "deadline-paused",
            "deadline-paused",
            "deadline-resumed",
            "amendment",
        ]
        assert [stored_json(e)["data"]["deadline"] for e in s.entries("C-0001")[2:5]] == [
            "resolve",
            "acknowledge",
            "resolve",
        ]


async def test_wizard_skips_the_procedure_choice_when_there_is_one(dsl, tmp_path, monkeypatch):
    from escalate import paths

    folder = tmp_path / "only"
    folder.mkdir()
    shutil.copy(DATA / "minimal.toml", folder / "m.toml")
    monkeypatch.setattr(paths, "bundled_procedures_dir", lambda: tmp_path / "no-bundled")
    app = EscalateApp(procedures=[str(folder)])
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("n")
        await pilot.pause()
        assert not app.screen.query_one("#w-procedure").display
        assert app.focused.id == "w-case-ref"


async def test_export_from_the_challenge_view(dsl, tmp_path):
    app = EscalateApp()
    target = tmp_path / "out.html"
    target.write_text("keep me")
    async with app.run_test(size=(100, 40)) as pilot:
        await open_view(pilot, dsl)
        await submit_export_dialog(pilot, app, path=str(target))
        assert "already exists" in text_of(app, "#form-error")  # refused, input kept
        assert target.read_text() == "keep me"
        app.screen.query_one("#f-force").value = "yes"
        app.screen.query_one("#f-redact").value = "yes"
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert isinstance(app.screen, ChallengeScreen)  # the progress dialog closed itself
    assert "Child A" in target.read_text() and "Child Q" not in target.read_text()
    with the_store() as s:
        assert s.entries("C-0001")[-1].kind == "exported"


async def test_a_long_export_shows_its_progress_and_a_failure_is_reported(dsl, tmp_path, monkeypatch):
    """The export runs beside the interface with a progress bar fed by the core's progress calls; if it
    fails half way, the error is shown and no file is left."""
    import threading

    from escalate import export as export_mod
    from escalate.errors import ExportError
    from escalate.tui.dialogs import ProgressDialog

    release, reached = threading.Event(), threading.Event()

    def slow_export(*args, progress=None, **kw):
        progress(3, 10)
        reached.set()
        release.wait(10)
        raise ExportError("the disk holding the export is full")

    monkeypatch.setattr(export_mod, "export", slow_export)
    app = EscalateApp()
    target = tmp_path / "big.jsonl"
    async with app.run_test(size=(100, 40)) as pilot:
        await open_view(pilot, dsl)
        await submit_export_dialog(pilot, app, path=str(target), format="jsonl")
        assert reached.wait(10)
        await pilot.pause()
        assert isinstance(app.screen, ProgressDialog)
        bar = app.screen.query_one("ProgressBar")
        assert (bar.progress, bar.total) == (3, 10)
        release.set()
        await settle(pilot)
        assert isinstance(app.screen, ChallengeScreen)
        assert any("disk holding the export is full" in str(n.message) for n in app._notifications)
    assert not target.exists()


async def test_export_dialog_withholds_chosen_free_text_and_refuses_it_for_jsonl(dsl, tmp_path):
    app = EscalateApp()
    target = tmp_path / "withheld.html"
    async with app.run_test(size=(100, 40)) as pilot:
        await open_view(pilot, dsl)
        await submit_export_dialog(pilot, app, path=str(tmp_path / "x.jsonl"), format="jsonl", withhold="concern")
        assert "cannot withhold free-text fields" in text_of(app, "#form-error")  # refused, input kept
        assert app.screen.query_one("#f-withhold").value == "concern"
        app.screen.query_one("#f-format").value = "html"
        app.screen.query_one("#f-path").value = str(target)
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert isinstance(app.screen, ChallengeScreen)
    html = target.read_text(encoding="utf-8")
    assert "(withheld)" in html and "Bruising" not in html


async def test_export_dialog_keeps_the_extension_with_the_format(dsl, tmp_path, monkeypatch):
    """The file's name follows the format chosen (a PDF is never saved as .html); a name that says
    another format, or a pack in a format packs do not have, is refused in the form with what was
    typed kept; a name without a folder is saved where escalate was started, and said in full."""
    started_in = tmp_path / "started-in"
    started_in.mkdir()
    monkeypatch.chdir(started_in)
    app = EscalateApp()
    async with app.run_test(size=(100, 40)) as pilot:
        await open_view(pilot, dsl)
        await pilot.press("w")
        await pilot.pause()
        assert app.screen.query_one("#f-path").value == "C-0001.html"
        app.screen.query_one("#f-format").value = "pdf"
        await pilot.pause()
        assert app.screen.query_one("#f-path").value == "C-0001.pdf"
        app.screen.query_one("#f-path").value = "for-the-meeting"  # a name of the user's own stays
        app.screen.query_one("#f-format").value = "md"
        await pilot.pause()
        assert app.screen.query_one("#f-path").value == "for-the-meeting"
        app.screen.query_one("#f-path").value = "report.html"
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert "ends .html but the format is md" in text_of(app, "#form-error")
        app.screen.query_one("#f-what").value = "pack"
        app.screen.query_one("#f-format").value = "csv"
        await pilot.pause()
        assert app.screen.query_one("#f-path").value == "report.csv"
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert "not written as csv" in text_of(app, "#form-error")
        assert list(started_in.iterdir()) == []
        app.screen.query_one("#f-format").value = "md"
        await pilot.pause()
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert isinstance(app.screen, ChallengeScreen)
        assert any(str(started_in / "report.md") in str(n.message) for n in app._notifications)
    assert "Timescales of the procedure" in (started_in / "report.md").read_text(encoding="utf-8")


async def test_an_entry_is_read_in_full_from_the_chronology(dsl):
    """The chronology shows one line per entry, cut at the width; up and down choose an entry and
    Enter shows every field of it, wrapped, in a dialog; Esc closes it."""
    from logtools import SETTINGS

    from escalate import journal
    from escalate.tui.dialogs import EntryDialog
    from escalate.tui.widgets import Chronology

    long_summary = "Asked for the strategy discussion notes " * 6 + "END-OF-SUMMARY"
    with the_store() as s:
        open_fictional(s)
        journal.record(
            s,
            SETTINGS,
            "C-0001",
            "contact",
            {
                "direction": "made",
                "medium": "phone",
                "summary": long_summary,
                "with": {"name": "Sam Fictional", "role": "Social worker"},
            },
            "2026-11-17T10:00",
        )
        add_notes(s, 30, "2026-11-17T11:00")
    app = EscalateApp()
    async with app.run_test(size=(80, 24)) as pilot:
        await open_first(pilot)
        app.screen.query_one("TabbedContent").active = "tab-chronology"
        chron = app.screen.query_one(Chronology)
        chron.focus()
        await pilot.pause()
        line = "".join(seg.text for seg in chron.render_line(4))
        assert "Contact made by phone" in line and "END-OF-SUMMARY" not in line  # cut at the width
        await pilot.press("down")
        assert chron.cursor == 1
        await pilot.press("enter")
        await pilot.pause()
        dialog = app.screen
        assert isinstance(dialog, EntryDialog)
        shown = " ".join(str(w.render()) for w in dialog.query("Static"))
        assert "END-OF-SUMMARY" in shown and "Sam Fictional, Social worker" in shown
        assert "Entry #2: contact" in str(dialog.query_one(".dialog-title").render())
        await pilot.press("escape")
        await pilot.pause()
        assert not isinstance(app.screen, EntryDialog)
        await pilot.press("end")  # the last entry, scrolled into view
        assert chron.cursor == 31 and chron.scroll_offset.y > 0
        await pilot.press("home")
        assert chron.cursor == 0 and chron.scroll_offset.y == 0


@pytest.mark.parametrize("key", ["c", "e", "u"])
async def test_a_dialog_opens_with_its_first_field_focused_and_its_label_in_sight(dsl, key):
    """At 80x24 a form opens at its start (or scrolled only as far as its first field needs): the
    focused field and the label above it are both inside the visible part of the form."""
    with the_store() as s:
        open_fictional(s)
    app = EscalateApp()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)
        await pilot.press(key)
        await settle(pilot)
        dialog = app.screen
        assert isinstance(dialog, FormDialog)
        field = dialog.query_one(f"#f-{dialog.fields[0].name}")
        assert app.focused is field
        body = dialog.query_one("#form-body")
        label = body.children[body.children.index(field) - 1]
        top, height = body.scroll_y, body.scrollable_content_region.height
        assert top <= label.virtual_region.y and field.virtual_region.bottom <= top + height
