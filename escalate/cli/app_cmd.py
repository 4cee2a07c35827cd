"""`escalate` with no command."""

from __future__ import annotations

import argparse


def run_tui(args: argparse.Namespace) -> int:
    from escalate.cli.procedures_cmd import cmd_list

    cmd_list(args)
    from escalate.cli.console import out

    out().print("\nThe terminal app is not built yet: use the commands above (`escalate --help`).")
    return 0
