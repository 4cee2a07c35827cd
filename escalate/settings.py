"""The user's settings: who records entries, and how times and deadlines are shown.

Stored as a small TOML file in the config folder, written atomically (temporary file,
fsync, rename) so a crash never leaves half a settings file.
"""

from __future__ import annotations

import functools
import json
import os
import re
import sys
from pathlib import Path
from typing import NamedTuple

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

from escalate import atomic, paths
from escalate.clock import zone
from escalate.errors import ConfigError, UsageError

KEYS = (
    "name",
    "role",
    "setting",
    "email",
    "phone",
    "partnerships",
    "region",
    "timezone",
    "theme",
    "store",
    "waiting_days",
    "signing_key",
)
THEMES = ("dark", "light", "high-contrast")
REGIONS = ("england-and-wales", "scotland", "northern-ireland")
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
_PHONE = re.compile(r"\+?[0-9 ()-]{6,30}")
_PROCEDURE_ID = re.compile(r"[a-z0-9][a-z0-9._-]{0,79}")


class Settings(NamedTuple):
    name: str = ""
    role: str = ""
    setting: str = ""
    region: str = "england-and-wales"
    timezone: str = "Europe/London"
    theme: str = "dark"
    #: a team store's postgresql:// URL ("": the store file in the data folder)
    store: str = ""
    #: how the DSL is reached, for the letters they send
    email: str = ""
    phone: str = ""
    #: the procedure ids of the DSL's own partnership(s), comma-separated: listed and chosen first
    partnerships: str = ""
    #: working days a challenge may wait with no clock running before the agenda asks about it
    waiting_days: str = "5"
    #: the private key file signatures are made with ("": the config folder's signing_key)
    signing_key: str = ""

    @property
    def own_procedures(self) -> tuple[str, ...]:
        return tuple(p.strip() for p in self.partnerships.split(",") if p.strip())

    @property
    def waiting_limit(self) -> int:
        return int(self.waiting_days)

    def author(self) -> dict[str, str]:
        """Who is recording: from the settings, plus the operating-system user."""
        return {
            k: v
            for k, v in (("name", self.name), ("role", self.role), ("setting", self.setting), ("os_user", _os_user()))
            if v
        }


def check(key: str, value: str) -> str:
    if key not in KEYS:
        raise UsageError(f"unknown setting {key!r}", hint="Settings: " + ", ".join(KEYS))
    value = (value or "").strip()
    if key in ("name", "role") and not value:
        raise UsageError(f"{key} cannot be empty")
    if len(value) > 200:
        raise UsageError(f"{key} is {len(value)} characters; at most 200")
    if any(ord(ch) < 32 for ch in value):
        raise UsageError(f"{key} contains control characters")
    # lazy: the log's entry format, which the procedure commands never load (tests/core/test_layers.py)
    from escalate.entry import unicode_text

    unicode_text(key, value)
    if key == "region" and value not in REGIONS:
        raise UsageError(f"region {value!r} has no calendar", hint="Expected " + ", ".join(REGIONS))
    if key == "timezone":
        zone(value)
    if key == "store" and value and not paths.is_store_url(value):
        raise UsageError(
            f"store {value!r} is not a PostgreSQL URL",
            hint='Expected postgresql://HOST/DATABASE, or "" for the store file in the data folder.',
        )
    if key == "email" and value and not _EMAIL.fullmatch(value):
        raise UsageError(f"email {value!r} is not an email address", hint="Expected e.g. dsl@fictional-primary.example")
    if key == "phone" and value and not _PHONE.fullmatch(value):
        raise UsageError(f"phone {value!r} is not a phone number", hint="Digits, spaces, +, ( ) and - only.")
    if key == "partnerships":
        ids = [p.strip() for p in value.split(",")]
        bad = [p for p in ids if not _PROCEDURE_ID.fullmatch(p)]
        if value and bad:
            raise UsageError(
                f"partnerships: {bad[0]!r} is not a procedure id",
                hint="Give the ids of your partnership's procedures, comma-separated (`escalate procedures list`).",
            )
        value = ", ".join(ids) if value else ""
    if key == "waiting_days" and not (value.isdigit() and 1 <= int(value) <= 60):
        raise UsageError(f"waiting_days {value!r} is not a number of working days from 1 to 60")
    if key == "theme" and value not in THEMES:
        raise UsageError(f"theme {value!r} is not known", hint="Expected " + ", ".join(THEMES))
    return value


def load(path: Path | None = None) -> Settings:
    path = path or paths.locations().settings
    try:
        document = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return Settings()
    except OSError as exc:
        raise ConfigError(
            f"settings file {path} cannot be read: {exc.strerror or exc}",
            hint=f"Check that {path.parent} is a folder you may read (`escalate locate` lists "
            "the folders; --data-dir or ESCALATE_HOME choose another).",
        ) from None
    except (UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(
            f"settings file {path} cannot be read: {exc}",
            hint="Fix or delete it, then set values with `escalate config set`.",
        ) from None
    values = {}
    for key, value in document.items():
        if key not in KEYS or not isinstance(value, str):
            raise ConfigError(
                f"settings file {path}: unexpected key or value {key!r}",
                hint="Keys: " + ", ".join(KEYS) + " (all text).",
            )
        if not value:
            continue  # an unset value is saved as ""
        try:
            values[key] = check(key, value)
        except UsageError as exc:
            raise ConfigError(f"settings file {path}: {exc.message}", hint=exc.hint) from None
    return Settings(**values)


def save(settings: Settings, path: Path | None = None) -> Path:
    path = path or paths.locations().settings
    paths.ensure_private_dir(path.parent)
    # JSON strings are valid TOML basic strings, so json.dumps quotes safely.
    text = "".join(f"{k} = {json.dumps(v, ensure_ascii=False)}\n" for k, v in settings._asdict().items())
    try:
        atomic.write_bytes(path, text.encode("utf-8"))
    except OSError as exc:
        raise ConfigError(f"cannot save settings to {path}: {exc.strerror}") from None
    return path


def set_value(key: str, value: str) -> Settings:
    current = load()
    updated = current._replace(**{key: check(key, value)})
    save(updated)
    return updated


@functools.lru_cache(maxsize=1)
def _os_user() -> str:
    # looked up once per process: it cannot change while we run, and it sits on the append path
    import getpass

    try:
        return getpass.getuser()
    except (OSError, KeyError, ImportError):  # no user name in some containers (no pwd entry)
        return str(os.getuid()) if hasattr(os, "getuid") else "unknown"
