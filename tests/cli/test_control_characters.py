"""Control characters in recorded text or a procedure file never reach the terminal raw (issue 16):
an escape sequence in a summary could clear the screen or retitle the window when `show` prints it."""

from __future__ import annotations

import pytest

from escalate.tui.app import EscalateApp

pytestmark = pytest.mark.usefixtures("backend")  # on a desk's file and on a team store

EVIL = "before \x1b[2J\x1b]0;retitled\x07 \x9b31m after\x08"


@pytest.fixture
def recorded(run_cli, isolated_home):
    assert run_cli("config", "set", "name", "Alex Example")[0] == 0
    assert run_cli("config", "set", "role", "DSL")[0] == 0
    opening = ["open", "--procedure", "london-children", "--trigger", "disputed-referral", "--case-ref", "Child Q"]
    opening += ["--agency", f"Agency {EVIL}", "--decision", "NFA", "--concern", "c", "--at", "2026-11-16T09:00"]
    assert run_cli(*opening)[0] == 0
    assert run_cli("record", "1", "note", "--summary", EVIL, "--at", "2026-11-16T10:00")[0] == 0
    return run_cli


def raw_controls(text: str) -> list[str]:
    return [c for c in text if (ord(c) < 0x20 and c not in "\n\t") or 0x7F <= ord(c) < 0xA0]


def test_show_and_list_print_control_characters_as_escapes(recorded):
    for argv in (["show", "1"], ["list"]):
        code, out, _ = recorded(*argv)
        assert code == 0 and raw_controls(out) == [], argv
    code, out, _ = recorded("show", "1")
    assert "before \\x1b[2J\\x1b]0;retitled\\x07 \\x9b31m after\\x08" in " ".join(out.split())


def test_the_recorded_text_itself_is_kept_as_typed(recorded):
    import json

    code, out, _ = recorded("show", "1", "--json")
    assert json.loads(out)["chronology"][-1]["data"]["summary"] == EVIL  # escaped only where printed


async def test_the_app_shows_control_characters_as_escapes(recorded):
    app = EscalateApp()
    async with app.run_test(size=(200, 50)) as pilot:
        for _ in range(50):
            await pilot.pause()
            await app.workers.wait_for_complete()
            if app.screen.query("DataTable") and app.screen.query_one("DataTable").row_count:
                break
        from textual.widgets import DataTable
        from textual.widgets._data_table import default_cell_formatter

        table = app.screen.query_one(DataTable)
        row = " ".join(default_cell_formatter(cell).plain for cell in table.get_row_at(0))
        assert raw_controls(row) == [] and "\\x1b[2J" in row
        table.focus()
        await pilot.press("enter")
        for _ in range(50):
            await pilot.pause()
            if getattr(app.screen, "view", None) is not None:
                break
        header = str(app.screen.query_one("#challenge-header").render())
        assert raw_controls(header) == []
        app.screen.query_one("TabbedContent").active = "tab-chronology"
        await pilot.pause()
        from escalate.tui.widgets import LINES_PER_ENTRY, Chronology

        chron = app.screen.query_one(Chronology)
        lines = ["".join(seg.text for seg in chron.render_line(y)) for y in range(2 * LINES_PER_ENTRY)]
        assert raw_controls("".join(lines)) == [] and any("\\x1b]0;retitled" in line for line in lines)
