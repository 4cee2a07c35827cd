"""Snapshots of the main screens at 80x24 and 120x40, the high-contrast theme and the problems panel.

Review changes in snapshot_report.html before accepting them with --snapshot-update.
Everything shown is pinned: the recording clock, "now", the data and the procedure paths.
"""

from __future__ import annotations

import pytest
from logtools import SETTINGS, open_fictional

from escalate import clock, journal
from escalate import settings as settings_mod
from escalate.journal import store_at
from escalate.settings import Settings
from escalate.tui.app import EscalateApp

NOW = clock.parse_time("2026-11-25T12:00")
BAD = "tests/data/bad_procedures/unknown_region.toml"  # relative: the same path on every machine


@pytest.fixture
def home(isolated_home, monkeypatch):
    monkeypatch.setattr(clock, "now", lambda: NOW)
    with store_at(isolated_home / "escalate.sqlite3") as s:
        open_fictional(s, at="2026-11-16T09:00")
        journal.record(
            s,
            SETTINGS,
            "C-0001",
            "contact",
            {
                "direction": "made",
                "medium": "phone",
                "with": {"name": "Sam Fictional", "role": "SW"},
                "summary": "Raised the disagreement",
            },
            "2026-11-16T10:00",
        )
        journal.record(s, SETTINGS, "C-0001", "response", {"decision": "Still NFA"}, "2026-11-17T10:00")
        open_fictional(
            s,
            procedure="london-children",
            at="2026-11-02T09:00",
            case_ref="Child R (fictional)",
            agency="Southby MASH",
            triggers=["no-information-sharing"],
        )
        open_fictional(
            s,
            procedure="bcp-dorset-adults",
            at="2026-11-24T09:00",
            case_ref="Adult S (fictional)",
            agency="Eastham adult social care",
            triggers=["non-cooperation"],
        )
    settings_mod.save(Settings(name="Alex Example", role="DSL", setting="Fictional School"))
    return isolated_home


def app(theme: str = "dark", procedures: list[str] | None = None) -> EscalateApp:
    if theme != "dark":
        settings_mod.save(Settings(name="Alex Example", role="DSL", theme=theme))
    return EscalateApp(procedures=procedures, now=lambda: NOW)


async def quiet(pilot) -> None:
    await pilot.app.workers.wait_for_complete()
    await pilot.pause()
    from textual.widgets import Input

    for widget in pilot.app.screen.query(Input):
        widget.cursor_blink = False
    await pilot.pause()


@pytest.mark.parametrize("size", [(80, 24), (120, 40)])
def test_dashboard(home, snap_compare, size):
    assert snap_compare(app(), terminal_size=size, run_before=quiet)


def test_dashboard_high_contrast(home, snap_compare):
    assert snap_compare(app("high-contrast"), terminal_size=(80, 24), run_before=quiet)


def test_dashboard_with_invalid_procedure_panel(home, snap_compare):
    assert snap_compare(app(procedures=[BAD]), terminal_size=(120, 40), run_before=quiet)


@pytest.mark.parametrize("size", [(80, 24), (120, 40)])
def test_challenge_view(home, snap_compare, size):
    async def open_first(pilot):
        await quiet(pilot)
        await pilot.press("enter")
        await quiet(pilot)

    assert snap_compare(app(), terminal_size=size, run_before=open_first)


def test_challenge_chronology_tab(home, snap_compare):
    async def open_chronology(pilot):
        await quiet(pilot)
        await pilot.press("enter")
        await quiet(pilot)
        pilot.app.screen.query_one("TabbedContent").active = "tab-chronology"
        await quiet(pilot)

    assert snap_compare(app(), terminal_size=(120, 40), run_before=open_chronology)


def test_wizard_first_page(home, snap_compare):
    async def start(pilot):
        await quiet(pilot)
        await pilot.press("n")
        await quiet(pilot)

    assert snap_compare(app(), terminal_size=(80, 24), run_before=start)


# Every dialog of the challenge screen at the size users have (80x24), opened by its key.
DIALOG_KEYS = {
    "contact": "c",
    "response": "r",
    "action": "a",
    "extend": "e",
    "pause": "p",
    "timescale": "t",
    "notification": "n",
    "advice": "v",
    "step-up": "u",
    "no-further": "x",
    "note": "m",
    "amend": "f",
    "resolve": "s",
    "export": "w",
    "letter": "l",
}


@pytest.mark.parametrize("dialog", sorted(DIALOG_KEYS))
def test_challenge_dialog(home, snap_compare, dialog):
    async def open_dialog(pilot):
        await quiet(pilot)
        await pilot.press("enter")
        await quiet(pilot)
        await pilot.press(DIALOG_KEYS[dialog])
        await quiet(pilot)

    assert snap_compare(app(), terminal_size=(80, 24), run_before=open_dialog)


