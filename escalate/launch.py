"""The installed ``escalate`` command: the CLI parses and runs commands; the terminal apps are
opened from here, so neither face imports the other.

The CLI decides *whether* an app is wanted (no command, or ``audit FILE... --tui``) and hands
back an :class:`escalate.cli.AppRequest`; this module opens it.
"""

from __future__ import annotations

import gc

from escalate.cli import AppRequest, main


def open_app(request: AppRequest) -> int:
    """Open the app a command asked for; Textual is imported only here (0.2 s of every start)."""
    if request.audit_files is not None:
        from escalate.tui.audit_app import run as run_audit  # lazy: 113 ms: only for audit --tui

        run_audit(list(request.audit_files))
    else:
        from escalate.tui.app import run as run_dsl  # lazy: 110 ms: only when no command is given

        run_dsl(list(request.procedures) if request.procedures is not None else None)
    return 0


def run() -> int:
    """:func:`escalate.cli.main`, then a quick exit.

    A command lives for a moment and builds few reference cycles, so Python's cyclic collector
    is off while it runs: it would walk every object again and again (10% of a list of 10,000
    challenges, more of an export) and free next to nothing. The terminal apps, which live long,
    turn it back on as they start. Once the command is done, every object still alive dies
    with the process; freezing them keeps the collections at shutdown from walking them all.
    Files and the store are closed by the commands themselves, never left to the collector, so
    nothing is lost by it. Tests call :func:`main`, which leaves the collector alone.
    """
    gc.disable()
    code = main(open_app=open_app)
    gc.freeze()
    return code
