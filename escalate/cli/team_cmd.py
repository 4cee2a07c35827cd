"""The team store's commands: make one, and copy a desk's store into it."""

from __future__ import annotations

import argparse

from escalate import paths
from escalate.cli.console import plain
from escalate.errors import UsageError
from escalate.exit_codes import ExitCode


def _url(text: str, what: str) -> str:
    if not paths.is_store_url(text):
        raise UsageError(f"{what} needs a PostgreSQL URL", hint="Expected postgresql://HOST/DATABASE.")
    return text


def cmd_team(args: argparse.Namespace) -> int:
    raise UsageError("team needs an action", hint="`escalate team init URL` makes a team store.")


def cmd_store(args: argparse.Namespace) -> int:
    raise UsageError("store needs an action", hint="`escalate store copy --to URL` copies this store.")


def cmd_team_init(args: argparse.Namespace) -> int:
    from escalate import pgstore  # lazy: the team store

    url = _url(args.url, "team init")
    pgstore.create(url)
    plain(f"made an escalate store in the {pgstore.shown_url(url)}")
    plain("Record in it with --store URL (or ESCALATE_STORE=URL).")
    plain("A desk's store moves in, every hash kept, with `escalate store copy --to URL`.")
    return ExitCode.OK


def cmd_store_copy(args: argparse.Namespace) -> int:
    from escalate import journal, pgstore, transfer  # lazy: the log and the team store

    url = _url(args.to, "store copy --to")
    if paths.locations().store_url is not None:
        raise UsageError(
            "store copy copies the desk's own store (the file), not a team store",
            hint="Leave out --store and ESCALATE_STORE; --to names the team store.",
        )
    with journal.open_store(create=False, readonly=True) as source, journal.store_at(url) as target:
        done = transfer.copy(source, target)
    plain(
        f"copied {done.entries} entries of {done.challenges} challenge(s) and {done.disclosures} disclosure(s) "
        f"into the {pgstore.shown_url(url)}; both stores' head fingerprint is {done.fingerprint}"
    )
    return ExitCode.OK
