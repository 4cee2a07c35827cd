"""`escalate` with no command: the terminal app (opened by the launcher, :mod:`escalate.launch`)."""

from __future__ import annotations

import argparse

from escalate.cli import AppRequest


def run_tui(args: argparse.Namespace) -> AppRequest:
    return AppRequest(procedures=getattr(args, "procedures", None))
