"""Follow-through commands: the agenda, calendar files, letters, search, backup and restore."""

from __future__ import annotations

import argparse
import json
import sys
from typing import TYPE_CHECKING

from escalate import clock, settings
from escalate.catalogue import discover
from escalate.cli.console import plain
from escalate.exit_codes import ExitCode

if TYPE_CHECKING:  # each command imports what it uses when it runs
    from escalate.agenda import Item


def _item_json(item: Item) -> dict[str, object]:
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


def cmd_calendar(args: argparse.Namespace) -> int:
    from pathlib import Path

    from escalate import agenda, calendar_file, journal  # lazy: the log and pydantic
    from escalate.export import check_output, write_atomic

    output = Path(args.output)
    check_output(output, args.force)
    mine = settings.load()
    with journal.open_store(create=False) as store:
        only = store.resolve_id(args.challenge) if args.challenge else None
        book = agenda.of_store(store, discover(getattr(args, "procedures", None)), mine)
        if only is not None:
            book = agenda.Agenda(book.made_at, book.timezone, tuple(i for i in book.items if i.challenge == only), 1)
        challenges = sorted({i.challenge for i in book.items})
        first = store.first_hashes()
    data = calendar_file.make(book, first, case_ref=args.case_ref and not args.redact, redact=args.redact)
    write_atomic(output, [data])
    dated = sum(1 for i in book.items if i.due is not None)
    plain(f"wrote {dated} deadline(s) of {len(challenges)} challenge(s) to {output}")
    if dated < len(book.items):
        plain(f"{len(book.items) - dated} item(s) without a date are on `escalate agenda` only")
    return ExitCode.OK


def cmd_backup(args: argparse.Namespace) -> int:
    from pathlib import Path

    from escalate import backup, journal  # lazy: the log

    with journal.open_store(create=False) as store:
        made = backup.backup(store, Path(args.file), force=args.force)
    plain(f"backed up {made.entries} entries to {made.path}; it verifies (head fingerprint {made.fingerprint})")
    plain(f"Check it later with: escalate --data-dir FOLDER verify, or restore it with: escalate restore {made.path}")
    return ExitCode.OK


def cmd_restore(args: argparse.Namespace) -> int:
    from pathlib import Path

    from escalate import backup, paths  # lazy: the log

    if paths.locations().store_url:
        from escalate.errors import UsageError

        raise UsageError(
            "a team store is restored on its server (pg_restore), not with escalate restore",
            hint="See docs/team-store.md, 'Backups'. Without --store, escalate restore puts back a desk's store file.",
        )
    target = paths.locations().store
    try:
        done = backup.restore(Path(args.file), target, replace=args.replace)
    except backup.HoldsEntries as held:
        if not (sys.stdin.isatty() and sys.stdout.isatty()):  # a script says --replace; a person is asked
            raise
        try:
            answer = input(f"{held.message}. Replace it with the backup (it is kept beside, renamed)? [y/N] ")
        except EOFError:  # (the terminal closed: no answer is no)
            answer = ""
        if answer.strip().lower() not in ("y", "yes"):
            plain("Nothing was changed.")
            return ExitCode.OK
        done = backup.restore(Path(args.file), target, replace=True)
    checked = done.checked
    plain(f"restored {checked.entries} entries to {target}; it verifies (head fingerprint {checked.fingerprint})")
    if done.kept is not None:
        plain(f"the store it replaced is kept at {done.kept}")
    return ExitCode.OK


def cmd_search(args: argparse.Namespace) -> int:
    from escalate import journal, search  # lazy: the log

    text = " ".join(args.text)
    if args.limit < 1:
        from escalate.errors import UsageError

        raise UsageError(f"--limit {args.limit} is not a number of challenges", hint="Give 1 or more.")
    with journal.open_store(create=False) as store:
        found = search.find(store, text, args.limit)
    if args.json:
        plain(
            json.dumps(
                [
                    {
                        "challenge": f.challenge,
                        "case_ref": f.case_ref,
                        "agency": f.agency,
                        "status": f.status,
                        "seq": f.seq,
                        "snippet": f.snippet,
                        "entries": f.entries,
                    }
                    for f in found
                ],
                ensure_ascii=False,
                indent=2,
            )
        )
        return ExitCode.OK
    if not found:
        plain(f"No challenge holds {text!r}.")
        return ExitCode.OK
    for f in found:
        matched = f"{f.entries} entr{'y' if f.entries == 1 else 'ies'}"
        plain(f"{f.challenge} · {f.case_ref} · {f.agency} · {f.status} · {matched}")
        plain(f"    {f.snippet}")
    return ExitCode.OK


def cmd_letter(args: argparse.Namespace) -> int:
    from pathlib import Path

    from escalate import journal, letter  # lazy: the log, reports and pydantic

    output = Path(args.output)
    letter.check_request(output, args.format, stage=args.stage, form=args.form, force=args.force)
    mine = settings.load()
    with journal.open_store(create=False) as store:
        challenge = store.resolve_id(args.challenge)
        made = letter.make(
            store,
            mine,
            discover(getattr(args, "procedures", None)),
            challenge,
            output,
            fmt=args.format,
            stage=args.stage,
            form=args.form,
            redact=args.redact,
            force=args.force,
        )
    plain(f"wrote the {made} for {challenge} to {output} (recorded in the log)")
    if not mine.email and not mine.phone:
        plain('It is signed without contact details: `escalate config set email "..."` and `phone` add them.')
    return ExitCode.OK


