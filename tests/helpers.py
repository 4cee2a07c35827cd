"""Shared helpers of the tests (fixtures are in conftest.py): the repository's folders and a real
``python -m escalate`` in a subprocess."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DATA = Path(__file__).resolve().parent / "data"


def run_escalate(*argv: str, env: dict[str, str] | None = None, timeout: float = 60) -> subprocess.CompletedProcess:
    """Run ``python -m escalate`` in a real subprocess."""
    full_env = dict(os.environ)
    if env:
        full_env.update(env)
    return subprocess.run(
        [sys.executable, "-m", "escalate", *argv],
        capture_output=True,
        text=True,
        env=full_env,
        timeout=timeout,
        cwd=ROOT,
    )


def stored_json(e):
    """An entry's content as stored: the parsed JSON of its bytes, personal fields as digests."""
    from escalate import entry

    return entry.split(e.body)[1]


def the_store():
    """The store escalate uses here: the desk's file in ESCALATE_HOME, or the team store ESCALATE_STORE
    names (the ``backend`` fixture sets one or the other)."""
    from escalate import journal

    return journal.open_store()


def entries_in(home: Path) -> int:
    """How many entries the store in use holds (0 where a desk's file was never made)."""
    from escalate import journal

    if journal.store_url() is None and not (home / "escalate.sqlite3").exists():
        return 0
    with the_store() as s:
        return s.count()


async def dashboard_loaded(pilot, app) -> None:
    """Until the app's first screen has read the store (its workers done)."""
    for _ in range(200):
        await pilot.pause()
        await app.workers.wait_for_complete()
        if app.screen.loaded:
            return
