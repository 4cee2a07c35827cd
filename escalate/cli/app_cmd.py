"""`escalate` with no command: the terminal app."""

from __future__ import annotations

import argparse


def run_tui(args: argparse.Namespace) -> int:
    from escalate.tui.app import run

    run(getattr(args, "procedures", None))
    return 0