def test_action_done_dialog(home, snap_compare):
    with store_at(home / "escalate.sqlite3") as s:
        journal.record(
            s, SETTINGS, "C-0002", "action-agreed", {"action": "Send the minutes", "due": "2026-11-27T17:00"},
            "2026-11-24T10:00",
        )  # fmt: skip

    async def open_dialog(pilot):
        await quiet(pilot)
        await pilot.press("enter")
        await quiet(pilot)
        await pilot.press("d")
        await quiet(pilot)

    assert snap_compare(app(), terminal_size=(80, 24), run_before=open_dialog)


def test_entry_dialog(home, snap_compare):
    async def open_entry(pilot):
        await quiet(pilot)
        await pilot.press("enter")
        await quiet(pilot)
        pilot.app.screen.query_one("TabbedContent").active = "tab-chronology"
        await quiet(pilot)
        pilot.app.screen.query_one("#chronology").focus()
        await pilot.press("enter")
        await quiet(pilot)

    assert snap_compare(app(), terminal_size=(80, 24), run_before=open_entry)


def test_agenda_screen(home, snap_compare):
    async def open_agenda(pilot):
        await quiet(pilot)
        await pilot.press("g")
        await quiet(pilot)

    assert snap_compare(app(), terminal_size=(80, 24), run_before=open_agenda)


def test_wizard_refuses_a_date_in_view(home, snap_compare):
    """Step 2 with a date that is not one: the message and the field are on screen at 80x24."""

    async def bad_date(pilot):
        await quiet(pilot)
        await pilot.press("n")
        await quiet(pilot)
        pilot.app.screen.query_one("#w-case-ref").value = "REF-9"
        await pilot.press("ctrl+n")
        await quiet(pilot)
        screen = pilot.app.screen
        screen.query_one("#w-agency").value = "Northtown CSC"
        screen.query_one("#w-decision").value = "Referral closed"
        screen.query_one("#w-decision-at").value = "31/02/2027"
        await pilot.press("ctrl+n")
        await quiet(pilot)

    assert snap_compare(app(), terminal_size=(80, 24), run_before=bad_date)


def test_closing_a_typed_note_asks_first(home, snap_compare):
    async def typed_then_escape(pilot):
        await quiet(pilot)
        await pilot.press("enter")
        await quiet(pilot)
        await pilot.press("m")
        await quiet(pilot)
        pilot.app.screen.query_one("#f-summary").text = "Spoke to the duty manager"
        await pilot.press("escape")
        await quiet(pilot)

    assert snap_compare(app(), terminal_size=(80, 24), run_before=typed_then_escape)


def test_settings_dialog(home, snap_compare):
    async def open_settings(pilot):
        await quiet(pilot)
        await pilot.press("f2")
        await quiet(pilot)

    assert snap_compare(app(), terminal_size=(80, 24), run_before=open_settings)


def test_help_screen(home, snap_compare):
    async def open_help(pilot):
        await quiet(pilot)
        await pilot.press("enter")
        await quiet(pilot)
        await pilot.press("f1")
        await quiet(pilot)

    assert snap_compare(app(), terminal_size=(80, 24), run_before=open_help)


@pytest.mark.parametrize("theme", ["light", "high-contrast"])
def test_challenge_view_themes(home, snap_compare, theme):
    async def open_first(pilot):
        await quiet(pilot)
        await pilot.press("enter")
        await quiet(pilot)

    assert snap_compare(app(theme), terminal_size=(80, 24), run_before=open_first)


def test_dashboard_light(home, snap_compare):
    assert snap_compare(app("light"), terminal_size=(80, 24), run_before=quiet)


@pytest.fixture
def exported(home, monkeypatch):
    """The store above exported whole, as an auditor receives it, in the working folder (so the
    file's name on screen is the same on every machine)."""
    from escalate.cli import main

    monkeypatch.chdir(home)
    assert main(["export", "--all", "-o", "log.jsonl"]) == 0
    return "log.jsonl"


@pytest.mark.parametrize("size", [(80, 24), (120, 40)])
def test_auditor_app(exported, snap_compare, size):
    from escalate.tui.audit_app import AuditApp

    assert snap_compare(AuditApp([exported], now=lambda: NOW), terminal_size=size, run_before=quiet)


def test_auditor_app_challenge(exported, snap_compare):
    from escalate.tui.audit_app import AuditApp

    async def open_first(pilot):
        await quiet(pilot)
        pilot.app.screen.query_one("DataTable").focus()
        await pilot.press("enter")
        await quiet(pilot)

    assert snap_compare(AuditApp([exported], now=lambda: NOW), terminal_size=(80, 24), run_before=open_first)
