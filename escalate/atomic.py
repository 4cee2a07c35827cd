"""Files written whole or not at all: a temporary file in the same folder, fsynced, then renamed
into place. Exports, dispute packs, reports, settings and caches are all written this way, so a
crash or a full disk never leaves half a file under the real name."""

from __future__ import annotations

import hashlib
import os
import signal
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any


def write(path: Path, chunks: Iterable[bytes], before_rename: Callable[[str], object] | None = None) -> str:
    """Write byte chunks to ``path`` via a temporary file; return the sha256 of what was written.

    ``before_rename(sha256)`` runs once the bytes are safely on disk and before the file appears
    under its name: an export records itself there, so a file never leaves the system unrecorded
    (if recording fails, the file is never made), and a file that could not be written is never
    recorded. Any failure removes the temporary file and is raised as it came (an OSError for the
    file itself), for the caller to name."""
    with _on_signals({"SIGTERM": _stop}):
        return _write(path, chunks, before_rename)


def write_bytes(path: Path, data: bytes) -> None:
    """``data`` as the whole of ``path``, or the file as it was (settings, caches)."""
    write(path, [data])


def fsync_dir(folder: Path) -> None:
    """Make a rename in ``folder`` durable (POSIX: the folder's own entry; Windows has no such call and
    commits a rename with the file)."""
    if os.name == "nt":
        return
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass  # a file system that cannot sync a folder (some network shares): the rename still happened
    finally:
        os.close(fd)


def temporary_name(path: Path) -> Path:
    """Where :func:`write` puts a file's bytes before they have its name (hidden, by process)."""
    return path.with_name(f".{path.name}.{os.getpid()}.tmp")


#: a temporary file of ours this old was left by a process that was killed (a write takes seconds)
STALE_AFTER = 3600.0


def remove_stale(path: Path) -> list[Path]:
    """Remove the temporary files an earlier write of ``path`` left behind when its process was killed
    (SIGKILL, a power cut): ours by their name, and older than :data:`STALE_AFTER`, so a write still
    running in another process is never touched. Portable: by age, not by asking after the process."""
    removed: list[Path] = []
    try:
        candidates = list(path.parent.glob(f".{glob_escape(path.name)}.*.tmp"))
    except OSError:
        return removed
    now = time.time()
    for candidate in candidates:
        pid = candidate.name[len(path.name) + 2 : -4]
        try:
            if pid.isdigit() and now - candidate.stat().st_mtime > STALE_AFTER:
                candidate.unlink()
                removed.append(candidate)
        except OSError:
            continue  # gone meanwhile, or not ours to remove: the write goes on
    return removed


def glob_escape(name: str) -> str:
    """``name`` matched literally by Path.glob (its [, * and ? are not patterns)."""
    return "".join(f"[{c}]" if c in "[]*?" else c for c in name)


def _write(path: Path, chunks: Iterable[bytes], before_rename: Callable[[str], object] | None) -> str:
    remove_stale(path)
    tmp = temporary_name(path)
    sha = hashlib.sha256()
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as fh:
            syncing = _Sync(fh.fileno())
            try:
                unsynced = 0
                for chunk in chunks:
                    sha.update(chunk)
                    fh.write(chunk)
                    unsynced += len(chunk)
                    if unsynced >= SYNC_EVERY:  # the disk writes what is written so far, while we go on
                        fh.flush()
                        syncing.poke()
                        unsynced = 0
                fh.flush()
            except BaseException:
                syncing.wait(quiet=True)
                raise
            # Every byte is on disk before the export is recorded: the log never names a file that
            # failed. Synced as it grew, only the tail is left to write here.
            syncing.wait()
        digest = sha.hexdigest()
        # Once the log says the file left, the file must be there: from the recording to the
        # rename, a ^C is too late to stop the export (it is dropped), and a request to stop waits.
        stopping: list[int] = []
        with _on_signals(
            {"SIGINT": lambda number, frame: None, "SIGTERM": lambda number, frame: stopping.append(number)}
        ):
            if before_rename is not None:
                before_rename(digest)
            os.replace(tmp, path)
        if stopping:
            raise SystemExit(128 + stopping[0])
    except BaseException:
        try:
            tmp.unlink()
        except OSError:
            pass
        raise
    return digest


@contextmanager
def _on_signals(handlers: dict[str, Callable[[int, Any], Any]]) -> Iterator[None]:
    """``handlers`` (by signal name) for the block, then whatever was there before. Only the main
    thread receives signals; elsewhere (the app's workers) this does nothing."""
    before: dict[int, Any] = {}
    if threading.current_thread() is threading.main_thread():
        for name, handler in handlers.items():
            number = getattr(signal, name, None)
            if number is None:  # (no SIGTERM on some systems)
                continue
            try:
                before[number] = signal.signal(number, handler)
            except (ValueError, OSError):
                pass
    try:
        yield
    finally:
        for number, handler in before.items():
            signal.signal(number, handler if handler is not None else signal.SIG_DFL)


def _stop(number: int, frame: Any) -> None:
    """A request to stop (SIGTERM) while a file is written: stop as an error would, leaving no
    temporary file behind (it holds what the file would hold) and nothing recorded."""
    raise SystemExit(128 + number)


#: bytes written between two background fsyncs of a file being written
SYNC_EVERY = 8 << 20


class _Sync:
    """fsyncs of a file descriptor on a thread, each asked for by poke(); wait() does the last one
    and re-raises any error here.

    A big export is synced as it grows, so the disk writes the first megabytes while the next are
    built (the thread waits on the disk without holding the GIL) and the final fsync, which the
    rename waits for, has only the tail to write."""

    def __init__(self, fd: int) -> None:
        self.fd = fd
        self.error: OSError | None = None
        self.wanted = threading.Event()
        self.stopping = False
        self.thread = threading.Thread(target=self._run, name="escalate-fsync", daemon=True)
        self.thread.start()

    def poke(self) -> None:
        self.wanted.set()

    def _run(self) -> None:
        while True:
            self.wanted.wait()
            self.wanted.clear()
            stopping = self.stopping
            try:
                os.fsync(self.fd)
            except OSError as exc:
                self.error = exc
                return
            if stopping:
                return

    def wait(self, quiet: bool = False) -> None:
        """The last fsync (of everything written before this call); then any error, unless ``quiet``
        (the caller is already failing for another reason)."""
        self.stopping = True
        self.wanted.set()
        self.thread.join()
        if self.error is not None and not quiet:
            raise self.error
