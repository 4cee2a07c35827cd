"""Backing up the store file, and putting a backup back.

A backup is taken with SQLite's online backup API, so it is consistent even while the app or another
command is writing: the copy is of one moment of the log. It is written beside its final name, checked
(the whole chain verifies), flushed to disk and only then renamed into place, so a backup file either
verifies or does not exist.

Restoring never destroys: a backup that does not verify is refused; a store already holding entries is
replaced only when the caller says so, and is kept beside itself under a dated name first. A team store
on PostgreSQL is backed up by the server's own tools (pg_dump), which the docs describe.
"""

from __future__ import annotations

import os
import sqlite3
from dataclasses import dataclass
from pathlib import Path

from escalate import atomic, clock, journal, verify
from escalate.errors import StoreError, UsageError

#: pages copied per step of the online backup: small steps let a writer in between them
PAGES_PER_STEP = 256


class HoldsEntries(UsageError):
    """The store a restore would replace holds entries, and replacing it was not asked for."""


@dataclass(frozen=True)
class Checked:
    """A store file that verified: how many entries, and its head fingerprint."""

    path: Path
    entries: int
    fingerprint: str


@dataclass(frozen=True)
class Restored:
    checked: Checked
    #: where the store that was replaced now is (None: there was none, or it was empty)
    kept: Path | None


def check(path: Path, what: str = "backup") -> Checked:
    """Open ``path`` read-only and verify its whole chain; refuse it with the reason if it fails."""
    if not path.is_file():
        raise UsageError(f"{what} {path} is not a file")
    with journal.store_at(path, create=False, readonly=True) as store:
        report = verify.verify_store(store, None, warnings=False)
    if not report.ok:
        raise StoreError(
            f"{what} {path} does not verify: {report.problem}",
            hint="Nothing was changed. Use another backup; keep this one for investigation.",
        )
    return Checked(path, report.count, report.fingerprint)


def _copy(source: sqlite3.Connection, target: Path) -> None:
    """SQLite's online backup of ``source`` into a new file at ``target``, flushed to disk."""
    dest = sqlite3.connect(target, isolation_level=None)
    try:
        source.backup(dest, pages=PAGES_PER_STEP)
        dest.execute("PRAGMA journal_mode = DELETE")  # one self-contained file, no -wal beside it
    finally:
        dest.close()
    with open(target, "rb+") as f:
        os.fsync(f.fileno())


def backup(store: journal.LogStore, target: Path, *, force: bool = False) -> Checked:
    """Copy the open store file ``store`` to ``target`` and verify the copy."""
    if not store.local:
        raise UsageError(
            "a team store is backed up on its server, with pg_dump",
            hint="See docs/team-store.md, 'Backups'. `escalate store copy --to URL` copies a desk's store in.",
        )
    if target.is_dir():
        raise UsageError(f"{target} is a folder; give a file name for the backup")
    if target.exists() and not force:
        raise UsageError(f"{target} already exists", hint="Choose another name, or add --force to replace it.")
    if not target.parent.is_dir():
        raise UsageError(f"folder {target.parent} does not exist")
    if target.resolve() == Path(store.path).resolve():
        raise UsageError("the backup cannot be the store itself")
    temporary = atomic.temporary_name(target)
    try:
        _copy(store.conn, temporary)
        checked = check(temporary)
        os.replace(temporary, target)
    except OSError as exc:
        raise StoreError(
            f"cannot write the backup {target}: {exc.strerror or exc}", hint="Nothing was written."
        ) from None
    except sqlite3.Error as exc:
        raise StoreError(f"the backup to {target} failed: {exc}", hint="Nothing was written; try again.") from None
    finally:
        temporary.unlink(missing_ok=True)
    atomic.fsync_dir(target.parent)
    return Checked(target, checked.entries, checked.fingerprint)


def _entries_in(path: Path) -> int:
    with journal.store_at(path, create=False, readonly=True) as store:
        return store.count()


def _settle(target: Path) -> None:
    """Fold the store's write-ahead log into it and close it, so nothing beside it is left to apply to
    the file put in its place; refuse if another process has it open (its log would stay)."""
    in_use = StoreError(
        f"the store {target} is in use by another escalate",
        hint="Close escalate everywhere it is open (the app, a scheduled job), then restore again.",
    )
    conn = sqlite3.connect(target, timeout=1.0, isolation_level=None)
    try:
        conn.execute("BEGIN EXCLUSIVE")
        conn.execute("COMMIT")
        busy = conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()[0]
    except sqlite3.OperationalError:
        raise in_use from None
    finally:
        conn.close()
    if busy or Path(f"{target}-wal").exists():  # the last connection to close removes it: another is open
        raise in_use


def restore(source: Path, target: Path, *, replace: bool = False) -> Restored:
    """Put the backup ``source`` in place as the store file ``target``, after it verifies. A store at
    ``target`` holding entries needs ``replace`` and is kept beside itself, dated, before anything moves."""
    checked = check(source)
    if source.resolve() == target.resolve():
        raise UsageError("the backup is the store itself: nothing to restore")
    kept: Path | None = None
    if target.exists():
        held = _entries_in(target)
        if held and not replace:
            raise HoldsEntries(
                f"the store {target} holds {held} entries",
                hint="Add --replace to put the backup in its place (the store is kept beside it, renamed).",
            )
        _settle(target)
        if held:
            kept = target.with_name(f"{target.name}.before-restore-{clock.now().strftime('%Y%m%dT%H%M%SZ')}")
            os.replace(target, kept)
        else:
            target.unlink()
    target.parent.mkdir(parents=True, exist_ok=True)
    temporary = atomic.temporary_name(target)
    try:
        source_conn = sqlite3.connect(f"{source.resolve().as_uri()}?mode=ro", uri=True)
        try:
            _copy(source_conn, temporary)
        finally:
            source_conn.close()
        os.chmod(temporary, 0o600)
        os.replace(temporary, target)
    except (OSError, sqlite3.Error) as exc:
        if kept is not None and not target.exists():
            os.replace(kept, target)  # put the store back as it was
        raise StoreError(f"cannot restore to {target}: {exc}", hint="The store is as it was.") from None
    finally:
        temporary.unlink(missing_ok=True)
    atomic.fsync_dir(target.parent)
    restored = check(target, "the restored store")
    if restored.fingerprint != checked.fingerprint:  # (a copy that differs from what was checked)
        raise StoreError(
            f"the restored store {target} does not match the backup",
            hint=f"The backup is unchanged; the store before the restore is at {kept}." if kept else None,
        )
    return Restored(restored, kept)
