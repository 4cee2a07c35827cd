"""The command-line grammar. Handlers are imported only when their command runs."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from typing import Any, NoReturn

from escalate import __version__, paths
from escalate.cli.console import readable
from escalate.cli.handler import lazy
from escalate.wording import printable


class _Parser(argparse.ArgumentParser):
    """argparse's parser, whose usage errors quote what was typed as the rest of escalate does: no
    control character raw on the terminal, and a 100 KB argument not echoed back whole."""

    def error(self, message: str) -> NoReturn:
        self.print_usage(sys.stderr)
        self.exit(2, f"{self.prog}: error: {printable(readable(message))}\n")


def _common(p: argparse.ArgumentParser, *, suppress: bool) -> None:
    default = argparse.SUPPRESS if suppress else None
    p.add_argument(
        "--data-dir", metavar="DIR", default=default, help="folder for the store and settings (overrides ESCALATE_HOME)"
    )
    p.add_argument(
        "--store",
        metavar="URL",
        nargs="?",
        const=paths.THIS_STORE,
        default=default,
        help="a team store, postgresql://HOST/DATABASE (overrides ESCALATE_STORE; libpq's settings apply); "
        "verify and audit: without URL, the store in use rather than files",
    )
    p.add_argument(
        "--procedures",
        metavar="PATH",
        action="append",
        default=default,
        help="procedure file or folder to load first (repeatable)",
    )


#: commands defined here; the log's commands live in log_parser and are added unless one of these runs
_OWN_COMMANDS = ("procedures", "locate", "due")
_VALUED_OPTIONS = ("--data-dir", "--store", "--procedures")


def _command_of(argv: list[str]) -> str | None:
    """The command word in ``argv`` (skipping global options and their values), if any."""
    skip = False
    for arg in argv:
        if skip:
            skip = False
        elif arg in _VALUED_OPTIONS:
            skip = True
        elif not arg.startswith("-"):
            return arg
    return None


def build_parser(argv: list[str] | None = None) -> argparse.ArgumentParser:
    """The whole grammar; given ``argv`` whose command is defined in this module, only what it needs
    (the log's commands import the entry format, which `procedures validate` never uses)."""

    parser = _Parser(
        prog="escalate",
        description="Professional challenge and escalation for safeguarding leads. "
        "With no command, opens the terminal app.",
    )
    parser.add_argument("--version", action="version", version=f"escalate {__version__}")
    _common(parser, suppress=False)
    parser.set_defaults(handler=lazy("escalate.cli.app_cmd", "run_tui"))
    sub = parser.add_subparsers(title="commands", metavar="COMMAND")

    def command(name: str, help: str, module: str, func: str, **kw: Any) -> argparse.ArgumentParser:
        p = sub.add_parser(name, help=help, description=help, **kw)
        _common(p, suppress=True)
        p.set_defaults(handler=lazy(module, func))
        return p

    # procedures ----------------------------------------------------------------------
    procs = sub.add_parser(
        "procedures", help="list, show, validate procedures; print the schema", description="Work with procedure files."
    )
    _common(procs, suppress=True)
    procs.set_defaults(handler=lazy("escalate.cli.procedures_cmd", "cmd_list"))
    psub = procs.add_subparsers(title="actions", metavar="ACTION")

    def pcommand(name: str, help: str, func: str) -> argparse.ArgumentParser:
        p = psub.add_parser(name, help=help, description=help)
        _common(p, suppress=True)
        p.set_defaults(handler=lazy("escalate.cli.procedures_cmd", func))
        return p

    p = pcommand("list", "list the loaded procedures with source and fingerprint", "cmd_list")
    p.add_argument("--json", action="store_true", help="print JSON")
    p = pcommand("show", "show one procedure: stages, deadlines, skip rules", "cmd_show")
    p.add_argument("id", help="procedure id (see `escalate procedures list`)")
    p = pcommand("validate", "check procedure files; exit 0 if all valid, 2 otherwise", "cmd_validate")
    p.add_argument("paths", nargs="+", metavar="PATH", help="procedure files or folders")
    pcommand("schema", "print the JSON Schema of the procedure format", "cmd_schema")
    p = pcommand("upgrade", "rewrite a format 1 procedure file as format 2, keeping its comments", "cmd_upgrade")
    p.add_argument("path", metavar="FILE", help="the procedure file (rewritten in place unless -o is given)")
    p.add_argument("-o", "--output", metavar="FILE", help="write the upgraded file here instead")

    command("locate", "print every folder and file escalate uses", "escalate.cli.procedures_cmd", "cmd_locate")

    p = command(
        "due",
        "compute a due date: N working-days | hours | calendar-days from a time",
        "escalate.cli.procedures_cmd",
        "cmd_due",
    )
    p.add_argument("amount", help="how many (a whole number, 0 or more)")
    p.add_argument("unit", help="working-days, hours or calendar-days")
    p.add_argument(
        "--from",
        dest="start",
        metavar="WHEN",
        help="start time, e.g. 2026-12-18T10:00 (UK local time unless an offset is given); default now",
    )
    p.add_argument(
        "--region",
        default=None,
        help="england-and-wales, scotland or northern-ireland (default: your region setting, "
        "england-and-wales unless set)",
    )
    p.add_argument("--cutoff", default="17:00", metavar="HH:MM", help="end of the working day (default 17:00)")

    if argv is None or _command_of(argv) not in _OWN_COMMANDS:
        _log_commands(command)
    return parser


def _log_commands(command: Callable[..., argparse.ArgumentParser]) -> None:
    from escalate.cli.log_parser import add_log_commands  # lazy: (as above: the command modules import escalate.cli)

    add_log_commands(command)