def _passphrase(asked: bool, twice: bool = False) -> bytes | None:
    """A key's passphrase: typed at a terminal when ``asked``, else ESCALATE_KEY_PASSPHRASE, else none."""
    import getpass
    import os

    from escalate.errors import UsageError
    from escalate.keys import PASSPHRASE_ENV

    if not asked:
        return None
    if os.environ.get(PASSPHRASE_ENV):
        return os.environ[PASSPHRASE_ENV].encode("utf-8")
    if not sys.stdin.isatty():
        raise UsageError("a passphrase is asked for at a terminal", hint=f"Or set {PASSPHRASE_ENV} for a script.")
    first = getpass.getpass("Passphrase for the key: ")
    if twice and getpass.getpass("The same again: ") != first:
        raise UsageError("the two passphrases differ; nothing was written")
    if not first:
        raise UsageError("the passphrase is empty", hint="Leave out --passphrase for a key without one.")
    return first.encode("utf-8")


def cmd_keys(args: argparse.Namespace) -> int:
    from escalate.errors import UsageError

    raise UsageError("keys needs an action", hint="new, use PATH, show or allowed-signers (`escalate keys --help`).")


def cmd_keys_new(args: argparse.Namespace) -> int:
    from escalate import keys  # lazy: cryptography

    made, kept = keys.new(settings.load(), _passphrase(args.passphrase, twice=True), replace=args.replace)
    plain(f"made a signing key: {made.path} (owner only) and {made.path}.pub")
    plain(f"fingerprint {made.fingerprint}")
    if kept is not None:
        plain(f"the key it replaces is kept at {kept}: what it signed stays checkable")
    return ExitCode.OK


def cmd_keys_use(args: argparse.Namespace) -> int:
    from pathlib import Path

    from escalate import keys  # lazy: cryptography
    from escalate.errors import UsageError

    path = Path(args.path)
    try:
        chosen = keys.use(path)
    except UsageError as exc:
        if "protected by a passphrase" not in exc.message or not sys.stdin.isatty():
            raise
        chosen = keys.use(path, _passphrase(True))
    plain(f"signing with {chosen.path}")
    plain(f"fingerprint {chosen.fingerprint}")
    return ExitCode.OK


def cmd_keys_show(args: argparse.Namespace) -> int:
    from escalate import keys  # lazy: cryptography

    key = keys.current(settings.load())
    plain(f"key file    {key.path}")
    plain(f"public key  {key.public}")
    plain(f"fingerprint {key.fingerprint}")
    return ExitCode.OK


def cmd_keys_allowed_signers(args: argparse.Namespace) -> int:
    from escalate import journal, keys  # lazy: cryptography

    if journal.store_url() is not None:  # a team store: every person's keys, as its administrator set them
        with journal.open_store(create=False, readonly=True) as store:
            rows = store.person_keys()
        if not rows:
            from escalate.errors import UsageError

            raise UsageError("nobody on this team store has a signing key", hint="`escalate team rotate-key --help`")
        for login, line, _ in rows:
            plain(f'{login} namespaces="{keys.NAMESPACE}" {" ".join(line.split()[:2])}')
        return ExitCode.OK
    from escalate import checkpoint, paths  # lazy: the log

    mine = settings.load()
    lines = {keys.allowed_signers_line(mine, keys.current(mine))}
    if paths.locations().store.exists():  # and the keys that signed this store before (a replaced key)
        with journal.open_store(create=False, readonly=True) as store:
            lines |= set(checkpoint.signers_of(store, store.challenge_ids(), store.head()[0]))
    for line in sorted(lines):
        plain(line)
    return ExitCode.OK


def sign_head(args: argparse.Namespace | None = None) -> None:
    """After a command that recorded: sign the log's head where a signing key is set up. Before an
    export, pack or letter (``args``), the checkpoint is an entry of the challenge the file is of, so the
    file carries it. A head that cannot be signed (no passphrase given) is said on stderr; the command
    itself goes on."""
    from escalate import checkpoint, journal, keys  # lazy: the log and cryptography
    from escalate.errors import EscalateError

    mine = settings.load()
    if not keys.in_use(mine).is_file():
        return
    chosen = getattr(args, "challenge", None) or next(iter(getattr(args, "challenges", None) or []), None)
    try:
        with journal.open_store(create=False) as store:
            challenge = store.resolve_id(chosen) if chosen else None
            problem = checkpoint.after_recording(store, mine, challenge)
    except EscalateError:  # (an export of a challenge that is not there says so itself, next)
        return
    if problem is not None:
        from escalate.cli.console import err

        err().print(f"[yellow]warning:[/] {problem}", soft_wrap=True, markup=True)
