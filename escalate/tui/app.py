"""The Textual application: a thin face over the core (journal, store, catalogue, settings)."""

from __future__ import annotations

import datetime as dt
import gc
import threading
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from textual.app import App, SystemCommand
from textual.binding import Binding
from textual.screen import Screen
from textual.theme import Theme

from escalate import clock
from escalate import settings as settings_mod
from escalate.errors import EscalateError

if TYPE_CHECKING:  # the procedures and the store load after the first frame
    from escalate.catalogue import Catalogue
    from escalate.store import Store

HIGH_CONTRAST = Theme(
    name="escalate-high-contrast",
    primary="#ffff00",
    secondary="#00ffff",
    accent="#ff00ff",
    warning="#ffff00",
    error="#ff5555",
    success="#00ff00",
    foreground="#ffffff",
    background="#000000",
    surface="#000000",
    panel="#1a1a1a",
    dark=True,
)
THEMES = {"dark": "textual-dark", "light": "textual-light", "high-contrast": "escalate-high-contrast"}


class BaseApp(App[None]):
    """What both faces share: themes, help for every screen, errors shown as notifications."""

    CSS_PATH = Path(__file__).with_name("app.tcss")  # absolute: subclasses elsewhere still find it
    TITLE = "escalate"
    BINDINGS = [
        Binding("f1,question_mark", "help", "Help", id="help", tooltip="Help for this screen and its keys"),
        # (in F1's list of keys and the palette; each screen's footer says how to leave it, and keeps room
        # for F1 and F2 at 80 columns)
        Binding("ctrl+q", "quit", "Quit", id="quit", tooltip="Quit escalate", priority=True, show=False),
    ]

    def __init__(self) -> None:
        super().__init__()

        self.settings = settings_mod.load()
        self.register_theme(HIGH_CONTRAST)
        self.theme = THEMES.get(self.settings.theme, "textual-dark")

    def action_help(self) -> None:
        from escalate.tui.dialogs import HelpScreen  # lazy: 185 ms with the form widgets: after the first frame

        screen = self.screen
        if isinstance(screen, HelpScreen):  # asked again from the palette: it is already open
            return
        keys: list[tuple[str, str, str]] = []
        seen: set[str] = set()
        for holder in (screen, self):
            bindings = [b for cls in type(holder).__mro__ for b in cls.__dict__.get("BINDINGS", [])]
            for b in bindings:
                if isinstance(b, Binding) and b.id and b.id not in seen:
                    seen.add(b.id)
                    keys.append((b.key.replace("question_mark", "?"), b.description or b.tooltip, b.id))
        # Textual gives every widget a HELP of None: a screen of ours without its own text gets ours
        self.push_screen(
            HelpScreen(
                getattr(screen, "HELP_TITLE", "escalate"),
                getattr(screen, "HELP", None) or "Keyboard first; the mouse works too.",
                keys,
            )
        )

    async def action_quit(self) -> None:
        """Quit, asking first where a form or the new-challenge wizard holds what was typed."""
        if not any(getattr(s, "has_unsaved", lambda: False)() for s in self.screen_stack):
            self.exit()
            return
        if any(type(s).__name__ == "ConfirmDialog" for s in self.screen_stack):
            return  # (already asking)
        from escalate.tui.dialogs import ConfirmDialog  # lazy: 185 ms with the form widgets

        def answer(yes: bool | None) -> None:
            if yes:
                self.exit()

        self.push_screen(
            ConfirmDialog(
                "Quit escalate and lose what you typed? Nothing of it has been saved.", "Quit", "Keep editing"
            ),
            answer,
        )

    def get_system_commands(self, screen: Screen) -> Iterable[SystemCommand]:
        yield from super().get_system_commands(screen)
        yield SystemCommand("App: help", "Help for this screen", self.action_help)
        for title, help_text, callback in getattr(screen, "commands", lambda: [])():
            yield SystemCommand(title, help_text, callback)

    def show_error(self, exc: EscalateError) -> None:
        self.notify(exc.message + (f"\n{exc.hint}" if exc.hint else ""), title=exc.title, severity="error", timeout=10)


