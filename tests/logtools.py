"""Helpers for tests of the log: a store with settings and a fictional challenge."""

from __future__ import annotations

import datetime as dt
import json

from escalate import journal
from escalate.catalogue import discover
from escalate.settings import Settings

SETTINGS = Settings(name="Alex Example", role="DSL", setting="Fictional Primary School")
UK = dt.timezone.utc


def open_fictional(store, procedure="lincolnshire-joint", at="2026-11-16T09:00", settings=SETTINGS, **kw):
    catalogue = discover()
    fields = dict(
        procedure_id=procedure,
        triggers=["disputed-referral"],
        case_ref="Child Q (fictional)",
        agency="Northtown CSC",
        decision="Referral closed with no further action",
        concern="Bruising seen twice in a week",
        at=at,
    )
    fields.update(kw)
    return journal.open_challenge(store, catalogue, settings, **fields)


async def open_first_challenge(app, pilot) -> None:
    """In the DSL's app: wait for the dashboard's rows (however long a busy machine takes), then open
    its first challenge and wait for its screen."""
    for _ in range(200):
        await pilot.pause()
        await app.workers.wait_for_complete()
        if app.screen.query("DataTable") and app.screen.query_one("DataTable").row_count:
            break
    app.screen.query_one("DataTable").focus()
    await pilot.press("enter")
    for _ in range(200):
        await pilot.pause()
        await app.workers.wait_for_complete()
        if getattr(app.screen, "view", None) is not None:
            break


def export_lines_of(path) -> tuple[dict, list[dict]]:
    """(header, lines) of a jsonl export, as a tamperer would read it."""
    header, *records = [json.loads(x) for x in path.read_text(encoding="utf-8").splitlines()]
    return header, records


def write_export(path, header, records) -> None:
    """A jsonl export written back as escalate writes one (sorted keys, compact, UTF-8)."""
    text = [json.dumps(header, sort_keys=True, separators=(",", ":"))]
    text += [json.dumps(r, sort_keys=True, separators=(",", ":"), ensure_ascii=False) for r in records]
    path.write_text("\n".join(text) + "\n", encoding="utf-8")
