"""What a screen may ask of the app it runs in, as types: screens reach the app through
:func:`dsl_app` and :func:`shared_app` rather than an untyped ``self.app`` (and never import
the app module, which imports them)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from contextlib import AbstractContextManager
from typing import TYPE_CHECKING, Any, Protocol, cast

from escalate.errors import EscalateError

if TYPE_CHECKING:
    from escalate.catalogue import Catalogue
    from escalate.settings import Settings
    from escalate.store import Store


class SharedApp(Protocol):
    """Both apps: the user's settings, the clock, and errors shown as notifications."""

    settings: Settings
    now: Callable[[], dt.datetime]

    def show_error(self, exc: EscalateError) -> None: ...


class DslApp(SharedApp, Protocol):
    """The DSL's app: the store and the procedures as well."""

    catalogue: Catalogue | None
    store_lock: AbstractContextManager[Any]

    @property
    def store(self) -> Store: ...

    def ensure_catalogue(self) -> Catalogue: ...


def dsl_app(app: Any) -> DslApp:
    """The DSL's app a screen runs in."""
    return cast("DslApp", app)


def shared_app(app: Any) -> SharedApp:
    """Whichever app a screen runs in (the auditor's has no store)."""
    return cast("SharedApp", app)
