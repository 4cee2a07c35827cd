"""Random keys, pressed as a restless user might: the apps never crash, and the log still verifies.

Seeded, so a failure replays exactly. Pressing random keys found a crash once (help over a screen
without its own help text); these keep that class of bug found."""

from __future__ import annotations

import random

import pytest
from logtools import SETTINGS, open_fictional

from escalate import journal, verify
from escalate import settings as settings_mod
from escalate.journal import store_at
from escalate.settings import Settings

KEYS = [
    "n",
    "f",
    "/",
    "r",
    "enter",
    "escape",
    "tab",
    "shift+tab",
    "up",
    "down",
    "left",
    "right",
    "pageup",
    "pagedown",
    "home",
    "end",
    "ctrl+s",
    "ctrl+n",
    "ctrl+b",
    "f1",
    "f2",
    "ctrl+p",
    "space",
    "backspace",
    "delete",
    "a",
    "c",
    "e",
    "s",
    "w",
    "x",
    "1",
    "9",
    "-",
    ":",
    ",",
    "é",
    "?",
    "o",
    "p",
    "t",
    "u",
    "d",
    "i",
    "y",
    "m",
]


async def press_randomly(app, seed: int, steps: int, size: tuple[int, int]) -> list[str]:
    rnd = random.Random(seed)
    pressed: list[str] = []
    async with app.run_test(size=size) as pilot:  # an exception in the app is raised here, at the end
        for _ in range(steps):
            if app._exit:
                break
            key = rnd.choice(KEYS)
            pressed.append(key)
            await pilot.press(key)
            if rnd.random() < 0.1:
                await pilot.pause()
                await app.workers.wait_for_complete()
    return pressed


@pytest.mark.parametrize("seed", [1, 2])
async def test_random_keys_in_the_dsl_app(isolated_home, seed):
    from escalate.tui.app import EscalateApp

    settings_mod.save(Settings(name="Alex Example", role="DSL", setting="Fictional School"))
    with store_at(isolated_home / "escalate.sqlite3") as s:
        open_fictional(s, at="2026-11-02T09:00")
        journal.record(
            s,
            SETTINGS,
            "C-0001",
            "contact",
            {
                "direction": "made",
                "medium": "phone",
                "summary": "call",
                "with": {"name": "Sam Fictional", "role": "SW"},
            },
            "2026-11-02T10:00",
        )
    await press_randomly(EscalateApp(), seed, 150, (80, 24) if seed % 2 else (120, 40))
    with store_at(isolated_home / "escalate.sqlite3") as s:
        report = verify.verify_store(s)
        assert report.ok and report.count >= 2, report.problem


@pytest.mark.parametrize("seed", [1])
async def test_random_keys_in_the_audit_app(isolated_home, tmp_path, run_cli, seed):
    from escalate.tui.audit_app import AuditApp

    settings_mod.save(SETTINGS)
    with store_at(isolated_home / "escalate.sqlite3") as s:
        open_fictional(s, at="2026-11-02T09:00")
        open_fictional(s, procedure="london-children", at="2026-10-05T09:00")
    good, damaged = tmp_path / "good.jsonl", tmp_path / "damaged.jsonl"
    assert run_cli("export", "--all", "-o", good)[0] == 0
    damaged.write_bytes(good.read_bytes()[:-40])
    await press_randomly(AuditApp([str(good), str(damaged)]), seed, 150, (80, 24))


@pytest.mark.parametrize("seed", [3, 4])
async def test_random_keys_on_a_team_store_as_a_person_signed_in(team_url, monkeypatch, seed):
    """The same, signed in to a team store as a DSL whose settings file names nobody (the store knows
    who they are): Settings, forms and screens that ask the store who is signed in."""
    from escalate import pgstore
    from escalate.tui.app import EscalateApp

    pgstore.add_person(team_url, "ann", "Ann Example", "DSL", "Fictional School", "dsl", [])
    ann = team_url.replace("user=postgres", "user=ann")
    with store_at(ann) as s:
        open_fictional(s, at="2026-11-02T09:00")
    monkeypatch.setenv("ESCALATE_STORE", ann)
    await press_randomly(EscalateApp(), seed, 150, (80, 24) if seed % 2 else (120, 40))
    with store_at(team_url) as s:
        report = verify.verify_store(s)
        assert report.ok and report.count >= 1, report.problem
        assert {str(r[0]) for r in s.conn.execute("SELECT author_login FROM entries")} == {"ann"}
