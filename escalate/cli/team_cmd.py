"""The team store's commands: make one, and copy a desk's store into it."""

from __future__ import annotations

import argparse

from escalate import paths
from escalate.cli.console import err, escape, plain
from escalate.errors import EscalateError, UsageError
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


def cmd_team_upgrade(args: argparse.Namespace) -> int:
    from escalate import pgstore  # lazy: the team store

    url = _url(args.url, "team upgrade")
    added = pgstore.upgrade(url)
    if added:
        plain(f"upgraded the store in the {pgstore.shown_url(url)}: added " + "; ".join(added))
    else:
        plain(f"the store in the {pgstore.shown_url(url)} has everything this escalate needs")
    return ExitCode.OK


def cmd_store_copy(args: argparse.Namespace) -> int:
    from escalate import journal, pgstore, transfer  # lazy: the log and the team store

    url = _url(args.to, "store copy --to")
    if journal.store_url() is not None:
        raise UsageError(
            "store copy copies the desk's own store (the file), not a team store",
            hint="Leave out --store and ESCALATE_STORE (and the settings' store); --to names the team store.",
        )
    with journal.open_store(create=False, readonly=True) as source, journal.store_at(url) as target:
        done = transfer.copy(source, target)
        plain(
            f"copied {done.entries} entries of {done.challenges} challenge(s) and {done.disclosures} "
            f"disclosure(s) into the {pgstore.shown_url(url)}; both stores' head fingerprint is {done.fingerprint}"
        )
        try:  # the copy is done and verified: what follows saves the team's first readers time
            journal.keep_caches_of(source, target)
            target.prepare_search()  # (indexed now: the team's first search need not wait for it)
        except EscalateError as exc:
            err().print(
                f"[yellow]warning:[/] {escape(str(exc))}; the copy is whole and verified, and lists and "
                "search will work this out when first used",
                soft_wrap=True,
            )
    return ExitCode.OK


def _team_url() -> str:
    from escalate import journal  # lazy: the log

    url = journal.store_url()
    if url is None:
        raise UsageError("no team store named", hint="Give --store postgresql://HOST/DATABASE (or set ESCALATE_STORE).")
    return _url(url, "--store")


def _line(text: str, what: str) -> str:
    """A person's name, role or setting: what every entry they make will state, so one plain line."""
    clean = text.strip()
    if not clean or len(clean) > 200 or any(ord(ch) < 32 or ord(ch) == 127 for ch in clean):
        raise UsageError(f"{what} must be one line of 1 to 200 characters, without control characters")
    return clean


def cmd_team_add(args: argparse.Namespace) -> int:
    from escalate import pgstore  # lazy: the team store

    login = args.login.strip()
    if not login or len(login) > 63 or not login.replace("_", "").replace(".", "").replace("-", "").isalnum():
        raise UsageError(
            f"--login {login!r} is not a login name", hint="Letters, digits, '_', '.' or '-', up to 63 characters."
        )
    name, role, setting = _line(args.name, "--name"), _line(args.role, "--role"), _line(args.setting, "--setting")
    sees = [_line(s, "--sees") for s in args.sees]
    key = _public_key(args.key) if args.key else None
    pgstore.add_person(_team_url(), login, name, role, setting, args.group, sees, key)
    plain(f"{login} ({name}, {role}, {setting}) may now use the team store as {args.group}")
    return ExitCode.OK


def _public_key(path: str) -> str:
    """A person's public key file (.pub), checked, as the line the team store keeps."""
    from pathlib import Path

    from escalate import sshsig  # lazy: cryptography

    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise UsageError(f"cannot read the key file {path}: {exc}") from None
    key = sshsig.parse_public(text.strip().splitlines()[0] if text.strip() else "")
    return sshsig.public_line(key)


#: the shortest password the team store takes (a person's login reaches children's records)
MIN_PASSWORD = 12


def _password(path: str | None) -> str:
    """A new password: the first line of ``path`` (a script's), or typed twice at a terminal."""
    import getpass
    import sys

    if path:
        try:
            text = open(path, encoding="utf-8").readline().rstrip("\r\n")
        except (OSError, UnicodeDecodeError, ValueError) as exc:
            raise UsageError(f"cannot read the password file {path}: {exc}") from None
    else:
        if not sys.stdin.isatty():
            raise UsageError("a password is typed at a terminal", hint="Or give --password-file FILE in a script.")
        text = getpass.getpass("New password: ")
        if getpass.getpass("The same again: ") != text:
            raise UsageError("the two passwords differ; nothing was changed")
    if len(text) < MIN_PASSWORD:
        raise UsageError(f"the password has {len(text)} characters; at least {MIN_PASSWORD}")
    if any(ord(ch) < 32 for ch in text):
        raise UsageError("the password holds control characters")
    return text


def cmd_team_password(args: argparse.Namespace) -> int:
    from escalate import pgstore  # lazy: the team store

    login = args.login.strip()
    pgstore.set_password(_team_url(), login, _password(args.password_file))
    plain(f"{login}'s password is set; they sign in with it where the server asks for one")
    return ExitCode.OK


def cmd_team_rotate_key(args: argparse.Namespace) -> int:
    from escalate import pgstore, sshsig  # lazy: the team store, cryptography

    line = _public_key(args.key)
    pgstore.add_key(_team_url(), args.login.strip(), line)
    shown = sshsig.fingerprint(sshsig.parse_public(line))
    plain(f"{args.login.strip()} signs with {shown} from now on; what earlier keys signed still checks")
    return ExitCode.OK


def cmd_team_list(args: argparse.Namespace) -> int:
    from escalate import pgstore  # lazy: the team store

    rows = pgstore.people(_team_url())
    if not rows:
        plain("No people yet: `escalate team add-person --help`.")
    for login, name, role, setting, group, sees, removed in rows:
        seen = f" (sees: {', '.join(sees)})" if sees else ""
        gone = f" - removed {removed}" if removed else ""
        plain(f"{login}: {name}, {role}, {setting}; {group}{seen}{gone}")
    return ExitCode.OK


def cmd_team_remove(args: argparse.Namespace) -> int:
    from escalate import pgstore  # lazy: the team store

    pgstore.remove_person(_team_url(), args.login.strip())
    plain(f"{args.login.strip()} can no longer sign in to the team store; their entries stay theirs")
    return ExitCode.OK
