"""Follow-through commands: the agenda, calendar files, letters, search, backup and restore."""

from __future__ import annotations

import argparse
import json
from typing import Any

from escalate import clock, settings
from escalate.catalogue import discover
from escalate.cli.console import plain
from escalate.exit_codes import ExitCode


def _item_json(item: Any) -> dict[str, Any]:
    return {
        "challenge": item.challenge,
        "case_ref": item.case_ref,
        "agency": item.agency,
        "kind": item.kind,
        "when": item.when,
        "what": item.what,
        "owner": item.owner,
        "due": clock.iso(item.due) if item.due else None,
        "action_seq": item.action_seq,
    }


def cmd_agenda(args: argparse.Namespace) -> int:
    from escalate import agenda, journal  # lazy: the log and pydantic

    mine = settings.load()
    with journal.open_store() as store:
        book = agenda.of_store(store, discover(getattr(args, "procedures", None)), mine)
    if args.json:
        plain(
            json.dumps(
                {
                    "made_at": clock.iso(book.made_at),
                    "challenges_open": book.challenges_open,
                    "items": [_item_json(i) for i in book.items],
                },
                ensure_ascii=False,
                indent=2,
            )
        )
        return ExitCode.OK
    for line in agenda.lines(book):
        plain(line)
    return ExitCode.OK