class EscalateApp(BaseApp):
    SUB_TITLE = "professional challenge and escalation"
    BINDINGS = [
        Binding("f2", "settings", "Settings", id="settings", tooltip="Your name, role, region, theme"),
    ]

    def __init__(
        self,
        *,
        procedures: list[str] | None = None,
        now: Callable[[], dt.datetime] | None = None,
        readonly: bool = False,
    ) -> None:
        super().__init__()
        self.procedure_paths = procedures or []
        # Procedures are validated after the first frame (see ensure_catalogue): pydantic is not free.
        self.catalogue: Catalogue | None = None
        self.now = now or clock.now
        self.readonly = readonly
        self._store: Store | None = None
        #: held while a worker thread or a search writes through the store's one connection (the
        #: search index catches up in a transaction; two at once on one connection would collide)
        self.store_lock = threading.RLock()
        self.signing_problem: str | None = None

    def ensure_catalogue(self) -> Catalogue:
        """Load and validate the procedures once (called from the dashboard's loading worker)."""
        if self.catalogue is None:
            from escalate.catalogue import discover  # lazy: the procedures are discovered after the first frame

            self.catalogue = discover(self.procedure_paths)
        return self.catalogue

    @property
    def store(self) -> Store:
        if self._store is None:
            from escalate import journal  # lazy: the log and pydantic: 74 ms

            self._store = journal.open_store(create=not self.readonly, readonly=self.readonly)
        return self._store

    def on_mount(self) -> None:
        # lazy: 119 ms: the screen is built in on_mount, after the app's own start
        from escalate.tui.screens.dashboard import DashboardScreen

        self.push_screen(DashboardScreen())
        self.set_interval(self.SIGN_EVERY, self.sign_idle)

    #: seconds between looks at whether the head needs signing while the app is idle
    SIGN_EVERY = 60.0

    def sign_head(self) -> None:
        """Sign the log's head where a signing key is set up and something was recorded since the last
        checkpoint (escalate.checkpoint): every minute the app is open, and when it closes."""
        if self._store is None or self.readonly:
            return
        from escalate import checkpoint  # lazy: cryptography, once there is a store to sign

        with self.store_lock:
            problem = checkpoint.after_recording(self._store, self.settings)
        if problem is not None and problem != self.signing_problem:
            self.signing_problem = problem  # said once, not every minute
            self.notify(problem, title="Signing", severity="warning", timeout=10)

    def sign_idle(self) -> None:
        # On a team store colleagues' entries arrive all day: each app signing each of them would fill
        # the log with checkpoints, so there the head is signed by each command and when an app closes.
        if self._store is not None and self._store.local:
            self.sign_head()

    def on_unmount(self) -> None:
        if self._store is not None:
            try:
                self.sign_head()
            finally:
                self._store.close()

    def action_settings(self) -> None:
        from escalate.tui.dialogs import FormDialog  # lazy: 185 ms with the form widgets: after the first frame

        s = self.settings
        person = self._person()

        def save(values: dict[str, str]) -> Any:
            updated = s
            for key in ("name", "role", "setting", "region", "timezone", "theme"):
                if key not in values:  # (not asked on a team store: the store knows who is signed in)
                    continue
                updated = updated._replace(
                    **{
                        key: settings_mod.check(key, values[key])
                        if values[key]
                        else getattr(settings_mod.Settings(), key)
                    }
                )
            settings_mod.save(updated)
            return updated

        def done(result: Any) -> None:
            if result:
                self.settings = result
                self.theme = THEMES.get(result.theme, "textual-dark")
                self.notify("Settings saved.")
                if hasattr(self.screen, "refresh_data"):
                    self.screen.refresh_data()

        regions = [(r, r) for r in settings_mod.REGIONS]
        themes = [(t, t) for t in settings_mod.THEMES]
        who = [
            _f(
                "name",
                "Your name",
                required=True,
                default=s.name,
                help="Recorded as the author of every entry.",
            ),
            _f(
                "role",
                "Your role",
                required=True,
                default=s.role,
                placeholder="e.g. Designated safeguarding lead",
            ),
            _f("setting", "Your setting", default=s.setting, placeholder="e.g. Fictional Primary School"),
        ]
        intro = ""
        if person is not None:
            who = []
            intro = (
                f"On this team store you record as {person['name']}, {person['role']}, {person['setting']}: "
                "the store's record of you, kept by its administrator (escalate team add-person)."
            )
        self.push_screen(
            FormDialog(
                "Settings",
                [
                    *who,
                    _f("region", "Region", kind="select", options=regions, default=s.region, required=True),
                    _f("timezone", "Time zone", default=s.timezone, required=True),
                    _f("theme", "Theme", kind="select", options=themes, default=s.theme, required=True),
                ],
                save,
                intro=intro,
            ),
            done,
        )

    def _person(self) -> dict[str, str] | None:
        """The person signed in to a team store, once it is open (None on a desk's store)."""
        if self._store is None:
            return None
        try:
            return self._store.person()
        except EscalateError:
            return None

    def get_system_commands(self, screen: Screen) -> Iterable[SystemCommand]:
        yield from super().get_system_commands(screen)
        yield SystemCommand("App: settings", "Your name, role, setting, region, time zone, theme", self.action_settings)


def _f(*args: Any, **kw: Any) -> Any:
    from escalate.tui.dialogs import Field  # lazy: 185 ms with the form widgets: after the first frame

    return Field(*args, **kw)


def run(procedures: list[str] | None = None) -> None:

    gc.enable()  # the command line turns the collector off; an app that stays open needs it
    EscalateApp(procedures=procedures).run()
