"""`escalate audit FILE... --tui`: the auditor browses exported logs and cannot record anything.

The app has no store: it reads the files it was given, after verifying each one.
"""

from __future__ import annotations

import datetime as dt
import gc
from collections.abc import Callable

from escalate import clock
from escalate.tui.app import BaseApp


class AuditApp(BaseApp):
    SUB_TITLE = "audit of exported logs (read-only)"

    def __init__(self, files: list[str], *, now: Callable[[], dt.datetime] | None = None) -> None:
        super().__init__()
        self.files = files
        self.now = now or clock.now

    def on_mount(self) -> None:
        from escalate.tui.screens.audit import AuditScreen  # lazy: 195 ms: after the auditor's app starts

        self.push_screen(AuditScreen(self.files))


def run(files: list[str]) -> None:

    gc.enable()  # the command line turns the collector off; an app that stays open needs it
    AuditApp(files).run()
