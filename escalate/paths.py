"""Every path the app uses comes from here.

Order of precedence: an explicit ``--data-dir`` (set with :func:`configure`), then
``ESCALATE_HOME`` (one folder holding data and config), then the platform's user
directories from platformdirs. Tests point ``ESCALATE_HOME`` at a temporary folder.

The store is the file ``escalate.sqlite3`` in the data folder, unless a team store is named: an
explicit ``--store URL`` (:func:`configure_store`), then ``ESCALATE_STORE``.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import NamedTuple

APP_NAME = "escalate"
_override: Path | None = None
_store_override: str | None = None


def configure(data_dir: str | os.PathLike[str] | None) -> None:
    """Use ``data_dir`` for data and config (the ``--data-dir`` option)."""
    global _override
    _override = Path(data_dir).expanduser() if data_dir else None


#: what `--store` without a URL stands for: the store in use (verify and audit read it, not files)
THIS_STORE = "(the store in use)"


def is_store_url(text: str) -> bool:
    """Whether a store location names a PostgreSQL database (a team store) rather than a file."""
    return text.startswith(("postgresql://", "postgres://"))


def configure_store(url: str | None) -> None:
    """Use the team store at ``url`` (the ``--store`` option)."""
    global _store_override
    _store_override = url or None


class Locations(NamedTuple):
    data_dir: Path
    config_dir: Path
    cache_dir: Path
    store: Path
    settings: Path
    user_procedures: Path
    bundled_procedures: Path
    #: a team store's postgresql:// URL, or None for the file ``store``
    store_url: str | None = None


def bundled_procedures_dir() -> Path:
    here = Path(__file__).resolve().parent
    # A source checkout or editable install keeps procedures/ beside the package;
    # a wheel installs it as the escalate.procedures package directory.
    for candidate in (here.parent / "procedures", here / "procedures"):
        if candidate.is_dir():
            return candidate
    return here.parent / "procedures"


def locations() -> Locations:
    if _override is not None:
        data = config = _override
        cache = data / "cache"
    elif os.environ.get("ESCALATE_HOME"):
        data = config = Path(os.environ["ESCALATE_HOME"]).expanduser()
        cache = data / "cache"
    else:
        import platformdirs  # lazy: 4 ms, only where no --data-dir or ESCALATE_HOME says where

        data = Path(platformdirs.user_data_dir(APP_NAME, appauthor=False))
        config = Path(platformdirs.user_config_dir(APP_NAME, appauthor=False))
        cache = Path(platformdirs.user_cache_dir(APP_NAME, appauthor=False))
    return Locations(
        data_dir=data,
        config_dir=config,
        cache_dir=cache,
        store=data / "escalate.sqlite3",
        settings=config / "settings.toml",
        user_procedures=config / "procedures",
        bundled_procedures=bundled_procedures_dir(),
        store_url=_store_override or os.environ.get("ESCALATE_STORE") or None,
    )


def ensure_private_dir(path: Path) -> None:
    """Create ``path`` (and parents) readable by the owner only: the log holds sensitive data."""
    path.mkdir(parents=True, exist_ok=True, mode=0o700)
    try:
        os.chmod(path, 0o700)
    except OSError:
        pass
